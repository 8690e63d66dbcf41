import HangarEngine
import Synchronization

/// The last Catalog rows computed for one snapshot (a state gets a new cache with each new snapshot).
final class CatalogRowCache: Sendable {
    struct Key: Equatable, Sendable {
        var filter: String
        var showAll: Bool
        var showDevelopment: Bool
    }

    private let cached = Mutex<(key: Key, rows: [AvailableBackend])?>(nil)

    /// The rows for `key`, computed only when the key changed since the last call.
    func rows(for key: Key, compute: () -> [AvailableBackend]) -> [AvailableBackend] {
        if let hit = cached.withLock({ $0 }), hit.key == key { return hit.rows }
        let rows = compute()
        cached.withLock { $0 = (key, rows) }
        return rows
    }
}
