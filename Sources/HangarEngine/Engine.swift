import Dispatch
import Foundation

/// The hangar engine: one LocalAI installation (backends dir, system dir, galleries, settings) and the job queue
/// that changes it. Queries run on the caller's thread; every change runs as a job on Dispatch queues.
public final class Engine: Sendable {
    public let configuration: HangarConfiguration
    /// The capability used to choose builds, and why.
    public let capabilityReport: CapabilityReport
    public let jobs: JobQueue
    public let galleryLoader: GalleryLoader
    let sources: [any BackendSource]
    let digestResolver: any DigestResolver
    let root: BackendsRoot
    let locks: BackendLocks
    /// Every finished job, persisted in `.hangar/history.json`.
    let history: OperationHistory

    /// `sources` are tried in order for each URI; local directories are always tried first, as in LocalAI.
    public init(configuration: HangarConfiguration,
                host: HostProbe? = nil,
                transport: any GalleryTransport = NoNetworkTransport(),
                digestResolver: any DigestResolver = UnavailableDigestResolver(),
                sources: [any BackendSource] = [],
                maxParallelJobs: Int = 2) {
        self.configuration = configuration
        var probe = host ?? HostProbe.live()
        if host == nil { probe.environment = configuration.environment }
        self.capabilityReport = CapabilityReport.detect(probe: probe, forced: configuration.forcedCapability)
        self.jobs = JobQueue(maxParallel: maxParallelJobs)
        self.galleryLoader = GalleryLoader(cacheDirectory: configuration.galleryCacheDirectory, transport: transport)
        self.sources = sources.contains { $0 is DirectorySource } ? sources : [DirectorySource()] + sources
        self.digestResolver = digestResolver
        self.root = BackendsRoot(configuration.backendsPath)
        self.locks = BackendLocks(root: root)
        self.history = OperationHistory(root: root)
        history.attach(to: jobs)
    }

    public var capability: Capability { capabilityReport.capability }

    /// Installed backends by LocalAI's listing algorithm (staging dirs never listed, broken metadata shown per row).
    public func installed() throws -> InstalledBackends {
        try InstalledBackends.list(backendsPath: configuration.backendsPath,
                                   systemBackendsPath: configuration.systemBackendsPath, capability: capability)
    }

    /// Every configured gallery's entries (unfiltered), with per-gallery status; a job passes its cancel flag.
    public func gallery(isCancelled: @escaping @Sendable () -> Bool = { false }) -> GallerySnapshot {
        galleryLoader.load(configuration.galleries, isCancelled: isCancelled)
    }

    /// The entries this host can install (LocalAI's `AvailableBackends`), or all of them.
    public func availableBackends(includeIncompatible: Bool = false) throws -> AvailableListing {
        let snapshot = gallery()
        let installed = try installed()
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

    /// LocalAI's upgrade detection against the unfiltered gallery (spec §4.4), with
    /// `configuration.checkConcurrency` digest lookups at once.
    public func checkUpgrades() throws -> UpgradeReport {
        let installed = try installed()
        let snapshot = gallery()
        if snapshot.allFailed {
            // LocalAI's check fails too: "up to date" would be a lie when nothing could be compared.
            throw HangarError.operation("cannot check for upgrades: " + snapshot.failures.joined(separator: "; "))
        }
        var report = UpgradeCheck.run(installed: installed, gallery: snapshot.entries,
                                      devSuffix: configuration.devSuffix, resolver: digestResolver,
                                      maxConcurrentLookups: configuration.checkConcurrency)
        report.warnings.insert(contentsOf: snapshot.warnings, at: 0)
        return report
    }

    /// The installed directory an upgrade of `name` would replace: a meta's concrete, an alias's chosen build,
    /// or `name` itself; nil when nothing by that name is installed.
    public func upgradeTarget(for name: String) throws -> String? {
        guard let row = try installed().get(name) else { return nil }
        if row.isMeta, let target = row.metadata?.metaBackendFor, !target.isEmpty { return target }
        return row.metadata?.name.isEmpty == false ? row.metadata!.name : name
    }

    /// Repairs what interrupted operations (hangar's, and LocalAI's where safe) left behind.
    /// `thorough` (the explicit `hangar recover`) also removes LocalAI's own staging leftovers older than an hour,
    /// which the automatic pass before every command leaves alone in case a long LocalAI pull is still using them.
    public func recover(thorough: Bool = false) -> RecoveryReport {
        var options = RecoveryOptions()
        options.removeLocalAITemporaries = thorough
        return Recovery(root: root, locks: locks, options: options).run()
    }

    /// Effective runtime settings with their sources.
    public func settings() throws -> EffectiveRuntimeSettings {
        try RuntimeSettingsFile(configDir: configuration.configDir).effective(environment: configuration.environment)
    }

    /// Writes `auto_upgrade_backends` to runtime_settings.json (a running LocalAI's watcher picks it up).
    public func setAutoUpgrade(_ enabled: Bool) throws {
        try RuntimeSettingsFile(configDir: configuration.configDir).update(["auto_upgrade_backends": .bool(enabled)])
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
