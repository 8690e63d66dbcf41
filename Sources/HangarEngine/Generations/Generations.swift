import CHangarSystem

/// How many replaced trees a backend keeps, and how much free space keeping one must leave.
public struct GenerationPolicy: Sendable, Equatable {
    /// Generations kept per backend; 0 deletes replaced trees as before.
    public var keep: Int
    /// Keeping a tree (instead of deleting it) must leave at least this much free on the backends filesystem.
    public var marginBytes: Int64
    /// Test-only: pretend the backends filesystem has this many free bytes (`HANGAR_FAKE_FREE_BYTES`).
    public var fakeFreeBytes: Int64?

    /// 1 GiB: below that an upgrade's freed space matters more than an undo.
    public static let defaultMarginBytes: Int64 = 1 << 30

    public init(keep: Int, marginBytes: Int64 = GenerationPolicy.defaultMarginBytes, fakeFreeBytes: Int64? = nil) {
        self.keep = max(0, keep)
        self.marginBytes = marginBytes
        self.fakeFreeBytes = fakeFreeBytes
    }
}

/// One kept previous build of a backend.
public struct BackendGeneration: Sendable, Equatable {
    /// The backend directory it belongs to (a meta's generations are its concrete's).
    public var backend: String
    /// As users see it: 1 is the most recently replaced build.
    public var number: Int
    /// The on-disk sequence number (`generations/<backend>/<id>`), growing with every kept tree.
    public var id: Int
    /// When the build stopped being the installed one (seconds since the epoch).
    public var replacedAt: Double
    /// Size on disk of the kept tree.
    public var diskBytes: Int64
    /// The tree's `metadata.json` as it was installed; nil when it had none (or it was unreadable).
    public var metadata: BackendMetadata?
    /// The generation's directory (holds `tree/` and `generation.json`).
    public var path: String
    /// The kept tree's inode, as recorded when it was kept (how recovery finds a tree a rollback took out).
    var tree: FileIdentity?

    /// `v1.0.0`, `sha256:3f2a9c1`, or `unversioned build`.
    public var label: String { metadata.map(LocalDirectoryStore.describe) ?? "unversioned build" }
}

/// Replaced backend trees kept for rollback, in hangar's own area of the backends filesystem (never directly under
/// the backends path, where LocalAI would list them): `.hangar/generations/<name>/<id>/{tree/,generation.json}`.
/// A generation is built in `.incoming.<pid>.<random>` and published with one rename, so a directory named by a
/// number is always whole. Its record names the tree's inode, so while a rollback has the tree out (in staging, then
/// live) recovery can tell where it went: back into the generation before the swap, or the generation is used up.
public enum Generations {
    static let recordFile = "generation.json"
    static let treeEntry = "tree"
    static let incomingPrefix = ".incoming."

    static func directory(_ root: BackendsRoot, _ name: String) -> String { root.generationsPath + "/" + name }

    // MARK: - Listing

    /// The whole generations of `name`, most recent first (numbered from 1). A generation a rollback is using, or a
    /// half-written one, is not listed.
    static func list(root: BackendsRoot, name: String) -> [BackendGeneration] {
        let dir = directory(root, name)
        var found: [BackendGeneration] = []
        for id in ids(in: dir) {
            let path = dir + "/\(id)"
            guard let st = try? Sys.lstatIfPresent(path + "/" + treeEntry), Sys.isDirectory(st),
                  let record = readRecord(path) else { continue }
            found.append(BackendGeneration(backend: name, number: 0, id: id, replacedAt: record.replacedAt,
                                           diskBytes: record.diskBytes, metadata: record.metadata, path: path,
                                           tree: record.tree))
        }
        found.sort { $0.id > $1.id }
        for index in found.indices { found[index].number = index + 1 }
        return found
    }

    /// Generation `number` of `all` (one backend's, as `list` returns them); the errors are the one line the CLI and
    /// the UI show when there is none kept or no such number.
    static func pick(_ number: Int, from all: [BackendGeneration], owner: String) throws -> BackendGeneration {
        if all.isEmpty {
            throw HangarError.notFound("no previous version of \(owner) is kept to roll back to (one is kept at each upgrade or reinstall while keep_generations is above 0)")
        }
        guard let generation = all.first(where: { $0.number == number }) else {
            let range = all.count == 1 ? "only generation 1" : "generations 1 to \(all.count)"
            throw HangarError.notFound("\(owner) has no generation \(number): it keeps \(range) (hangar generations \(owner) lists them)")
        }
        return generation
    }

