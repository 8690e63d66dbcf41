import Dispatch
import Foundation
import Synchronization

/// One finished operation, as the history keeps it: what, on which backend, from which build to which, how it
/// ended, how long it took, how many bytes it moved, and who started it.
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
    /// When the job was queued; nil in records of older hangar versions.
    public var startedAt: Date?
    /// The build before and after, when the job knew them.
    public var change: BackendChange?
    /// Bytes the job downloaded or copied (its last progress count).
    public var bytes: Int64
    /// `cli`, `ui`, `daemon`, `auto-upgrade (daemon)`, …; empty in records of older hangar versions.
    public var origin: String

    public init(job: JobID, operation: JobOperation, backend: String, finishedAt: Date, outcome: String, message: String,
                startedAt: Date? = nil, change: BackendChange? = nil, bytes: Int64 = 0, origin: String = "") {
        self.job = job
        self.operation = operation
        self.backend = backend
        self.finishedAt = finishedAt
        self.outcome = outcome
        self.message = message
        self.startedAt = startedAt
        self.change = change
        self.bytes = bytes
        self.origin = origin
    }

    /// The record of a terminal event; nil for any other event.
    init?(_ event: JobEvent, at date: Date, startedAt: Date? = nil, bytes: Int64 = 0) {
        let outcome: String, message: String
        switch event.kind {
        case .done(let summary): (outcome, message) = ("done", summary)
        case .failed(let error): (outcome, message) = ("failed", error)
        case .rolledBack(let error, let restored): (outcome, message) = ("rolled_back", "\(error) — \(restored)")
        case .cancelled(let detail): (outcome, message) = ("cancelled", detail)
        case .skipped(let reason): (outcome, message) = ("skipped", reason)
        case .queued, .phase, .progress, .warning, .nodes: return nil
        }
        self.init(job: event.job, operation: event.operation, backend: event.backend, finishedAt: date,
                  outcome: outcome, message: message, startedAt: startedAt, change: event.change, bytes: bytes,
                  origin: event.origin ?? "")
    }

    /// How long the job took, when its start is known.
    public var duration: TimeInterval? { startedAt.map { finishedAt.timeIntervalSince($0) } }

    /// One line of `history.jsonl` (also the `hangar history --json` row).
    public var jsonValue: JSONValue {
        var o = JSONObject()
        o["job"] = .number(String(job))
        o["operation"] = .string(operation.rawValue)
        o["backend"] = .string(backend)
        if let startedAt { o["started_at_ms"] = .number(String(Self.milliseconds(startedAt))) }
        o["finished_at_ms"] = .number(String(Self.milliseconds(finishedAt)))
        if let duration { o["duration_ms"] = .number(String(Int64((duration * 1000).rounded()))) }
        o["outcome"] = .string(outcome)
        o["message"] = .string(message)
        if let from = change?.from {
            o["from_version"] = .string(from.version)
            o["from_digest"] = .string(from.digest)
        }
        if let to = change?.to {
            o["to_version"] = .string(to.version)
            o["to_digest"] = .string(to.digest)
        }
        o["bytes"] = .number(String(bytes))
        o["origin"] = .string(origin)
        return .object(o)
    }

    /// A record read back; nil for one this build cannot understand (skipped, never fatal).
    init?(_ value: JSONValue) {
        func int64(_ key: String) -> Int64? {
            if case .number(let text)? = value[key] { return Int64(text) }
            return nil
        }
        guard let job = int64("job").flatMap({ Int(exactly: $0) }),
              let operation = value["operation"]?.stringValue.flatMap(JobOperation.init(rawValue:)),
              let backend = value["backend"]?.stringValue,
              let finished = int64("finished_at_ms"),
              let outcome = value["outcome"]?.stringValue,
              let message = value["message"]?.stringValue else { return nil }
        func build(_ prefix: String) -> BuildIdentity? {
            guard let version = value[prefix + "_version"]?.stringValue, let digest = value[prefix + "_digest"]?.stringValue
            else { return nil }
            return BuildIdentity(version: version, digest: digest)
        }
        let from = build("from"), to = build("to")
        self.init(job: job, operation: operation, backend: backend, finishedAt: Self.date(finished), outcome: outcome,
                  message: message, startedAt: int64("started_at_ms").map(Self.date),
                  change: from == nil && to == nil ? nil : BackendChange(from: from, to: to),
                  bytes: int64("bytes") ?? 0, origin: value["origin"]?.stringValue ?? "")
    }

    /// Appends the record's compact JSON (the same bytes as `jsonValue.compact()`) without building a JSON tree.
    public func appendJSON(to out: inout [UInt8]) {
        func key(_ name: String, first: Bool = false) {
            out.append(contentsOf: (first ? "{\"" : ",\"").utf8)
            out.append(contentsOf: name.utf8)
            out.append(contentsOf: "\":".utf8)
        }
        func string(_ name: String, _ value: String) { key(name); JSONValue.appendString(value, to: &out) }
        func number(_ name: String, _ value: Int64) { key(name); out.append(contentsOf: String(value).utf8) }
        key("job", first: true)
        out.append(contentsOf: String(job).utf8)
        string("operation", operation.rawValue)
        string("backend", backend)
        if let startedAt { number("started_at_ms", Self.milliseconds(startedAt)) }
        number("finished_at_ms", Self.milliseconds(finishedAt))
        if let duration { number("duration_ms", Int64((duration * 1000).rounded())) }
        string("outcome", outcome)
        string("message", message)
        if let from = change?.from { string("from_version", from.version); string("from_digest", from.digest) }
        if let to = change?.to { string("to_version", to.version); string("to_digest", to.digest) }
        number("bytes", bytes)
        string("origin", origin)
        out.append(UInt8(ascii: "}"))
    }

    /// A record from one line of history.jsonl without building a JSON tree (100,000 lines must list in well under
    /// a second); nil for a line that is not a record. Accepts what `init?(_ value:)` accepts, members in any order.
    static func decode(line: UnsafeBufferPointer<UInt8>) -> OperationRecord? {
        var job: Int?, operation: JobOperation?, backend: String?, finished: Int64?, outcome: String?, message: String?
        var started: Int64?, bytes: Int64 = 0, origin = ""
        var fromVersion: String?, fromDigest: String?, toVersion: String?, toDigest: String?
        func int64(_ value: JSONValue) -> Int64? { if case .number(let text) = value { return Int64(text) }; return nil }
        do throws(JSONError) {
            try JSONValue.visitObject(line, maxDepth: 8) { key, value in
                switch key {
                case "job": job = int64(value).flatMap { Int(exactly: $0) }
                case "operation": operation = value.stringValue.flatMap(JobOperation.init(rawValue:))
                case "backend": backend = value.stringValue
                case "finished_at_ms": finished = int64(value)
                case "started_at_ms": started = int64(value)
                case "outcome": outcome = value.stringValue
                case "message": message = value.stringValue
                case "bytes": bytes = int64(value) ?? 0
                case "origin": origin = value.stringValue ?? ""
                case "from_version": fromVersion = value.stringValue
                case "from_digest": fromDigest = value.stringValue
                case "to_version": toVersion = value.stringValue
                case "to_digest": toDigest = value.stringValue
                default: break
                }
            }
        } catch {
            return nil
        }
        guard let job, let operation, let backend, let finished, let outcome, let message else { return nil }
        let from = fromVersion.flatMap { v in fromDigest.map { BuildIdentity(version: v, digest: $0) } }
        let to = toVersion.flatMap { v in toDigest.map { BuildIdentity(version: v, digest: $0) } }
        return OperationRecord(job: job, operation: operation, backend: backend, finishedAt: date(finished), outcome: outcome,
                               message: message, startedAt: started.map(date),
                               change: from == nil && to == nil ? nil : BackendChange(from: from, to: to), bytes: bytes, origin: origin)
    }

    /// Milliseconds since 1970: what the file stores. Records are made with dates of that precision, so a
    /// record read back equals the one written.
    static func milliseconds(_ date: Date) -> Int64 { Int64((date.timeIntervalSince1970 * 1000).rounded()) }
    static func date(_ milliseconds: Int64) -> Date { Date(timeIntervalSince1970: Double(milliseconds) / 1000) }
    static func now() -> Date { date(milliseconds(Date())) }
}

