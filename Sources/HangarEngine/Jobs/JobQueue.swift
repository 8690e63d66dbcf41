import Dispatch
import Foundation
import Synchronization

/// Handed to a running operation: how it reports phases and bytes and learns it was cancelled.
public final class JobContext: Sendable {
    public let job: JobID
    public let operation: JobOperation
    public let backend: String
    /// Background jobs (auto-upgrade) give way instead of waiting when the backend is busy.
    public let isBackground: Bool
    private let cancelled = Atomic<Bool>(false)
    private let lastProgress = Mutex<(at: Double, bytes: Int64)>((-1, -1))
    private let recordedChange = Mutex<BackendChange?>(nil)
    private let emit: @Sendable (JobEvent.Kind) -> Void

    init(job: JobID, operation: JobOperation, backend: String, isBackground: Bool,
         emit: @escaping @Sendable (JobEvent.Kind) -> Void) {
        self.job = job
        self.operation = operation
        self.backend = backend
        self.isBackground = isBackground
        self.emit = emit
    }

    public var isCancelled: Bool { cancelled.load(ordering: .acquiring) }

    func cancel() { cancelled.store(true, ordering: .releasing) }

    /// Throws `CancelledError` once cancellation was requested; call between steps and inside copy loops.
    public func checkCancelled() throws {
        if isCancelled { throw CancelledError() }
    }

    /// Records what the job is changing (the build before and the one after), for the history; the last call wins.
    public func recordChange(from: BuildIdentity?, to: BuildIdentity?) {
        recordedChange.withLock { $0 = BackendChange(from: from, to: to) }
    }

    var change: BackendChange? { recordedChange.withLock { $0 } }

    /// Reports a problem that does not stop the job.
    public func warning(_ message: String) { emit(.warning(message: message)) }

    /// Reports where a distributed job stands on each node.
    public func nodes(_ nodes: [JobNodeStatus]) { emit(.nodes(nodes)) }

    /// Announces a phase.
    public func phase(_ phase: JobPhase, _ detail: String = "") { emit(.phase(phase, detail: detail)) }

    /// Reports cumulative bytes; coalesced to at most ~20 events a second, but the final count always goes out.
    public func progress(bytes: Int64, total: Int64) {
        let now = MonotonicClock.now()
        let send = lastProgress.withLock { last -> Bool in
            let final = total > 0 && bytes >= total
            guard final || now - last.at >= 0.05 else { return false }
            guard bytes != last.bytes else { return false }
            last = (now, bytes)
            return true
        }
        if send { emit(.progress(bytes: bytes, total: total)) }
    }
}

/// Runs operations as jobs on Dispatch queues: bounded parallelism across backends, strictly serial per backend,
/// cancellable, publishing `JobEvent`s to subscribers on the queues they choose.
public final class JobQueue: Sendable {
    /// The work of one job. Return a summary; throw `HangarError`, `RolledBackError`, `CancelledError` or `SkippedError`.
    public typealias Work = @Sendable (JobContext) throws -> String

    private struct Pending {
        let context: JobContext
        let work: Work
    }

    private struct State {
        var nextID: JobID = 1
        var pending: [Pending] = []
        var runningKeys: Set<String> = []
        var running: [JobID: JobContext] = [:]
        var outcomes: [JobID: JobOutcome] = [:]
        var subscribers: [Int: (DispatchQueue, @Sendable (JobEvent) -> Void)] = [:]
        var nextSubscriber = 1
    }

    private let state = Mutex(State())
    private let workers = DispatchQueue(label: "hangar.jobs.workers", attributes: .concurrent)
    private let finished = DispatchGroup()
    private let changed = NSCondition()
    public let maxParallel: Int
    /// Who submits this queue's jobs (`cli`, `ui`, `daemon`); background jobs are auto-upgrades on its behalf.
    public let origin: String

    public init(maxParallel: Int = 2, origin: String = "cli") {
        self.maxParallel = max(1, maxParallel)
        self.origin = origin
    }

    /// Delivers every future event to `handler` on `queue` (use a serial queue to keep per-job order).
    @discardableResult
    public func subscribe(on queue: DispatchQueue, _ handler: @escaping @Sendable (JobEvent) -> Void) -> Int {
        state.withLock { s in
            let id = s.nextSubscriber
            s.nextSubscriber += 1
            s.subscribers[id] = (queue, handler)
            return id
        }
    }

    public func unsubscribe(_ id: Int) {
        state.withLock { _ = $0.subscribers.removeValue(forKey: id) }
    }

