import Foundation
import XCTest

/// The crash and race tests trust `BackendState.classify`; these cases show it really tells a mixed, partial or
/// re-moded tree from a complete one (no hangar process involved).
final class TreeOracleTests: XCTestCase {
    private var sandbox: CLISandbox!

    override func setUpWithError() throws { sandbox = try CLISandbox() }

    override func tearDown() {
        sandbox?.remove()
        sandbox = nil
    }

    func testClassifierRejectsEveryKindOfDamage() throws {
        let v1 = try sandbox.source("foo", "1.0.0"), v2 = try sandbox.source("foo", "2.0.0")
        let site = try sandbox.site()
        func fresh() throws {
            try? FileManager.default.removeItem(atPath: site.path("foo"))
            try site.installCopy(v1, as: "foo")
        }
        func isDamaged(_ what: String, file: StaticString = #filePath, line: UInt = #line) {
            let state = site.state(of: "foo", old: v1, new: v2)
            if case .other = state { return }
            XCTFail("\(what) was classified \(state)", file: file, line: line)
        }

        XCTAssertEqual(site.state(of: "foo", old: v1, new: v2), .missing)
        try fresh()
        XCTAssertEqual(site.state(of: "foo", old: v1, new: v2), .old)

        try FileManager.default.removeItem(atPath: site.path("foo") + "/lib/libfoo.so")
        isDamaged("a missing file")
        try fresh()
        chmod(site.path("foo") + "/run.sh", 0o644)
        isDamaged("a file with another mode")
        try fresh()
        chmod(site.path("foo") + "/bin", 0o755)
        isDamaged("a subdirectory with another mode")
        try fresh()
        try writeFile(site.path("foo") + "/only-2.0.0.txt", "present only in foo 2.0.0\n", mode: 0o600)
        isDamaged("a file of the other version")
        try fresh()
        try Data("foo library build 2.0.0\n".utf8).write(to: URL(fileURLWithPath: site.path("foo") + "/lib/libfoo.so"))
        isDamaged("a file body of the other version")
        try fresh()
        try FileManager.default.removeItem(atPath: site.path("foo") + "/lib/current.so")
        try FileManager.default.createSymbolicLink(atPath: site.path("foo") + "/lib/current.so", withDestinationPath: "elsewhere.so")
        isDamaged("a symlink pointing elsewhere")
        try fresh()
        let metadata = try String(contentsOfFile: site.path("foo") + "/metadata.json", encoding: .utf8)
        try writeFile(site.path("foo") + "/metadata.json", metadata.replacingOccurrences(of: "\"1.0.0\"", with: "\"2.0.0\""), mode: 0o644)
        isDamaged("old files with the new version's metadata")
        try fresh()
        try FileManager.default.removeItem(atPath: site.path("foo") + "/metadata.json")
        isDamaged("no metadata.json")
    }
}
