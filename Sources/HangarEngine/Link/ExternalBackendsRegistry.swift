import Foundation

/// LocalAI's `<config dir>/external_backends.json` (`{"name":"/abs/path/run.sh"}`, localai-api.md §12.1), which a
/// running LocalAI's config watcher applies live: the one way a backend hangar wrote to disk becomes loadable
/// without a restart. hangar adds entries after its installs and removes them after its uninstalls, and remembers
/// which entries are its own in `<config dir>/.hangar/external_backends.json`, so the user's own entries are never
/// touched: an entry is hangar's only while it still holds the path hangar wrote.
public struct ExternalBackendsRegistry: Sendable {
    public static let fileName = "external_backends.json"

    public let configDir: String

    public init(configDir: String) { self.configDir = configDir }

    /// LocalAI's file.
    public var path: String { configDir + "/" + Self.fileName }
    /// hangar's record of the entries it wrote (name → run.sh path).
    public var statePath: String { configDir + "/.hangar/" + Self.fileName }
    var lockPath: String { configDir + "/.hangar/." + Self.fileName + ".lock" }

    /// Whether there is a config dir to register in. LocalAI creates it at boot; without one no LocalAI has run
    /// here yet, and the next one to start registers what is on disk by itself, so hangar creates nothing.
    public var isAvailable: Bool {
        var info = stat()
        return stat(configDir, &info) == 0 && info.st_mode & S_IFMT == S_IFDIR
    }

    /// What one change did, in the words the user sees.
    public struct Change: Sendable, Equatable {
        /// Entries added or re-pointed, name → run.sh.
        public var registered: [(name: String, runFile: String)] = []
        /// Entries of hangar's removed.
        public var removed: [String] = []
        /// Names left alone because the user's own entry holds them.
        public var keptUsers: [String] = []

        public init() {}

        public static func == (a: Change, b: Change) -> Bool {
            a.registered.map(\.name) == b.registered.map(\.name) && a.registered.map(\.runFile) == b.registered.map(\.runFile)
                && a.removed == b.removed && a.keptUsers == b.keptUsers
        }

        public var isEmpty: Bool { registered.isEmpty && removed.isEmpty && keptUsers.isEmpty }
    }

    /// One line for the user, nil when nothing changed. `file` is the path the line names.
    public static func line(_ change: Change, file: String) -> String? {
        var parts: [String] = []
        if !change.registered.isEmpty {
            // Names that share a run.sh are listed together: `cpu-llama-cpp, llama-cpp → …/cpu-llama-cpp/run.sh`.
            var groups: [(runFile: String, names: [String])] = []
            for entry in change.registered {
                if let i = groups.firstIndex(where: { $0.runFile == entry.runFile }) { groups[i].names.append(entry.name) }
                else { groups.append((entry.runFile, [entry.name])) }
            }
            let text = groups.map { "\($0.names.joined(separator: ", ")) → \($0.runFile)" }.joined(separator: "; ")
            parts.append("registered \(text) in \(file), so a running LocalAI can load it now")
        }
        if !change.removed.isEmpty {
            parts.append("removed \(change.removed.joined(separator: ", ")) from \(file)")
        }
        if !change.keptUsers.isEmpty {
            parts.append("left your own entry for \(change.keptUsers.joined(separator: ", ")) in \(file) as it is")
        }
        return parts.isEmpty ? nil : parts.joined(separator: "; ")
    }

    // MARK: - Changes

    /// Adds (or re-points) `entries`, except names the user's own entries hold.
    public func register(_ entries: [(name: String, runFile: String)]) throws -> Change {
        try modify { file, owned, change in
            for entry in entries {
                let current = file[entry.name]?.stringValue
                let isOurs = current == nil || owned[entry.name] == current
                guard file[entry.name] == nil || isOurs else {
                    if !change.keptUsers.contains(entry.name) { change.keptUsers.append(entry.name) }
                    continue
                }
                owned[entry.name] = entry.runFile
                if current != entry.runFile {
                    file[entry.name] = .string(entry.runFile)
                    change.registered.append(entry)
                }
            }
        }
    }

    /// Removes hangar's entries that point into any of `directories` (a backend's dir: its name, alias and meta).
    public func unregister(directories: [String]) throws -> Change {
        let prefixes = directories.map { $0.hasSuffix("/") ? $0 : $0 + "/" }
        return try dropOwned { runFile in prefixes.contains { runFile.hasPrefix($0) } }
    }

