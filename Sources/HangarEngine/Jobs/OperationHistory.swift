import Dispatch
import Foundation
import Synchronization

/// How one finished operation ended, as the detail screen shows it ("last operation").
public struct OperationRecord: Sendable, Equatable {
    public var job: JobID
    public var operation: JobOperation
    /// The backend name as requested.
    public var backend: String
    public var finishedAt: Date
    /// `done`, `failed`, `rolled_back`, `cancelled` or `skipped` (the job event names of `--json`).
    public var outcome: String
    /// The summary, the error, or the error and what was restored.
    public var message: String

    public init(job: JobID, operation: JobOperation, backend: String, finishedAt: Date, outcome: String, message: String) {
        self.job = job
        self.operation = operation
        self.backend = backend
        self.finishedAt = finishedAt
        self.outcome = outcome
        self.message = message
    }

    /// The record of a terminal event; nil for any other event.
    init?(_ event: JobEvent, at date: Date) {
        let outcome: String, message: String
        switch event.kind {
        case .done(let summary): (outcome, message) = ("done", summary)
        case .failed(let error): (outcome, message) = ("failed", error)
        case .rolledBack(let error, let restored): (outcome, message) = ("rolled_back", "\(error) — \(restored)")
        case .cancelled(let detail): (outcome, message) = ("cancelled", detail)
        case .skipped(let reason): (outcome, message) = ("skipped", reason)
        case .queued, .phase, .progress, .warning: return nil
        }
        self.init(job: event.job, operation: event.operation, backend: event.backend, finishedAt: date,
                  outcome: outcome, message: message)
    }

    var jsonValue: JSONValue {
        .object(JSONObject([
            "job": .number(String(job)),
            "operation": .string(operation.rawValue),
            "backend": .string(backend),
            "finished_at_ms": .number(String(Self.milliseconds(finishedAt))),
            "outcome": .string(outcome),
            "message": .string(message),
        ]))
    }

    /// A record read back from history.json; nil for one this build cannot understand (skipped, never fatal).
    init?(_ value: JSONValue) {
        guard let job = value["job"].flatMap({ if case .number(let t) = $0 { return Int(t) } else { return nil } }),
              let operation = value["operation"]?.stringValue.flatMap(JobOperation.init(rawValue:)),
              let backend = value["backend"]?.stringValue,
              case .number(let text)? = value["finished_at_ms"], let milliseconds = Int64(text),
              let outcome = value["outcome"]?.stringValue,
              let message = value["message"]?.stringValue else { return nil }
        self.init(job: job, operation: operation, backend: backend, finishedAt: Self.date(milliseconds),
                  outcome: outcome, message: message)
    }

    /// Milliseconds since 1970: what the file stores. Records are made with dates of that precision, so a
    /// record read back equals the one written.
    static func milliseconds(_ date: Date) -> Int64 { Int64((date.timeIntervalSince1970 * 1000).rounded()) }
    static func date(_ milliseconds: Int64) -> Date { Date(timeIntervalSince1970: Double(milliseconds) / 1000) }
}

/// Records every finished job in `<backends>/.hangar/history.json` (the newest `limit` records), so the last
/// operation of each backend survives restarts and is shared by every hangar process on the same backends dir.
/// Also knows which backends have a queued or running job in this process, so the upgrade checker can give way.
final class OperationHistory: Sendable {
    static let fileName = "history.json"
    let root: BackendsRoot
    let limit: Int
    /// Every job event of the engine arrives here, in order.
    let queue = DispatchQueue(label: "hangar.history")

    private struct State {
        var records: [OperationRecord]?
        /// The file as last read or written, to notice other processes' writes.
        var fileStamp: FileStamp?
        var active: [String: Set<JobID>] = [:]
    }
    private let state = Mutex(State())

    init(root: BackendsRoot, limit: Int = 200) {
        self.root = root
        self.limit = limit
        Self.registerForExit(self)
    }

    var path: String { root.privatePath + "/" + Self.fileName }

    func attach(to jobs: JobQueue) {
        jobs.subscribe(on: queue) { [weak self] event in self?.handle(event) }
    }

