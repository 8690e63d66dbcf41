/// Removal of an installed backend directory that a kill can never leave half-deleted under its name.
enum BackendRemoval {
    /// Renames `<backends>/<name>` into `.hangar/trash/` in one step (LocalAI and listings stop seeing it at once),
    /// then deletes it there; a kill mid-delete leaves only trash, which recovery empties. The caller holds the
    /// name's lock (`lock`, or any lock of this process on it); a meta and its concrete are removed by two calls.
    /// Returns the size that was freed.
    @discardableResult
    public static func remove(_ name: String, root: BackendsRoot, lock: BackendLock? = nil) throws -> TreeSize {
        let name = try BackendName.validate(name)
        guard BackendTransaction.holdsLock(root: root, name: name, lock: lock) else {
            throw HangarError.operation("internal error: uninstalling \"\(name)\" without holding its lock")
        }
        let livePath = root.backendPath(name)
        guard try Sys.lstatIfPresent(livePath) != nil else {
            throw HangarError.notFound("backend \"\(name)\": backend not found in \(root.path)")
        }
        let size = (try? FileTree.treeSize(livePath)) ?? TreeSize()
        try root.ensureDirectories()
        let entry = root.trashEntry("\(name).\(Sys.pid).\(Sys.randomToken())")
        try Sys.rename(livePath, entry)
        try? Sys.syncDirectory(root.path)
        try? Sys.syncDirectory(root.trashPath)
        CrashPoint.hit("uninstall.moved-to-trash")
        do {
            try FileTree.removeTree(entry, within: root.trashPath, crashPoint: "trash.mid-delete")
        } catch {
            // The backend is already gone from its name; what is left in the trash is recovery's job.
        }
        return size
    }
}
