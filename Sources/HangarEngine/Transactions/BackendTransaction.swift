import Synchronization
import CHangarSystem

/// One install, reinstall or upgrade of a backend directory: stage → fill → validate → write metadata → commit
/// (or abort). `<backends>/<name>` is never missing while a commit runs (RENAME_EXCHANGE), or, where the
/// filesystem cannot exchange, only between two journaled renames that recovery completes after a crash.
final class BackendTransaction: Sendable {
    /// How `commit()` put the new tree in place.
    public enum SwapMethod: String, Sendable {
        /// renameat2(RENAME_EXCHANGE): the name always pointed at a complete tree.
        case exchange
        /// Journaled rename-aside + rename-in (filesystem without RENAME_EXCHANGE, or forced).
        case twoRenames
        /// Fresh install with renameat2(RENAME_NOREPLACE).
        case noReplaceRename
        /// Fresh install with rename(2) after checking the name is free (no RENAME_NOREPLACE).
        case plainRename
    }

    /// What `commit()` did.
    public struct CommitResult: Sendable, Equatable {
        public let method: SwapMethod
        /// Whether an earlier install was replaced (and deleted).
        public let replacedPrevious: Bool
        /// Non-fatal problems after the swap (e.g. the old tree could not be fully deleted; recovery will).
        public let warnings: [String]
        /// Whether the replaced tree was kept as a generation (see `Generations`) instead of deleted.
        public var keptGeneration = false
    }

    private enum State: Sendable {
        case open, validated, busy, committed, aborted, failed
    }

    public let root: BackendsRoot
    public let name: String
    /// "install", "reinstall", "upgrade", ... (names the staging dir and recovery messages); "meta" stages a meta
    /// backend directory, which holds only metadata.json and needs no run.sh.
    public let operation: String
    /// The directory to fill: `<backends>/.hangar/staging/<name>.<operation>.<pid>.<random>`.
    public let stagingPath: String
    /// What recovery repaired for this name before staging (a journal left by a killed earlier attempt).
    public let recoveredBeforeStart: [String]
    let stagingEntry: String
    let forceRenameFallback: Bool
    /// Keep the replaced tree as a generation (upgrades, reinstalls, rollbacks); nil deletes it.
    let generationPolicy: GenerationPolicy?
    /// Where an adopted tree (a rollback's generation) goes back to when the transaction does not commit.
    private let returnPath = Mutex<String?>(nil)
    private let lock: BackendLock?
    private let state = Mutex<State>(.open)
    /// What `validate(what:)` called the staged tree, reused by the check inside `commit()`.
    private let what: Mutex<String?> = Mutex(nil)

    private init(root: BackendsRoot, name: String, operation: String, stagingEntry: String,
                 forceRenameFallback: Bool, generationPolicy: GenerationPolicy?, lock: BackendLock?, recovered: [String]) {
        self.root = root
        self.name = name
        self.operation = operation
        self.stagingEntry = stagingEntry
        self.stagingPath = root.stagingEntry(stagingEntry)
        self.forceRenameFallback = forceRenameFallback
        self.generationPolicy = generationPolicy
        self.lock = lock
        self.recoveredBeforeStart = recovered
    }

    /// Whether the environment forces the two-rename fallback (`HANGAR_FORCE_RENAME_FALLBACK=1`), for tests.
    public static var renameFallbackForcedByEnvironment: Bool {
        getenv("HANGAR_FORCE_RENAME_FALLBACK").map { String(cString: $0) == "1" } ?? false
    }

