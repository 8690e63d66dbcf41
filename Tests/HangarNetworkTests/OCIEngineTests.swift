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
}
