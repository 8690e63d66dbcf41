import Foundation
import HangarEngine
import HangarFixtures
import XCTest

/// Faults during a pull: each must fail with one clear line and leave the installed version exactly as it was.
final class RegistryFaultTests: RegistryTestCase {
    /// Installs v1 of `name` from the shared registry and returns the repository and a snapshot of the install.
    private func installV1(_ name: String, format: ImagePusher.Format = .oci) throws -> (repo: String, before: [String: Data]) {
        let repo = "faults/\(name)"
        try pusher.push(directory: try site.source("\(name)-v1"), repository: repo, tag: "latest", format: format, index: true)
        try site.writeGallery([(name, "oci://\(try registry.address)/\(repo):latest", [])])
        let install = try site.hangar(["install", name])
        XCTAssertEqual(install.status, 0, install.transcript)
        XCTAssertEqual(site.read("\(name)/VERSION"), "\(name)-v1\n")
        return (repo, site.snapshot(name))
    }

    /// The operation failed (exit 1) with `phrase` in its error, and `name` is byte for byte what it was.
    private func assertRefused(_ run: HangarExecutable.Run, _ phrase: String, name: String, before: [String: Data],
                               file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(run.status, 1, run.transcript, file: file, line: line)
        let errors = run.stderr.split(separator: "\n").filter { $0.contains(": failed: ") || $0.contains("rolled back") }
        XCTAssertEqual(errors.count, 1, "one error line expected:\n\(run.transcript)", file: file, line: line)
        XCTAssertTrue(errors.first?.contains(phrase) == true, "error should mention \"\(phrase)\":\n\(run.transcript)",
                      file: file, line: line)
        XCTAssertEqual(site.snapshot(name), before, "the installed backend changed", file: file, line: line)
        XCTAssertEqual(site.stagingLeftovers(), [], "staging left behind", file: file, line: line)
    }

    func testBlobWhoseBytesDoNotMatchItsDigestIsRefused() throws {
        let (repo, before) = try installV1("corrupt")
        let v2 = try pusher.push(directory: try site.source("corrupt-v2"), repository: repo, tag: "latest", index: true)
        // Same length, different bytes: the registry serves them as they are on disk.
        let path = try registry.blobDataPath(v2.layers[0].digest)
        var bytes = try XCTUnwrap(FileManager.default.contents(atPath: path))
        bytes[bytes.count / 2] ^= 0xff
        try bytes.write(to: URL(fileURLWithPath: path))

        let upgrade = try site.hangar(["upgrade", "corrupt"])
        assertRefused(upgrade, "not the manifest's \(v2.layers[0].digest)", name: "corrupt", before: before)
        XCTAssertNotEqual(try site.metadata("corrupt")["digest"] as? String, v2.digest)
    }

    func testServerErrorsOnTheBlobAreRetriedThenRefused() throws {
        let (repo, before) = try installV1("errors")
        try pusher.push(directory: try site.source("errors-v2"), repository: repo, tag: "latest", index: true)
        let replica = try RegistryReplica(of: try registry, repository: repo, tag: "latest")
        defer { replica.stop() }
        let blob = replica.blobPath(replica.layerDigests[0])
        replica.server.addFaults(blob, Array(repeating: .status(500), count: 10))
        try site.writeGallery([("errors", replica.uri, [])])

        let upgrade = try site.hangar(["upgrade", "errors"])
        assertRefused(upgrade, "HTTP 500", name: "errors", before: before)
        // HANGAR_RETRY_BACKOFF has two delays: three attempts in all.
        XCTAssertEqual(replica.server.requests(to: blob).count, 3)
    }

    func testCutConnectionResumesWithRangeAndInstalls() throws {
        let repo = "faults/resume"
        let random = try randomBytes(300_000)
        let source = try site.source("resume-v1")
        try random.write(to: URL(fileURLWithPath: source + "/lib/weights.bin"))
        let pushed = try pusher.push(directory: source, repository: repo, tag: "latest", index: true)
        let replica = try RegistryReplica(of: try registry, repository: repo, tag: "latest")
        defer { replica.stop() }
        let blob = replica.blobPath(pushed.layers[0].digest)
        replica.server.addFaults(blob, [.closeAfter(bytes: 100_000)])
        try site.writeGallery([("resume", replica.uri, [])])

        let install = try site.hangar(["install", "resume"])
        XCTAssertEqual(install.status, 0, install.transcript)
        let requests = replica.server.requests(to: blob)
        XCTAssertEqual(requests.count, 2, "one cut transfer and one resumed one")
        XCTAssertNil(requests.first?.header("range"))
        XCTAssertEqual(requests.last?.header("range"), "bytes=100000-")
        XCTAssertEqual(FileManager.default.contents(atPath: site.backends + "/resume/lib/weights.bin"), random)
        XCTAssertEqual(try site.metadata("resume")["digest"] as? String, pushed.digest)
    }

