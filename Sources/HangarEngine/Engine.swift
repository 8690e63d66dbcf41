import Dispatch
import Foundation

/// The hangar engine: one LocalAI installation behind a `BackendStore` (a backends directory today, a server
/// next) and the job queue that changes it. Front ends hold an engine and never ask which store it has.
/// Queries run on the caller's thread; every change runs as a job on Dispatch queues.
public final class Engine: Sendable {
    public let configuration: HangarConfiguration
    /// Where the backends live and how they change.
    let store: any BackendStore
    public let jobs: JobQueue
    /// Every finished job, persisted in `.hangar/history.json`.
    let history: OperationHistory

    /// An engine on `store`; `Engine.live(configuration:)` builds the one front ends use. `origin` names the front
    /// end in the history (`cli`, `ui`, `daemon`).
    public init(configuration: HangarConfiguration, store: any BackendStore, maxParallelJobs: Int = 2,
                origin: String = "cli") {
        self.configuration = configuration
        self.store = store
        self.jobs = JobQueue(maxParallel: maxParallelJobs, origin: origin)
        self.history = OperationHistory(root: BackendsRoot(Self.historyRoot(configuration, store: store)))
        history.attach(to: jobs)
    }

    /// Where the history is kept: in the backends directory, or for a server (whose disk hangar cannot write) in
    /// the config dir, one directory per server, `<config>/servers/<host_port>/.hangar/history.jsonl`.
    static func historyRoot(_ configuration: HangarConfiguration, store: any BackendStore) -> String {
        guard let server = store.serverConnection else { return configuration.backendsPath }
        let name = server.url.replacingOccurrences(of: "://", with: "_").map { c -> Character in
            c.isASCII && (c.isLetter || c.isNumber || c == "." || c == "-" || c == "_") ? c : "_"
        }
        let path = configuration.configDir + "/servers/" + String(name)
        try? Sys.ensureDirectories(path)
        return path
    }

    /// An engine on the local backends directory with exactly these parts (tests and benchmarks swap in their own
    /// transport, resolver or sources). `sources` are tried in order for each URI, after local directories.
    public convenience init(configuration: HangarConfiguration,
                            host: HostProbe? = nil,
                            transport: any GalleryTransport = NoNetworkTransport(),
                            digestResolver: any DigestResolver = UnavailableDigestResolver(),
                            sources: [any BackendSource] = [],
                            maxParallelJobs: Int = 2) {
        self.init(configuration: configuration,
                  store: LocalDirectoryStore(configuration: configuration, host: host, transport: transport,
                                             digestResolver: digestResolver, sources: sources),
                  maxParallelJobs: maxParallelJobs)
    }

    /// The capability used to choose builds, and why.
    public var capabilityReport: CapabilityReport { store.capabilityReport }
    public var capability: Capability { capabilityReport.capability }
    /// What the header names: the backends directory, or the server.
    public var location: String { store.location }
    /// How the link to the LocalAI server stands (remote mode); nil on a local directory.
    public var serverConnection: ServerConnection? { store.serverConnection }
    /// Asks the server for its version and returns the connection; nil on a local directory.
    public func probeServer() -> ServerConnection? { store.probeServer() }

    /// Installed backends by LocalAI's listing algorithm (staging dirs never listed, broken metadata shown per row).
    public func installed() throws -> InstalledBackends { try store.installed() }

    /// Every configured gallery's entries (unfiltered), with per-gallery status; a job passes its cancel flag.
    public func gallery(isCancelled: @escaping @Sendable () -> Bool = { false }) -> GallerySnapshot {
        store.gallery(isCancelled: isCancelled)
    }

    /// Forgets cached gallery copies, so the next read fetches them again.
    public func refreshGalleries() { store.invalidateGalleries() }

    /// The entries this host can install (LocalAI's `AvailableBackends`), or all of them.
    public func availableBackends(includeIncompatible: Bool = false) throws -> AvailableListing {
        let snapshot = gallery()
        return availableBackends(in: snapshot, installed: try installed(), includeIncompatible: includeIncompatible)
    }

    /// The same from a gallery and a listing already read (the UI reads both at once from a server).
    public func availableBackends(in snapshot: GallerySnapshot, installed: InstalledBackends,
                                  includeIncompatible: Bool = false) -> AvailableListing {
        let compatible = GalleryNameIndex(snapshot.entries) { capability.isCompatible($0) }
        var seen = Set<String>()
        var rows: [AvailableBackend] = []
        for entry in snapshot.entries {
            let isCompatible = capability.isCompatible(entry)
            guard includeIncompatible || isCompatible else { continue }
            // Duplicate names exist in the real index; first wins everywhere, so later copies are hidden.
            guard seen.insert(entry.id.lowercased()).inserted else { continue }
            var resolvesTo: String?
            if entry.isMeta, let concrete = capability.resolvedConcrete(entry.capabilities),
               compatible.findByName(concrete) != nil {
                resolvesTo = concrete
            }
            rows.append(AvailableBackend(entry: entry, installed: installed.exists(entry.name),
                                         compatible: isCompatible, resolvesTo: resolvesTo))
        }
        return AvailableListing(backends: rows, gallery: snapshot)
    }

