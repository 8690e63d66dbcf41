import Foundation
import HangarEngine
import HangarFixtures
import Synchronization
import XCTest

/// `http://…tar.gz` backends with `sha256:` end to end against a real loopback server: through the engine (resume,
/// servers that ignore Range, 404) and through the real `hangar` binary (install, wrong digest, `--max-extract-size`).
final class TarballHTTPTests: LoopbackHTTPTestCase {
    private var site: LocalAISite!

    override func setUpWithError() throws {
        try super.setUpWithError()
        site = try LocalAISite("tarball-http")
    }

    override func tearDown() {
        site?.remove()
        site = nil
        super.tearDown()
    }

    private var directory: String { site.root }
    private var backends: String { site.backends }

    /// `tar czf` of `pkg/` holding run.sh and VERSION for `version`, `noise` incompressible bytes and a sparse file
    /// of `zeros` zero bytes (a bomb: megabytes of zeros gzip to almost nothing).
    private func tarball(_ version: String, noise: Int = 0, zeros: Int = 0) throws -> (bytes: [UInt8], sha256: String) {
        let name = "src-\(version)-\(UUID().uuidString.prefix(4))"
        var tree = BackendTree.runScript("echo \(version)\n").file("VERSION", "\(version)\n")
        if noise > 0 {
            var seed: UInt64 = 7
            let bytes = (0..<noise).map { _ -> UInt8 in
                seed = seed &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
                return UInt8(truncatingIfNeeded: seed >> 33)
            }
            tree = tree.file("noise.bin", bytes: Data(bytes))
        }
        let pkg = try site.source(name + "/pkg", tree)
        if zeros > 0 {
            XCTAssertTrue(FileManager.default.createFile(atPath: pkg + "/zeros.bin", contents: nil))
            let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: pkg + "/zeros.bin"))
            try handle.truncate(atOffset: UInt64(zeros))
            try handle.close()
        }
        let out = try site.tarball(name + ".tar.gz", of: pkg)
        let bytes = [UInt8](try XCTUnwrap(FileManager.default.contents(atPath: out)))
        var hasher = SHA256()
        hasher.update(bytes)
        return (bytes, hasher.finalizeHex())
    }

    private func serveGallery(_ uri: String, sha256: String, version: String) {
        server.route("/index.yaml", .init(text: "---\n- {name: foo, uri: \"\(uri)\", sha256: \"\(sha256)\", version: \"\(version)\"}\n"))
    }

    private func engine() throws -> Engine {
        let configuration = try HangarConfiguration.resolve(
            flags: .init(backendsPath: backends, configDir: directory + "/configuration", capability: "default"),
            environment: ["LOCALAI_BACKEND_GALLERIES": "[{\"name\":\"x\",\"url\":\"\(server.url("/index.yaml"))\"}]"],
            workingDirectory: directory)
        return Engine(configuration: configuration, transport: HTTPGalleryTransport(client: client()),
                      sources: [TarballSource(client: client())])
    }

    private func gets(_ path: String) -> [LoopbackHTTPServer.Request] {
        server.requests(to: path).filter { $0.method == "GET" }
    }

    /// The warnings the engine's jobs publish from now on.
    private func recordWarnings(_ engine: Engine) -> @Sendable () -> [String] {
        let queue = DispatchQueue(label: "hangar.test.warnings")
        let seen = Mutex<[String]>([])
        _ = engine.jobs.subscribe(on: queue) { event in
            if case .warning(let message) = event.kind { seen.withLock { $0.append(message) } }
        }
        return { queue.sync {}; return seen.withLock { $0 } }
    }

    private func read(_ relative: String) -> String? {
        try? String(contentsOfFile: backends + "/" + relative, encoding: .utf8)
    }

    // MARK: Through the engine

    func testBrokenDownloadResumesWithRange() throws {
        let ball = try tarball("1.0.0", noise: 300 << 10)
        // The first GET breaks mid-body; the size for progress comes from its headers (no HEAD).
        server.route("/foo.tar.gz", .init(body: ball.bytes), faults: [.closeAfter(bytes: 100_000)])
        serveGallery(server.url("/foo.tar.gz"), sha256: ball.sha256, version: "1.0.0")
        let engine = try engine()
        let outcome = engine.jobs.wait(try engine.install("foo", force: false))
        XCTAssertTrue(outcome.isSuccess, "\(outcome)")
        XCTAssertEqual(read("foo/VERSION"), "1.0.0\n")
        let requests = gets("/foo.tar.gz")
        XCTAssertEqual(requests.count, 2)
        XCTAssertNil(requests.first?.header("range"))
        XCTAssertEqual(requests.last?.header("range"), "bytes=100000-")
        XCTAssertEqual(server.requests(to: "/foo.tar.gz").count, 2, "no HEAD before the GET")
    }

    func testServerIgnoringRangeIsDownloadedAgainFromTheStart() throws {
        let ball = try tarball("1.0.0", noise: 300 << 10)
        // Every request gets the whole body with a 2xx that is not 206, Range or not (203: the fixture honours Range
        // on every 200, and any non-206 answer to a Range request means the range was ignored).
        server.route("/foo.tar.gz", faults: [.closeAfter(bytes: 100_000)]) { _ in
            .init(status: 203, body: ball.bytes)
        }
        serveGallery(server.url("/foo.tar.gz"), sha256: ball.sha256, version: "1.0.0")
        let engine = try engine()
        let warnings = recordWarnings(engine)
        let outcome = engine.jobs.wait(try engine.install("foo", force: false))
        XCTAssertTrue(outcome.isSuccess, "\(outcome)")
        XCTAssertEqual(read("foo/VERSION"), "1.0.0\n")
        XCTAssertEqual(gets("/foo.tar.gz").map { $0.header("range") }, [nil, "bytes=100000-", nil])
        // The sha256 check passed, so the file was exactly one copy of the tarball, not byte 0 spliced at 100000;
        // and the restart came at once, with a warning, not after a retry backoff.
        XCTAssertEqual(warnings(), ["GET \(server.url("/foo.tar.gz")) did not resume at byte 100000 (HTTP 203): downloading it again from the start"])
    }

    func testCancelWhileTheGalleryStallsEndsTheJobAsCancelled() throws {
        server.route("/index.yaml", .init(text: "---\n- {name: foo, uri: \"x.tar.gz\"}\n"), faults: [.delay(seconds: 30)])
        let engine = try engine()
        let id = try engine.install("foo", force: false)
        let deadline = Date().addingTimeInterval(10)
        while server.requests(to: "/index.yaml").isEmpty {
            if Date() > deadline { return XCTFail("the gallery was never fetched") }
            usleep(5_000)
        }
        let start = Date()
        engine.jobs.cancel(id)
        XCTAssertEqual(engine.jobs.wait(id), .cancelled)
        XCTAssertLessThan(Date().timeIntervalSince(start), 2, "not after the 30 s stall")
        XCTAssertFalse(FileManager.default.fileExists(atPath: backends + "/foo"))
    }

    func testMissingTarballIsOneClearErrorWithoutRetries() throws {
        serveGallery(server.url("/gone.tar.gz"), sha256: String(repeating: "0", count: 64), version: "1.0.0")
        let engine = try engine()
        let outcome = engine.jobs.wait(try engine.install("foo", force: false))
        guard case .failed(let error) = outcome else { return XCTFail("\(outcome)") }
        XCTAssertTrue(error.message.contains("GET \(server.url("/gone.tar.gz")) returned HTTP 404"), error.message)
        XCTAssertEqual(gets("/gone.tar.gz").count, 1, "a 404 is not retried")
        XCTAssertFalse(FileManager.default.fileExists(atPath: backends + "/foo"))
    }

    // MARK: The real binary

    private func runHangar(_ arguments: [String]) throws -> HangarExecutable.Run {
        let galleries = "[{\"name\":\"x\",\"url\":\"\(server.url("/index.yaml"))\"}]"
        return try HangarExecutable.run(
            arguments + ["--backends-path", backends, "--config-dir", directory + "/configuration",
                         "--backend-galleries", galleries, "--capability", "default"],
            environment: ["PATH": "/usr/bin:/bin", "HOME": directory], directory: directory)
    }

    private func stagingLeftovers() -> [String] {
        (try? FileManager.default.contentsOfDirectory(atPath: backends + "/.hangar/staging")) ?? []
    }

    func testInstallOverHTTPWithSha256ThroughTheBinary() throws {
        let ball = try tarball("1.0.0")
        server.route("/foo.tar.gz", .init(body: ball.bytes))
        serveGallery(server.url("/foo.tar.gz"), sha256: ball.sha256, version: "1.0.0")
        let run = try runHangar(["install", "foo"])
        XCTAssertEqual(run.status, 0, run.transcript)
        XCTAssertEqual(read("foo/run.sh"), "#!/bin/sh\necho 1.0.0\n", run.transcript)
        XCTAssertTrue(FileManager.default.isExecutableFile(atPath: backends + "/foo/run.sh"))
        XCTAssertTrue(read("foo/metadata.json")?.contains("\"uri\": \"\(server.url("/foo.tar.gz"))\"") ?? false,
                      read("foo/metadata.json") ?? "no metadata")
        XCTAssertFalse(run.stderr.contains("without integrity check"), run.transcript)
        XCTAssertEqual(stagingLeftovers(), [])
    }

    func testWrongSha256ThroughTheBinaryIsOneLineAndInstallsNothing() throws {
        let ball = try tarball("1.0.0")
        server.route("/foo.tar.gz", .init(body: ball.bytes))
        let wrong = String(repeating: "e", count: 64)
        serveGallery(server.url("/foo.tar.gz"), sha256: wrong, version: "1.0.0")
        let run = try runHangar(["install", "foo"])
        XCTAssertEqual(run.status, 1, run.transcript)
        let errors = run.stderr.split(separator: "\n").filter { $0.contains("sha256 mismatch") }
        XCTAssertEqual(errors.count, 1, run.transcript)
        XCTAssertTrue(run.stderr.contains("expected \(wrong), got \(ball.sha256)"), run.transcript)
        XCTAssertFalse(FileManager.default.fileExists(atPath: backends + "/foo"))
        XCTAssertEqual(stagingLeftovers(), [])
    }

    func testMaxExtractSizeRefusesABombAndKeepsThePreviousVersionThroughTheBinary() throws {
        let v1 = try tarball("1.0.0")
        server.route("/foo-1.tar.gz", .init(body: v1.bytes))
        serveGallery(server.url("/foo-1.tar.gz"), sha256: v1.sha256, version: "1.0.0")
        XCTAssertEqual(try runHangar(["install", "foo"]).status, 0)
        let before = (read("foo/run.sh"), read("foo/VERSION"), read("foo/metadata.json"))

        let bomb = try tarball("2.0.0", zeros: 64 << 20)
        XCTAssertLessThan(bomb.bytes.count, 1 << 20)
        server.route("/foo-2.tar.gz", .init(body: bomb.bytes))
        serveGallery(server.url("/foo-2.tar.gz"), sha256: bomb.sha256, version: "2.0.0")
        let run = try runHangar(["upgrade", "foo", "--max-extract-size", "16MiB"])
        XCTAssertEqual(run.status, 1, run.transcript)
        XCTAssertTrue(run.stderr.contains(
            "archive expands beyond --max-extract-size 16MiB (at entry \"pkg/zeros.bin\"): raise it with --max-extract-size 64MiB if this backend is legitimately that large"),
                      run.transcript)
        XCTAssertTrue(run.stderr.contains("v1.0.0 restored"), run.transcript)
        XCTAssertTrue(before == (read("foo/run.sh"), read("foo/VERSION"), read("foo/metadata.json")), "v1 changed: \(run.transcript)")
        XCTAssertEqual(stagingLeftovers(), [])
    }
}
