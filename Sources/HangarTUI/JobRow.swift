import Foundation
import HangarEngine

/// One operation as the Jobs screen shows it, folded from its `JobEvent`s.
public struct JobRow: Sendable, Equatable {
    /// Where the job is: waiting, in a phase, or how it ended.
    public enum State: Sendable, Equatable {
        case queued
        case running(JobPhase, detail: String)
        case done(summary: String)
        case failed(error: String)
        case rolledBack(error: String, restored: String)
        case cancelled(detail: String)
        case skipped(reason: String)
    }

    public var job: JobID
    public var operation: JobOperation
    public var backend: String
    public var state: State = .queued
    public var bytes: Int64 = 0
    public var total: Int64 = 0
    /// First progress sample (for the average speed) and the latest one.
    public var firstProgress: (at: Double, bytes: Int64)?
    public var lastProgressAt: Double?
    public var warnings: [String] = []
    /// A distributed LocalAI job's latest per-node lines (empty elsewhere).
    public var nodes: [JobNodeStatus] = []
    public var background: Bool = false
    /// When the job started working (its first phase or progress), on the monotonic clock and on the wall clock.
    public var startedAt: Double?
    public var startedClock: Date?
    /// When it ended (monotonic); the duration stays on the row after the job is done.
    public var endedAt: Double?

    public init(job: JobID, operation: JobOperation, backend: String) {
        self.job = job
        self.operation = operation
        self.backend = backend
    }

    /// Equal when a user would see the same row (progress timestamps aside).
    public static func == (a: JobRow, b: JobRow) -> Bool {
        a.job == b.job && a.state == b.state && a.bytes == b.bytes && a.total == b.total && a.warnings == b.warnings
            && a.nodes == b.nodes
    }

    public var isFinished: Bool {
        switch state {
        case .queued, .running: return false
        default: return true
        }
    }

    /// Folds one event into the row; `now` is seconds on any monotonic-enough clock.
    /// `wall` is the same moment on the wall clock (the start time shown).
    public mutating func apply(_ kind: JobEvent.Kind, now: Double, wall: Date = Date()) {
        switch kind {
        case .queued, .warning: break
        case .phase, .progress, .nodes:
            if startedAt == nil { startedAt = now; startedClock = wall }
        default:
            if startedAt == nil { startedAt = now; startedClock = wall }
            if endedAt == nil { endedAt = now }
        }
        switch kind {
        case .queued: state = .queued
        case .phase(let phase, let detail): state = .running(phase, detail: detail)
        case .progress(let bytes, let total):
            if firstProgress == nil { firstProgress = (now, bytes) }
            self.bytes = bytes
            self.total = total
            lastProgressAt = now
            if case .queued = state { state = .running(.downloading, detail: "") }
        case .warning(let message): warnings.append(message)
        case .nodes(let nodes): self.nodes = nodes
        case .done(let summary): state = .done(summary: summary)
        case .failed(let error): state = .failed(error: error)
        case .rolledBack(let error, let restored): state = .rolledBack(error: error, restored: restored)
        case .cancelled(let detail): state = .cancelled(detail: detail)
        case .skipped(let reason): state = .skipped(reason: reason)
        }
    }

    /// Average bytes per second since the first progress report; nil until there is half a second of data.
    public func speed(now: Double) -> Double? {
        guard let first = firstProgress, now - first.at >= 0.5, bytes > first.bytes else { return nil }
        return Double(bytes - first.bytes) / (now - first.at)
    }

    /// The average transfer speed the row keeps after the job ended (first to last progress report).
    public var finalSpeed: Double? {
        guard let first = firstProgress, let last = lastProgressAt, last - first.at >= 0.5, bytes > first.bytes else { return nil }
        return Double(bytes - first.bytes) / (last - first.at)
    }

    /// Seconds from start to end (or to `now` while it runs); nil before it started.
    public func duration(now: Double) -> Int? {
        guard let startedAt else { return nil }
        return max(0, Int(((endedAt ?? now) - startedAt).rounded()))
    }

    /// Seconds left at the average speed; nil when unknown.
    public func eta(now: Double) -> Int? {
        guard total > 0, bytes < total, let speed = speed(now: now), speed > 0 else { return nil }
        return Int((Double(total - bytes) / speed).rounded(.up))
    }

    /// 0...100 when the total is known.
    public var percent: Int? { total > 0 ? Int(min(100, bytes * 100 / total)) : nil }

    /// `queued`, the phase name, `done`, `failed`, `rolled back`, `cancelled`, `skipped`.
    public var stateWord: String {
        switch state {
        case .queued: return "queued"
        case .running(let phase, _): return phase.rawValue
        case .done: return "done"
        case .failed: return "failed"
        case .rolledBack: return "rolled back"
        case .cancelled: return "cancelled"
        case .skipped: return "skipped"
        }
    }

    /// The outcome line of a finished job, e.g. `upgrade failed: run.sh missing in new image — v1.0.0 restored`,
    /// worded by the engine (`JobEvent.Kind.line`) as the CLI words it; a failure names its operation, since rows of
    /// several operations stand together here. `dash` is the glyph set's (ASCII mode passes `-`).
    public func outcomeText(dash: String) -> String? {
        let outcome: JobEvent.Kind
        switch state {
        case .queued, .running: return nil
        case .done(let summary): outcome = .done(summary: summary)
        case .failed(let error): outcome = .failed(error: error)
        case .rolledBack(let error, let restored): outcome = .rolledBack(error: error, restored: restored)
        case .cancelled(let detail): outcome = .cancelled(detail: detail)
        case .skipped(let reason): outcome = .skipped(reason: reason)
        }
        guard let line = outcome.line(dash: dash) else { return nil }
        switch outcome {
        case .failed, .rolledBack: return "\(operation.rawValue) \(line)"
        default: return line
        }
    }
}
