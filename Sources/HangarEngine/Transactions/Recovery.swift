import CHangarSystem

/// What a recovery pass did, one line per repair.
public struct RecoveryReport: Sendable, Equatable {
    /// Repairs made, e.g. "completed interrupted upgrade of foo".
    public var repairs: [String] = []
    /// Backends left alone because a live process is working on them, or LocalAI may be.
    public var skipped: [String] = []
    /// Things recovery could not fix by itself.
    public var problems: [String] = []

    public init() {}

    /// True when there was nothing to repair, skip or report.
    public var isEmpty: Bool { repairs.isEmpty && skipped.isEmpty && problems.isEmpty }

    /// All lines: repairs, then skips, then problems.
    public var lines: [String] { repairs + skipped + problems }
}

/// Thresholds for touching LocalAI's own staging leftovers, which a running LocalAI may be using right now.
struct RecoveryOptions: Sendable, Equatable {
    /// Restore `<name>.backup` / `<name>.install-backup` (when `<name>` is missing) only if unchanged this long.
    public var localAIBackupMinAge: Double
    /// Delete `.upgrade-tmp` / `.install-tmp` / `.partial` leftovers, and backups whose backend is installed, only if
    /// unchanged this long.
    public var localAITempMinAge: Double
    /// Whether LocalAI's old staging leftovers may be deleted at all. The automatic pass before every command turns
    /// this off: a LocalAI pull can keep its `.install-tmp` untouched for longer than any age threshold.
    public var removeLocalAITemporaries: Bool

    public init(localAIBackupMinAge: Double = 10, localAITempMinAge: Double = 3600, removeLocalAITemporaries: Bool = true) {
        self.localAIBackupMinAge = localAIBackupMinAge
        self.localAITempMinAge = localAITempMinAge
        self.removeLocalAITemporaries = removeLocalAITemporaries
    }
}

/// Brings the backends directory back to a consistent state after any hangar (or LocalAI) process was killed:
/// every backend complete at its old or new version, never missing, never mixed; leftovers removed.
struct Recovery: Sendable {
    public let root: BackendsRoot
    public let locks: BackendLocks
    public let options: RecoveryOptions

    public init(root: BackendsRoot, locks: BackendLocks? = nil, options: RecoveryOptions = RecoveryOptions()) {
        self.root = root
        self.locks = locks ?? BackendLocks(root: root)
        self.options = options
    }

    /// Runs one recovery pass with this instance's root, locks and options.
    public func run() -> RecoveryReport {
        Self.run(root: root, locks: locks, options: options)
    }

    /// LocalAI's transient suffixes, longest first so `foo.install-backup` is not read as `foo.install` + `.backup`.
    static let localAIBackupSuffixes = [".install-backup", ".backup"]
    static let localAITempSuffixes = [".install-tmp.partial", ".install-tmp", ".upgrade-tmp"]

