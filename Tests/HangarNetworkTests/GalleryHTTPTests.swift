import Foundation
import HangarEngine
import HangarFixtures
import Synchronization
import XCTest

/// Galleries over http: the loader's mirror chain, HTML/empty guard and last-known-good cache, through the real
/// HTTP client and a real loopback server; then `hangar list --available` through the real binary.
final class GalleryHTTPTests: LoopbackHTTPTestCase {
    private var directory: String!

    override func setUpWithError() throws {
        try super.setUpWithError()
        directory = try makeTemporaryDirectory("gallery-http")
    }

    override func tearDown() {
        removeTree(directory)
        super.tearDown()
    }

    private let index = "- name: cpu-llama\n  uri: quay.io/go-skynet/local-ai-backends:latest-cpu-llama\n- name: whisper\n  uri: quay.io/go-skynet/local-ai-backends:latest-whisper\n"
    private let otherIndex = "- name: from-mirror\n  uri: quay.io/go-skynet/local-ai-backends:latest-mirror\n"

    private func loader() -> GalleryLoader {
        GalleryLoader(cacheDirectory: directory + "/cache/gallery", transport: HTTPGalleryTransport(client: client()))
    }

    private func gallery(mirrors: [String] = []) -> GalleryConfig {
        GalleryConfig(name: "x", url: server.url("/index.yaml"), mirrors: mirrors)
    }

    func testPrimaryServesTheIndex() throws {
        server.route("/index.yaml", .init(headers: ["Content-Type": "application/x-yaml"], text: index))
        let snapshot = loader().load([gallery(mirrors: [server.url("/mirror.yaml")])])
        XCTAssertEqual(snapshot.entries.map(\.name), ["cpu-llama", "whisper"])
        XCTAssertEqual(snapshot.statuses.first?.servedBy, server.url("/index.yaml"))
        XCTAssertTrue(server.requests(to: "/mirror.yaml").isEmpty, "the primary is preferred")
        XCTAssertEqual(server.requests(to: "/index.yaml").first?.header("user-agent"), "hangar/\(HangarVersion.current)")
    }

    func testCancelStopsAStalledFetchWithoutCoolingTheSourceDown() throws {
        // The primary stalls once; the mirror would answer, but a cancelled load must not move on to it.
        server.route("/index.yaml", .init(text: index), faults: [.delay(seconds: 30)])
        server.route("/mirror.yaml", .init(text: otherIndex))
        let cancelled = Atomic<Bool>(false)
        DispatchQueue.global().asyncAfter(deadline: .now() + 0.2) { cancelled.store(true, ordering: .releasing) }
        let start = Date()
        let loader = loader()
        let snapshot = loader.load([gallery(mirrors: [server.url("/mirror.yaml")])],
                                   isCancelled: { cancelled.load(ordering: .acquiring) })
        XCTAssertLessThan(Date().timeIntervalSince(start), 2, "the fetch stopped at the cancel, not after the 30 s stall")
        XCTAssertEqual(snapshot.entries.count, 0)
        XCTAssertEqual(snapshot.statuses.first?.error, "gallery \"x\": cancelled")
        XCTAssertTrue(server.requests(to: "/mirror.yaml").isEmpty)
        // The primary was not put in cooldown: the next load asks it first again.
        let again = loader.load([gallery(mirrors: [server.url("/mirror.yaml")])])
        XCTAssertEqual(again.statuses.first?.servedBy, server.url("/index.yaml"))
        XCTAssertEqual(again.entries.map(\.name), ["cpu-llama", "whisper"])
    }

    func testPrimaryServerErrorFallsBackToTheMirror() throws {
        server.route("/index.yaml", .init(status: 500, text: "boom"))
        server.route("/mirror.yaml", .init(text: otherIndex))
        let snapshot = loader().load([gallery(mirrors: [server.url("/mirror.yaml")])])
        XCTAssertEqual(snapshot.entries.map(\.name), ["from-mirror"])
        XCTAssertEqual(snapshot.statuses.first?.servedBy, server.url("/mirror.yaml"))
        XCTAssertNil(snapshot.statuses.first?.error)
    }

