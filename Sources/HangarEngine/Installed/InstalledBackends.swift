import Foundation

/// One row of the installed-backends listing (LocalAI's `SystemBackend`, spec §3.7).
public struct InstalledBackend: Sendable, Equatable {
    /// The row key: the directory name, a meta's name or an alias.
    public var name: String
    /// `run.sh` this row starts (for a meta: its concrete's, not checked; for an alias: the chosen build's).
    public var runFile: String
    public var isMeta: Bool
    public var isSystem: Bool
    /// The parsed metadata.json; nil for system backends and for broken rows.
    public var metadata: BackendMetadata?
    /// Why metadata.json could not be read; only set on broken rows (LocalAI would fail the whole listing).
    public var broken: String?
    /// The directory behind the row (for an alias row, the build the alias resolved to).
    public var directory: String
    /// For an alias row that replaced a meta row of the same key (LocalAI's rule), that meta's metadata,
    /// so a UI can still say "meta → concrete".
    public var replacedMeta: BackendMetadata?
    /// A distributed LocalAI server's row: the nodes that have it, each with its build (§5.1); nil elsewhere.
    public var nodes: [BackendNodeRef]? = nil

    /// Synthetic alias rows are keyed by the alias, not by the installed entry's name.
    public var isAlias: Bool { !isSystem && metadata != nil && metadata!.name != name }

    /// `isBackendRunnable`: the run file exists and is not a directory.
    public var isRunnable: Bool {
        var isDir: ObjCBool = false
        return !runFile.isEmpty && FileManager.default.fileExists(atPath: runFile, isDirectory: &isDir) && !isDir.boolValue
    }
}

/// The installed backends of one backends directory plus system backends, keyed like LocalAI's map.
public struct InstalledBackends: Sendable {
    /// Rows sorted by key.
    public private(set) var rows: [InstalledBackend]
    private var index: [String: Int]

    init(_ byKey: [String: InstalledBackend]) {
        rows = byKey.keys.sorted().map { byKey[$0]! }
        index = Dictionary(uniqueKeysWithValues: rows.enumerated().map { ($1.name, $0) })
    }

    /// `Get(name)`: exact key lookup.
    public func get(_ name: String) -> InstalledBackend? { index[name].map { rows[$0] } }

    /// `Exists(name)`.
    public func exists(_ name: String) -> Bool { index[name] != nil }

    /// Directory-name suffixes of transient staging/backup dirs (LocalAI's); never listed as backends.
    public static var transientSuffixes: [String] { BackendName.reservedSuffixes }

    /// Whether a directory entry is a transient or private directory rather than a backend.
    public static func isTransient(_ name: String) -> Bool {
        name.hasPrefix(".") || transientSuffixes.contains { name.hasSuffix($0) }
    }

    /// Lists backends by LocalAI's `ListSystemBackends` algorithm, minus staging dirs, tolerating broken metadata.
    public static func list(backendsPath: String, systemBackendsPath: String, capability: Capability) throws -> InstalledBackends {
        var rows: [String: InstalledBackend] = [:]
        let fm = FileManager.default

        // 1. System backends: any directory with run.sh; a missing system path is fine.
        if let names = try? fm.contentsOfDirectory(atPath: systemBackendsPath) {
            for name in names.sorted() {
                let dir = systemBackendsPath + "/" + name
                let run = dir + "/run.sh"
                guard isDirectory(dir), fm.fileExists(atPath: run) else { continue }
                rows[name] = InstalledBackend(name: name, runFile: run, isMeta: false, isSystem: true,
                                              metadata: nil, broken: nil, directory: dir)
            }
        }

        // 2. User backends, lexical order.
        let names: [String]
        do {
            names = try fm.contentsOfDirectory(atPath: backendsPath).sorted()
        } catch {
            throw HangarError.configuration(
                "cannot read backends directory \(backendsPath): point --backends-path (or LOCALAI_BACKENDS_PATH) at LocalAI's backends directory")
        }
        var aliasGroups: [String: [String]] = [:]
        var aliasOrder: [String] = []
        var metadataByDir: [String: BackendMetadata] = [:]
        for dirName in names where !isTransient(dirName) {
            let dir = backendsPath + "/" + dirName
            guard isDirectory(dir) else { continue }
            let run = dir + "/run.sh"
            let hasRun = fm.fileExists(atPath: run)
            let metadata: BackendMetadata
            switch readMetadata(dir: dir, name: dirName) {
            case .success(let m): metadata = m
            case .failure(let error):
                rows[dirName] = InstalledBackend(name: dirName, runFile: hasRun ? run : "", isMeta: false, isSystem: false,
                                                 metadata: nil, broken: error.message, directory: dir)
                continue
            }
            metadataByDir[dirName] = metadata
            if hasRun {
                rows[dirName] = InstalledBackend(name: dirName, runFile: run, isMeta: false, isSystem: false,
                                                 metadata: metadata, broken: nil, directory: dir)
            }
            if !metadata.alias.isEmpty {
                if aliasGroups[metadata.alias] == nil { aliasOrder.append(metadata.alias) }
                aliasGroups[metadata.alias, default: []].append(dirName)
            }
            if !metadata.metaBackendFor.isEmpty {
                rows[metadata.name] = InstalledBackend(
                    name: metadata.name, runFile: backendsPath + "/" + metadata.metaBackendFor + "/run.sh",
                    isMeta: true, isSystem: false, metadata: metadata, broken: nil, directory: dir)
            }
        }

        // 3. Alias rows overwrite whatever has the same key (often the meta row), as in LocalAI.
        for alias in aliasOrder {
            let candidates = aliasGroups[alias]!
            let chosen = resolveAlias(candidates: candidates, tokens: capability.preferenceTokens)
            let replaced = rows[alias].flatMap { $0.isMeta ? $0.metadata : nil }
            rows[alias] = InstalledBackend(name: alias, runFile: backendsPath + "/" + chosen + "/run.sh", isMeta: false,
                                           isSystem: false, metadata: metadataByDir[chosen], broken: nil,
                                           directory: backendsPath + "/" + chosen, replacedMeta: replaced)
        }
        return InstalledBackends(rows)
    }

    /// §3.5: for each preference token, the first candidate (lexical order) containing it; else the first candidate.
    public static func resolveAlias(candidates: [String], tokens: [String]) -> String {
        let sorted = candidates.sorted()
        for token in tokens {
            if let hit = sorted.first(where: { $0.lowercased().contains(token) }) { return hit }
        }
        return sorted[0]
    }

    /// Reads `<dir>/metadata.json`; a missing file yields `{name: <dir>}` as in LocalAI.
    public static func readMetadata(dir: String, name: String) -> Result<BackendMetadata, HangarError> {
        let path = dir + "/metadata.json"
        guard let data = FileManager.default.contents(atPath: path) else {
            if FileManager.default.fileExists(atPath: path) {
                return .failure(.operation("cannot read \(path): check its permissions"))
            }
            return .success(BackendMetadata(name: name))
        }
        do {
            return .success(try BackendMetadata.decode([UInt8](data)))
        } catch {
            return .failure(.operation("malformed \(path): \(error); reinstall the backend to rewrite it"))
        }
    }

    private static func isDirectory(_ path: String) -> Bool {
        var isDir: ObjCBool = false
        return FileManager.default.fileExists(atPath: path, isDirectory: &isDir) && isDir.boolValue
    }
}