    /// Runs one recovery pass. Cheap when there is nothing to do (a few readdirs). Backends whose lock is held by a
    /// live process are skipped: their transaction is still in progress.
    public static func run(root: BackendsRoot, locks: BackendLocks? = nil, options: RecoveryOptions = RecoveryOptions()) -> RecoveryReport {
        var report = RecoveryReport()
        let backendEntries: [String]
        do {
            guard let entries = try Sys.listDirectoryIfPresent(root.path) else { return report }
            backendEntries = entries
        } catch {
            report.problems.append("\(error)")
            return report
        }

        var names = Set<String>()
        var journalTemps: [String: [String]] = [:]
        var staging: [String: [String]] = [:]
        var strayStaging: [String] = []
        var trash: [String] = []
        if backendEntries.contains(".hangar") {
            do {
                for entry in try Sys.listDirectoryIfPresent(root.journalPath) ?? [] {
                    if entry.hasSuffix(".json"), BackendName.isValid(String(entry.dropLast(5))) {
                        names.insert(String(entry.dropLast(5)))
                    } else if let range = entry.range(of: ".json.tmp-"), BackendName.isValid(String(entry[..<range.lowerBound])) {
                        journalTemps[String(entry[..<range.lowerBound]), default: []].append(entry)
                    }
                }
                for entry in try Sys.listDirectoryIfPresent(root.stagingPath) ?? [] {
                    if let name = stagingOwner(entry) {
                        staging[name, default: []].append(entry)
                    } else {
                        strayStaging.append(entry)
                    }
                }
                trash = try Sys.listDirectoryIfPresent(root.trashPath) ?? []
                names.formUnion(Generations.names(root: root).filter { Generations.needsRecovery(root: root, name: $0) })
            } catch {
                report.problems.append("\(error)")
            }
        }
        names.formUnion(journalTemps.keys)
        names.formUnion(staging.keys)

        var localAI: [String: [String]] = [:]
        for entry in backendEntries {
            let suffixes = localAIBackupSuffixes + localAITempSuffixes
            if let suffix = suffixes.first(where: { entry.hasSuffix($0) }) {
                let name = String(entry.dropLast(suffix.count))
                if BackendName.isValid(name) { localAI[name, default: []].append(entry) }
            }
        }
        names.formUnion(localAI.keys)

        let locks = locks ?? BackendLocks(root: root)
        for name in names.sorted() {
            let lock: BackendLock?
            do {
                lock = try locks.lock([name], mode: .skipIfBusy)
            } catch {
                report.problems.append("\(error)")
                continue
            }
            guard let lock else {
                report.skipped.append("skipped \(name): another hangar process is working on it")
                continue
            }
            defer { lock.release() }
            recoverName(name, root: root, options: options, journalTemps: journalTemps[name] ?? [],
                        staging: staging[name] ?? [], localAI: localAI[name] ?? [], into: &report)
        }

        for entry in strayStaging {
            remove(root.stagingEntry(entry), within: root.stagingPath, line: "removed leftover staging entry \(entry)", into: &report)
        }
        // A live process deletes its own trash entries right after moving them there; only orphans are ours to empty.
        for entry in trash.sorted() where !trashOwnerIsAlive(entry) {
            remove(root.trashEntry(entry), within: root.trashPath, line: "emptied trash: removed \(entry)", into: &report)
        }
        return report
    }

    /// Whether the process that moved a trash entry (`<name>.<pid>.<random>`) is still running (and deleting it).
    static func trashOwnerIsAlive(_ entry: String) -> Bool {
        let parts = entry.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count >= 3, let pid = Int32(parts[parts.count - 2]), pid > 0 else { return false }
        if pid == Sys.pid { return false }
        return kill(pid, 0) == 0 || errno == EPERM
    }

    /// Removes staging entries of `name` left by killed processes. Call only while holding `name`'s lock: every
    /// live transaction holds it, so any staging entry of that name is an orphan.
    static func removeOrphanedStaging(root: BackendsRoot, name: String, into report: inout RecoveryReport) {
        guard let entries = try? Sys.listDirectoryIfPresent(root.stagingPath) else { return }
        for entry in entries where stagingOwner(entry) == name {
            remove(root.stagingEntry(entry), within: root.stagingPath, line: "removed leftover staging entry \(entry)",
                   into: &report)
        }
    }

    /// The backend a staging entry belongs to: `<name>.<operation>.<pid>.<random>[.old|.download]` (`.download`: a
    /// tarball being fetched beside its staging dir, removed under the backend's lock like the staging dir itself).
    static func stagingOwner(_ entry: String) -> String? {
        var parts = entry.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        if parts.last == "old" || parts.last == "download" { parts.removeLast() }
        guard parts.count >= 4 else { return nil }
        let random = parts.removeLast(), pid = parts.removeLast(), operation = parts.removeLast()
        guard random.count == 16, random.allSatisfy(\.isHexDigit), Int32(pid) != nil,
              BackendTransaction.isOperationName(operation) else { return nil }
        let name = parts.joined(separator: ".")
        return BackendName.isValid(name) ? name : nil
    }

    private static func recoverName(_ name: String, root: BackendsRoot, options: RecoveryOptions,
                                    journalTemps: [String], staging: [String], localAI: [String],
                                    into report: inout RecoveryReport) {
        var journalResolved = true
        // Before the journal: a tree a killed rollback borrowed from a generation must go back before staging is swept.
        Generations.recover(root: root, name: name, into: &report)
        do {
            try recoverJournal(root: root, name: name, into: &report)
        } catch {
            report.problems.append("\(error)")
            journalResolved = false
        }
        for entry in journalTemps {
            _ = unlink(root.journalPath + "/" + entry)
        }
        // With an unresolved journal the staging trees may be the only complete copy: keep them for a human.
        if journalResolved {
            for entry in staging.sorted() {
                remove(root.stagingEntry(entry), within: root.stagingPath, line: "removed leftover staging dir .hangar/staging/\(entry)", into: &report)
            }
        }
        recoverLocalAILeftovers(name, entries: localAI, root: root, options: options, into: &report)
    }