    /// Validates `name`, checks the caller holds its lock (`lock`, or else any lock of this process on the name via
    /// `BackendLocks`), finishes any journaled transaction a killed process left for it, and creates a fresh,
    /// uniquely named staging directory. `forceRenameFallback` nil means "ask the environment"; `keepGenerations`
    /// keeps the tree a commit replaces as a generation instead of deleting it.
    public static func begin(root: BackendsRoot, name: String, operation: String, lock: BackendLock? = nil,
                             forceRenameFallback: Bool? = nil,
                             keepGenerations: GenerationPolicy? = nil) throws -> BackendTransaction {
        let name = try BackendName.validate(name)
        guard isOperationName(operation) else {
            throw HangarError.operation("internal error: \"\(operation)\" is not an operation name (1-16 letters a-z)")
        }
        guard holdsLock(root: root, name: name, lock: lock) else {
            throw HangarError.operation("internal error: a transaction on \"\(name)\" was started without holding its lock")
        }
        try root.ensureDirectories()
        var report = RecoveryReport()
        // Before the journal: a tree a killed rollback borrowed from a generation must go back before staging is swept.
        Generations.recover(root: root, name: name, into: &report)
        try Recovery.recoverJournal(root: root, name: name, into: &report)
        if let problem = report.problems.first { throw HangarError.operation(problem) }
        Recovery.removeOrphanedStaging(root: root, name: name, into: &report)
        var entry = ""
        for attempt in 0..<16 {
            entry = "\(name).\(operation).\(Sys.pid).\(Sys.randomToken())"
            if mkdir(root.stagingEntry(entry), 0o750) == 0 { break }
            let code = errno
            if code != EEXIST || attempt == 15 { throw Sys.failure("cannot create staging directory", root.stagingEntry(entry), code) }
        }
        CrashPoint.hit("stage.created")
        return BackendTransaction(root: root, name: name, operation: operation, stagingEntry: entry,
                                  forceRenameFallback: forceRenameFallback ?? renameFallbackForcedByEnvironment,
                                  generationPolicy: keepGenerations, lock: lock, recovered: report.repairs)
    }

    /// Checks the staged tree is a backend: `run.sh` present (for a "meta" transaction: metadata.json present).
    /// `what` names the tree in the error, e.g. the URI it came from. `commit()` repeats the check, so a caller that
    /// forgets this cannot install a broken backend; calling it early just fails before metadata is written.
    public func validate(what: String? = nil) throws {
        try expectState([.open, .validated], doing: "validate")
        if let what { self.what.withLock { $0 = what } }
        try checkTree()
        state.withLock { $0 = .validated }
    }

    /// Moves the complete tree at `path` onto the empty staging directory in one rename (a rollback stages a kept
    /// generation this way: never a copy). If the transaction does not commit, the tree goes back to `path`.
    func adoptTree(at path: String) throws {
        try expectState([.open], doing: "stage a kept tree")
        // rename(2) replaces an empty directory atomically, so the staging path never names a half tree.
        try Sys.rename(path, stagingPath)
        returnPath.withLock { $0 = path }
        // Not fsynced: the journal written before the swap is, and recovery finds the tree by its inode either way.
    }

    /// Writes LocalAI's `metadata.json` into the staged tree.
    public func writeMetadata(_ metadata: BackendMetadata) throws {
        try writeStagedFile("metadata.json", contents: Array(metadata.encoded().utf8))
    }

    /// Empties the staging directory (same path) so another source can be tried after a failed download.
    public func resetStaging() throws {
        try expectState([.open, .validated], doing: "reset the staging directory")
        let fd = try Sys.openDirectory(stagingPath, followSymlink: false)
        defer { close(fd) }
        for entry in try Sys.listDirectory(fd: fd, path: stagingPath) {
            var deleted = 0
            try FileTree.removeEntry(fd, entry, path: stagingPath + "/" + entry, crashPoint: nil, deleted: &deleted)
        }
        state.withLock { $0 = .open }
    }

    /// Writes `contents` to `<staging>/<fileName>` (mode `mode`), replacing whatever the image had there without
    /// following a symlink of that name. Use it for metadata.json.
    public func writeStagedFile(_ fileName: String, contents: [UInt8], mode: mode_t = 0o644) throws {
        try expectState([.open, .validated], doing: "write \(fileName)")
        guard !fileName.isEmpty, !fileName.contains("/"), fileName != ".", fileName != ".." else {
            throw HangarError.operation("internal error: \(fileName) is not a file name")
        }
        let path = stagingPath + "/" + fileName
        if unlink(path) != 0 && errno != ENOENT { throw Sys.failure("cannot replace", path, errno) }
        try Sys.writeFile(path, contents, mode: mode, exclusive: true, sync: false)
    }

