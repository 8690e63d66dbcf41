import Dispatch
import Synchronization
import XCTest
@testable import HangarEngine

/// Jobs on Dispatch queues: serial per backend, bounded parallel across backends, cancellable, ordered events.
final class JobQueueTests: XCTestCase {
    /// Collects events on a serial queue.
    final class Recorder: Sendable {
        let queue = DispatchQueue(label: "test.recorder")
        private let storage = Mutex<[JobEvent]>([])
        func attach(_ jobs: JobQueue) { jobs.subscribe(on: queue) { [self] e in storage.withLock { $0.append(e) } } }
        var events: [JobEvent] { queue.sync {}; return storage.withLock { $0 } }
        func kinds(_ job: JobID) -> [JobEvent.Kind] { events.filter { $0.job == job }.map(\.kind) }
    }

    func testSameBackendRunsStrictlyInSubmissionOrderAndOthersInParallel() {
        let jobs = JobQueue(maxParallel: 2)
        let log = Mutex<[String]>([])
        let running = Mutex<Set<String>>([])
        let overlapSameBackend = Atomic<Bool>(false)
        let overlapOthers = Atomic<Bool>(false)
        func work(_ backend: String, _ tag: String) -> JobQueue.Work {
            { _ in
                running.withLock { r in
                    if r.contains(backend) { overlapSameBackend.store(true, ordering: .relaxed) }
                    if !r.isEmpty { overlapOthers.store(true, ordering: .relaxed) }
                    r.insert(backend)
                }
                usleep(30_000)
                log.withLock { $0.append(tag) }
                running.withLock { _ = $0.remove(backend) }
                return tag
            }
        }
        for i in 0..<4 {
            jobs.submit(.upgrade, backend: "a", work: work("a", "a\(i)"))
            jobs.submit(.upgrade, backend: "b", work: work("b", "b\(i)"))
        }
        jobs.waitAll()
        XCTAssertFalse(overlapSameBackend.load(ordering: .relaxed), "two jobs of one backend ran at once")
        XCTAssertTrue(overlapOthers.load(ordering: .relaxed), "different backends should run in parallel")
        let order = log.withLock { $0 }
        XCTAssertEqual(order.filter { $0.hasPrefix("a") }, ["a0", "a1", "a2", "a3"])
        XCTAssertEqual(order.filter { $0.hasPrefix("b") }, ["b0", "b1", "b2", "b3"])
    }

    func testParallelismIsBounded() {
        let jobs = JobQueue(maxParallel: 2)
        let current = Atomic<Int>(0)
        let peak = Atomic<Int>(0)
        for i in 0..<6 {
            jobs.submit(.install, backend: "x\(i)") { _ in
                let now = current.add(1, ordering: .relaxed).newValue
                _ = peak.max(now, ordering: .relaxed)
                usleep(20_000)
                current.subtract(1, ordering: .relaxed)
                return ""
            }
        }
        jobs.waitAll()
        XCTAssertEqual(peak.load(ordering: .relaxed), 2)
    }

    func testEventsArriveInOrderWithTerminalKinds() {
        let jobs = JobQueue()
        let recorder = Recorder()
        recorder.attach(jobs)
        let ok = jobs.submit(.upgrade, backend: "a") { c in
            c.phase(.downloading, "src")
            c.progress(bytes: 50, total: 100)
            c.progress(bytes: 100, total: 100)
            c.phase(.swapping)
            return "upgraded"
        }
        let failed = jobs.submit(.install, backend: "b") { _ in throw HangarError.operation("boom") }
        let rolled = jobs.submit(.upgrade, backend: "c") { _ in
            throw RolledBackError(error: .operation("run.sh missing"), restored: "v1.0.0 restored")
        }
        XCTAssertEqual(jobs.wait(ok), .succeeded(summary: "upgraded"))
        XCTAssertEqual(jobs.wait(failed), .failed(.operation("boom")))
        XCTAssertEqual(jobs.wait(rolled), .rolledBack(.operation("run.sh missing"), restored: "v1.0.0 restored"))
        XCTAssertEqual(recorder.kinds(ok), [.queued, .phase(.downloading, detail: "src"), .progress(bytes: 50, total: 100),
                                            .progress(bytes: 100, total: 100), .phase(.swapping, detail: ""),
                                            .done(summary: "upgraded")])
        XCTAssertEqual(recorder.kinds(failed).last, .failed(error: "boom"))
        XCTAssertEqual(recorder.kinds(rolled).last, .rolledBack(error: "run.sh missing", restored: "v1.0.0 restored"))
    }

    func testCancellingAQueuedJobNeverRunsItAndARunningJobStopsAtItsNextCheck() {
        let jobs = JobQueue(maxParallel: 1)
        let started = DispatchSemaphore(value: 0)
        let ran = Atomic<Bool>(false)
        let long = jobs.submit(.upgrade, backend: "a") { c in
            started.signal()
            for _ in 0..<500 {
                try c.checkCancelled()
                usleep(2_000)
            }
            return "finished"
        }
        let queued = jobs.submit(.upgrade, backend: "b") { _ in ran.store(true, ordering: .relaxed); return "" }
        started.wait()
        jobs.cancel(queued)
        jobs.cancel(long)
        XCTAssertEqual(jobs.wait(long), .cancelled)
        XCTAssertEqual(jobs.wait(queued), .cancelled)
        XCTAssertFalse(ran.load(ordering: .relaxed))
    }

    func testProgressIsCoalescedButTheFinalCountAlwaysArrives() {
        let jobs = JobQueue()
        let recorder = Recorder()
        recorder.attach(jobs)
        let id = jobs.submit(.install, backend: "a") { c in
            for i in 1...10_000 { c.progress(bytes: Int64(i), total: 10_000) }
            return ""
        }
        _ = jobs.wait(id)
        let progress = recorder.kinds(id).filter { if case .progress = $0 { return true }; return false }
        XCTAssertLessThan(progress.count, 50)
        XCTAssertEqual(progress.last, .progress(bytes: 10_000, total: 10_000))
    }

    func testBackgroundUpgradeGivesWayToAManualOperationOnTheSameBackend() throws {
        let f = try EngineFixture()
        let src = try f.source("foo-2")
        try f.gallery("- {name: foo, uri: \"\(src)\", version: \"2\"}\n")
        try f.installed("foo", BackendMetadata(name: "foo", version: "1"))
        let engine = try f.engine()
        // Another process (or thread) holds the backend: the auto-upgrader must skip, not wait or race.
        let held = try XCTUnwrap(try BackendLocks(root: BackendsRoot(f.backends)).lock(["foo"], mode: .wait))
        let outcome = try finish(engine) { try $0.upgrade("foo", background: true) }
        guard case .skipped(let reason) = outcome else { return XCTFail("\(outcome)") }
        XCTAssertTrue(reason.contains("busy"))
        XCTAssertEqual(try f.metadata("foo").version, "1")
        held.release()
        XCTAssertTrue(try finish(engine) { try $0.upgrade("foo", background: true) }.isSuccess)
        XCTAssertEqual(try f.metadata("foo").version, "2")
    }
}