    func testServerIgnoringRangeMakesThePullStartOverOnACleanStagingDir() throws {
        let repo = "faults/norange"
        let source = try site.source("norange-v1")
        try randomBytes(300_000).write(to: URL(fileURLWithPath: source + "/lib/weights.bin"))
        let pushed = try pusher.push(directory: source, repository: repo, tag: "latest", index: true)
        let replica = try RegistryReplica(of: try registry, repository: repo, tag: "latest")
        defer { replica.stop() }
        let blob = replica.blobPath(pushed.layers[0].digest)
        let bytes = try HTTPClient().send(HTTPRequest(url: "\(try registry.baseURL)\(blob)")).body
        // The first transfer is cut; every answer is the whole blob with a 2xx that is not 206, whatever the Range.
        replica.server.route(blob, faults: [.closeAfter(bytes: 100_000)]) { _ in
            LoopbackHTTPServer.Reply(status: 203, headers: ["Content-Type": "application/octet-stream"], body: bytes)
        }
        try site.writeGallery([("norange", replica.uri, [])])

        let install = try site.hangar(["install", "norange"])
        XCTAssertEqual(install.status, 0, install.transcript)
        XCTAssertTrue(install.stderr.contains("does not resume downloads; pulling"), install.transcript)
        XCTAssertEqual(replica.server.requests(to: blob).map { $0.header("range") }, [nil, "bytes=100000-", nil])
        XCTAssertEqual(FileManager.default.contents(atPath: site.backends + "/norange/lib/weights.bin"),
                       FileManager.default.contents(atPath: source + "/lib/weights.bin"))
        XCTAssertEqual(try site.metadata("norange")["digest"] as? String, pushed.digest)
    }

    func testRegistryKilledInTheMiddleOfABlob() throws {
        let own = try RegistryProcess()
        defer { own.stop() }
        let ownPusher = ImagePusher(registry: own.address, workDirectory: site.root + "/push-own")
        let repo = "faults/killed"
        try ownPusher.push(directory: try site.source("killed-v1"), repository: repo, tag: "latest", index: true)
        try site.writeGallery([("killed", "oci://\(own.address)/\(repo):latest", [])])
        XCTAssertEqual(try site.hangar(["install", "killed"]).status, 0)
        let before = site.snapshot("killed")

        let source = try site.source("killed-v2")
        // Random, so gzip keeps it at 16 MiB: far more than the loopback socket buffers hold.
        let random = try randomBytes(16 << 20)
        try random.write(to: URL(fileURLWithPath: source + "/big.bin"))
        try ownPusher.push(directory: source, repository: repo, tag: "latest", index: true, gzipLevel: 1)
        // 8 MiB/s makes the layer take about 2 s, so the kill lands mid-blob.
        let result = Locked<HangarExecutable.Run?>(nil)
        let done = DispatchSemaphore(value: 0)
        let site = self.site!
        DispatchQueue.global().async {
            result.set(try? site.hangar(["upgrade", "killed"], env: ["HANGAR_DOWNLOAD_LIMIT": "8388608"]))
            done.signal()
        }
        // Kill only once the layer is really arriving: a file has appeared in the staging dir.
        let staging = site.backends + "/.hangar/staging"
        let deadline = Date().addingTimeInterval(20)
        while Date() < deadline, !holdsAFile(staging) { usleep(20_000) }
        XCTAssertTrue(holdsAFile(staging), "the upgrade never started extracting")
        own.kill()
        XCTAssertEqual(done.wait(timeout: .now() + 30), .success)
        let upgrade = try XCTUnwrap(result.get())
        assertRefused(upgrade, "cannot connect to \(own.address)", name: "killed", before: before)
        XCTAssertTrue(upgrade.stderr.contains("layer 1 ("), "the error names the layer:\n\(upgrade.stderr)")
        XCTAssertTrue(upgrade.stderr.contains("gave up after 3 attempts"), upgrade.stderr)
    }

    func testTruncatedGzipLayerIsRefused() throws {
        let (repo, before) = try installV1("truncated")
        let pusher = try self.pusher
        let full = try pusher.layer(of: try site.source("truncated-v2"))
        let bytes = try XCTUnwrap(FileManager.default.contents(atPath: full.path))
        let cut = try pusher.blob(bytes: Array(bytes.prefix(bytes.count / 2)), name: "cut.tar.gz")
        try pusher.push(layers: [cut], repository: repo, tag: "latest", index: true)

        let upgrade = try site.hangar(["upgrade", "truncated"])
        assertRefused(upgrade, "truncated", name: "truncated", before: before)
    }

    func testNotEnoughDiskSpaceIsRefusedBeforeDownloading() throws {
        let (repo, before) = try installV1("space")
        let v2 = try pusher.push(directory: try site.source("space-v2"), repository: repo, tag: "latest", index: true)
        let upgrade = try site.hangar(["upgrade", "space"], env: ["HANGAR_FAKE_FREE_BYTES": "100"])
        assertRefused(upgrade, "not enough disk space", name: "space", before: before)
        let needed = TextFormat.bytes(v2.layers[0].size * 3)
        XCTAssertTrue(upgrade.stderr.contains("needs about \(needed)") && upgrade.stderr.contains("100 B free"), upgrade.stderr)
        XCTAssertFalse(upgrade.stderr.contains("downloading layer"), "refused before any download:\n\(upgrade.stderr)")
    }
}

/// Whether any regular file with bytes exists below `directory`.
private func holdsAFile(_ directory: String) -> Bool {
    guard let walker = FileManager.default.enumerator(atPath: directory) else { return false }
    for case let path as String in walker {
        let attributes = try? FileManager.default.attributesOfItem(atPath: directory + "/" + path)
        if attributes?[.type] as? FileAttributeType == .typeRegular, (attributes?[.size] as? Int ?? 0) > 0 { return true }
    }
    return false
}