    /// Backend names that have a generations directory, sorted.
    static func names(root: BackendsRoot) -> [String] {
        (try? Sys.listDirectoryIfPresent(root.generationsPath))?.filter(BackendName.isValid).sorted() ?? []
    }

    /// Numbered entries of a generations directory (every id ever published and not yet removed).
    static func ids(in dir: String) -> [Int] {
        ((try? Sys.listDirectoryIfPresent(dir)) ?? []).compactMap { entry in
            entry.utf8.allSatisfy { $0 >= 0x30 && $0 <= 0x39 } ? Int(entry) : nil
        }
    }

    private struct Record {
        var replacedAt: Double
        var diskBytes: Int64
        var metadata: BackendMetadata?
        var tree: FileIdentity?
    }

    private static func readRecord(_ path: String) -> Record? {
        guard let bytes = try? Sys.readFile(path + "/" + recordFile),
              let value = try? JSONValue.parse(bytes), case .object(let object) = value,
              case .number(let replaced)? = object["replaced_at"], let replacedAt = Double(replaced) else { return nil }
        var record = Record(replacedAt: replacedAt, diskBytes: 0, metadata: nil, tree: nil)
        if case .number(let size)? = object["size_bytes"] { record.diskBytes = Int64(size) ?? 0 }
        if case .number(let device)? = object["tree_device"], case .number(let inode)? = object["tree_inode"],
           let d = UInt64(device), let i = UInt64(inode) {
            record.tree = FileIdentity(device: d, inode: i)
        }
        if case .object(let metadata)? = object["metadata"] {
            record.metadata = try? BackendMetadata.decode(Array(JSONValue.object(metadata).compact().utf8))
        }
        return record
    }

    // MARK: - Keeping a replaced tree

    /// Keeps the replaced tree at `oldTree` (just swapped out, in `.hangar/staging`) as the newest generation of
    /// `name`, by renames only. Returns whether it was kept; when it was not, the tree is still at `oldTree` (the
    /// caller deletes it) and `warnings` say why. The caller holds the name's lock.
    static func keep(_ oldTree: String, name: String, policy: GenerationPolicy, root: BackendsRoot,
                     warnings: inout [String]) -> Bool {
        guard policy.keep > 0, let identity = try? Sys.identityIfPresent(oldTree) else { return false }
        let size = (try? FileTree.treeSize(oldTree)) ?? TreeSize()
        let free = policy.fakeFreeBytes ?? freeBytes(root.path)
        if let free, free < policy.marginBytes {
            // Keeping costs what deleting would have freed; with the disk this full the upgrade matters more.
            warnings.append("the replaced build of \(name) was deleted, not kept for rollback: only \(TextFormat.bytes(free)) free on the backends filesystem, less than the \(TextFormat.bytes(policy.marginBytes)) margin; free some space to keep generations")
            return false
        }
        let dir = directory(root, name)
        let incoming = dir + "/" + incomingPrefix + "\(Sys.pid).\(Sys.randomToken())"
        do {
            try Sys.ensureDirectory(root.generationsPath)
            try Sys.ensureDirectory(dir)
            guard mkdir(incoming, 0o750) == 0 else { throw Sys.failure("cannot create", incoming, errno) }
        } catch {
            warnings.append("the replaced build of \(name) could not be kept for rollback (\(error)); deleted it instead")
            return false
        }
        do {
            var record = JSONObject()
            record["backend"] = .string(name)
            record["replaced_at"] = .number(String(Int64(Sys.now())))
            record["replaced_at_text"] = .string(RFC3339.localNow())
            record["size_bytes"] = .number(String(size.diskBytes))
            record["files"] = .number(String(size.files))
            // rename(2) keeps the inode: this is how recovery recognises the tree wherever a rollback left it.
            record["tree_device"] = .number(String(identity.device))
            record["tree_inode"] = .number(String(identity.inode))
            let metadata = (try? Sys.readFile(oldTree + "/metadata.json")).flatMap { try? BackendMetadata.decode($0) }
            record["metadata"] = metadata.map { .object($0.jsonObject) } ?? .null
            // Not fsynced: a record lost to a power cut makes recovery drop that generation, never the backend.
            try Sys.writeFile(incoming + "/" + recordFile, Array(JSONValue.object(record).goIndented().utf8),
                              mode: 0o644, exclusive: true, sync: false)
            CrashPoint.hit("generation.incoming-written")
            try Sys.rename(oldTree, incoming + "/" + treeEntry)
        } catch {
            try? FileTree.removeTree(incoming, within: dir)
            warnings.append("the replaced build of \(name) could not be kept for rollback (\(error)); deleted it instead")
            return false
        }
        // No directory fsyncs here: the journal is still in place and its removal (fsynced) comes after these renames.
        CrashPoint.hit("generation.tree-moved")
        let id = (ids(in: dir).max() ?? 0) + 1
        do {
            try Sys.rename(incoming, dir + "/\(id)")
        } catch {
            // The tree is inside the incoming dir now: back to where the caller expects it, or into the trash.
            if (try? Sys.rename(incoming + "/" + treeEntry, oldTree)) != nil {
                try? FileTree.removeTree(incoming, within: dir)
            } else {
                try? Recovery.moveToTrashAndDelete(incoming, name: name, root: root)
            }
            warnings.append("the replaced build of \(name) could not be kept for rollback (\(error)); deleted it instead")
            return false
        }
        CrashPoint.hit("generation.published")
        return true
    }

