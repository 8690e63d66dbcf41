import Foundation
import HangarEngine

/// The whole UI as a value: screens are drawn from it, keys change it, effects leave it for the engine.
public struct UIState: Sendable {
    public var screen: Screen = .backends
    public var snapshot: EngineSnapshot {
        // A new snapshot gets a new cache, so copies of the state never share rows of different snapshots.
        didSet { catalogCache = CatalogRowCache() }
    }
    /// Catalog rows of this snapshot, filter and toggles (see `catalogRows`).
    var catalogCache = CatalogRowCache()
    public var upgrades = UpgradeCheckStatus()
    /// Jobs in the order they were queued; finished rows stay until cleared.
    public var jobs: [JobRow] = []
    /// The selected row per screen, as an index into that screen's rows. `selectedKeys` follows every change, so
    /// after a reload, a reorder or a check result `reselect()` finds the same backend, entry or job again.
    public var selection: [Screen: Int] = [:] {
        didSet {
            for screen in Self.listScreens where selection[screen] != oldValue[screen] {
                selectedKeys[screen] = key(at: selectedIndex(on: screen), on: screen)
            }
        }
    }
    /// Backend name (Backends), entry id (Catalog) or job number (Jobs) of the selected row.
    public private(set) var selectedKeys: [Screen: String] = [:]
    /// First visible row per list screen, stored after each frame so the next frame starts from it.
    public var scroll: [Screen: Int] = [:]
    /// One filter per list screen; Detail shares the Backends one.
    public var filters: [Screen: String] = [:]
    /// The filter of the current screen's list.
    public var filter: String {
        get { filters[filterScreen] ?? "" }
        set { filters[filterScreen] = newValue }
    }
    public var isEditingFilter = false
    public var order: BackendOrder = .name
    /// This session's jobs or every process's history on the Jobs screen (`H`).
    public var jobsView: JobsView = .session
    public var catalogShowAll = false
    public var catalogShowDevelopment = false
    public var showHelp = false
    /// First help line shown, when the help is taller than the terminal.
    public var helpScroll = 0
    public var confirmation: Confirmation?
    /// Remote mode: when (on `now`'s clock) hangar looks at a server that stopped answering again.
    public var serverRetryAt: Double?
    /// Detail's Versions list, while open.
    public var versionPicker: VersionPicker?
    /// The last frame could not draw the screens (terminal below the minimum size): only quitting and answering
    /// a question (which the too-small message shows) act, so nothing happens unseen.
    public var isTooSmall = false
    /// Help lines that fit on the terminal, set by the last layout (help scrolling stops at the end).
    public var helpRoom = 10
    /// One status line after an action; errors say so in words, not only in colour.
    public var message: (text: String, isError: Bool)?
    public var glyphs: Glyphs
    /// Seconds between background checks (hangar's own settings file).
    public var checkInterval: Double = 21600
    public var themeName = "default"
    public var themeNames: [String] = ["default"]
    /// What the ncurses driver knows about colour, shown in Settings.
    public var colorNote = ""
    /// Last finished operation per backend from the engine's history, read off the main thread for Detail.
    public var lastOperations: [String: OperationRecord] = [:]
    /// Size on disk per backend, measured off the main thread for Detail.
    public var diskUsage: [String: Int64] = [:]
    /// Visible list rows, set by the last layout (PgUp/PgDn step).
    public var pageSize = 10
    public var spinnerFrame = 0
    /// Seconds on the monotonic clock the progress samples use.
    public var now: Double = 0
    /// Wall-clock time of the frame ("checked 2 min ago", job start times); set by the controller on each draw.
    public var wallClock = Date()

    public init(snapshot: EngineSnapshot, glyphs: Glyphs = .unicode) {
        self.snapshot = snapshot
        self.glyphs = glyphs
        catalogShowDevelopment = snapshot.settings?.preferDevelopmentBackends ?? false
        reselect()
    }

    /// The selected index on `screen`, clamped to its rows: drawing, keys and clicks all use this one.
    public func selectedIndex(on screen: Screen) -> Int {
        Self.clamp(selection[screen] ?? 0, count: rowCount(on: screen))
    }

    static func clamp(_ index: Int, count: Int) -> Int { max(0, min(count - 1, index)) }

    /// The screens whose rows change under the selection.
    static let listScreens: [Screen] = [.backends, .catalog, .jobs]