    /// Swaps the staged tree in, then deletes the previous one. On failure before the swap point everything is
    /// rolled back and `RolledBackError` says what was kept; the transaction is finished either way.
    @discardableResult
    public func commit() throws -> CommitResult {
        try expectState([.open, .validated], doing: "commit")
        state.withLock { $0 = .busy }
        guard Self.holdsLock(root: root, name: name, lock: lock) else {
            return try rollBack(HangarError.operation("the lock on \"\(name)\" was released before commit"), journal: false)
        }
        do {
            try checkTree()
            // An adopted tree (a kept generation) was flushed when it was first committed; a second syncfs would
            // only wait for other programs' writes.
            if returnPath.withLock({ $0 }) == nil { try syncStagedTree() }
        } catch let error as HangarError {
            return try rollBack(error, journal: false)
        }
        CrashPoint.hit("commit.before-journal")
        let livePath = root.backendPath(name)
        let newIdentity: FileIdentity
        do {
            guard let identity = try Sys.identityIfPresent(stagingPath) else {
                throw HangarError.operation("staging directory \(stagingPath) vanished before commit")
            }
            newIdentity = identity
        } catch let error as HangarError {
            return try rollBack(error, journal: false)
        }
        let asideEntry = stagingEntry + ".old"
        var freshAttempts = 0
        while true {
            let live: stat?
            do { live = try Sys.lstatIfPresent(livePath) } catch let error as HangarError { return try rollBack(error, journal: false) }
            let journal = TransactionJournal(
                format: TransactionJournal.currentFormat, name: name, operation: operation,
                staging: stagingEntry, aside: asideEntry, old: live.map(Sys.identity), new: newIdentity,
                pid: Sys.pid, startedAt: Sys.now(), keep: generationPolicy?.keep)
            do { try journal.write(in: root) } catch let error as HangarError { return try rollBack(error, journal: true) }

            if live == nil {
                switch freshInstall(livePath: livePath) {
                case .done(let method):
                    syncAfterSwap()
                    CrashPoint.hit("swap.after-noreplace-rename")
                    return finish(method: method, oldTreeAt: nil)
                case .nameAppeared where freshAttempts == 0:
                    // Someone (LocalAI?) created the name meanwhile: replace it like a reinstall instead.
                    freshAttempts += 1
                    continue
                case .nameAppeared:
                    return try rollBack(HangarError.operation("\(livePath) keeps appearing while installing; is another tool installing \"\(name)\"?"), journal: true)
                case .failed(let error):
                    return try rollBack(error, journal: true)
                }
            }

            if !forceRenameFallback {
                CrashPoint.hit("swap.before-exchange")
                let code = Sys.renameat2(stagingPath, livePath, flags: UInt32(HANGAR_RENAME_EXCHANGE))
                if code == 0 {
                    syncAfterSwap()
                    CrashPoint.hit("swap.after-exchange")
                    // The exchange put the old tree where the staged one was.
                    return finish(method: .exchange, oldTreeAt: stagingPath)
                }
                if code == ENOENT, (try? Sys.lstatIfPresent(livePath)) == nil, freshAttempts == 0 {
                    // The backend was removed meanwhile: retry as a fresh install.
                    freshAttempts += 1
                    continue
                }
                guard Sys.isUnsupported(code) else {
                    return try rollBack(HangarError.operation("cannot swap \(stagingPath) with \(livePath): \(Sys.errorText(code))"), journal: true)
                }
                // The filesystem cannot exchange: fall through to the journaled two-rename swap.
            }
            let asidePath = root.stagingEntry(asideEntry)
            CrashPoint.hit("swap.before-first-rename")
            do {
                try Sys.rename(livePath, asidePath)
            } catch let error as HangarError {
                return try rollBack(error, journal: true)
            }
            syncAfterSwap()
            CrashPoint.hit("swap.between-renames")
            do {
                try Sys.rename(stagingPath, livePath)
            } catch let renameError as HangarError {
                // Put the old tree back under its name before reporting anything.
                do {
                    try Sys.rename(asidePath, livePath)
                } catch {
                    state.withLock { $0 = .failed }
                    throw HangarError.operation("\(renameError.message); restoring the previous install also failed, so \(livePath) is missing: run `hangar recover`")
                }
                syncAfterSwap()
                return try rollBack(renameError, journal: true)
            }
            syncAfterSwap()
            CrashPoint.hit("swap.after-second-rename")
            return finish(method: .twoRenames, oldTreeAt: asidePath)
        }
    }

