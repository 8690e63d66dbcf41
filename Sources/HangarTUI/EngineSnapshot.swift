import Foundation
import HangarEngine

/// Everything the UI shows that comes from disk, read once (off the main thread) and again after each finished job,
/// never on a draw.
public struct EngineSnapshot: Sendable {
    public var installed: [InstalledBackend]
    /// Why the installed listing could not be read (the rest of the UI still works).
    public var installedError: String?
    /// Every gallery entry, compatible or not (the catalog filters).
    public var catalog: [AvailableBackend]
    public var galleries: [GalleryStatus]
    public var galleryWarnings: [String]
    public var settings: EffectiveRuntimeSettings?
    public var settingsError: String?
    public var capability: CapabilityReport
    public var backendsPath: String
    public var configDir: String
    public var devSuffix: String
    public var loadedAt: Date

    /// Reads the installed listing, the galleries and the settings of `engine`.
    public static func load(_ engine: Engine) -> EngineSnapshot {
        var installed: [InstalledBackend] = []
        var installedError: String?
        do { installed = try engine.installed().rows } catch { installedError = "\(error)" }
        var catalog: [AvailableBackend] = []
        var galleries: [GalleryStatus] = []
        var warnings: [String] = []
        do {
            let listing = try engine.availableBackends(includeIncompatible: true)
            catalog = listing.backends
            galleries = listing.gallery.statuses
            warnings = listing.gallery.warnings
        } catch {
            warnings.append("\(error)")
        }
        var settings: EffectiveRuntimeSettings?
        var settingsError: String?
        do { settings = try engine.settings() } catch { settingsError = "\(error)" }
        return EngineSnapshot(installed: installed, installedError: installedError, catalog: catalog, galleries: galleries,
                              galleryWarnings: warnings, settings: settings, settingsError: settingsError,
                              capability: engine.capabilityReport, backendsPath: engine.configuration.backendsPath,
                              configDir: engine.configuration.configDir, devSuffix: engine.configuration.devSuffix,
                              loadedAt: Date())
    }

    /// An empty snapshot (before the first load, and in tests of pure key handling).
    public static func empty(capability: CapabilityReport = CapabilityReport(value: "default", source: .flag)) -> EngineSnapshot {
        EngineSnapshot(installed: [], installedError: nil, catalog: [], galleries: [], galleryWarnings: [], settings: nil,
                       settingsError: nil, capability: capability, backendsPath: "", configDir: "", devSuffix: "development",
                       loadedAt: Date(timeIntervalSince1970: 0))
    }
}

extension UpgradeCheckStatus {
    /// The upgrade shown on a row: its own, or the build behind a meta or alias row.
    public func upgrade(for row: InstalledBackend) -> UpgradeInfo? {
        guard let upgrades = report?.upgrades else { return nil }
        if let own = upgrades[row.name] { return own }
        if let target = row.metadata?.metaBackendFor, !target.isEmpty, let via = upgrades[target] { return via }
        if let build = row.metadata?.name, build != row.name, let via = upgrades[build] { return via }
        return nil
    }
}
