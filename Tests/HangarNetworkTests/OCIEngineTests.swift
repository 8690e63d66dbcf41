import Foundation
import HangarEngine
import HangarFixtures
import XCTest

/// The engine with the registry source, in process: job events (phases, cumulative progress) and cancellation.
final class OCIEngineTests: RegistryTestCase {
    /// Where job events are delivered: `eventQueue.sync {}` waits until every event sent so far was recorded.
    private let eventQueue = DispatchQueue(label: "oci-engine-test-events")

    private func engine(downloadLimit: Int64? = nil) throws -> Engine {
        let configuration = try HangarConfiguration.resolve(
            flags: .init(), environment: site.environment(), workingDirectory: site.root)
        let client = RegistryClient(http: HTTPClient(), credentials: RegistryCredentials(), retryBackoff: [0.05])
        let source = OCISource(client: client, retryBackoff: [0.05], throttleBytesPerSecond: downloadLimit)
        return Engine(configuration: configuration, digestResolver: RegistryDigestResolver(client: client), sources: [source])
    }

    /// Events of the engine's jobs, collected in order.
    private func record(_ engine: Engine) -> Locked<[JobEvent.Kind]> {
        let events = Locked<[JobEvent.Kind]>([])
        engine.jobs.subscribe(on: eventQueue) { event in events.set(events.get() + [event.kind]) }
        return events
    }

    func testProgressIsCumulativeOverAllLayers() throws {
        let pusher = try self.pusher
        let first = try site.source("layers-base")
        try Data(repeating: 7, count: 200_000).write(to: URL(fileURLWithPath: first + "/lib/a.bin"))
        let second = site.root + "/second"
        try FileManager.default.createDirectory(atPath: second, withIntermediateDirectories: true)
        try randomBytes(150_000).write(to: URL(fileURLWithPath: second + "/b.bin"))
        let layers = [try pusher.layer(of: first), try pusher.layer(of: second)]
        let pushed = try pusher.push(layers: layers, repository: "engine/layers", tag: "latest")
        try site.writeGallery([("layers", "oci://\(try registry.address)/engine/layers:latest", [])])

        let engine = try engine()
        let events = record(engine)
        let outcome = engine.jobs.wait(try engine.install("layers", force: false))
        XCTAssertTrue(outcome.isSuccess, "\(outcome)")
        engine.jobs.waitAll()
        eventQueue.sync {}
        let progress = events.get().compactMap { kind -> (Int64, Int64)? in
            if case .progress(let bytes, let total) = kind { return (bytes, total) }
            return nil
        }
        let total = layers.reduce(0) { $0 + $1.size }
        XCTAssertEqual(Set(progress.map(\.1)), [total], "one total: the sum of the compressed layers")
        XCTAssertEqual(progress.map(\.0), progress.map(\.0).sorted(), "never goes back at a layer boundary")
        XCTAssertEqual(progress.last?.0, total)
        let phases = events.get().compactMap { kind -> JobPhase? in
            if case .phase(let phase, _) = kind { return phase }
            return nil
        }
        XCTAssertEqual(phases.filter { $0 == .downloading }.count, 2, "one downloading phase per layer")
        XCTAssertTrue(phases.contains(.verifying))
        XCTAssertEqual(try site.metadata("layers")["digest"] as? String, pushed.digest)
        XCTAssertTrue(FileManager.default.fileExists(atPath: site.backends + "/layers/b.bin"))
        XCTAssertNotNil(site.read("layers/run.sh"))
    }

    func testCancelStopsAPullPromptlyAndInstallsNothing() throws {
        let source = try site.source("slow")
        try randomBytes(4_000_000).write(to: URL(fileURLWithPath: source + "/big.bin"))
        try pusher.push(directory: source, repository: "engine/slow", tag: "latest", gzipLevel: 1)
        try site.writeGallery([("slow", "oci://\(try registry.address)/engine/slow:latest", [])])

        // 1 MiB/s: the pull would take about 4 s.
        let engine = try engine(downloadLimit: 1 << 20)
        let events = record(engine)
        let job = try engine.install("slow", force: false)
        let deadline = Date().addingTimeInterval(10)
        while Date() < deadline, !events.get().contains(where: { if case .progress(let b, _) = $0 { return b > 0 }; return false }) {
            usleep(10_000)
        }
        let cancelledAt = Date()
        engine.jobs.cancel(job)
        XCTAssertEqual(engine.jobs.wait(job), .cancelled)
        XCTAssertLessThan(Date().timeIntervalSince(cancelledAt), 3.0, "a cancel stops the transfer promptly")
        XCTAssertFalse(FileManager.default.fileExists(atPath: site.backends + "/slow"))
        XCTAssertEqual(site.stagingLeftovers(), [])
    }