    /// Queues `work` for `backend`; it starts when a worker is free and no earlier job on the same key runs.
    @discardableResult
    public func submit(_ operation: JobOperation, backend: String, background: Bool = false,
                       work: @escaping Work) -> JobID {
        finished.enter()
        let id: JobID = state.withLock { s in
            let id = s.nextID
            s.nextID += 1
            return id
        }
        let context = JobContext(job: id, operation: operation, backend: backend, isBackground: background) { [weak self] kind in
            self?.publish(JobEvent(job: id, operation: operation, backend: backend, kind: kind))
        }
        publish(JobEvent(job: id, operation: operation, backend: backend, kind: .queued))
        state.withLock { $0.pending.append(Pending(context: context, work: work)) }
        pump()
        return id
    }

    /// Requests cancellation; a queued job never starts, a running one stops at its next check.
    public func cancel(_ id: JobID) {
        state.withLock { s in
            s.running[id]?.cancel()
            s.pending.first { $0.context.job == id }?.context.cancel()
        }
        pump()
    }

    /// Cancels every queued and running job.
    public func cancelAll() {
        state.withLock { s in
            s.running.values.forEach { $0.cancel() }
            s.pending.forEach { $0.context.cancel() }
        }
    }

    /// Blocks until job `id` has finished and returns how it ended.
    public func wait(_ id: JobID) -> JobOutcome {
        changed.lock()
        defer { changed.unlock() }
        while true {
            if let outcome = state.withLock({ $0.outcomes[id] }) { return outcome }
            changed.wait()
        }
    }

    /// Blocks until every submitted job has finished.
    public func waitAll() { finished.wait() }

    /// The outcome of a finished job, nil while it is queued or running.
    public func outcome(_ id: JobID) -> JobOutcome? { state.withLock { $0.outcomes[id] } }

    private func publish(_ event: JobEvent) {
        let targets = state.withLock { Array($0.subscribers.values) }
        for (queue, handler) in targets { queue.async { handler(event) } }
    }

    /// Starts every pending job whose backend is idle, while workers are free.
    private func pump() {
        let starting: [Pending] = state.withLock { s in
            var start: [Pending] = []
            var keep: [Pending] = []
            var blocked: Set<String> = []
            for p in s.pending {
                let key = p.context.backend
                if p.context.isCancelled && !s.runningKeys.contains(key) && !blocked.contains(key) {
                    start.append(p)  // started only to report its cancellation, in order
                    blocked.insert(key)
                    s.runningKeys.insert(key)
                    continue
                }
                if s.runningKeys.contains(key) || blocked.contains(key) || s.running.count + start.count >= maxParallel {
                    blocked.insert(key)
                    keep.append(p)
                    continue
                }
                start.append(p)
                s.runningKeys.insert(key)
                s.running[p.context.job] = p.context
            }
            s.pending = keep
            return start
        }
        for p in starting {
            workers.async { [self] in run(p) }
        }
    }

    private func run(_ p: Pending) {
        let c = p.context
        let outcome: JobOutcome
        if c.isCancelled {
            outcome = .cancelled
        } else {
            do {
                outcome = .succeeded(summary: try p.work(c))
            } catch let e as RolledBackError {
                outcome = .rolledBack(e.error, restored: e.restored)
            } catch is CancelledError {
                outcome = .cancelled
            } catch let e as SkippedError {
                outcome = .skipped(reason: e.reason)
            } catch let e as HangarError {
                outcome = .failed(e)
            } catch {
                outcome = .failed(.operation("\(error)"))
            }
        }
        let kind: JobEvent.Kind
        switch outcome {
        case .succeeded(let summary): kind = .done(summary: summary)
        case .failed(let e): kind = .failed(error: e.message)
        case .rolledBack(let e, let restored): kind = .rolledBack(error: e.message, restored: restored)
        case .cancelled: kind = .cancelled(detail: "cancelled; nothing was changed")
        case .skipped(let reason): kind = .skipped(reason: reason)
        }
        publish(JobEvent(job: c.job, operation: c.operation, backend: c.backend, kind: kind, change: c.change,
                         origin: c.isBackground ? "auto-upgrade (\(origin))" : origin))
        state.withLock { s in
            s.runningKeys.remove(c.backend)
            s.running.removeValue(forKey: c.job)
            s.outcomes[c.job] = outcome
        }
        changed.lock()
        changed.broadcast()
        changed.unlock()
        finished.leave()
        pump()
    }
}