    func testHTMLPageIsRejectedAndTheMirrorUsed() throws {
        server.route("/index.yaml", .init(headers: ["Content-Type": "text/html; charset=utf-8"],
                                          text: "<!DOCTYPE html><html><body>Sign in to the Wi-Fi</body></html>"))
        server.route("/mirror.yaml", .init(text: otherIndex))
        let snapshot = loader().load([gallery(mirrors: [server.url("/mirror.yaml")])])
        XCTAssertEqual(snapshot.entries.map(\.name), ["from-mirror"])
        XCTAssertEqual(snapshot.statuses.first?.servedBy, server.url("/mirror.yaml"))
    }

    func testHTMLOrEmptyBodyNeverReplacesTheCachedCopy() throws {
        server.route("/index.yaml", .init(text: index))
        let first = loader()
        XCTAssertEqual(first.load([gallery()]).entries.count, 2)
        let cacheFile = try XCTUnwrap(first.cachePath(forURL: server.url("/index.yaml")))
        let cached = try String(contentsOfFile: cacheFile, encoding: .utf8)
        XCTAssertEqual(cached, index, "a good fetch is persisted as the last-known-good copy")

        // An HTML page without an HTML content type, then an empty body: both failures, cache untouched.
        for body in ["  <html><head><title>Login</title></head></html>", " \n"] {
            server.route("/index.yaml", .init(headers: ["Content-Type": "text/plain"], text: body))
            let snapshot = loader().load([gallery()])
            let status = try XCTUnwrap(snapshot.statuses.first)
            XCTAssertEqual(snapshot.entries.map(\.name), ["cpu-llama", "whisper"], "served from the cache")
            XCTAssertEqual(status.servedBy, cacheFile)
            let error = status.error ?? ""
            XCTAssertTrue(error.contains(body.contains("<") ? "returned an HTML page" : "returned an empty body"), error)
            XCTAssertEqual(try String(contentsOfFile: cacheFile, encoding: .utf8), index)
        }
    }

    func testEverySourceFailingUsesTheLastKnownGoodCopyAndSaysHowOld() throws {
        server.route("/index.yaml", .init(text: index))
        XCTAssertEqual(loader().load([gallery()]).entries.count, 2)
        let cacheFile = try XCTUnwrap(loader().cachePath(forURL: server.url("/index.yaml")))
        // Make the copy two hours old.
        var times = [timespec(tv_sec: time(nil) - 7200, tv_nsec: 0), timespec(tv_sec: time(nil) - 7200, tv_nsec: 0)]
        XCTAssertEqual(utimensat(AT_FDCWD, cacheFile, &times, 0), 0)

        server.route("/index.yaml", .init(status: 503, text: "down"))
        let snapshot = loader().load([gallery(mirrors: [server.url("/gone.yaml")])])
        let status = try XCTUnwrap(snapshot.statuses.first)
        XCTAssertEqual(snapshot.entries.map(\.name), ["cpu-llama", "whisper"])
        XCTAssertEqual(status.servedBy, cacheFile)
        XCTAssertEqual(try XCTUnwrap(status.cacheAge) / 60, 120)
        let warning = try XCTUnwrap(snapshot.warnings.first)
        XCTAssertTrue(warning.contains("using the cached copy \(cacheFile), 2h old"), warning)
        XCTAssertTrue(warning.contains("all 2 source(s) for gallery \"x\" failed"), warning)
        XCTAssertTrue(warning.contains("HTTP 404"), "the last error (the mirror's 404) is named: \(warning)")
    }

    func testNoSourceAndNoCacheIsOneClearError() throws {
        let snapshot = loader().load([GalleryConfig(name: "x", url: server.url("/missing.yaml"))])
        XCTAssertTrue(snapshot.allFailed)
        let failure = try XCTUnwrap(snapshot.failures.first)
        XCTAssertTrue(failure.contains("no cached copy exists"), failure)
        XCTAssertTrue(failure.contains("GET \(server.url("/missing.yaml")) returned HTTP 404"), failure)
        XCTAssertFalse(failure.contains("\n"))
    }

