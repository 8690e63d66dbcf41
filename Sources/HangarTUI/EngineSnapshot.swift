import Foundation
import Synchronization
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
    /// The newest operations of every hangar process, newest first (the Jobs screen's History view).
    public var recentHistory: [OperationRecord] = []
    /// hangar's holds and pins, by the backend directory they keep.
    public var holds: [String: Hold] = [:]
    /// Set when holds exist while LocalAI's own auto-upgrade (which ignores them) is on.
    public var holdsWarning: String?
    public var capability: CapabilityReport
    public var backendsPath: String
    public var configDir: String
    public var devSuffix: String
    public var loadedAt: Date

    /// False until the galleries were read (the header says so; the catalog waits).
    public var galleriesLoaded: Bool
    /// Size on disk per installed row (its directory's blocks, as `du` counts them), filled off the main thread by
    /// `measureDiskUsage` after the listing was read: the Backends table and the disk meter never walk a tree.
    public var diskUsage: [String: Int64] = [:]
    /// True once `measureDiskUsage` ran on this listing (sizes may still be missing for unreadable directories).
    public var diskUsageMeasured = false
    /// Kept previous versions by backend directory (a meta's are under its concrete), most recent first.
    public var generations: [String: [BackendGeneration]] = [:]
    /// `keep_generations` from hangar.json.
    public var keepGenerations = HangarSettings.defaultKeepGenerations
    /// Remote mode: how the link to the server stood when this was read (nil on a local directory).
    public var server: ServerConnection?
    /// Remote mode: when the listing on screen was last read from the server, set while the server does not
    /// answer and the previous listing stays on screen.
    public var staleSince: Date?
    /// Models a running LocalAI (`--server`) has loaded, by installed row; empty without a server.
    public var loadedModels: [String: LoadedModelsReport] = [:]
    /// Why the server could not say which models it has loaded.
    public var loadedModelsError: String?
    /// A distributed LocalAI server's nodes and what each has; nil in local mode and for a server that is not one.
    public var cluster: ClusterSnapshot?
    /// Why the nodes could not be read.
    public var clusterError: String?

    /// Reads the installed listing, the galleries and the settings of `engine`.
    public static func load(_ engine: Engine) -> EngineSnapshot {
        if engine.serverConnection != nil {
            // One round of parallel requests instead of the local order (listing first, galleries after).
            var snapshot = loadLocal(engine, withGallery: true)
            snapshot.galleriesLoaded = true
            return snapshot
        }
        var snapshot = loadLocal(engine)
        snapshot.addGalleries(engine)
        return snapshot
    }

    /// A server's listing, settings, version and (with `withGallery`) gallery, loaded models and nodes, requested at
    /// once: the time of the slowest (the nodes' two round trips) instead of the sum. Each request is made once; the
    /// catalog and the loaded models per row are worked out from the answers afterwards.
    private static func readFromServer(_ engine: Engine, into snapshot: inout EngineSnapshot, withGallery: Bool) {
        let listing = Mutex<Result<InstalledBackends, any Error>?>(nil)
        let settings = Mutex<Result<EffectiveRuntimeSettings, any Error>?>(nil)
        let gallery = Mutex<GallerySnapshot?>(nil)
        let loaded = Mutex<Result<[LoadedModel]?, any Error>?>(nil)
        let nodes = Mutex<Result<ClusterSnapshot?, any Error>?>(nil)
        let parts = withGallery ? 6 : 3
        BlockingWork.run(parts, width: parts) { part in
            switch part {
            case 0:
                let result = Result { try engine.installed() }
                listing.withLock { $0 = result }
            case 1:
                let result = Result { try engine.settings() }
                settings.withLock { $0 = result }
            case 2:
                _ = engine.probeServer()
            case 3:
                let entries = engine.gallery()
                gallery.withLock { $0 = entries }
            case 4:
                let result = Result { try engine.serverLink?.system().loaded }
                loaded.withLock { $0 = result }
            default:
                // A distributed server's nodes (two round trips of their own; one 404 otherwise).
                let result = Result { try engine.cluster() }
                nodes.withLock { $0 = result }
            }
        }
        let installed = listing.withLock { $0 }.flatMap { try? $0.get() }
        switch listing.withLock({ $0 }) {
        case .success(let rows)?: snapshot.installed = rows.rows
        case .failure(let error)?: snapshot.installedError = "\(error)"
        case nil: break
        }
        switch settings.withLock({ $0 }) {
        case .success(let value)?: snapshot.settings = value
        case .failure(let error)?: snapshot.settingsError = "\(error)"
        case nil: break
        }
        switch nodes.withLock({ $0 }) {
        case .success(let cluster)?: snapshot.cluster = cluster
        case .failure(let error)?: snapshot.clusterError = "\(error)"
        case nil: break
        }
        switch loaded.withLock({ $0 }) {
        case .success(let models?)?:
            if let installed { snapshot.loadedModels = engine.loadedModelsByBackend(models, installed: installed) }
        case .failure(let error)?: snapshot.loadedModelsError = "\(error)"
        default: break
        }
        if let entries = gallery.withLock({ $0 }) {
            if let installed {
                snapshot.setCatalog(engine.availableBackends(in: entries, installed: installed, includeIncompatible: true))
            } else {
                snapshot.galleries = entries.statuses
                snapshot.galleryWarnings = entries.warnings
            }
        }
        snapshot.server = engine.serverConnection
    }

    /// How many of the newest operations the History view holds: enough to browse, bounded for memory.
    public static let historyLimit = 500

    /// Reads only what is on local disk (listing, settings): fast whatever the galleries' network does.
    public static func loadLocal(_ engine: Engine) -> EngineSnapshot { loadLocal(engine, withGallery: false) }

    private static func loadLocal(_ engine: Engine, withGallery: Bool) -> EngineSnapshot {
        var snapshot = empty(capability: engine.capabilityReport)
        if engine.serverConnection != nil {
            readFromServer(engine, into: &snapshot, withGallery: withGallery)
        } else {
            do { snapshot.installed = try engine.installed().rows } catch { snapshot.installedError = "\(error)" }
            do { snapshot.settings = try engine.settings() } catch { snapshot.settingsError = "\(error)" }
        }
        snapshot.holds = (try? engine.holds()) ?? [:]
        snapshot.recentHistory = engine.recentOperations(limit: historyLimit)
        snapshot.holdsWarning = engine.holdsIgnoredByLocalAI()
        snapshot.backendsPath = engine.configuration.backendsPath
        snapshot.configDir = engine.configuration.configDir
        snapshot.devSuffix = engine.configuration.devSuffix
        snapshot.generations = Dictionary(grouping: (try? engine.generations()) ?? [], by: \.backend)
        snapshot.keepGenerations = engine.keepGenerations
        snapshot.loadedAt = Date()
        return snapshot
    }

    /// Reads the galleries (possibly over the network) into the catalog.
    public mutating func addGalleries(_ engine: Engine) {
        do {
            setCatalog(try engine.availableBackends(includeIncompatible: true))
        } catch {
            galleryWarnings = ["\(error)"]
        }
        galleriesLoaded = true
        addLoadedModels(engine)
        loadedAt = Date()
    }

    private mutating func setCatalog(_ listing: AvailableListing) {
        catalog = listing.backends
        galleries = listing.gallery.statuses
        galleryWarnings = listing.gallery.warnings
        tagsByName = Dictionary(catalog.map { ($0.entry.name, $0.entry.tags) }, uniquingKeysWith: { first, _ in first })
    }

    /// Takes the sizes of `previous` for rows that are the same install (same directory, same metadata.json): after
    /// one job only that job's backend is walked again. Cheap (no disk access), so it runs as a reload lands.
    public mutating func reuseDiskUsage(from previous: EngineSnapshot) {
        let old = Dictionary(previous.installed.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        for row in installed {
            if let before = old[row.name], before.directory == row.directory, before.metadata == row.metadata,
               before.broken == row.broken, let size = previous.diskUsage[row.name] {
                diskUsage[row.name] = size
            }
        }
        diskUsageMeasured = installed.allSatisfy { diskUsage[$0.name] != nil }
    }

    /// Walks the directories of the rows that have no size yet (off the main thread: a real backend can hold tens
    /// of thousands of files).
    public mutating func measureDiskUsage() {
        diskUsage = Self.measure(installed, known: diskUsage)
        diskUsageMeasured = true
    }

    /// `known` plus a size for every other row of `rows`; an alias row has its build's directory, walked once.
    public static func measure(_ rows: [InstalledBackend], known: [String: Int64]) -> [String: Int64] {
        var byDirectory: [String: Int64] = [:]
        for row in rows { if let size = known[row.name] { byDirectory[row.directory] = size } }
        var sizes: [String: Int64] = [:]
        for row in rows {
            if byDirectory[row.directory] == nil, let size = try? FileTree.treeSize(row.directory).diskBytes {
                byDirectory[row.directory] = size
            }
            sizes[row.name] = byDirectory[row.directory]
        }
        return sizes
    }

    /// Bytes on disk of every installed directory, each counted once (aliases share their build's); nil until measured.
    public var totalDiskUsage: Int64? {
        guard diskUsageMeasured else { return nil }
        var seen: Set<String> = []
        return installed.reduce(Int64(0)) { total, row in
            guard seen.insert(row.directory).inserted, let size = diskUsage[row.name] else { return total }
            return total + size
        }
    }

    /// An empty snapshot (before the first load, and in tests of pure key handling).
    public static func empty(capability: CapabilityReport = CapabilityReport(value: "default", source: .flag)) -> EngineSnapshot {
        EngineSnapshot(installed: [], installedError: nil, catalog: [], tagsByName: [:], galleries: [], galleryWarnings: [], settings: nil,
                       settingsError: nil, capability: capability, backendsPath: "", configDir: "", devSuffix: "development",
                       loadedAt: Date(timeIntervalSince1970: 0), galleriesLoaded: false)
    }
}
