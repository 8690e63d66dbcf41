import Foundation
import XCTest
@testable import HangarEngine

/// `external_backends.json` in LocalAI's config dir (localai-api.md §12.1) on real files: what installs register,
/// what uninstalls and start-up remove, and that the user's own entries are never touched.
final class ExternalBackendsRegistryTests: XCTestCase {
    func file(_ f: EngineFixture) throws -> [String: String] {
        let text = try XCTUnwrap(f.read(f.config + "/external_backends.json"), "external_backends.json was not written")
        let object = try XCTUnwrap(try JSONValue.parse(text).objectValue)
        var out: [String: String] = [:]
        for member in object.members { out[member.key] = member.value.stringValue }
        return out
    }

    func summary(_ outcome: JobOutcome) -> String {
        if case .succeeded(let summary) = outcome { return summary }
        XCTFail("job did not succeed: \(outcome)")
        return ""
    }

    func testInstallRegistersNameAndAliasBesideTheUsersOwnEntriesAndSaysSoInOneLine() throws {
        let f = try EngineFixture()
        try f.write(f.config + "/external_backends.json", "{\n  \"my-grpc\": \"/opt/mine/run.sh\",\n  \"foo-alias\": \"/opt/mine/alias.sh\"\n}\n", mode: 0o640)
        let src = try f.source("foo-1")
        try f.gallery("---\n- {name: foo, uri: \"\(src)\", version: \"1.0.0\", alias: foo-alias}\n")
        let line = summary(try finish(try f.engine()) { try $0.install("foo", force: false) })
        let runFile = f.backends + "/foo/run.sh"
        XCTAssertEqual(try file(f), ["my-grpc": "/opt/mine/run.sh", "foo-alias": "/opt/mine/alias.sh", "foo": runFile],
                       "the user's entries stay, the alias they hold too")
        XCTAssertEqual(line, "installed foo (v1.0.0); registered foo → \(runFile) in \(f.config)/external_backends.json, so a running LocalAI can load it now; left your own entry for foo-alias in \(f.config)/external_backends.json as it is")
        var info = stat()
        XCTAssertEqual(stat(f.config + "/external_backends.json", &info), 0)
        XCTAssertEqual(info.st_mode & 0o777, 0o640, "the user's file mode is kept")

        // Uninstall removes hangar's entry only.
        let removed = summary(try finish(try f.engine()) { try $0.uninstall("foo") })
        XCTAssertTrue(removed.hasSuffix("; removed foo from \(f.config)/external_backends.json"), removed)
        XCTAssertEqual(try file(f), ["my-grpc": "/opt/mine/run.sh", "foo-alias": "/opt/mine/alias.sh"])
    }

    func testMetaNameAndAliasPointAtTheConcretesRunFileAndUninstallRemovesThemAll() throws {
        let f = try EngineFixture()
        let cpu = try f.source("cpu-kokoro")
        try f.gallery("""
            ---
            - {name: kokoro, alias: kokoro, capabilities: {default: cpu-kokoro}}
            - {name: cpu-kokoro, alias: kokoro-tts, uri: "\(cpu)", version: "0.9"}

            """)
        XCTAssertFalse(FileManager.default.fileExists(atPath: f.config + "/external_backends.json"))
        let line = summary(try finish(try f.engine()) { try $0.install("kokoro", force: false) })
        let runFile = f.backends + "/cpu-kokoro/run.sh"
        XCTAssertEqual(try file(f), ["cpu-kokoro": runFile, "kokoro-tts": runFile, "kokoro": runFile])
        XCTAssertTrue(line.hasSuffix("; registered cpu-kokoro, kokoro-tts, kokoro → \(runFile) in \(f.config)/external_backends.json, so a running LocalAI can load it now"), line)

        // An upgrade-like reinstall changes nothing there: the run.sh path stays.
        let again = summary(try finish(try f.engine()) { try $0.install("kokoro", force: true) })
        XCTAssertFalse(again.contains("external_backends.json"), again)

        _ = summary(try finish(try f.engine()) { try $0.uninstall("kokoro") })
        XCTAssertEqual(try file(f), [:])
    }

    func testStartDropsHangarsEntriesWhoseDirectoryIsGoneButNotTheUsers() throws {
        let f = try EngineFixture()
        let src = try f.source("bar")
        try f.gallery("---\n- {name: bar, uri: \"\(src)\"}\n- {name: baz, uri: \"\(src)\"}\n")
        XCTAssertTrue(try finish(try f.engine()) { try $0.install("bar", force: false) }.isSuccess)
        XCTAssertTrue(try finish(try f.engine()) { try $0.install("baz", force: false) }.isSuccess)
        // The user points an entry into a directory that will vanish too: theirs, so it stays.
        var object = try XCTUnwrap(try JSONValue.parse(XCTUnwrap(f.read(f.config + "/external_backends.json"))).objectValue)
        object["gone-user"] = .string(f.backends + "/bar/run.sh")
        try f.write(f.config + "/external_backends.json", JSONValue.object(object).goIndented())
        // LocalAI (or a user) removes bar behind hangar's back.
        try FileManager.default.removeItem(atPath: f.backends + "/bar")

        let live = Engine.live(configuration: try f.configuration())
        XCTAssertEqual(live.recovery?.repairs, ["removed bar from \(f.config)/external_backends.json"])
        XCTAssertEqual(try file(f), ["baz": f.backends + "/baz/run.sh", "gone-user": f.backends + "/bar/run.sh"])
        XCTAssertEqual(Engine.live(configuration: try f.configuration()).recovery?.repairs, [], "said once")
    }

    func testAnEntryTheUserRepointedIsTheirsAndAMalformedFileIsNeverReplaced() throws {
        let f = try EngineFixture()
        let registry = ExternalBackendsRegistry(configDir: f.config)
        _ = try registry.register([(name: "foo", runFile: f.backends + "/foo/run.sh")])
        try f.write(registry.path, "{\"foo\": \"/opt/my-foo/run.sh\"}")
        let change = try registry.unregister(directories: [f.backends + "/foo"])
        XCTAssertTrue(change.removed.isEmpty)
        XCTAssertEqual(f.read(registry.path), "{\"foo\": \"/opt/my-foo/run.sh\"}")

        try f.write(registry.path, "{\"foo\": ")
        XCTAssertThrowsError(try registry.register([(name: "bar", runFile: f.backends + "/bar/run.sh")])) {
            XCTAssertTrue("\($0)".contains("external_backends.json at \(registry.path) is not valid JSON"), "\($0)")
        }
        XCTAssertEqual(f.read(registry.path), "{\"foo\": ", "left as it was")
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: f.config).filter { $0.contains(".tmp") }
        XCTAssertEqual(leftovers, [], "no temp file left behind")
    }

    func testWithoutAConfigDirNothingIsCreated() throws {
        let f = try EngineFixture()
        try FileManager.default.removeItem(atPath: f.config)
        let src = try f.source("foo")
        try f.gallery("---\n- {name: foo, uri: \"\(src)\"}\n")
        let line = summary(try finish(try f.engine()) { try $0.install("foo", force: false) })
        XCTAssertEqual(line, "installed foo (\(src))")
        XCTAssertFalse(FileManager.default.fileExists(atPath: f.config))
    }
}