    // MARK: The real binary

    private func runHangar(_ arguments: [String], galleryURL: String? = nil,
                           env: [String: String] = [:]) throws -> HangarExecutable.Run {
        let backends = directory + "/backends"
        try FileManager.default.createDirectory(atPath: backends, withIntermediateDirectories: true)
        let galleries = "[{\"name\":\"x\",\"url\":\"\(galleryURL ?? server.url("/index.yaml"))\"}]"
        return try HangarExecutable.run(
            arguments + ["--backends-path", backends, "--config-dir", directory + "/configuration",
                         "--backend-galleries", galleries, "--capability", "default"],
            environment: ["PATH": "/usr/bin:/bin", "HOME": directory].merging(env) { $1 }, directory: directory)
    }

    func testListAvailableOverHTTPThroughTheBinary() throws {
        server.route("/index.yaml", .init(text: index))
        let run = try runHangar(["list", "--available"])
        XCTAssertEqual(run.status, 0, run.transcript)
        XCTAssertEqual(run.stdout.split(separator: "\n").map(String.init), [" - x@cpu-llama", " - x@whisper"], run.transcript)
        XCTAssertEqual(run.stderr, "", run.transcript)
        XCTAssertEqual(server.requests(to: "/index.yaml").first?.header("user-agent"), "hangar/\(HangarVersion.current)")
    }

    func testListAvailableFallsBackToTheCacheThroughTheBinary() throws {
        server.route("/index.yaml", .init(text: index))
        XCTAssertEqual(try runHangar(["list", "--available"]).status, 0)
        server.route("/index.yaml", .init(status: 500, text: "down"))
        let run = try runHangar(["list", "--available"])
        XCTAssertEqual(run.status, 0, run.transcript)
        XCTAssertEqual(run.stdout.split(separator: "\n").map(String.init), [" - x@cpu-llama", " - x@whisper"], run.transcript)
        XCTAssertTrue(run.stderr.contains("hangar: warning: gallery \"x\": using the cached copy"), run.transcript)
        XCTAssertTrue(run.stderr.contains("returned HTTP 500"), run.transcript)
    }

    func testProxyFromTheEnvironmentIsUsedForOtherHosts() throws {
        // The loopback server plays the proxy: it receives the absolute-form request for a host hangar never
        // resolves itself, so no traffic leaves 127.0.0.1.
        server.route("http://gallery.invalid/index.yaml", .init(text: index))
        for variable in ["http_proxy", "all_proxy", "ALL_PROXY"] {
            let run = try runHangar(["list", "--available"], galleryURL: "http://gallery.invalid/index.yaml",
                                    env: [variable: server.url("")])
            XCTAssertEqual(run.status, 0, run.transcript)
            XCTAssertEqual(run.stdout.split(separator: "\n").map(String.init), [" - x@cpu-llama", " - x@whisper"], run.transcript)
        }
        XCTAssertEqual(server.requests(to: "http://gallery.invalid/index.yaml").count, 3)
    }

    func testLoopbackIsNeverSentThroughTheProxy() throws {
        server.route("/index.yaml", .init(text: index))
        let deadProxy = try LoopbackHTTPServer()
        let proxyURL = deadProxy.url("")
        deadProxy.stop()
        // Each of these is used for other hosts (the test above), so only the loopback exemption keeps it away.
        for variable in ["http_proxy", "all_proxy", "ALL_PROXY"] {
            let run = try runHangar(["list", "--available"], env: [variable: proxyURL, "no_proxy": "corp.example"])
            XCTAssertEqual(run.status, 0, run.transcript)
            XCTAssertEqual(run.stdout.split(separator: "\n").count, 2, run.transcript)
        }
    }
}