    /// Resolves `<name>`'s journal, if any, by comparing inodes (caller holds the name's lock). A path named in a
    /// journal only ever holds a complete tree or nothing (discarded trees go through the trash), so whichever
    /// complete tree is found can be put in place.
    static func recoverJournal(root: BackendsRoot, name: String, into report: inout RecoveryReport) throws {
        guard let journal = try TransactionJournal.read(name: name, in: root) else { return }
        let livePath = root.backendPath(name)
        let stagingPath = root.stagingEntry(journal.staging)
        let asidePath = root.stagingEntry(journal.aside)
        let live = try Sys.identityIfPresent(livePath)
        let staged = try Sys.identityIfPresent(stagingPath)
        let aside = try Sys.identityIfPresent(asidePath)
        let operation = journal.operation

        func discard(_ path: String) throws {
            try moveToTrashAndDelete(path, name: name, root: root)
        }
        // Past the swap the replaced tree is kept as a generation, as the commit would have kept it.
        var keptOld = false
        func discardReplaced(_ path: String) throws {
            if let keep = journal.keep, keep > 0, let old = journal.old, try Sys.identityIfPresent(path) == old {
                var warnings: [String] = []
                if Generations.keep(path, name: name, policy: GenerationPolicy(keep: keep), root: root, warnings: &warnings) {
                    keptOld = true
                    return
                }
            }
            try discard(path)
        }

        if live == journal.new {
            try discardReplaced(stagingPath)
            try discardReplaced(asidePath)
            if let keep = journal.keep, keep > 0 { try Generations.prune(root: root, name: name, keep: keep) }
            report.repairs.append("completed interrupted \(operation) of \(name)" + (keptOld ? " (the replaced build kept as generation 1)" : ""))
        } else if let old = journal.old, live == old {
            try discard(stagingPath)
            try discard(asidePath)
            report.repairs.append("restored \(name) from an interrupted \(operation) (old version kept)")
        } else if live == nil {
            if journal.old == nil {
                // A fresh install killed before its rename: the commit point was not reached.
                try discard(stagingPath)
                report.repairs.append("removed an incomplete install of \(name) (it was not installed before)")
            } else if staged == journal.new {
                // Killed between the two renames: the old tree is parked aside, the validated new one is complete.
                try putInPlace(stagingPath, livePath, root: root)
                try discardReplaced(asidePath)
                if let keep = journal.keep, keep > 0 { try Generations.prune(root: root, name: name, keep: keep) }
                report.repairs.append("completed interrupted \(operation) of \(name)" + (keptOld ? " (the replaced build kept as generation 1)" : ""))
            } else if aside == journal.old {
                try putInPlace(asidePath, livePath, root: root)
                try discard(stagingPath)
                report.repairs.append("restored \(name) from an interrupted \(operation) (old version kept)")
            } else if let old = journal.old, staged == old {
                // Exchanged, then the new tree was deleted by someone else: the old one is all there is.
                try putInPlace(stagingPath, livePath, root: root)
                report.repairs.append("restored \(name) from an interrupted \(operation) (old version kept)")
            } else {
                report.problems.append("\(name) is missing and the interrupted \(operation) left no complete copy of it; reinstall it")
            }
        } else {
            try discard(stagingPath)
            try discard(asidePath)
            report.repairs.append("kept \(name) as another program left it; removed hangar's copies from an interrupted \(operation)")
        }
        CrashPoint.hit("recovery.before-journal-remove")
        try TransactionJournal.remove(name: name, in: root)
    }

