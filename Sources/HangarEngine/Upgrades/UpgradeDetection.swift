import Dispatch
import Foundation
import Synchronization

/// One available upgrade, in the shape of LocalAI's `UpgradeInfo` (`GET /backends/upgrades`).
public struct UpgradeInfo: Sendable, Equatable {
    public var backendName: String
    public var installedVersion: String
    public var availableVersion: String
    public var installedDigest: String
    public var availableDigest: String
    /// A distributed server's `node_drift` (§5.6), exactly as it sent it; nil elsewhere.
    public var nodeDrift: JSONValue? = nil

    public init(backendName: String, installedVersion: String = "", availableVersion: String = "",
                installedDigest: String = "", availableDigest: String = "") {
        self.backendName = backendName
        self.installedVersion = installedVersion
        self.availableVersion = availableVersion
        self.installedDigest = installedDigest
        self.availableDigest = availableDigest
    }

    /// LocalAI's JSON: both versions always present, digests only when known.
    public var jsonObject: JSONObject {
        var o = JSONObject()
        o["backend_name"] = .string(backendName)
        o["installed_version"] = .string(installedVersion)
        o["available_version"] = .string(availableVersion)
        if !installedDigest.isEmpty { o["installed_digest"] = .string(installedDigest) }
        if !availableDigest.isEmpty { o["available_digest"] = .string(availableDigest) }
        if let nodeDrift { o["node_drift"] = nodeDrift }
        return o
    }
}

/// Looks up the registry's current top-level digest of an OCI reference (a HEAD of the tag, spec §5.3).
public protocol DigestResolver: Sendable {
    /// `sha256:<hex>` for `reference`, or an error when the registry cannot be asked.
    func digest(of reference: String) throws -> String
    /// Every tag of `reference`'s repository (`hangar versions`), or an error when the registry cannot be asked.
    func tags(of reference: String) throws -> [String]
}

extension DigestResolver {
    public func tags(of reference: String) throws -> [String] {
        throw HangarError.operation("cannot list the tags of \(reference): this hangar has no registry client here")
    }
}

/// The resolver used until the network layer exists: every lookup fails with a clear reason, so the check warns and skips.
public struct UnavailableDigestResolver: DigestResolver {
    public init() {}
    public func digest(of reference: String) throws -> String {
        throw HangarError.operation("cannot ask the registry for \(reference): this hangar build has no network support")
    }
}

/// Result of an upgrade check: the upgrades by backend name and the per-backend problems that were skipped.
public struct UpgradeReport: Sendable, Equatable {
    public var upgrades: [String: UpgradeInfo]
    public var warnings: [String]

    /// `{}` or the map keyed by backend name, sorted for stable output.
    public var jsonObject: JSONObject {
        var o = JSONObject()
        for name in upgrades.keys.sorted() { o[name] = .object(upgrades[name]!.jsonObject) }
        return o
    }
}

/// Upgrade detection: LocalAI's `CheckBackendUpgrades` (spec §4.4), single node, with the digest lookups run concurrently.
/// The pure rule; `Engine.checkUpgrades()` runs it once over a store, `UpgradeScheduler` runs checks on a schedule.
enum UpgradeDetection {
    /// What the recorded and the offered version alone say (LocalAI's version rule, spec §4.4).
    public enum VersionComparison: Sendable, Equatable {
        /// An upgrade: the gallery offers a version and the install records another one, or none.
        case differ
        case same
        /// The gallery names no version: only the image digest can tell.
        case unknown
    }

    /// The version rule every upgrade decision uses: the check, and an upgrade re-checking under its lock.
    public static func compareVersions(installed: BackendMetadata, offered entry: GalleryEntry) -> VersionComparison {
        if entry.version.isEmpty { return .unknown }
        return entry.version == installed.version ? .same : .differ
    }

    /// `gallery` must be the *unfiltered* list (§10, #11024); at most `maxConcurrentLookups` HEADs are in flight.
    /// `pins` (backend → the image it is pinned to) replace the gallery's floating image for those backends: a
    /// pinned backend is compared with its pinned tag's digest, never with the gallery's version or tag.
    public static func run(installed: InstalledBackends, gallery: [GalleryEntry], devSuffix: String,
                           resolver: any DigestResolver,
                           maxConcurrentLookups: Int = HangarConfiguration.defaultCheckConcurrency,
                           pins: [String: String] = [:]) -> UpgradeReport {
        var upgrades: [String: UpgradeInfo] = [:]
        var warnings: [String] = []
        var digestWork: [(name: String, entry: GalleryEntry, metadata: BackendMetadata)] = []

        let installedNames = Set(installed.rows.compactMap { $0.metadata?.name })
        for row in installed.rows {
            guard !row.isSystem, let metadata = row.metadata, row.name == metadata.name else { continue }
            let name = metadata.name
            let devName = name + "-" + devSuffix
            if !name.hasSuffix("-" + devSuffix) && installedNames.contains(devName) { continue }
            guard var entry = gallery.findGalleryElement(name) else { continue }
            if let pinned = pins[name] {
                entry.uri = pinned
                entry.version = ""
            }

            switch compareVersions(installed: metadata, offered: entry) {
            case .differ:
                upgrades[name] = UpgradeInfo(backendName: name, installedVersion: metadata.version,
                                             availableVersion: entry.version, installedDigest: metadata.digest)
            case .same:
                continue
            case .unknown:
                if BackendURI.isRegistryImage(entry.uri) { digestWork.append((name, entry, metadata)) }
            }
        }

        let work = digestWork
        let results = Mutex([String: Result<String, HangarError>]())
        BlockingWork.run(work.count, width: maxConcurrentLookups) { i in
            let item = work[i]
            let result: Result<String, HangarError>
            do {
                result = .success(try resolver.digest(of: item.entry.uri))
            } catch let error as HangarError {
                result = .failure(error)
            } catch {
                result = .failure(.operation("\(error)"))
            }
            results.withLock { $0[item.name] = result }
        }
        let resolved = results.withLock { $0 }
        for work in digestWork {
            switch resolved[work.name]! {
            case .failure(let error):
                warnings.append("\(work.name): digest check skipped: \(error.message)")
            case .success(let remote):
                if work.metadata.digest.isEmpty || work.metadata.digest != remote {
                    upgrades[work.name] = UpgradeInfo(backendName: work.name, installedVersion: work.metadata.version,
                                                      availableVersion: work.entry.version,
                                                      installedDigest: work.metadata.digest, availableDigest: remote)
                }
            }
        }
        return UpgradeReport(upgrades: upgrades, warnings: warnings.sorted())
    }
}

/// What the lookup threads share: the next work index and the results by backend name.
