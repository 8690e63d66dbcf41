import Foundation
import HangarEngine
import HangarFixtures
import Synchronization
import XCTest

/// Cancelling a job LocalAI still holds in its queue (localai-api.md §7.3, G15): LocalAI's cancel endpoint answers
/// 400 for a queued /backends job, so hangar says in a warning that the job goes on on the server, and keeps
/// reporting what the server does with it.
final class LocalAIServerCancelTests: LocalAIServerTestCase {
    func testAQueuedJobCannotBeCancelledAndHangarSaysItGoesOn() throws {
        standIn.setNeverFinish(true)
        let configuration = try HangarConfiguration.resolve(flags: .init(server: standIn.url),
                                                            environment: environment(), workingDirectory: directory)
        let engine = Engine.live(configuration: configuration).engine
        let events = Mutex<[JobEvent]>([])
        engine.jobs.subscribe(on: DispatchQueue(label: "events")) { event in events.withLock { $0.append(event) } }
        func seen(_ job: JobID, _ match: @escaping (JobEvent.Kind) -> Bool) -> Bool {
            events.withLock { $0.contains { $0.job == job && match($0.kind) } }
        }

        // The server runs whisper's install and holds piper's reinstall in its queue behind it.
        let running = try engine.install("whisper", force: false)
        XCTAssertTrue(waitUntil(timeout: 10) { seen(running) { if case .progress = $0 { return true }; return false } })
        let queued = try engine.install("piper", force: true)
        XCTAssertTrue(waitUntil(timeout: 10) {
            seen(queued) { if case .phase(_, let detail) = $0 { return detail.contains("waiting in the server's queue") }; return false }
        }, "piper's job waits in the server's queue")

        engine.jobs.cancel(queued)
        XCTAssertTrue(waitUntil(timeout: 10) {
            seen(queued) { if case .warning(let m) = $0 { return m.contains("LocalAI could not cancel job") && m.contains("it goes on on the server") }; return false }
        }, "hangar says the server keeps the job: \(events.withLock { $0.filter { $0.job == queued } })")
        XCTAssertTrue(standIn.requests.contains { $0.method == "POST" && $0.path.hasPrefix("/api/operations/") && $0.path.hasSuffix("/cancel") })

        // The running job can be cancelled; the queued one then runs on the server, and hangar follows it to the end.
        standIn.setNeverFinish(false)
        engine.jobs.cancel(running)
        XCTAssertEqual(engine.jobs.wait(running), .cancelled)
        let outcome = engine.jobs.wait(queued)
        XCTAssertTrue(outcome.isSuccess, "the server did the reinstall, and hangar says so: \(outcome)")
        XCTAssertNotNil(standIn.installedMetadata("piper"), "the server reinstalled piper after all (\(outcome))")
        XCTAssertNil(standIn.installedMetadata("whisper"))
    }
}
