import Foundation
import HangarEngine

/// What the screens show, derived from the state: pure reads, no changes.
extension UIState {
    /// Installed rows after filter and order.
    public var backendRows: [InstalledBackend] {
        var rows = snapshot.installed
        if let filter = filters[.backends], !filter.isEmpty {
            let needle = filter.lowercased()
            rows = rows.filter { row in
                row.name.lowercased().contains(needle) || (row.metadata?.alias.lowercased().contains(needle) ?? false)
                    || (row.metadata?.metaBackendFor.lowercased().contains(needle) ?? false)
                    || (snapshot.tagsByName[row.name] ?? []).contains { $0.lowercased().contains(needle) }
            }
        }
        switch order {
        case .name: return rows
        case .upgradesFirst:
            let (up, rest) = rows.reduce(into: ([InstalledBackend](), [InstalledBackend]())) { acc, row in
                if upgrades.upgrade(for: row) != nil { acc.0.append(row) } else { acc.1.append(row) }
            }
            return up + rest
        case .upgradesOnly: return rows.filter { upgrades.upgrade(for: $0) != nil }
        }
    }

    /// Catalog rows: compatible entries (all with the toggle), development builds only when asked for.
    /// Cached per snapshot, filter and toggles: progress redraws at 4-20 Hz must not filter 1,033 entries each time.
    public var catalogRows: [AvailableBackend] {
        let needle = (filters[.catalog] ?? "").lowercased()
        let key = CatalogRowCache.Key(filter: needle, showAll: catalogShowAll, showDevelopment: catalogShowDevelopment)
        return catalogCache.rows(for: key) { computeCatalogRows(needle) }
    }

    private func computeCatalogRows(_ needle: String) -> [AvailableBackend] {
        snapshot.catalog.filter { row in
            (catalogShowAll || row.compatible)
                && (catalogShowDevelopment || !row.entry.isDevelopment(devSuffix: snapshot.devSuffix))
                && (needle.isEmpty || row.entry.name.lowercased().contains(needle)
                    || row.entry.tags.contains { $0.lowercased().contains(needle) })
        }
    }

    /// The backend keys act on and Detail shows: the highlighted Backends row; on Detail the backend it was opened
    /// on, by name, even when an order or filter change has since hidden its row.
    public var selectedBackend: InstalledBackend? {
        if screen == .detail, let name = selectedKeys[.backends] { return snapshot.installed.first { $0.name == name } }
        let rows = backendRows
        return rows.isEmpty ? nil : rows[Self.clamp(selection[.backends] ?? 0, count: rows.count)]
    }

    public var selectedCatalogEntry: AvailableBackend? {
        let rows = catalogRows
        return rows.isEmpty ? nil : rows[Self.clamp(selection[.catalog] ?? 0, count: rows.count)]
    }

    /// The selected job of this session (nil while the Jobs screen shows the history).
    public var selectedJob: JobRow? {
        jobsView == .session && !jobs.isEmpty ? jobs[Self.clamp(selection[.jobs] ?? 0, count: jobs.count)] : nil
    }


    public var activeJobs: [JobRow] { jobs.filter { !$0.isFinished } }

    /// The active job on a backend, if one runs or waits.
    public func activeJob(for backend: String) -> JobRow? {
        jobs.last { !$0.isFinished && $0.backend == backend }
    }

    /// The number of rows the current screen's list has (for moving the selection).
    public var rowCount: Int { rowCount(on: screen) }

    /// The number of rows `screen`'s list has.
    public func rowCount(on screen: Screen) -> Int {
        switch screen {
        case .backends, .detail: return backendRows.count
        case .catalog: return catalogRows.count
        case .jobs: return jobsView == .history ? historyRows.count : jobs.count
        case .settings: return SettingItem.allCases.count
        case .nodes: return nodeRows.count
        }
    }

    public var autoUpgradeSetting: EffectiveSetting? { snapshot.settings?[.autoUpgradeBackends] }

    /// Size on disk of an installed row: measured for Detail after a job, else from the snapshot's measurement.
    public func sizeOnDisk(of name: String) -> Int64? { diskUsage[name] ?? snapshot.diskUsage[name] }
}
