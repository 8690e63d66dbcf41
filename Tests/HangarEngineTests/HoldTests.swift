import Dispatch
import Foundation
import XCTest
@testable import HangarEngine

/// Holds as the engine applies them: auto-upgrade leaves a held backend alone, even when the hold comes while the
/// auto-upgrade waits in the queue.
final class HoldTests: XCTestCase {
    /// piper and whisper at 1.0.0, 2.0.0 in the gallery.
    private func site() throws -> EngineFixture {
        let f = try EngineFixture()
        let piper = try f.source("piper-2", files: ["VERSION": "2"])
        let whisper = try f.source("whisper-2", files: ["VERSION": "2"])
        try f.gallery("---\n- {name: piper, uri: \"\(piper)\", version: \"2\"}\n- {name: whisper, uri: \"\(whisper)\", version: \"2\"}\n")
        try f.installed("piper", BackendMetadata(name: "piper", version: "1", uri: "/old/piper"))
        try f.installed("whisper", BackendMetadata(name: "whisper", version: "1", uri: "/old/whisper"))
        return f
    }

    func testAutoUpgradeSkipsAHeldBackendAndSaysWhy() throws {
        let f = try site()
        let engine = try f.engine()
        try engine.setAutoUpgrade(true)
        try engine.hold("piper", reason: "pinned for the demo")
        let scheduler = UpgradeScheduler(engine: engine, interval: { 3600 })
        let done = DispatchSemaphore(value: 0)
        scheduler.subscribe(on: DispatchQueue(label: "test.status")) { status in
            if !status.isChecking, status.lastCheck != nil { done.signal() }
        }
        scheduler.checkNow()
        XCTAssertEqual(done.wait(timeout: .now() + 10), .success)
        let status = scheduler.status
        XCTAssertEqual(status.report?.upgrades.keys.sorted(), ["piper", "whisper"], "a held backend is still checked")
        XCTAssertEqual(status.autoUpgradeJobs.count, 1)
        XCTAssertEqual(status.autoUpgradeSkipped["piper"], "held: pinned for the demo; auto-upgrade leaves it alone")
        engine.jobs.waitAll()
        XCTAssertEqual(try f.metadata("piper").version, "1")
        XCTAssertEqual(try f.metadata("whisper").version, "2")
    }

    func testAHoldSetWhileAnAutoUpgradeWaitsInTheQueueStillCounts() throws {
        let f = try site()
        let engine = try f.engine()
        // A manual job holds piper's queue slot; the auto-upgrade waits behind it.
        let release = DispatchSemaphore(value: 0)
        let blocker = engine.jobs.submit(.reinstall, backend: "piper") { _ in
            release.wait()
            return "held the queue"
        }
        let auto = try engine.upgrade("piper", background: true)
        try engine.hold("piper", reason: "set while queued")
        release.signal()
        XCTAssertTrue(engine.jobs.wait(blocker).isSuccess)
        guard case .skipped(let reason) = engine.jobs.wait(auto) else { return XCTFail("\(engine.jobs.wait(auto))") }
        XCTAssertEqual(reason, "piper is held: set while queued; auto-upgrade left it alone")
        XCTAssertEqual(try f.metadata("piper").version, "1")
        // A person's upgrade is not a background job: the CLI and the UI decide on holds before sending it.
        XCTAssertTrue(try finish(engine) { try $0.upgrade("piper") }.isSuccess)
        XCTAssertEqual(try f.metadata("piper").version, "2")
    }
}