    /// Removes the staging directory and leaves the live backend exactly as it was. Returns what is in place now.
    @discardableResult
    public func abort() -> String {
        let proceed = state.withLock { current -> Bool in
            guard current == .open || current == .validated else { return false }
            current = .busy
            return true
        }
        guard proceed else { return keptDescription() }
        removeStaging()
        state.withLock { $0 = .aborted }
        return keptDescription()
    }

    /// A transaction dropped without commit or abort (an error path that forgot) still must not leave staging behind.
    deinit {
        let open = state.withLock { $0 == .open || $0 == .validated }
        if open { removeStaging() }
    }

    // MARK: - internals

    private enum FreshOutcome {
        case done(SwapMethod)
        case nameAppeared
        case failed(HangarError)
    }

    private func freshInstall(livePath: String) -> FreshOutcome {
        CrashPoint.hit("swap.before-noreplace-rename")
        if !forceRenameFallback {
            let code = Sys.renameat2(stagingPath, livePath, flags: UInt32(HANGAR_RENAME_NOREPLACE))
            if code == 0 { return .done(.noReplaceRename) }
            if code == EEXIST { return .nameAppeared }
            if !Sys.isUnsupported(code) {
                return .failed(.operation("cannot rename \(stagingPath) to \(livePath): \(Sys.errorText(code))"))
            }
        }
        do {
            if try Sys.lstatIfPresent(livePath) != nil { return .nameAppeared }
            try Sys.rename(stagingPath, livePath)
            return .done(.plainRename)
        } catch let error as HangarError {
            return .failed(error)
        } catch {
            return .failed(.operation("\(error)"))
        }
    }

    /// After the swap point: keep the old tree as a generation or move it to the trash, drop the journal, then
    /// delete the old tree (or the generations beyond the policy's count).
    private func finish(method: SwapMethod, oldTreeAt oldPath: String?) -> CommitResult {
        var warnings: [String] = []
        var trashPath: String?
        var kept = false
        if let oldPath, let policy = generationPolicy {
            kept = Generations.keep(oldPath, name: name, policy: policy, root: root, warnings: &warnings)
        }
        if let oldPath, !kept {
            let entry = root.trashEntry("\(name).\(Sys.pid).\(Sys.randomToken())")
            do {
                try Sys.rename(oldPath, entry)
                try? Sys.syncDirectory(root.stagingPath)
                try? Sys.syncDirectory(root.trashPath)
                trashPath = entry
            } catch {
                // Still safe: the journal names the old tree, so recovery would finish the job; try in place now.
                do {
                    try FileTree.removeTree(oldPath, within: root.stagingPath)
                } catch {
                    warnings.append("could not delete the previous version of \(name) at \(oldPath): \(error); `hangar recover` will")
                }
            }
        }
        CrashPoint.hit("cleanup.old-in-trash")
        do {
            try TransactionJournal.remove(name: name, in: root)
        } catch {
            warnings.append("could not remove the journal of \(name): \(error); `hangar recover` will")
        }
        CrashPoint.hit("cleanup.journal-removed")
        if kept, let policy = generationPolicy {
            do {
                try Generations.prune(root: root, name: name, keep: policy.keep)
            } catch {
                warnings.append("could not delete an old generation of \(name): \(error); `hangar prune \(name)` will")
            }
        }
        if let trashPath {
            do {
                try FileTree.removeTree(trashPath, within: root.trashPath, crashPoint: "trash.mid-delete")
            } catch {
                warnings.append("could not delete the previous version of \(name) at \(trashPath): \(error); `hangar recover` will")
            }
        }
        state.withLock { $0 = .committed }
        return CommitResult(method: method, replacedPrevious: oldPath != nil, warnings: warnings, keptGeneration: kept)
    }