    /// Free bytes for unprivileged users on the filesystem holding `path`; nil when unknown.
    static func freeBytes(_ path: String) -> Int64? {
        var info = statvfs()
        guard statvfs(path, &info) == 0 else { return nil }
        return Int64(info.f_bavail) * Int64(info.f_frsize)
    }

    // MARK: - Pruning

    /// Removes the generations of `name` beyond the `keep` most recent (through the trash, so a kill mid-delete
    /// leaves nothing half-listed). Returns what was removed; the caller holds the name's lock.
    @discardableResult
    static func prune(root: BackendsRoot, name: String, keep: Int) throws -> [BackendGeneration] {
        let all = list(root: root, name: name)
        let removed = Array(all.dropFirst(max(0, keep)))
        for generation in removed {
            try Recovery.moveToTrashAndDelete(generation.path, name: name, root: root)
        }
        removeDirectoryIfEmpty(root: root, name: name)
        return removed
    }

    /// Drops `generations/<name>` once nothing is in it, so listings do not show backends without generations.
    static func removeDirectoryIfEmpty(root: BackendsRoot, name: String) {
        _ = rmdir(directory(root, name))
    }

    // MARK: - Rollback

    /// Swaps `generation` back in as `name` (caller holds the name's lock): the generation's tree is lent to a
    /// transaction (renamed into staging), validated and swapped like an upgrade; the tree it replaces is kept as a
    /// generation under `policy`; the used generation is then removed. `step` is told each phase (and may throw to
    /// cancel before the swap). On failure before the swap the generation gets its tree back and the error is
    /// rethrown; `warnings` collects what went wrong after the swap.
    static func rollBack(_ name: String, to generation: BackendGeneration, root: BackendsRoot, policy: GenerationPolicy?,
                         lock: BackendLock? = nil, warnings: inout [String],
                         step: (JobPhase) throws -> Void = { _ in }) throws -> BackendTransaction.CommitResult {
        let transaction = try BackendTransaction.begin(root: root, name: name, operation: "rollback", lock: lock,
                                                       keepGenerations: policy)
        let result: BackendTransaction.CommitResult
        do {
            try lend(generation, to: transaction)
            try step(.validating)
            // The metadata.json inside the tree is exactly what was installed then: nothing is rewritten.
            try transaction.validate(what: "generation \(generation.number) of \(name)")
            try step(.swapping)
            result = try transaction.commit()
        } catch {
            transaction.abort()  // puts a lent tree back into the generation
            throw error
        }
        warnings += result.warnings
        do {
            try consume(generation, root: root)
        } catch {
            warnings.append("could not remove the used generation \(generation.path): \(error); `hangar recover` will")
        }
        return result
    }

    /// Lends `generation`'s tree to a rollback: renames it onto the transaction's empty staging directory. The
    /// generation keeps its record, which names the tree's inode, so recovery can put the tree back (killed before
    /// the swap) or drop the used generation (killed after it).
    static func lend(_ generation: BackendGeneration, to transaction: BackendTransaction) throws {
        let tree = generation.path + "/" + treeEntry
        guard let identity = try Sys.identityIfPresent(tree), generation.tree == nil || generation.tree == identity else {
            throw HangarError.operation("generation \(generation.number) of \(generation.backend) at \(generation.path) is not as it was kept; remove it with `hangar prune \(generation.backend)`")
        }
        try transaction.adoptTree(at: tree)
        CrashPoint.hit("rollback.tree-staged")
    }

