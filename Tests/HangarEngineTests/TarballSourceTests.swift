import Foundation
import Synchronization
import XCTest
@testable import HangarEngine

/// Tarball backends through the engine (install, upgrade, rollback) from local files: sha256 verified before
/// anything is extracted, hostile archives refused with the previous version left byte for byte as it was.
final class TarballSourceTests: XCTestCase {
    private var f: EngineFixture!

    override func setUpWithError() throws { f = try EngineFixture() }
    override func tearDown() { f = nil }

    private func engine(maxExtractSize: Int64 = 64 << 20, throttle: Int64? = nil, strict: Bool = false) throws -> Engine {
        let env = strict ? ["LOCALAI_REQUIRE_BACKEND_INTEGRITY": "true"] : [:]
        return Engine(configuration: try f.configuration(extraEnvironment: env),
                      sources: [TarballSource(maxExtractSize: maxExtractSize, throttleBytesPerSecond: throttle)])
    }

    /// A gzipped backend tarball `sources/<name>` wrapped in one top directory, as `tar czf x.tar.gz x/` makes.
    private func tarball(_ name: String, version: String, extra: [TestArchive.Entry] = []) throws -> (path: String, sha256: String) {
        let path = f.root + "/sources/" + name
        try TestArchive.write([
            .directory("pkg"),
            .file("pkg/run.sh", "#!/bin/sh\necho \(version)\n", mode: 0o755),
            .file("pkg/VERSION", version + "\n"),
            .symlink("pkg/current", to: "VERSION"),
        ] + extra, to: path, compression: name.hasSuffix(".tar.xz") ? "xz" : "gz")
        return (path, try sha256(of: path))
    }

    private func sha256(of path: String) throws -> String {
        var hasher = SHA256()
        hasher.update([UInt8](try XCTUnwrap(FileManager.default.contents(atPath: path))))
        return hasher.finalizeHex()
    }

    private func galleryEntry(_ uri: String, sha256: String, version: String = "1.0.0") throws {
        let sha = sha256.isEmpty ? "" : ", sha256: \"\(sha256)\""
        try f.gallery("---\n- {name: foo, uri: \"\(uri)\", version: \"\(version)\"\(sha)}\n")
    }

    /// Everything under `.hangar/staging`: must be empty after every operation, downloads included.
    private func stagingLeftovers() -> [String] {
        (try? FileManager.default.contentsOfDirectory(atPath: f.backends + "/.hangar/staging")) ?? []
    }

    private func message(_ outcome: JobOutcome) -> String {
        switch outcome {
        case .failed(let error): return error.message
        case .rolledBack(let error, let restored): return error.message + " — " + restored
        default: return "\(outcome)"
        }
    }

    func testInstallsVerifiedTarballUnwrappingItsTopDirectory() throws {
        let ball = try tarball("foo-1.tar.gz", version: "1.0.0")
        try galleryEntry("file://" + ball.path, sha256: ball.sha256.uppercased())
        let engine = try engine()
        let events = EventLog(engine)
        let outcome = try finish(engine) { try $0.install("foo", force: false) }
        XCTAssertTrue(outcome.isSuccess, "\(outcome)")
        XCTAssertEqual(f.read(f.backends + "/foo/run.sh"), "#!/bin/sh\necho 1.0.0\n")
        XCTAssertTrue(FileManager.default.isExecutableFile(atPath: f.backends + "/foo/run.sh"))
        XCTAssertEqual(try FileManager.default.destinationOfSymbolicLink(atPath: f.backends + "/foo/current"), "VERSION")
        XCTAssertFalse(f.exists("foo/pkg"), "the single top directory was unwrapped")
        XCTAssertEqual(try f.metadata("foo").uri, "file://" + ball.path)
        XCTAssertEqual(try f.metadata("foo").digest, "")
        XCTAssertEqual(stagingLeftovers(), [])
        XCTAssertEqual(events.phases(), [.resolving, .downloading, .verifying, .extracting, .validating, .swapping])
        XCTAssertEqual(events.warnings(), [])
        let progress = events.progress()
        let size = Int64(try XCTUnwrap(FileManager.default.attributesOfItem(atPath: ball.path)[.size] as? Int))
        XCTAssertEqual(progress.last?.bytes, 2 * size, "download and extraction add up to one cumulative total")
        XCTAssertEqual(progress.last?.total, 2 * size)
        XCTAssertEqual(progress.map(\.bytes), progress.map(\.bytes).sorted(), "progress never goes back")
    }

    func testPlainPathWithoutSha256WarnsAndInstalls() throws {
        let ball = try tarball("foo-1.tar.xz", version: "1.0.0")
        try galleryEntry(ball.path, sha256: "")
        let engine = try engine()
        let events = EventLog(engine)
        XCTAssertTrue(try finish(engine) { try $0.install("foo", force: false) }.isSuccess)
        XCTAssertEqual(f.read(f.backends + "/foo/VERSION"), "1.0.0\n")
        XCTAssertEqual(events.warnings(), ["downloading without integrity check: \(ball.path) has no sha256 in the gallery"])
        XCTAssertEqual(events.phases(), [.resolving, .downloading, .extracting, .validating, .swapping], "nothing to verify")
    }

