import Foundation

/// A LocalAI backends directory on this machine: hangar does the disk work itself, staged and swapped by
/// transactions (`Operations.swift`), with crash recovery, backend locks shared with other hangar processes,
/// and galleries fetched by hangar.
public final class LocalDirectoryStore: BackendStore {
    let configuration: HangarConfiguration
    public let capabilityReport: CapabilityReport
    let galleryLoader: GalleryLoader
    /// Tried in order for each URI; local directories always first, as in LocalAI.
    let sources: [any BackendSource]
    let digestResolver: any DigestResolver
    let root: BackendsRoot
    let locks: BackendLocks

    /// `host` replaces the live probe of this machine (tests); `sources` get a `DirectorySource` in front unless
    /// they hold one.
    public init(configuration: HangarConfiguration, host: HostProbe? = nil,
                transport: any GalleryTransport = NoNetworkTransport(),
                digestResolver: any DigestResolver = UnavailableDigestResolver(),
                sources: [any BackendSource] = []) {
        self.configuration = configuration
        var probe = host ?? HostProbe.live()
        if host == nil { probe.environment = configuration.environment }
        self.capabilityReport = CapabilityReport.detect(probe: probe, forced: configuration.forcedCapability)
        self.galleryLoader = GalleryLoader(cacheDirectory: configuration.galleryCacheDirectory, transport: transport)
        self.sources = sources.contains { $0 is DirectorySource } ? sources : [DirectorySource()] + sources
        self.digestResolver = digestResolver
        self.root = BackendsRoot(configuration.backendsPath)
        self.locks = BackendLocks(root: root)
    }

    public var location: String { configuration.backendsPath }
    var capability: Capability { capabilityReport.capability }

    public func installed() throws -> InstalledBackends {
        try InstalledBackends.list(backendsPath: configuration.backendsPath,
                                   systemBackendsPath: configuration.systemBackendsPath, capability: capability)
    }

    public func gallery(isCancelled: @escaping @Sendable () -> Bool = { false }) -> GallerySnapshot {
        galleryLoader.load(configuration.galleries, isCancelled: isCancelled)
    }

    public func invalidateGalleries() { galleryLoader.invalidate() }

    /// Against the unfiltered gallery, with `configuration.checkConcurrency` digest lookups at once.
    public func checkForUpgrades() throws -> UpgradeReport {
        let installed = try installed()
        let snapshot = gallery()
        if snapshot.allFailed {
            // LocalAI's check fails too: "up to date" would be a lie when nothing could be compared.
            throw HangarError.operation("cannot check for upgrades: " + snapshot.failures.joined(separator: "; "))
        }
        let pins = ((try? HoldsFile(root: root).read()) ?? [:]).compactMapValues(\.pinnedURI)
        var report = UpgradeDetection.run(installed: installed, gallery: snapshot.entries,
                                          devSuffix: configuration.devSuffix, resolver: digestResolver,
                                          maxConcurrentLookups: configuration.checkConcurrency, pins: pins)
        report.warnings.insert(contentsOf: snapshot.warnings, at: 0)
        return report
    }

    public func listTags(of imageURI: String) throws -> [String] { try digestResolver.tags(of: imageURI) }

    /// System backends included.
    public func diskUsage(of backend: String) -> Int64? {
        let directory: String
        if let row = try? installed().get(backend) {
            directory = row.directory
        } else if let name = try? BackendName.validate(backend), FileManager.default.fileExists(atPath: root.backendPath(name)) {
            directory = root.backendPath(name)
        } else {
            return nil
        }
        return (try? FileTree.treeSize(directory))?.diskBytes
    }

    /// `thorough` (the explicit `hangar recover`) also removes LocalAI's own staging leftovers older than an hour,
    /// which the automatic pass before every command leaves alone in case a long LocalAI pull is still using them.
    public func recover(thorough: Bool) -> RecoveryReport {
        var options = RecoveryOptions()
        options.removeLocalAITemporaries = thorough
        var report = Recovery(root: root, locks: locks, options: options).run()
        report.repairs += dropStaleRegistrations()
        return report
    }

    public func settings() throws -> EffectiveRuntimeSettings {
        try RuntimeSettingsFile(configDir: configuration.configDir).effective(environment: configuration.environment)
    }

    /// Written to runtime_settings.json, which a running LocalAI's watcher reads.
    public func setRuntimeSetting(_ key: RuntimeSettingKey, to value: JSONValue) throws -> SettingChange {
        let file = RuntimeSettingsFile(configDir: configuration.configDir)
        try file.update([key.rawValue: value])
        let assignment = "\(key.rawValue) = \(value.compact())"
        var message = "\(assignment) written to \(file.path)"
        if key == .autoUpgradeBackends {
            // LocalAI §7: its watcher applies "on" at once; "off" after it was on only at its next start.
            message = value == .bool(true)
                ? "auto-upgrade on: a running LocalAI picks it up (\(assignment) in \(file.path))"
                : "auto-upgrade off: a LocalAI that had it on applies this after a restart or through its settings page (\(assignment) in \(file.path))"
        }
        let setting = (try? settings())?.settings.first { $0.key == key.rawValue }
        let warning = setting.flatMap { $0.overriddenByEnvironment ? $0.environmentNote : nil }
            .map { $0 + ": the file value does not apply while it is set" }
        return SettingChange(message: message, warning: warning)
    }
}