    /// LocalAI's `<name>.backup` / `.install-backup` are restored when `<name>` is missing (newest first); its
    /// `.upgrade-tmp` / `.install-tmp` / `.partial` leftovers, and backups of installed backends, go when stale.
    private static func recoverLocalAILeftovers(_ name: String, entries: [String], root: BackendsRoot,
                                                options: RecoveryOptions, into report: inout RecoveryReport) {
        let now = Sys.now()
        var found: [(entry: String, st: stat)] = []
        for entry in entries {
            if let st = try? Sys.lstatIfPresent(root.path + "/" + entry) { found.append((entry, st)) }
        }
        let backups = found.filter { item in localAIBackupSuffixes.contains { item.entry == name + $0 } }
            .sorted { Sys.changeTime($0.st) > Sys.changeTime($1.st) }
        let livePath = root.backendPath(name)
        for backup in backups {
            let path = root.path + "/" + backup.entry
            let age = now - Sys.changeTime(backup.st)
            let livePresent = (try? Sys.lstatIfPresent(livePath)) != nil
            if !livePresent {
                guard Sys.isDirectory(backup.st) else { continue }
                if age < options.localAIBackupMinAge {
                    report.skipped.append("left LocalAI's \(backup.entry) alone for now: it changed \(Int(age))s ago, LocalAI may be swapping it")
                    continue
                }
                // LocalAI's swap died between its two renames only if its staging dir is still there too; without
                // it, `<name>` was most likely deleted on purpose and the backup is just stale.
                let staging = backup.entry.hasSuffix(".install-backup") ? name + ".install-tmp" : name + ".upgrade-tmp"
                guard found.contains(where: { $0.entry == staging }) else {
                    report.skipped.append("left LocalAI's \(backup.entry) alone: \(name) is missing but no interrupted LocalAI swap is visible (no \(staging)); restore it by hand with mv if you want it back")
                    continue
                }
                var runScript = stat()
                guard stat(path + "/run.sh", &runScript) == 0, !Sys.isDirectory(runScript) else {
                    report.problems.append("\(name) is missing and LocalAI's \(backup.entry) has no run.sh; left it alone")
                    continue
                }
                do {
                    try putInPlace(path, livePath, root: root)
                    report.repairs.append("restored \(name) from LocalAI's \(backup.entry)")
                } catch {
                    report.problems.append("\(error)")
                }
            } else if options.removeLocalAITemporaries && age >= options.localAITempMinAge {
                remove(path, name: name, root: root, line: "removed LocalAI's stale \(backup.entry) (\(name) is installed)", into: &report)
            }
        }
        for item in found where localAITempSuffixes.contains(where: { item.entry == name + $0 }) {
            let age = now - Sys.changeTime(item.st)
            guard options.removeLocalAITemporaries, age >= options.localAITempMinAge else { continue }
            remove(root.path + "/" + item.entry, name: name, root: root, line: "removed LocalAI's stale leftover \(item.entry)", into: &report)
        }
    }

    /// Renames `from` onto the missing `to`, never replacing something that appeared meanwhile.
    static func putInPlace(_ from: String, _ to: String, root: BackendsRoot) throws {
        let code = Sys.renameat2(from, to, flags: UInt32(HANGAR_RENAME_NOREPLACE))
        if code != 0 {
            if code == EEXIST { throw HangarError.operation("cannot restore \(to) from \(from): \(to) appeared meanwhile") }
            guard Sys.isUnsupported(code) else {
                throw HangarError.operation("cannot restore \(to) from \(from): \(Sys.errorText(code))")
            }
            if try Sys.lstatIfPresent(to) != nil { throw HangarError.operation("cannot restore \(to) from \(from): \(to) appeared meanwhile") }
            try Sys.rename(from, to)
        }
        try? Sys.syncDirectory(root.path)
        try? Sys.syncDirectory(Sys.parentPath(from))
    }

    /// Moves `path` into the trash in one rename (so a kill mid-delete never leaves a half tree under a name anyone
    /// looks at), then deletes it there. Absent is fine.
    static func moveToTrashAndDelete(_ path: String, name: String, root: BackendsRoot) throws {
        guard try Sys.lstatIfPresent(path) != nil else { return }
        try Sys.ensureDirectory(root.trashPath)
        let entry = root.trashEntry("\(name).\(Sys.pid).\(Sys.randomToken())")
        try Sys.rename(path, entry)
        try? Sys.syncDirectory(Sys.parentPath(path))
        try? Sys.syncDirectory(root.trashPath)
        try FileTree.removeTree(entry, within: root.trashPath, crashPoint: "trash.mid-delete")
    }

    private static func remove(_ path: String, name: String, root: BackendsRoot, line: String, into report: inout RecoveryReport) {
        do {
            try moveToTrashAndDelete(path, name: name, root: root)
            report.repairs.append(line)
        } catch {
            report.problems.append("\(error)")
        }
    }

    private static func remove(_ path: String, within parent: String, line: String, into report: inout RecoveryReport) {
        do {
            guard try Sys.lstatIfPresent(path) != nil else { return }
            try FileTree.removeTree(path, within: parent)
            report.repairs.append(line)
        } catch {
            report.problems.append("\(error)")
        }
    }
}