    private func key(at index: Int, on screen: Screen) -> String? {
        switch screen {
        case .backends:
            let rows = backendRows
            return rows.indices.contains(index) ? rows[index].name : nil
        case .catalog:
            let rows = catalogRows
            return rows.indices.contains(index) ? rows[index].entry.id : nil
        case .jobs:
            if jobsView == .history {
                let rows = historyRows
                return rows.indices.contains(index) ? Self.historyKey(rows[index]) : nil
            }
            return jobs.indices.contains(index) ? String(jobs[index].job) : nil
        default: return nil
        }
    }

    /// A History row's identity across reloads (job numbers repeat across processes).
    private static func historyKey(_ r: OperationRecord) -> String {
        "h\(r.finishedAt.timeIntervalSince1970)|\(r.backend)|\(r.job)"
    }

    private func index(of key: String, on screen: Screen) -> Int? {
        switch screen {
        case .backends: return backendRows.firstIndex { $0.name == key }
        case .catalog: return catalogRows.firstIndex { $0.entry.id == key }
        case .jobs:
            if jobsView == .history { return historyRows.firstIndex { Self.historyKey($0) == key } }
            return jobs.firstIndex { String($0.job) == key }
        default: return nil
        }
    }

    /// Selects row `index` of `screen` (clamped) and remembers what it is.
    public mutating func select(_ index: Int, on screen: Screen) {
        let i = Self.clamp(index, count: rowCount(on: screen))
        selection[screen] = i
        selectedKeys[screen] = key(at: i, on: screen)
    }

    /// After the rows changed (reload, order, filter, toggles, check result, cleared jobs) the same backend, entry
    /// or job stays selected; when it is gone the selection stays where it was (clamped). Detail goes back to
    /// Backends when its backend is no longer installed.
    public mutating func reselect() {
        for list in Self.listScreens {
            let wanted = selectedKeys[list]
            if let wanted, let i = index(of: wanted, on: list) {
                selection[list] = i
                continue
            }
            if list == .backends, screen == .detail, let wanted, snapshot.installed.contains(where: { $0.name == wanted }) {
                continue
            }
            select(selection[list] ?? 0, on: list)
            if list == .backends, screen == .detail, let wanted {
                switchTo(.backends)
                message = ("\(wanted) is no longer installed", false)
            }
        }
    }


    // MARK: - Keys

    /// Handles one key: dialogs first, then the filter line, then the screen's key map.
    public mutating func handle(_ key: Key) -> [Effect] {
        if key == .ctrlC { return [.quit(cancelJobs: true)] }
        if let confirmation {
            self.confirmation = nil
            if key == .char("y") || key == .char("Y") { return [confirmation.effect] }
            message = ("\(confirmation.title) \(glyphs.dash) not done", false)
            return []
        }
        if let picker = versionPicker { return handleVersionPicker(key, picker) }
        if showHelp {
            switch key {
            case .escape, .char("?"), .char("q"), .enter: showHelp = false
            case .down, .char("j"), .pageDown:
                let last = max(0, KeyMap.helpLines(for: screen, remote: snapshot.server != nil).count - max(1, helpRoom))
                helpScroll = min(last, helpScroll + (key == .pageDown ? max(1, helpRoom) : 1))
            case .up, .char("k"), .pageUp: helpScroll = max(0, helpScroll - (key == .pageUp ? max(1, helpRoom) : 1))
            default: break
            }
            return []
        }
        if isTooSmall, KeyMap.action(for: key, on: screen) != .quit { return [] }
        if isEditingFilter {
            switch key {
            case .enter: isEditingFilter = false
            case .escape: isEditingFilter = false; filter = ""; reselect()
            case .backspace: if !filter.isEmpty { filter.removeLast() }; resetSelection()
            case .char(let c) where !c.isNewline: filter.append(c); resetSelection()
            case .up: return perform(.moveUp)
            case .down: return perform(.moveDown)
            default: break
            }
            return []
        }
        guard let action = KeyMap.action(for: key, on: screen) else { return [] }
        return perform(action)
    }

