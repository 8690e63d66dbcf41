import Foundation
import HangarEngine
import HangarFixtures
import Synchronization
import XCTest

/// `hangar check` against a registry endpoint that answers slowly: the HEADs overlap, at most 8 at once.
final class RegistryCheckTests: XCTestCase {
    /// Requests in flight now and at most, across the server's connection threads.
    final class InFlight: Sendable {
        let now = Atomic<Int>(0)
        let peak = Atomic<Int>(0)
        func enter() {
            let current = now.add(1, ordering: .sequentiallyConsistent).newValue
            var seen = peak.load(ordering: .sequentiallyConsistent)
            while current > seen {
                let (exchanged, original) = peak.compareExchange(expected: seen, desired: current, ordering: .sequentiallyConsistent)
                if exchanged { break }
                seen = original
            }
        }
        func leave() { now.subtract(1, ordering: .sequentiallyConsistent) }
    }

    func testCheckRunsTheDigestLookupsConcurrentlyAtMostEight() throws {
        _ = try HangarExecutable.path()
        let site = try RegistrySite()
        defer { site.remove() }
        let server = try LoopbackHTTPServer()
        defer { server.stop() }
        let inFlight = InFlight()
        let old = "sha256:" + String(repeating: "1", count: 64)
        let new = "sha256:" + String(repeating: "2", count: 64)
        server.route("/v2/", LoopbackHTTPServer.Reply(text: "{}"))
        var entries: [(name: String, uri: String, mirrors: [String])] = []
        let count = 20
        for i in 0..<count {
            let name = "b\(i)"
            server.route("/v2/check/\(name)/manifests/latest") { _ in
                inFlight.enter()
                defer { inFlight.leave() }
                Thread.sleep(forTimeInterval: 0.25)
                return LoopbackHTTPServer.Reply(headers: ["Content-Type": OCIMediaType.ociIndex, "Docker-Content-Digest": new],
                                                body: [])
            }
            entries.append((name, "oci://127.0.0.1:\(server.port)/check/\(name):latest", []))
            try site.install(name, metadataJSON: #"{"name":"\#(name)","digest":"\#(old)","uri":"\#(entries.last!.uri)"}"#)
        }
        try site.writeGallery(entries)

        let started = Date()
        let check = try site.hangar(["check", "--json"])
        let elapsed = Date().timeIntervalSince(started)
        XCTAssertEqual(check.status, 0, check.transcript)
        let report = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(check.stdout.utf8)) as? [String: [String: Any]])
        XCTAssertEqual(report.count, count, check.stdout)
        XCTAssertEqual(report["b7"]?["installed_digest"] as? String, old)
        XCTAssertEqual(report["b7"]?["available_digest"] as? String, new)
        // Each answer takes 0.25 s, so 20 lookups overlap: several at once (a busy CI machine may start fewer
        // threads in time than the bound), never more than 8; and far quicker than 20 × 0.25 s one after another.
        XCTAssertTrue((4...8).contains(inFlight.peak.load(ordering: .sequentiallyConsistent)),
                      "lookups overlap, bounded at 8: peak \(inFlight.peak.load(ordering: .sequentiallyConsistent))")
        XCTAssertLessThan(elapsed, 3.5, "serial lookups would take 5 s")
    }

    func testABareRegistryReferenceIsComparedAndATarballIsNotLookedUp() throws {
        _ = try HangarExecutable.path()
        let site = try RegistrySite()
        defer { site.remove() }
        let server = try LoopbackHTTPServer()
        defer { server.stop() }
        let old = "sha256:" + String(repeating: "1", count: 64)
        let new = "sha256:" + String(repeating: "2", count: 64)
        server.route("/v2/", LoopbackHTTPServer.Reply(text: "{}"))
        server.route("/v2/check/bare/manifests/latest",
                     LoopbackHTTPServer.Reply(headers: ["Content-Type": OCIMediaType.ociIndex, "Docker-Content-Digest": new], body: []))
        // No oci:// prefix and not a registry LocalAI's prefix list knows: hangar pulls it, so it checks it too.
        let entries = [("bare", "127.0.0.1:\(server.port)/check/bare:latest", [String]()),
                       ("tarball", "ocifile://\(site.root)/saved.tar", [String]())]
        for (name, uri, _) in entries {
            try site.install(name, metadataJSON: #"{"name":"\#(name)","digest":"\#(old)","uri":"\#(uri)"}"#)
        }
        try site.writeGallery(entries)

        let check = try site.hangar(["check", "--json"])
        XCTAssertEqual(check.status, 0, check.transcript)
        let report = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(check.stdout.utf8)) as? [String: [String: Any]])
        XCTAssertEqual(report["bare"]?["available_digest"] as? String, new, check.stdout)
        XCTAssertNil(report["tarball"], "a tarball has no registry digest to compare")
        XCTAssertFalse(check.stderr.contains("tarball"), "no warning about the tarball on every check:\n\(check.stderr)")
    }
}