    func testWrongSha256FailsNamingBothDigestsAndExtractsNothing() throws {
        let ball = try tarball("foo-1.tar.gz", version: "1.0.0")
        let wrong = String(repeating: "ab", count: 32)
        try galleryEntry(ball.path, sha256: wrong)
        let engine = try engine()
        let events = EventLog(engine)
        let outcome = try finish(engine) { try $0.install("foo", force: false) }
        guard case .failed = outcome else { return XCTFail("\(outcome)") }
        XCTAssertTrue(message(outcome).contains("sha256 mismatch for \(ball.path): expected \(wrong), got \(ball.sha256)"), message(outcome))
        XCTAssertFalse(message(outcome).contains("\n"))
        XCTAssertEqual(events.phases(), [.resolving, .downloading, .verifying])
        XCTAssertFalse(f.exists("foo"))
        XCTAssertEqual(stagingLeftovers(), [])
    }

    func testStrictIntegrityRefusesATarballWithoutSha256BeforeTouchingDisk() throws {
        let ball = try tarball("foo-1.tar.gz", version: "1.0.0")
        try galleryEntry("file://" + ball.path, sha256: "")
        let outcome = try finish(try engine(strict: true)) { try $0.install("foo", force: false) }
        XCTAssertEqual(message(outcome), "strict integrity: backend \"foo\" has no SHA256 (gallery \"test\")")
        XCTAssertEqual(stagingLeftovers(), [], "nothing was staged or downloaded")
        XCTAssertFalse(f.exists("foo"))
    }