    /// Applies an action; returns what the engine must do.
    public mutating func perform(_ action: Action) -> [Effect] {
        if let server = snapshot.server, let feature = KeyMap.localOnlyFeature(of: action) {
            message = (feature.reason(server: server.url, backend: targetBackend()?.name), true)
            return []
        }
        switch action {
        case .moveUp: move(by: -1)
        case .moveDown: move(by: 1)
        case .pageUp: move(by: -max(1, pageSize))
        case .pageDown: move(by: max(1, pageSize))
        case .first: select(0, on: listScreen)
        case .last: select(rowCount - 1, on: listScreen)
        case .nextScreen: switchTo(tab(1))
        case .previousScreen: switchTo(tab(-1))
        case .show(let target): switchTo(target)
        case .openDetail: openDetail()
        case .startFilter: isEditingFilter = true; message = nil
        case .escape:
            if screen == .detail || screen == .nodes { switchTo(.backends) } else if !filter.isEmpty { filter = ""; reselect() }
        case .help: showHelp = true; helpScroll = 0
        case .quit:
            let running = activeJobs.count
            if running == 0 { return [.quit(cancelJobs: false)] }
            confirmation = Confirmation(
                title: "Quit hangar?",
                lines: ["\(running) job\(running == 1 ? " is" : "s are") still queued or running.",
                        "Quitting cancels \(running == 1 ? "it" : "them"); nothing half-done is kept."],
                effect: .quit(cancelJobs: true))
        case .forceQuit: return [.quit(cancelJobs: true)]
        case .upgradeSelected: return screen == .nodes ? upgradeOnNode() : upgradeSelected()
        case .upgradeAll: return upgradeAll()
        case .reinstallSelected: if screen == .nodes { reinstallOnNode() } else { reinstallSelected() }
        case .installSelected: return installSelected()
        case .uninstallSelected: if screen == .nodes { uninstallOnNode() } else { uninstallSelected() }
        case .toggleHold: return toggleHold()
        case .showVersions: return showVersions()
        case .rollbackSelected: rollbackSelected()
        case .checkNow:
            message = ("checking for upgrades" + glyphs.ellipsis, false)
            return [.checkNow]
        case .toggleJobsHistory:
            jobsView = jobsView == .session ? .history : .session
            selection[.jobs] = 0
            scroll[.jobs] = 0
            message = (jobsView == .history ? "history of every hangar process (newest \(EngineSnapshot.historyLimit)); / filters, Enter opens the backend"
                       : "this session's jobs", false)
            reselect()
        case .cancelSelectedJob:
            if jobsView == .history { message = ("x cancels a job of this session: H shows them", true); return [] }
            guard let job = selectedJob else { message = ("no job selected", true); return [] }
            if job.isFinished { message = ("job #\(job.job) has already finished", true); return [] }
            message = ("cancelling job #\(job.job) (\(job.operation.rawValue) \(job.backend))", false)
            return [.cancel(job.job)]
        case .clearFinishedJobs:
            if jobsView == .history { message = ("the history is kept: C clears this session's finished jobs (H shows them)", true); return [] }
            let before = jobs.count
            jobs.removeAll { $0.isFinished }
            message = ("cleared \(before - jobs.count) finished job\(before - jobs.count == 1 ? "" : "s")", false)
            reselect()
        case .toggleAutoUpgrade:
            guard let setting = autoUpgradeSetting else {
                message = ("cannot change auto-upgrade: \(snapshot.settingsError ?? "settings not loaded")", true)
                return []
            }
            let current = setting.fileValue?.boolValue ?? setting.value.boolValue ?? false
            return [.setAutoUpgrade(!current)]
        case .cycleSort:
            let all = BackendOrder.allCases
            order = all[(all.firstIndex(of: order)! + 1) % all.count]
            message = ("order: \(order.rawValue)", false)
            reselect()
        case .toggleShowAll:
            catalogShowAll.toggle()
            message = (catalogShowAll ? "showing entries for every capability" : "showing entries compatible with \(snapshot.capability.value)", false)
            reselect()
        case .toggleDevelopment:
            catalogShowDevelopment.toggle()
            message = (catalogShowDevelopment ? "showing development builds" : "hiding development builds", false)
            reselect()
        case .activateSetting: return changeSetting(by: 1, activate: true)
        case .adjustSetting(let step): return changeSetting(by: step, activate: false)
        }
        return []
    }

    // MARK: - Helpers

    /// The list the movement keys move: Detail steps through the Backends list.
    private var listScreen: Screen { screen == .detail ? .backends : screen }

    /// The list whose filter `/` edits: Detail filters the Backends list.
    private var filterScreen: Screen { screen == .detail ? .backends : screen }