/// The history as read: records oldest first, and how many lines could not be read.
public struct HistoryListing: Sendable {
    public var records: [OperationRecord]
    /// Lines that were not a record (a torn write, a hand edit): skipped, never hiding the others.
    public var unreadableLines: Int
}

/// Every finished job of every hangar process on one backends dir, appended as one JSON line to
/// `<backends>/.hangar/history.jsonl`. Appends are single `write`s under an exclusive `flock`, so several processes
/// never interleave or lose records; past `maxBytes` the file is rotated to `history.1.jsonl` (the one before is
/// dropped), which bounds the history to about twice that. A line that cannot be read is skipped and counted.
/// Also knows which backends have a queued or running job in this process, so the upgrade scheduler can give way.
final class OperationHistory: Sendable {
    static let fileName = "history.jsonl"
    static let rotatedFileName = "history.1.jsonl"
    /// Where hangar 0.2 kept its newest 200 records; still read, never written.
    static let legacyFileName = "history.json"
    static let defaultMaxBytes: Int64 = 16 << 20
    let root: BackendsRoot
    let maxBytes: Int64
    /// Every job event of the engine arrives here, in order.
    let queue = DispatchQueue(label: "hangar.history")

    private struct State {
        /// Newest record per backend as last looked up (nil: looked up, none), valid while `stamps` hold: the UI
        /// asks on every Detail view, and the history may be tens of MiB, so it is never held whole in memory.
        var lastByBackend: [String: OperationRecord?] = [:]
        /// The files as last read, to notice other processes' appends.
        var stamps: [FileStamp] = []
        var active: [String: Set<JobID>] = [:]
        var started: [JobID: Date] = [:]
        var bytes: [JobID: Int64] = [:]
    }
    private let state = Mutex(State())