    /// The failure message of a job that did not succeed ("" when it succeeded).
    private func failure(_ outcome: JobOutcome) -> String {
        switch outcome {
        case .failed(let error), .rolledBack(let error, _): return error.message
        default: return ""
        }
    }

    /// A one-layer image `engine/<name>` pushed to the registry and served by a replica whose blob route a test
    /// replaces; returns the replica, the layer and its bytes.
    private func replicaOfOneLayerImage(_ name: String) throws -> (RegistryReplica, ImagePusher.Blob, [UInt8]) {
        let pushed = try pusher.push(directory: try site.source(name), repository: "engine/\(name)", tag: "latest")
        let replica = try RegistryReplica(of: try registry, repository: "engine/\(name)", tag: "latest")
        let layer = pushed.layers[0]
        return (replica, layer, Array(try XCTUnwrap(FileManager.default.contents(atPath: layer.path))))
    }

    /// The largest cumulative byte count reported.
    private func maxProgress(_ events: Locked<[JobEvent.Kind]>) -> Int64 {
        eventQueue.sync {}
        return events.get().compactMap { kind -> Int64? in
            if case .progress(let bytes, _) = kind { return bytes }
            return nil
        }.max() ?? 0
    }

    func testAnExtractionFailureStopsTheDownloadAndSaysTheDigestWasNotChecked() throws {
        // Not an archive at all: the extractor gives up on the first block, long before 16 MiB arrived.
        let garbage = try pusher.blob(bytes: Array(try randomBytes(16 << 20)), name: "garbage")
        try pusher.push(layers: [garbage], repository: "engine/garbage", tag: "latest")
        try site.writeGallery([("garbage", "oci://\(try registry.address)/engine/garbage:latest", [])])

        let engine = try engine()
        let events = record(engine)
        let outcome = engine.jobs.wait(try engine.install("garbage", force: false))
        XCTAssertTrue(failure(outcome).contains("the layer's digest was not checked"), "\(outcome)")
        XCTAssertTrue(failure(outcome).contains("layer 1 ("), "\(outcome)")
        XCTAssertLessThan(maxProgress(events), garbage.size / 2, "the transfer was aborted, not finished")
        XCTAssertFalse(FileManager.default.fileExists(atPath: site.backends + "/garbage"))
        XCTAssertEqual(site.stagingLeftovers(), [])
    }

    func testAConnectionDroppedAfterTheLastByteVerifiesWithoutAskingPastTheEnd() throws {
        let (replica, layer, bytes) = try replicaOfOneLayerImage("lastbyte")
        defer { replica.stop() }
        // One byte more announced than the blob has: every byte arrives, then the connection closes short.
        replica.server.route(replica.blobPath(layer.digest), .init(body: bytes + [0]), faults: [.closeAfter(bytes: bytes.count)])
        try site.writeGallery([("lastbyte", replica.uri, [])])

        let engine = try engine()
        let outcome = engine.jobs.wait(try engine.install("lastbyte", force: false))
        XCTAssertTrue(outcome.isSuccess, "\(outcome)")
        XCTAssertEqual(replica.server.requests(to: replica.blobPath(layer.digest)).count, 1, "no Range request past the end (416)")
        XCTAssertNotNil(site.read("lastbyte/run.sh"))
    }

