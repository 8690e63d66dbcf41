/// Deterministic crash injection for tests: when `HANGAR_CRASH_AT` names a point, the process SIGKILLs itself
/// there, leaving exactly the on-disk state a real `kill -9` at that instant would leave.
public enum CrashPoint {
    /// Every point the transaction code passes, in the order a commit reaches them.
    public static let allPoints: [String] = [
        "stage.created",                  // empty staging dir exists, nothing else
        "commit.before-journal",          // staging filled, validated and synced; no journal yet
        "journal.temp-written",           // journal temp file fsynced but not yet renamed into place
        "swap.before-noreplace-rename",   // fresh install: journal written, backend absent
        "swap.after-noreplace-rename",    // fresh install: backend in place, journal still present
        "swap.before-exchange",           // journal written, live backend untouched
        "swap.after-exchange",            // new tree live, old tree at the staging path
        "swap.before-first-rename",       // fallback: journal written, nothing renamed
        "swap.between-renames",           // fallback: old tree moved aside, backend name MISSING
        "swap.after-second-rename",       // fallback: new tree live, old tree aside
        "generation.incoming-written",    // keeping the old tree: .incoming dir with generation.json, tree not moved
        "generation.tree-moved",          // old tree inside the .incoming dir, not yet published
        "generation.published",           // generation renamed into place, journal still present
        "cleanup.old-in-trash",           // old tree moved to trash (or kept as a generation), journal still present
        "cleanup.journal-removed",        // journal gone, old tree still in trash
        "trash.mid-delete",               // part of a trash entry deleted
        "abort.mid-delete",               // part of an aborted staging dir deleted
        "uninstall.moved-to-trash",       // backend moved to trash, not yet deleted
        "recovery.before-journal-remove", // recovery repaired the backend but the journal is still there
        "rollback.tree-staged",           // rollback: the generation's tree renamed into staging, no journal
        "rollback.before-consume",        // rollback committed, the used generation (marker, no tree) still there
    ]

    /// Read once: the environment does not change under a running hangar.
    private static let armed: String? = getenv("HANGAR_CRASH_AT").map { String(cString: $0) }

    /// Kills the process with SIGKILL if `HANGAR_CRASH_AT` equals `point`.
    public static func hit(_ point: String) {
        assert(allPoints.contains(point), "unknown crash point \(point)")
        guard let armed, armed == point else { return }
        raise(SIGKILL)
    }
}