    init(root: BackendsRoot, maxBytes: Int64 = OperationHistory.defaultMaxBytes) {
        self.root = root
        self.maxBytes = maxBytes
        Self.registerForExit(self)
    }

    var path: String { root.privatePath + "/" + Self.fileName }
    var rotatedPath: String { root.privatePath + "/" + Self.rotatedFileName }
    var legacyPath: String { root.privatePath + "/" + Self.legacyFileName }

    /// The handler holds the history strongly: events already queued for it must still be written when the engine
    /// that made it is released first (a command returning an exit status right after its jobs ended).
    func attach(to jobs: JobQueue) {
        jobs.subscribe(on: queue) { [self] event in handle(event) }
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
        queue.sync {
            let stamps = currentStamps()
            if let cached = state.withLock({ s -> OperationRecord?? in
                if s.stamps != stamps { s.stamps = stamps; s.lastByBackend = [:] }
                return s.lastByBackend[backend]
            }) { return cached }
            var found: OperationRecord?
            scanNewestFirst { record in
                guard let record, record.backend == backend else { return true }
                found = record
                return false
            }
            state.withLock { $0.lastByBackend[backend] = .some(found) }
            return found
        }
    }

    /// The newest `limit` records, newest first, read from the end of the files (the UI's History view).
    func recent(limit: Int) -> [OperationRecord] {
        queue.sync {
            var records: [OperationRecord] = []
            scanNewestFirst { record in
                if let record { records.append(record) }
                return records.count < limit
            }
            return records
        }
    }

    /// Every record, oldest first (legacy file, rotated file, current file).
    func listing() -> HistoryListing { queue.sync { loadedListing() } }

    /// Visits records newest first with their lines as stored (a history.jsonl line is the record's compact
    /// JSON) until `visit` returns false, without holding the history in memory; returns how many lines could not be
    /// read on the way.
    func forEachNewestFirst(_ visit: (OperationRecord, [UInt8]) -> Bool) -> Int {
        queue.sync {
            var unreadable = 0
            for file in [path, rotatedPath] {
                let finished = Self.scanLinesBackwards(file) { line in
                    guard let record = line.withUnsafeBufferPointer(OperationRecord.decode(line:)) else {
                        unreadable += 1
                        return true
                    }
                    return visit(record, line)
                }
                if !finished { return unreadable }
            }
            if let bytes = try? SettingsFileIO.readIfPresent(legacyPath), let value = try? JSONValue.parse(bytes),
               let list = value["records"]?.arrayValue {
                for item in list.reversed() {
                    guard let record = OperationRecord(item) else { unreadable += 1; continue }
                    var line: [UInt8] = []
                    record.appendJSON(to: &line)
                    if !visit(record, line) { break }
                }
            }
            return unreadable
        }
    }