    /// After a committed rollback: the generation's tree is live now, so its directory (only the record is left)
    /// goes. Not fsynced: should the removal be lost, recovery sees the recorded tree live and removes it then.
    static func consume(_ generation: BackendGeneration, root: BackendsRoot) throws {
        CrashPoint.hit("rollback.before-consume")
        let entry = root.trashEntry("\(generation.backend).\(Sys.pid).\(Sys.randomToken())")
        try Sys.rename(generation.path, entry)
        try FileTree.removeTree(entry, within: root.trashPath, crashPoint: "trash.mid-delete")
        removeDirectoryIfEmpty(root: root, name: generation.backend)
    }

    // MARK: - Recovery

    /// Whether `name`'s generations need recovery: a half-written generation, one whose tree a rollback took out, or
    /// one whose record is unreadable.
    static func needsRecovery(root: BackendsRoot, name: String) -> Bool {
        let dir = directory(root, name)
        guard let entries = try? Sys.listDirectoryIfPresent(dir) else { return false }
        return entries.contains { entry in
            entry.hasPrefix(incomingPrefix)
                || (Int(entry) != nil && ((try? Sys.lstatIfPresent(dir + "/" + entry + "/" + treeEntry)) == nil
                                          || readRecord(dir + "/" + entry) == nil))
        }
    }

    /// Repairs `name`'s generations after a kill (caller holds the name's lock; run before the journal is resolved,
    /// so a tree lent to a rollback goes back to its generation before staging leftovers are deleted):
    /// half-written generations are deleted; a lent tree still in staging goes back; a generation whose tree went
    /// live is dropped.
    static func recover(root: BackendsRoot, name: String, into report: inout RecoveryReport) {
        let dir = directory(root, name)
        guard let entries = try? Sys.listDirectoryIfPresent(dir) else { return }
        for entry in entries.sorted() {
            let path = dir + "/" + entry
            do {
                if entry.hasPrefix(incomingPrefix) {
                    // Record and tree both there: only the publishing rename was missing, so finish it.
                    if readRecord(path) != nil, (try? Sys.lstatIfPresent(path + "/" + treeEntry)) != nil {
                        let id = (ids(in: dir).max() ?? 0) + 1
                        try Sys.rename(path, dir + "/\(id)")
                        report.repairs.append("kept the replaced build of \(name) as generation 1 (an interrupted upgrade had not published it)")
                    } else {
                        try Recovery.moveToTrashAndDelete(path, name: name, root: root)
                        report.repairs.append("removed a half-written generation of \(name)")
                    }
                    continue
                }
                let tree = path + "/" + treeEntry
                guard Int(entry) != nil else { continue }
                if try Sys.lstatIfPresent(tree) != nil {
                    if readRecord(path) == nil {
                        // Only after a power cut (the record is written before the generation is published).
                        try Recovery.moveToTrashAndDelete(path, name: name, root: root)
                        report.repairs.append("removed generation \(entry) of \(name): its record was lost")
                    }
                    continue
                }
                guard let recorded = readRecord(path)?.tree else {
                    try Recovery.moveToTrashAndDelete(path, name: name, root: root)
                    report.problems.append("generation \(entry) of \(name) had no files and no readable record; removed it")
                    continue
                }
                let lent = ((try? Sys.listDirectoryIfPresent(root.stagingPath)) ?? []).first { staging in
                    Recovery.stagingOwner(staging) == name && (try? Sys.identityIfPresent(root.stagingEntry(staging))) == recorded
                }
                if let lent {
                    try Sys.rename(root.stagingEntry(lent), tree)
                    try? Sys.syncDirectory(root.stagingPath)
                    try? Sys.syncDirectory(path)
                    report.repairs.append("put generation \(entry) of \(name) back after an interrupted rollback")
                } else if try Sys.identityIfPresent(root.backendPath(name)) == recorded {
                    try Recovery.moveToTrashAndDelete(path, name: name, root: root)
                    report.repairs.append("completed the rollback of \(name): the generation it used is installed")
                } else {
                    try Recovery.moveToTrashAndDelete(path, name: name, root: root)
                    report.problems.append("generation \(entry) of \(name) lost its files during an interrupted rollback; removed it")
                }
            } catch {
                report.problems.append("\(error)")
            }
        }
        removeDirectoryIfEmpty(root: root, name: name)
    }
}
