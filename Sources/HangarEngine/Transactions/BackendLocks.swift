import Foundation
import Synchronization
import CHangarSystem

/// What to do when a backend is already locked.
enum LockMode: Sendable, Equatable {
    /// Wait until it is free (interactive commands).
    case wait
    /// Give up at once and return nil (background auto-upgrades, recovery).
    case skipIfBusy
}

/// Locks held by this process, keyed by lock-file path. flock alone would already exclude threads (each open() is
/// its own lock), but the table lets waiting threads sleep on a condition instead of in flock, and lets tests see them.
final class InProcessLockTable: @unchecked Sendable {
    static let shared = InProcessLockTable()

    // Guards `held` and `waiting`; that is what makes the @unchecked Sendable sound.
    private let condition = NSCondition()
    private var held = Set<String>()
    private var waiting: [String: Int] = [:]

    func acquire(_ key: String, wait: Bool) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        if held.insert(key).inserted { return true }
        guard wait else { return false }
        waiting[key, default: 0] += 1
        while held.contains(key) { condition.wait() }
        waiting[key, default: 1] -= 1
        if waiting[key] == 0 { waiting[key] = nil }
        held.insert(key)
        return true
    }

    func release(_ key: String) {
        condition.lock()
        held.remove(key)
        condition.broadcast()
        condition.unlock()
    }

    func adjustWaiting(_ key: String, by delta: Int) {
        condition.lock()
        waiting[key, default: 0] += delta
        if waiting[key] == 0 { waiting[key] = nil }
        condition.unlock()
    }

    func waiters(_ key: String) -> Int {
        condition.lock()
        defer { condition.unlock() }
        return waiting[key] ?? 0
    }

    func isHeld(_ key: String) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        return held.contains(key)
    }
}

/// Held locks on one or more backend names; released by `release()` or when the last reference goes away.
final class BackendLock: Sendable {
    /// The locked names, sorted.
    public let names: [String]
    public let root: BackendsRoot
    private let files: Mutex<[HeldFile]>

    struct HeldFile: Sendable {
        let key: String
        let fd: Int32
    }

    init(names: [String], root: BackendsRoot, files: [HeldFile]) {
        self.names = names
        self.root = root
        self.files = Mutex(files)
    }

    /// Whether this lock covers `name` under `root`.
    public func covers(_ name: String, in root: BackendsRoot) -> Bool {
        self.root == root && names.contains(name) && files.withLock { !$0.isEmpty }
    }

    /// Releases every name; safe to call more than once.
    public func release() {
        let taken = files.withLock { held -> [HeldFile] in
            let all = held
            held = []
            return all
        }
        BackendLocks.releaseFiles(taken)
    }

    deinit { release() }
}

/// Per-backend mutual exclusion across processes (flock on `.hangar/locks/<name>.lock`) and threads.
final class BackendLocks: Sendable {
    public let root: BackendsRoot

    public init(root: BackendsRoot) {
        self.root = root
    }

    /// Locks `names` (deduplicated, taken in sorted order so meta+concrete pairs cannot deadlock). `.wait` blocks the
    /// calling thread; `.skipIfBusy` returns nil at once if any name is busy, holding none of them.
    public func lock(_ names: [String], mode: LockMode) throws -> BackendLock? {
        let sorted = try Array(Set(names.map(BackendName.validate))).sorted()
        try root.ensureDirectories()
        var acquired: [BackendLock.HeldFile] = []
        for name in sorted {
            let key = root.lockFile(name)
            let table = InProcessLockTable.shared
            guard table.acquire(key, wait: mode == .wait) else {
                Self.releaseFiles(acquired)
                return nil
            }
            let fd = hangar_openat(AT_FDCWD, key, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0o644)
            if fd < 0 {
                let code = errno
                table.release(key)
                Self.releaseFiles(acquired)
                throw Sys.failure("cannot open lock file", key, code)
            }
            let operation = mode == .wait ? LOCK_EX : (LOCK_EX | LOCK_NB)
            while flock(fd, operation) != 0 {
                let code = errno
                if code == EINTR { continue }
                close(fd)
                table.release(key)
                Self.releaseFiles(acquired)
                if code == EWOULDBLOCK { return nil }
                throw Sys.failure("cannot lock", key, code)
            }
            acquired.append(.init(key: key, fd: fd))
        }
        return BackendLock(names: sorted, root: root, files: acquired)
    }

    /// Suspending variant for async callers: polls instead of blocking a cooperative thread (a blocked pool thread
    /// could starve the very task that holds the lock). Throws `CancellationError` if the task is cancelled.
    public func lock(_ names: [String], mode: LockMode, pollInterval: Duration) async throws -> BackendLock? {
        if let lock = try lock(names, mode: .skipIfBusy) { return lock }
        if mode == .skipIfBusy { return nil }
        let keys = Set(names).map(root.lockFile)
        for key in keys { InProcessLockTable.shared.adjustWaiting(key, by: 1) }
        defer { for key in keys { InProcessLockTable.shared.adjustWaiting(key, by: -1) } }
        while true {
            try await Task.sleep(for: pollInterval)
            if let lock = try lock(names, mode: .skipIfBusy) { return lock }
        }
    }

    /// Runs `body` with `names` locked; returns nil without running it when `.skipIfBusy` found a name busy.
    public func withLock<T>(_ names: [String], mode: LockMode, _ body: (BackendLock) throws -> T) throws -> T? {
        guard let lock = try lock(names, mode: mode) else { return nil }
        defer { lock.release() }
        return try body(lock)
    }

    /// Threads of this process currently waiting for `name` (for tests and "waiting for ..." messages).
    public func waitingCount(for name: String) -> Int {
        InProcessLockTable.shared.waiters(root.lockFile(name))
    }

    /// Whether a thread of this process holds `name`. Other processes' locks are only seen by trying.
    public func isHeldInProcess(_ name: String) -> Bool {
        InProcessLockTable.shared.isHeld(root.lockFile(name))
    }

    static func releaseFiles(_ files: [BackendLock.HeldFile]) {
        for file in files.reversed() {
            // Closing the only descriptor drops the flock; the file stays so no other process can race on its inode.
            close(file.fd)
            InProcessLockTable.shared.release(file.key)
        }
    }
}