    private mutating func move(by delta: Int) {
        guard rowCount > 0 else { return }
        if screen == .detail, let name = selectedKeys[.backends], let i = backendRows.firstIndex(where: { $0.name == name }) {
            select(i + delta, on: .backends)
        } else {
            select(selectedIndex(on: listScreen) + delta, on: listScreen)
        }
    }

    /// A filter keystroke: the first match is selected and the list starts at the top.
    private mutating func resetSelection() {
        select(0, on: filterScreen)
        scroll[filterScreen] = 0
    }

    private mutating func switchTo(_ target: Screen) {
        screen = target
        showHelp = false
    }

    private mutating func openDetail() {
        switch screen {
        case .backends:
            guard selectedBackend != nil else { return }
            select(selectedIndex(on: .backends), on: .backends)
            switchTo(.detail)
        case .catalog:
            guard let entry = selectedCatalogEntry else { return }
            select(backend: entry.entry.name, notInstalled: "\(entry.entry.name) is not installed: i installs it")
        case .jobs:
            if jobsView == .history {
                guard let record = selectedHistoryRecord else { return }
                select(backend: record.backend, notInstalled: "\(record.backend) is not installed")
                return
            }
            guard let job = selectedJob else { return }
            select(backend: job.backend, notInstalled: "\(job.backend) is not installed")
        default: break
        }
    }

    /// Selects `backend` on the Backends list and opens its detail (clearing a filter that hides it).
    private mutating func select(backend: String, notInstalled: String) {
        if !backendRows.contains(where: { $0.name == backend }) { filters[.backends] = nil; order = .name }
        guard let i = backendRows.firstIndex(where: { $0.name == backend }) else {
            message = (notInstalled, true)
            return
        }
        select(i, on: .backends)
        switchTo(.detail)
    }

    private func targetBackend() -> InstalledBackend? {
        switch screen {
        case .backends, .detail: return selectedBackend
        case .catalog:
            guard let entry = selectedCatalogEntry else { return nil }
            return snapshot.installed.first { $0.name == entry.entry.name }
        default: return nil
        }
    }

    private mutating func upgradeSelected() -> [Effect] {
        guard let row = targetBackend() else { message = ("no backend selected", true); return [] }
        // No report is passed: the one on screen may be hours old, so the job compares with the gallery itself
        // (as `hangar upgrade NAME` decides after a fresh check).
        switch UpgradeDecision.decide(row, report: nil, holds: snapshot.holds) {
        case .skip(let reason):
            message = (reason, true)
            return []
        case .held(let target, let hold):
            message = ("\(target) is \(hold.text): h releases it (or hangar upgrade \(row.name) --ignore-hold)", true)
            return []
        case .upgrade:
            break
        }
        if let job = activeJob(for: row.name) {
            message = ("\(row.name) already has a job (#\(job.job), \(job.stateWord))", true)
            return []
        }
        message = ("upgrade \(row.name) queued", false)
        return [.upgrade(row.name)]
    }

    private mutating func upgradeAll() -> [Effect] {
        let candidates = snapshot.installed.filter { row in
            guard let info = upgrades.report?.upgrades[row.name] else { return false }
            return info.backendName == row.name && activeJob(for: row.name) == nil
        }
        let held = candidates.filter { snapshot.holds[$0.name] != nil }.map(\.name)
        let rows = candidates.filter { snapshot.holds[$0.name] == nil }
        guard !rows.isEmpty else {
            let why = held.isEmpty ? "" : " (held: \(held.joined(separator: ", ")); h releases a hold)"
            message = ("nothing to upgrade" + why + (upgrades.lastCheck == nil ? " (not checked yet; c checks now)" : ""), false)
            return []
        }
        var lines = ["Upgrades \(rows.count) backend\(rows.count == 1 ? "" : "s"), one job each:"]
        for row in rows.prefix(8) {
            lines.append("  \(row.name): " + upgrades.report!.upgrades[row.name]!.change(arrow: glyphs.arrow))
        }
        if rows.count > 8 { lines.append("  \(glyphs.ellipsis) and \(rows.count - 8) more") }
        if !held.isEmpty { lines.append("Skipped, held: \(held.joined(separator: ", ")).") }
        // LocalAI deletes the backend when a queued upgrade fails (G1): no promise of the old version there.
        lines.append(snapshot.server == nil ? "A failed upgrade restores the previous version."
                     : "LocalAI runs them one at a time; a failed one removes that backend (r reinstalls).")
        confirmation = Confirmation(title: "Upgrade all?", lines: lines, effect: .upgradeAll(rows.map(\.name)))
        return []
    }