    /// Waits until every job event published so far has been handled (and written).
    func flush() { queue.sync {} }

    /// Whether `backend` (as requested) has a queued or running job in this process.
    func isActive(_ backend: String) -> Bool {
        flush()
        return state.withLock { !($0.active[backend]?.isEmpty ?? true) }
    }

    /// The newest record for `backend`, including other processes' operations.
    func last(for backend: String) -> OperationRecord? {
        // On the queue: after every event already published, so a job that just ended is included.
        queue.sync { loadedRecords().last { $0.backend == backend } }
    }

    private func handle(_ event: JobEvent) {
        if case .queued = event.kind {
            state.withLock { _ = $0.active[event.backend, default: []].insert(event.job) }
            return
        }
        guard let record = OperationRecord(event, at: OperationRecord.date(OperationRecord.milliseconds(Date()))) else { return }
        state.withLock { s in
            s.active[event.backend]?.remove(event.job)
            if s.active[event.backend]?.isEmpty == true { s.active[event.backend] = nil }
        }
        var records = loadedRecords()
        records.append(record)
        if records.count > limit { records.removeFirst(records.count - limit) }
        state.withLock { $0.records = records }
        write(records)
    }

    /// The records, re-read when another process changed the file. Runs on `queue`.
    private func loadedRecords() -> [OperationRecord] {
        let stamp = FileStamp(path)
        if let cached = state.withLock({ s in s.fileStamp == stamp ? s.records : nil }) { return cached }
        var records: [OperationRecord] = []
        if let bytes = try? SettingsFileIO.readIfPresent(path), let value = try? JSONValue.parse(bytes),
           let list = value["records"]?.arrayValue {
            records = list.compactMap(OperationRecord.init)
        }
        state.withLock { s in
            s.records = records
            s.fileStamp = stamp
        }
        return records
    }

    /// Best effort: the history is a convenience, so a read-only or missing backends dir never fails a job.
    private func write(_ records: [OperationRecord]) {
        guard FileManager.default.fileExists(atPath: root.path) else { return }
        try? Sys.ensureDirectory(root.privatePath)
        let text = JSONValue.object(JSONObject(["records": .array(records.map(\.jsonValue))])).goIndented()
        guard (try? SettingsFileIO.replaceAtomically(path, contents: Array(text.utf8), mode: 0o644)) != nil else { return }
        let stamp = FileStamp(path)
        state.withLock { $0.fileStamp = stamp }
    }

    // MARK: - Written before the process exits

    private struct WeakHistory: @unchecked Sendable {
        // Only read under `live`'s lock; the referent is itself Sendable.
        weak var history: OperationHistory?
    }
    private static let live = Mutex<[WeakHistory]>([])
    private static let exitHook: Void = { atexit { OperationHistory.flushAll() } }()

    /// A command that exits right after its jobs finished must not lose their records to an unhandled event.
    private static func registerForExit(_ history: OperationHistory) {
        _ = exitHook
        live.withLock { list in
            list.removeAll { $0.history == nil }
            list.append(WeakHistory(history: history))
        }
    }

    private static func flushAll() {
        let histories = live.withLock { $0.compactMap(\.history) }
        histories.forEach { $0.flush() }
    }
}

/// Identity and change stamp of a file (inode, size, modification time), or of its absence.
struct FileStamp: Equatable, Sendable {
    var inode: UInt64 = 0
    var size: Int64 = -1
    var modified: Int = 0
    var modifiedNanoseconds: Int = 0

    init(_ path: String) {
        var info = stat()
        guard stat(path, &info) == 0 else { return }
        inode = UInt64(info.st_ino)
        size = Int64(info.st_size)
        modified = Int(info.st_mtim.tv_sec)
        modifiedNanoseconds = Int(info.st_mtim.tv_nsec)
    }
}

extension Engine {
    /// The newest finished operation on `backend` (as requested), from `<backends>/.hangar/history.json`, so
    /// operations of earlier runs and of other hangar processes (CLI, daemon) count too.
    public func lastOperation(for backend: String) -> OperationRecord? {
        history.last(for: backend)
    }
}
