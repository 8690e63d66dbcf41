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
    /// Gallery tags by entry name (first entry wins), so the Backends filter can match tags without a scan.
    public var tagsByName: [String: [String]]
    public var galleries: [GalleryStatus]
    public var galleryWarnings: [String]
    public var settings: EffectiveRuntimeSettings?
    public var settingsError: String?
    public var capability: CapabilityReport
    public var backendsPath: String
    public var configDir: String
    public var devSuffix: String
    public var loadedAt: Date

    /// False until the galleries were read (the header says so; the catalog waits).
    public var galleriesLoaded: Bool

    /// Reads the installed listing, the galleries and the settings of `engine`.
    public static func load(_ engine: Engine) -> EngineSnapshot {
        var snapshot = loadLocal(engine)
        snapshot.addGalleries(engine)
        return snapshot
    }

    /// Reads only what is on local disk (listing, settings): fast whatever the galleries' network does.
    public static func loadLocal(_ engine: Engine) -> EngineSnapshot {
        var snapshot = empty(capability: engine.capabilityReport)
        do { snapshot.installed = try engine.installed().rows } catch { snapshot.installedError = "\(error)" }
        do { snapshot.settings = try engine.settings() } catch { snapshot.settingsError = "\(error)" }
        snapshot.backendsPath = engine.configuration.backendsPath
        snapshot.configDir = engine.configuration.configDir
        snapshot.devSuffix = engine.configuration.devSuffix
        snapshot.loadedAt = Date()
        return snapshot
    }

    /// Reads the galleries (possibly over the network) into the catalog.
    public mutating func addGalleries(_ engine: Engine) {
        do {
            let listing = try engine.availableBackends(includeIncompatible: true)
            catalog = listing.backends
            galleries = listing.gallery.statuses
            galleryWarnings = listing.gallery.warnings
        } catch {
            galleryWarnings = ["\(error)"]
        }
        tagsByName = Dictionary(catalog.map { ($0.entry.name, $0.entry.tags) }, uniquingKeysWith: { first, _ in first })
        galleriesLoaded = true
        loadedAt = Date()
    }

    /// An empty snapshot (before the first load, and in tests of pure key handling).
    public static func empty(capability: CapabilityReport = CapabilityReport(value: "default", source: .flag)) -> EngineSnapshot {
        EngineSnapshot(installed: [], installedError: nil, catalog: [], tagsByName: [:], galleries: [], galleryWarnings: [], settings: nil,
                       settingsError: nil, capability: capability, backendsPath: "", configDir: "", devSuffix: "development",
                       loadedAt: Date(timeIntervalSince1970: 0), galleriesLoaded: false)
    }
}
