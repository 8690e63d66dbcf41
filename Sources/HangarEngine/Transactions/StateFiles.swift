/// hangar's own small state files in `<backends>/.hangar` (holds, signature records): read-modify-write under one
/// exclusive lock per file, replaced atomically, so several hangar processes never lose each other's changes.
extension BackendsRoot {
    /// Runs `body` holding the exclusive lock of state file `name` (`.hangar/locks/.<name>.lock`).
    func withStateLock<T>(_ name: String, _ body: () throws -> T) throws -> T {
        try ensureDirectories()
        return try Sys.withFileLock(locksPath + "/.\(name).lock", body)
    }

    /// Writes `{"<key>": {entries, sorted by name}}` to `path`, replacing the file atomically.
    static func writeStateFile(_ path: String, key: String, entries: [String: JSONValue]) throws {
        var object = JSONObject()
        for name in entries.keys.sorted() { object[name] = entries[name]! }
        let text = JSONValue.object(JSONObject([key: .object(object)])).goIndented()
        try SettingsFileIO.replaceAtomically(path, contents: Array(text.utf8), mode: 0o644)
    }
}