    private func currentStamps() -> [FileStamp] { [FileStamp(legacyPath), FileStamp(rotatedPath), FileStamp(path)] }

    /// Visits records newest first (current file, rotated file, then the legacy file) until `visit` returns false;
    /// an unreadable line is visited as nil.
    private func scanNewestFirst(_ visit: (OperationRecord?) -> Bool) {
        for file in [path, rotatedPath] {
            guard Self.scanLinesBackwards(file, { line in visit(line.withUnsafeBufferPointer(OperationRecord.decode(line:))) }) else { return }
        }
        if let bytes = try? SettingsFileIO.readIfPresent(legacyPath), let value = try? JSONValue.parse(bytes),
           let list = value["records"]?.arrayValue {
            for item in list.reversed() { guard visit(OperationRecord(item)) else { return } }
        }
    }

    /// Calls `visit` with each non-empty line of `path`, last line first, reading 64 KiB blocks from the end; false
    /// when `visit` stopped the scan. A line longer than 1 MiB is skipped unread (it cannot be a record).
    static func scanLinesBackwards(_ path: String, _ visit: ([UInt8]) -> Bool) -> Bool {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return true }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { return true }
        var end = Int64(info.st_size)
        var carry: [UInt8] = []
        let blockSize: Int64 = 64 << 10
        while end > 0 {
            let start = max(0, end - blockSize)
            var block = [UInt8](repeating: 0, count: Int(end - start))
            let count = block.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, off_t(start)) }
            guard count == block.count else { return true }
            if carry.count > 1 << 20 { carry = [] }
            block.append(contentsOf: carry)
            var lineEnd = block.count
            var i = block.count - 1
            while i >= 0 {
                if block[i] == 0x0A {
                    if lineEnd > i + 1, !visit(Array(block[(i + 1)..<lineEnd])) { return false }
                    lineEnd = i
                }
                i -= 1
            }
            carry = Array(block[0..<lineEnd])
            end = start
        }
        if !carry.isEmpty { return visit(carry) }
        return true
    }

    private func handle(_ event: JobEvent) {
        switch event.kind {
        case .queued:
            state.withLock { s in
                _ = s.active[event.backend, default: []].insert(event.job)
                s.started[event.job] = OperationRecord.now()
            }
            return
        case .progress(let bytes, _):
            state.withLock { $0.bytes[event.job] = bytes }
            return
        default:
            break
        }
        let (started, bytes) = state.withLock { s in (s.started[event.job], s.bytes[event.job] ?? 0) }
        guard let record = OperationRecord(event, at: OperationRecord.now(), startedAt: started, bytes: bytes) else { return }
        state.withLock { s in
            s.active[event.backend]?.remove(event.job)
            if s.active[event.backend]?.isEmpty == true { s.active[event.backend] = nil }
            s.started[event.job] = nil
            s.bytes[event.job] = nil
        }
        append(record)
    }

    /// Every record, read whole (`hangar history`); the UI reads only the newest ones. Runs on `queue`.
    private func loadedListing() -> HistoryListing {
        var listing = HistoryListing(records: [], unreadableLines: 0)
        if let bytes = try? SettingsFileIO.readIfPresent(legacyPath), let value = try? JSONValue.parse(bytes),
           let list = value["records"]?.arrayValue {
            listing.records = list.compactMap(OperationRecord.init)
        }
        for file in [rotatedPath, path] {
            guard let bytes = Self.readWhole(file) else { continue }
            Self.parseLines(bytes, into: &listing)
        }
        return listing
    }

    /// The whole file in one allocation of its size (a history may be tens of MiB); nil when absent or unreadable.
    static func readWhole(_ path: String) -> [UInt8]? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { return nil }
        let size = Int(info.st_size)
        var filled = 0
        let bytes = [UInt8](unsafeUninitializedCapacity: size) { buffer, count in
            while filled < size {
                let n = read(fd, buffer.baseAddress! + filled, size - filled)
                if n < 0 && errno == EINTR { continue }
                if n <= 0 { break }
                filled += n
            }
            count = filled
        }
        return bytes
    }

    /// Appends the records of JSON Lines `bytes`; an unreadable or torn line is counted, not fatal.
    static func parseLines(_ bytes: [UInt8], into listing: inout HistoryListing) {
        bytes.withUnsafeBufferPointer { all in
            var start = 0
            while start < all.count {
                var end = start
                while end < all.count && all[end] != 0x0A { end += 1 }
                if end > start {
                    if let record = OperationRecord.decode(line: UnsafeBufferPointer(rebasing: all[start..<end])) {
                        listing.records.append(record)
                    } else {
                        listing.unreadableLines += 1
                    }
                }
                start = end + 1
            }
        }
    }

    /// Best effort: the history is a convenience, so a read-only or missing backends dir never fails a job.
    private func append(_ record: OperationRecord) {
        guard FileManager.default.fileExists(atPath: root.path) else { return }
        try? Sys.ensureDirectory(root.privatePath)
        let line = Array((record.jsonValue.compact() + "\n").utf8)
        // Another process may rotate between our open and our lock: then the descriptor names the rotated file,
        // and the line goes to the new one instead.
        for _ in 0..<4 {
            let fd = open(path, O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC, 0o644)
            guard fd >= 0 else { return }
            defer { close(fd) }
            guard flock(fd, LOCK_EX) == 0 else { return }
            var opened = stat(), current = stat()
            guard fstat(fd, &opened) == 0, stat(path, &current) == 0, opened.st_ino == current.st_ino else { continue }
            if Int64(opened.st_size) >= maxBytes {
                // Rotate under the lock: later writers see the new inode and reopen.
                guard rename(path, rotatedPath) == 0 else { return }
                continue
            }
            // A torn earlier write (a killed process, a hand edit) leaves no newline: start a line of our own.
            var last: UInt8 = 0x0A
            if opened.st_size > 0 { _ = pread(fd, &last, 1, off_t(opened.st_size) - 1) }
            let bytes = last == 0x0A ? line : [0x0A] + line
            _ = bytes.withUnsafeBytes { try? Sys.writeAll(fd, $0, path: path) }
            return
        }
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
    /// The newest finished operation on `backend` (as requested), from `<backends>/.hangar/history.jsonl`, so
    /// operations of earlier runs and of other hangar processes (CLI, daemon) count too.
    public func lastOperation(for backend: String) -> OperationRecord? {
        history.last(for: backend)
    }

    /// Streams the history newest first (see `operationHistory`): each matching record with its compact JSON, without
    /// holding the history in memory. Returns how many lines could not be read.
    /// `visit` returns false to stop; records are appended as they finish, so the scan stops at the first one
    /// older than `since`.
    public func forEachOperation(backend: String? = nil, since: Date? = nil,
                                 _ visit: (OperationRecord, [UInt8]) -> Bool) -> Int {
        history.forEachNewestFirst { record, line in
            if let since, record.finishedAt < since { return false }
            guard backend == nil || record.backend == backend else { return true }
            return visit(record, line)
        }
    }

    /// The newest `limit` operations, newest first, read from the end of the history (cheap on a long one).
    public func recentOperations(limit: Int) -> [OperationRecord] { history.recent(limit: limit) }

    /// The operation history, newest first: of `backend` only (as requested, or the build it stands for) when
    /// given, and finished at or after `since` when given.
    public func operationHistory(backend: String? = nil, since: Date? = nil) -> HistoryListing {
        var listing = history.listing()
        listing.records = listing.records.reversed().filter { record in
            (backend == nil || record.backend == backend) && (since.map { record.finishedAt >= $0 } ?? true)
        }
        return listing
    }
}