    func testARegistrySendingMoreThanTheDescriptorIsRefused() throws {
        let (replica, layer, bytes) = try replicaOfOneLayerImage("overlong")
        defer { replica.stop() }
        replica.server.route(replica.blobPath(layer.digest), .init(body: bytes + Array(repeating: 0, count: 100_000)))
        try site.writeGallery([("overlong", replica.uri, [])])

        let engine = try engine()
        let outcome = engine.jobs.wait(try engine.install("overlong", force: false))
        XCTAssertTrue(failure(outcome).contains("sent more than the manifest's"), "\(outcome)")
        XCTAssertFalse(FileManager.default.fileExists(atPath: site.backends + "/overlong"))
    }

    func testADockerManifestListInstallsAndAMissingPlatformIsNamed() throws {
        let list = try pusher.push(directory: try site.source("dockerlist"), repository: "engine/dockerlist", tag: "latest",
                                   format: .docker, index: true, architecture: OCIPlatform.current.architecture)
        try pusher.push(directory: try site.source("otherarch"), repository: "engine/otherarch", tag: "latest",
                        index: true, architecture: "s390x-not-this-one")
        try site.writeGallery([("dockerlist", "oci://\(try registry.address)/engine/dockerlist:latest", []),
                               ("otherarch", "oci://\(try registry.address)/engine/otherarch:latest", [])])

        let engine = try engine()
        let installed = engine.jobs.wait(try engine.install("dockerlist", force: false))
        XCTAssertTrue(installed.isSuccess, "\(installed)")
        XCTAssertEqual(try site.metadata("dockerlist")["digest"] as? String, list.digest, "the list's digest, as LocalAI records")

        let missing = engine.jobs.wait(try engine.install("otherarch", force: false))
        XCTAssertTrue(failure(missing).contains("has no image for \(OCIPlatform.current)"), "\(missing)")
        XCTAssertTrue(failure(missing).contains("it offers linux/s390x-not-this-one"), "\(missing)")
        XCTAssertFalse(FileManager.default.fileExists(atPath: site.backends + "/otherarch"))
    }

    func testAWhiteoutInTheSecondLayerRemovesAFileOfTheFirst() throws {
        let base = try site.source("whiteout", extra: ["old.txt": "old\n", "kept.txt": "kept\n"])
        let top = site.root + "/whiteout-top"
        try FileManager.default.createDirectory(atPath: top, withIntermediateDirectories: true)
        _ = FileManager.default.createFile(atPath: top + "/.wh.old.txt", contents: Data())
        try "new\n".write(toFile: top + "/new.txt", atomically: true, encoding: .utf8)
        try pusher.push(layers: [try pusher.layer(of: base), try pusher.layer(of: top)], repository: "engine/whiteout", tag: "latest")
        try site.writeGallery([("whiteout", "oci://\(try registry.address)/engine/whiteout:latest", [])])

        let engine = try engine()
        let outcome = engine.jobs.wait(try engine.install("whiteout", force: false))
        XCTAssertTrue(outcome.isSuccess, "\(outcome)")
        XCTAssertNil(site.read("whiteout/old.txt"), "the whiteout removed the first layer's file")
        XCTAssertNil(site.read("whiteout/.wh.old.txt"))
        XCTAssertEqual(site.read("whiteout/kept.txt"), "kept\n")
        XCTAssertEqual(site.read("whiteout/new.txt"), "new\n")
    }

    func testTheMissingSignatureCheckIsWarnedOncePerInstallNotPerCandidate() throws {
        let (replica, layer, _) = try replicaOfOneLayerImage("candidates")
        defer { replica.stop() }
        // The first candidate resolves its manifest, then its blob fails: the mirror (the real registry) installs.
        replica.server.route(replica.blobPath(layer.digest), .init(status: 404, text: "gone"))
        try site.writeGallery([("candidates", replica.uri, ["oci://\(try registry.address)/engine/candidates:latest"])])

        let engine = try engine()
        let events = record(engine)
        let outcome = engine.jobs.wait(try engine.install("candidates", force: false))
        XCTAssertTrue(outcome.isSuccess, "\(outcome)")
        eventQueue.sync {}
        let warnings = events.get().compactMap { kind -> String? in
            if case .warning(let message) = kind { return message }
            return nil
        }
        XCTAssertTrue(warnings.contains { $0.contains("trying the next source") }, "both candidates were tried: \(warnings)")
        XCTAssertEqual(warnings.filter { $0.contains("without signature verification") }.count, 1, "\(warnings)")
    }
}