    func testUpgradeToAHostileTarballLeavesThePreviousVersionByteForByte() throws {
        let good = try tarball("foo-1.tar.gz", version: "1.0.0")
        try galleryEntry(good.path, sha256: good.sha256)
        XCTAssertTrue(try finish(try engine()) { try $0.install("foo", force: false) }.isSuccess)
        let before = f.snapshot()
        let outside = f.root + "/outside"
        try FileManager.default.createDirectory(atPath: outside, withIntermediateDirectories: true)

        let hostile: [(String, [TestArchive.Entry], String)] = [
            ("traversal.tar.gz", [.file("pkg/../../../../outside/pwned", "x")], "archive entry \"pkg/../../../../outside/pwned\" refused: path contains a '..' component"),
            ("absolute.tar.gz", [.file(outside + "/pwned", "x")], "archive entry \"\(outside)/pwned\" refused: path is absolute"),
            ("symlink.tar.gz", [.symlink("pkg/lib", to: outside)], "archive entry \"pkg/lib\" refused: symlink to the absolute path \"\(outside)\""),
            ("through.tar.gz", [.symlink("pkg/up", to: "."), .file("pkg/up/run.sh", "x")], "archive entry \"pkg/up/run.sh\" refused: path goes through the symlink \"pkg/up\""),
            ("hardlink.tar.gz", [.hardlink("pkg/h", to: "../outside/x")], "archive entry \"pkg/h\" refused: hardlink target \"../outside/x\" contains a '..' component"),
            ("fifo.tar.gz", [.fifo("pkg/pipe")], "archive entry \"pkg/pipe\" refused: FIFO"),
            // Inside the archive's root, but outside the backend once pkg/ is unwrapped.
            ("unwrap.tar.gz", [.symlink("pkg/lib/up", to: "../../foo")],
             "archive entry \"lib/up\" refused: symlink to \"../../foo\" points outside the extraction directory once the single top directory pkg/ is unwrapped"),
        ]
        for (name, entries, expected) in hostile {
            let bad = try tarball(name, version: "2.0.0", extra: entries)
            try galleryEntry(bad.path, sha256: bad.sha256, version: "2.0.0")
            let outcome = try finish(try engine()) { try $0.upgrade("foo") }
            guard case .rolledBack = outcome else { XCTFail("\(name): \(outcome)"); continue }
            let text = message(outcome)
            XCTAssertTrue(text.contains(expected), "\(name): \(text)")
            XCTAssertTrue(text.hasSuffix("— v1.0.0 restored"), text)
            XCTAssertFalse(text.contains("\n"), text)
            XCTAssertEqual(f.snapshot(), before, "\(name): the installed version changed")
            XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: outside), [], name)
            XCTAssertEqual(stagingLeftovers(), [], name)
        }
    }

    func testBombIsRefusedAtTheExtractSizeCapAndTheOldVersionStays() throws {
        let good = try tarball("foo-1.tar.gz", version: "1.0.0")
        try galleryEntry(good.path, sha256: good.sha256)
        XCTAssertTrue(try finish(try engine()) { try $0.install("foo", force: false) }.isSuccess)
        let before = f.snapshot()
        let bomb = try tarball("bomb.tar.gz", version: "2.0.0", extra: [.zeros("pkg/zeros", size: 64 << 20)])
        try galleryEntry(bomb.path, sha256: bomb.sha256, version: "2.0.0")
        let outcome = try finish(try engine(maxExtractSize: 16 << 20)) { try $0.upgrade("foo") }
        XCTAssertTrue(message(outcome).contains(
            "archive expands beyond --max-extract-size 16MiB (at entry \"pkg/zeros\"): raise it with --max-extract-size 64MiB if this backend is legitimately that large"),
                      message(outcome))
        XCTAssertEqual(f.snapshot(), before)
        XCTAssertEqual(stagingLeftovers(), [])
    }

    func testDownloadFarLargerThanTheExtractCapIsStoppedBeforeItFillsTheDisk() throws {
        let path = f.root + "/sources/huge.tar.gz"
        var seed: UInt64 = 1
        let bytes = (0..<(3 << 20)).map { _ -> UInt8 in
            seed = seed &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return UInt8(truncatingIfNeeded: seed >> 33)
        }
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        try galleryEntry(path, sha256: "")
        let outcome = try finish(try engine(maxExtractSize: 1 << 20)) { try $0.install("foo", force: false) }
        XCTAssertTrue(message(outcome).contains(
            "tarball is larger than --max-extract-size allows (2.1 MiB downloaded): raise --max-extract-size if this backend is legitimately that large"),
                      message(outcome))
        XCTAssertEqual(stagingLeftovers(), [])
    }

    func testCancelDuringAThrottledDownloadChangesNothing() throws {
        // Incompressible, so the gzip is ~64 KiB: eight seconds at the throttle, far longer than the test needs.
        var seed: UInt64 = 42
        let noise = String((0..<(96 << 10)).map { _ -> Character in
            seed = seed &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Character(UnicodeScalar(UInt8(33 + (seed >> 33) % 90)))
        })
        let ball = try tarball("foo-1.tar.gz", version: "1.0.0", extra: [.file("pkg/noise", noise)])
        try galleryEntry(ball.path, sha256: ball.sha256)
        let engine = try engine(throttle: 8 << 10)
        let id = try engine.install("foo", force: false)
        let deadline = Date().addingTimeInterval(10)
        while !FileManager.default.fileExists(atPath: f.backends + "/.hangar/staging") || stagingLeftovers().isEmpty {
            if Date() > deadline { return XCTFail("the download never started") }
            usleep(5_000)
        }
        XCTAssertTrue(stagingLeftovers().contains { $0.hasSuffix(".download") }, "downloads go beside the staging dir: \(stagingLeftovers())")
        engine.jobs.cancel(id)
        XCTAssertEqual(engine.jobs.wait(id), .cancelled)
        XCTAssertFalse(f.exists("foo"))
        XCTAssertEqual(stagingLeftovers(), [])
    }

    func testRecoveryRemovesADownloadLeftByAKilledProcess() throws {
        XCTAssertEqual(Recovery.stagingOwner("foo.install.12.0123456789abcdef.download"), "foo")
        let root = BackendsRoot(f.backends)
        try root.ensureDirectories()
        let leftover = root.stagingPath + "/foo.upgrade.999999.0123456789abcdef.download"
        try "partial".write(toFile: leftover, atomically: false, encoding: .utf8)
        let report = Recovery.run(root: root)
        XCTAssertFalse(FileManager.default.fileExists(atPath: leftover))
        XCTAssertEqual(report.repairs, ["removed leftover staging dir .hangar/staging/foo.upgrade.999999.0123456789abcdef.download"])
    }

    func testHandlesTarballURIsOnly() {
        let source = TarballSource()
        for uri in ["https://example.org/b/foo.tar.gz?sig=1", "http://127.0.0.1:1/x.TGZ", "file:///srv/x.tar.zst", "/srv/x.tar.xz",
                    "./x.tar", "x.tar.bz2"] {
            XCTAssertTrue(source.handles(uri), uri)
        }
        for uri in ["quay.io/go-skynet/local-ai-backends:latest-cpu", "ocifile:///srv/image.tar", "https://example.org/x.zip",
                    "/srv/backend-dir", "ftp://host/x.tar.gz", ""] {
            XCTAssertFalse(source.handles(uri), uri)
        }
    }
}

/// Every event of an engine's jobs, in order.
final class EventLog: Sendable {
    private let queue = DispatchQueue(label: "hangar.test.events")
    private let events = Mutex<[JobEvent]>([])

    init(_ engine: Engine) {
        _ = engine.jobs.subscribe(on: queue) { [self] event in self.events.withLock { $0.append(event) } }
    }

    /// The kinds seen so far, after everything already published was delivered.
    func kinds() -> [JobEvent.Kind] {
        queue.sync {}
        return events.withLock { $0.map(\.kind) }
    }

    func phases() -> [JobPhase] {
        kinds().compactMap { kind -> JobPhase? in if case .phase(let phase, _) = kind { return phase }; return nil }
    }

    func warnings() -> [String] {
        kinds().compactMap { kind -> String? in if case .warning(let message) = kind { return message }; return nil }
    }

    func progress() -> [(bytes: Int64, total: Int64)] {
        kinds().compactMap { kind -> (bytes: Int64, total: Int64)? in
            if case .progress(let bytes, let total) = kind { return (bytes, total) }
            return nil
        }
    }
}