    /// Removes hangar's entries whose backend directory is gone (LocalAI or a user removed it behind hangar's back).
    public func dropStale() throws -> Change {
        try dropOwned { runFile in
            var info = stat()
            return stat(parentDirectory(runFile), &info) != 0
        }
    }

    private func dropOwned(where matches: (String) -> Bool) throws -> Change {
        // Nothing of hangar's recorded: no lock and no state directory created (the check before every command).
        guard readOwned().contains(where: { matches($0.value) }) else { return Change() }
        return try modify { file, owned, change in
            for (name, runFile) in owned.sorted(by: { $0.key < $1.key }) where matches(runFile) {
                owned[name] = nil
                // Only while it still holds hangar's path: a user who re-pointed it made it theirs.
                if file[name]?.stringValue == runFile {
                    file[name] = nil
                    change.removed.append(name)
                }
            }
        }
    }

    /// Read-modify-write of both files under hangar's lock; LocalAI's file is replaced atomically (its watcher
    /// sees a Create) and only when it changed. A file hangar cannot parse is never replaced.
    private func modify(_ body: (inout JSONObject, inout [String: String], inout Change) -> Void) throws -> Change {
        guard isAvailable else { return Change() }
        try SettingsFileIO.createDirectories(configDir + "/.hangar", mode: 0o700)
        return try Sys.withFileLock(lockPath, mode: 0o600) {
            let before = try SettingsFileIO.readObject(path, named: "\(Self.fileName) at \(path)")
            let ownedBefore = readOwned()
            var file = before
            var owned = ownedBefore
            var change = Change()
            body(&file, &owned, &change)
            if file != before {
                var info = stat()
                let mode: mode_t = stat(path, &info) == 0 ? info.st_mode & 0o7777 : 0o644
                try SettingsFileIO.replaceAtomically(path, contents: Array(JSONValue.object(file).goIndented().utf8), mode: mode)
            }
            if owned != ownedBefore {
                var object = JSONObject()
                for name in owned.keys.sorted() { object[name] = .string(owned[name]!) }
                try SettingsFileIO.replaceAtomically(statePath, contents: Array(JSONValue.object(object).goIndented().utf8), mode: 0o600)
            }
            return change
        }
    }

    /// hangar's record; an unreadable one counts as empty, which leaves every entry to the user (the safe side).
    func readOwned() -> [String: String] {
        guard let object = try? SettingsFileIO.readObject(statePath, named: statePath) else { return [:] }
        var owned: [String: String] = [:]
        for member in object.members { if let path = member.value.stringValue { owned[member.key] = path } }
        return owned
    }

    /// The entries that make an installed backend directory loadable: its name and alias → its run.sh, or for a
    /// meta directory its name → its concrete's run.sh (plus the concrete's own entries). Empty when it is gone.
    public static func entries(forInstalled name: String, backendsPath: String) -> [(name: String, runFile: String)] {
        let root = BackendsRoot(backendsPath)
        guard case .success(let metadata) = InstalledBackends.readMetadata(dir: root.backendPath(name), name: name) else {
            return concreteEntries(name, alias: "", root: root)
        }
        if !metadata.metaBackendFor.isEmpty {
            let concrete = metadata.metaBackendFor
            guard (try? BackendName.validate(concrete)) != nil else { return [] }
            let own = entries(forInstalled: concrete, backendsPath: backendsPath)
            guard let runFile = own.first?.runFile else { return [] }
            return own + [(name, runFile)]
        }
        return concreteEntries(name, alias: metadata.alias, root: root)
    }

    private static func concreteEntries(_ name: String, alias: String, root: BackendsRoot) -> [(name: String, runFile: String)] {
        let runFile = root.backendPath(name) + "/run.sh"
        guard FileManager.default.fileExists(atPath: runFile) else { return [] }
        var result = [(name: name, runFile: runFile)]
        // An alias that names another directory would shadow that backend: LocalAI keeps the directory's own row.
        if !alias.isEmpty, alias != name, (try? BackendName.validate(alias)) != nil,
           !FileManager.default.fileExists(atPath: root.backendPath(alias)) {
            result.append((alias, runFile))
        }
        return result
    }
}