    /// One upgrade check now: LocalAI's upgrade detection (spec §4.4) against the unfiltered gallery.
    public func checkUpgrades() throws -> UpgradeReport { try store.checkForUpgrades() }

    /// Bytes on disk of an installed backend (system backends included); nil when not installed.
    public func diskUsage(of backend: String) -> Int64? { store.diskUsage(of: backend) }

    /// Repairs what interrupted operations (hangar's, and LocalAI's where safe) left behind.
    /// `thorough` (the explicit `hangar recover`) also removes LocalAI's own staging leftovers older than an hour.
    public func recover(thorough: Bool = false) -> RecoveryReport { store.recover(thorough: thorough) }

    /// Effective runtime settings with their sources.
    public func settings() throws -> EffectiveRuntimeSettings { try store.settings() }

    /// Turns LocalAI's `auto_upgrade_backends` on or off, and says when a running LocalAI applies it.
    @discardableResult
    public func setAutoUpgrade(_ enabled: Bool) throws -> SettingChange {
        try store.setRuntimeSetting(.autoUpgradeBackends, to: .bool(enabled))
    }

    /// Turns LocalAI's `prefer_development_backends` on or off (its UI default for development builds).
    @discardableResult
    public func setPreferDevelopment(_ on: Bool) throws -> SettingChange {
        try store.setRuntimeSetting(.preferDevelopmentBackends, to: .bool(on))
    }

    // MARK: - Operations, each one job

    /// Queues an install by gallery name (`NAME` or `GALLERY@NAME`). Without `force` an installed, runnable backend
    /// is left alone (LocalAI's ensure-installed). Throws at once, before any disk access, for an unsafe name.
    /// With `tag`, installs exactly that build of the entry's image (replacing what is installed) and pins it.
    public func install(_ name: String, force: Bool, tag: String? = nil) throws -> JobID {
        try Self.validateRequestedName(name)
        if let tag { try Self.validateTag(tag) }
        let operation: JobOperation = force ? .reinstall : .install
        return jobs.submit(operation, backend: name) { [store] context in
            try store.performInstall(name, force: force || tag != nil, tag: tag, context: context)
        }
    }

    /// An OCI tag: 1-128 of `[A-Za-z0-9_.-]`, not starting with `.` or `-` (the distribution spec's grammar).
    static func validateTag(_ tag: String) throws {
        let ok = (1...128).contains(tag.utf8.count) && tag.first.map { $0 != "." && $0 != "-" } == true
            && tag.utf8.allSatisfy { ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x41 && $0 <= 0x5a) || ($0 >= 0x61 && $0 <= 0x7a) || $0 == 0x5f || $0 == 0x2e || $0 == 0x2d }
        guard ok else { throw HangarError.configuration("\"\(tag)\" is not an image tag: use one hangar versions lists, e.g. v3.4.0-cpu-llama-cpp") }
    }

    /// Queues an upgrade of an installed backend (a meta upgrades its concrete). Background jobs give way when the
    /// backend is busy instead of waiting (auto-upgrade must never race a manual operation).
    public func upgrade(_ name: String, background: Bool = false) throws -> JobID {
        _ = try BackendName.validate(name)
        return jobs.submit(.upgrade, backend: name, background: background) { [store] context in
            try store.performUpgrade(name, context: context)
        }
    }

    /// Queues removal of a backend (a meta removes its concrete too; system backends are refused).
    public func uninstall(_ name: String) throws -> JobID {
        _ = try BackendName.validate(name)
        return jobs.submit(.uninstall, backend: name) { [store] context in
            try store.performUninstall(name, context: context)
        }
    }

    /// `GALLERY@NAME`: the gallery part is only matched, the name part becomes a directory and must be safe.
    static func validateRequestedName(_ name: String) throws {
        if name.isEmpty { throw HangarError.configuration("backend name is empty: name a gallery entry, e.g. hangar install llama-cpp") }
        let namePart = name.split(separator: "@", maxSplits: 1).last.map(String.init) ?? name
        _ = try BackendName.validate(namePart)
        if name.contains("/") || name.contains("\0") { _ = try BackendName.validate(name) }
    }
}

/// One gallery entry as `list --available` shows it.
public struct AvailableBackend: Sendable, Equatable {
    public var entry: GalleryEntry
    public var installed: Bool
    public var compatible: Bool
    /// For a meta: the concrete build chosen for this host, nil when none is installable.
    public var resolvesTo: String?
}

/// `list --available`'s rows and the gallery status behind them.
public struct AvailableListing: Sendable {
    public var backends: [AvailableBackend]
    public var gallery: GallerySnapshot
}