    /// Before the swap point: drop the journal (if written) and the staging tree, then report what was kept.
    private func rollBack(_ error: HangarError, journal: Bool) throws -> CommitResult {
        if journal {
            do {
                try TransactionJournal.remove(name: name, in: root)
            } catch _ {
                // The journal still says "not swapped" (live == old), so recovery would roll back the same way.
                state.withLock { $0 = .failed }
                throw RolledBackError(error: error, restored: keptDescription() + "; run `hangar recover` to remove the leftovers")
            }
        }
        removeStaging()
        state.withLock { $0 = .aborted }
        throw RolledBackError(error: error, restored: keptDescription())
    }

    private func removeStaging() {
        if let back = returnPath.withLock({ $0 }) {
            // A borrowed generation tree is never deleted here; if it cannot go back, recovery puts it back.
            if (try? Sys.rename(stagingPath, back)) != nil {
                returnPath.withLock { $0 = nil }
                try? Sys.syncDirectory(root.stagingPath)
                try? Sys.syncDirectory(Sys.parentPath(back))
            }
            return
        }
        var deleted = 0
        do {
            let parent = try Sys.openDirectory(root.stagingPath)
            defer { close(parent) }
            try FileTree.removeEntry(parent, stagingEntry, path: stagingPath, crashPoint: "abort.mid-delete", deleted: &deleted)
        } catch {
            // Left for recovery, which removes staging leftovers of unlocked names.
        }
    }

    private func keptDescription() -> String {
        let present = (try? Sys.lstatIfPresent(root.backendPath(name))) != nil
        return present ? "the previous install of \(name) was kept unchanged" : "\(name) was not installed before; nothing changed"
    }

    private func checkTree() throws {
        let fd = try Sys.openDirectory(stagingPath, followSymlink: false)
        defer { close(fd) }
        let described = what.withLock { $0 } ?? "the staged files of \(name)"
        if operation == "meta" {
            guard let st = try Sys.statAt(fd, "metadata.json", followSymlinks: false), Sys.isRegular(st) else {
                throw HangarError.operation("not a valid meta backend: metadata.json missing in \(described)")
            }
            return
        }
        // Followed like LocalAI does: a run.sh symlink to a script inside the image is fine.
        guard let st = try Sys.statAt(fd, "run.sh", followSymlinks: true), !Sys.isDirectory(st) else {
            throw HangarError.operation("not a valid backend: run.sh missing in \(described)")
        }
    }

    static func isOperationName(_ operation: String) -> Bool {
        (1...16).contains(operation.utf8.count) && operation.utf8.allSatisfy { $0 >= 0x61 && $0 <= 0x7a }
    }

    static func holdsLock(root: BackendsRoot, name: String, lock: BackendLock?) -> Bool {
        if let lock { return lock.covers(name, in: root) }
        return InProcessLockTable.shared.isHeld(root.lockFile(name))
    }

    /// One syncfs instead of an fsync per file: the staged data must be on disk before the rename makes it live.
    private func syncStagedTree() throws {
        let fd = try Sys.openDirectory(stagingPath, followSymlink: false)
        defer { close(fd) }
        if hangar_syncfs(fd) != 0 {
            let code = errno
            if code == ENOSYS { sync() } else { throw Sys.failure("cannot flush", stagingPath, code) }
        }
    }

    private func syncAfterSwap() {
        try? Sys.syncDirectory(root.path)
        try? Sys.syncDirectory(root.stagingPath)
    }

    private func expectState(_ allowed: [State], doing action: String) throws {
        let current = state.withLock { $0 }
        guard allowed.contains(current) else {
            throw HangarError.operation("internal error: cannot \(action) the \(operation) of \(name): the transaction is \(current)")
        }
    }
}