    /// Holds the selected backend's build, or releases its hold (or pin).
    private mutating func toggleHold() -> [Effect] {
        guard let row = targetBackend() else { message = ("nothing installed is selected", true); return [] }
        if row.isSystem {
            message = ("\(row.name) is a system backend: it is never upgraded from a gallery, so there is nothing to hold", true)
            return []
        }
        let target = UpgradeDecision.target(of: row)
        if snapshot.holds[target] != nil {
            message = ("releasing the hold on \(target)", false)
            return [.unhold(row.name)]
        }
        message = ("holding \(target)", false)
        return [.hold(row.name)]
    }

    private mutating func reinstallSelected() {
        guard let row = targetBackend() else { message = ("nothing installed is selected", true); return }
        if row.isSystem { message = ("\(row.name) is a system backend (protected): it cannot be reinstalled", true); return }
        confirmation = Confirmation(
            title: "Reinstall \(row.name)?",
            lines: snapshot.server.map { server in
                       ["The server \(server.url) downloads \(row.name) again (now \(row.versionBadge)).",
                        "If that fails, LocalAI removes \(row.name); r installs it again."]
                   } ?? ["Downloads \(row.name) again and replaces \(row.directory)",
                         "(now \(row.versionBadge)). If that fails, the current files stay."],
            effect: .reinstall(row.name))
    }

    private mutating func installSelected() -> [Effect] {
        guard let row = selectedCatalogEntry else { message = ("no catalog entry selected", true); return [] }
        if row.installed {
            message = ("\(row.entry.name) is already installed: r reinstalls it", true)
            return []
        }
        if !row.compatible {
            message = ("\(row.entry.name) is not for this host (capability \(snapshot.capability.value))", true)
            return []
        }
        let duplicate = snapshot.catalog.filter { $0.entry.name == row.entry.name }.count > 1
        message = ("install \(row.entry.name) queued", false)
        return [.install(duplicate ? row.entry.id : row.entry.name)]
    }

    private mutating func uninstallSelected() {
        guard let row = targetBackend() else { message = ("no backend selected", true); return }
        if row.isSystem { message = ("\(row.name) is a system backend (protected): it cannot be uninstalled", true); return }
        var lines = ["Deletes \(row.directory) (\(row.versionBadge))."]
        if row.isMeta, let concrete = row.metadata?.metaBackendFor { lines.append("A meta backend also removes its build \(concrete).") }
        lines.append("LocalAI can no longer load it until it is installed again.")
        confirmation = Confirmation(title: "Uninstall \(row.name)?", lines: lines, effect: .uninstall(row.name))
    }

    /// Preset intervals for the background check.
    public static let checkIntervals: [Double] = [900, 3600, 3 * 3600, 6 * 3600, 12 * 3600, 24 * 3600]

    private mutating func changeSetting(by step: Int, activate: Bool) -> [Effect] {
        let item = SettingItem(rawValue: selection[.settings] ?? 0) ?? .autoUpgrade
        switch item {
        case .autoUpgrade:
            return perform(.toggleAutoUpgrade)
        case .preferDevelopment:
            let current = snapshot.settings?.preferDevelopmentBackends ?? false
            return [.setPreferDevelopment(!current)]
        case .checkInterval:
            let presets = Self.checkIntervals
            let index = presets.firstIndex { $0 >= checkInterval } ?? presets.count - 1
            let next = presets[(index + step + presets.count) % presets.count]
            return [.setCheckInterval(next)]
        case .theme:
            guard !themeNames.isEmpty else { return [] }
            let index = themeNames.firstIndex(of: themeName) ?? 0
            return [.setTheme(themeNames[(index + step + themeNames.count) % themeNames.count])]
        case .keepGenerations:
            if let server = snapshot.server {
                message = (LocalOnlyFeature.keepGenerations.reason(server: server.url), true)
                return []
            }
            return keepGenerationsEffect(step: step)
        case .capability, .galleries:
            if activate { message = ("\(item == .capability ? "capability" : "galleries") are set by flags or LocalAI's environment, not here", false) }
            return []
        }
    }
}
