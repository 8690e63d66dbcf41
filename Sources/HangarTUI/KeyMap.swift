import HangarEngine

/// A key as the UI sees it, decoded from the terminal by the driver (or built by tests).
public enum Key: Hashable, Sendable {
    case char(Character)
    case up, down, left, right, pageUp, pageDown, home, end
    case tab, backTab, enter, escape, backspace, ctrlC
}

/// The five screens, in tab order; the number is the key that opens it. Nodes (a cluster's) is opened with `n`
/// and is not a tab, so the tabs and digits stay the same whatever the server.
public enum Screen: Int, CaseIterable, Sendable {
    case backends = 1, catalog, detail, jobs, settings, nodes

    /// The tabs, in order.
    public static var allCases: [Screen] { [.backends, .catalog, .detail, .jobs, .settings] }

    public var title: String {
        switch self {
        case .backends: return "Backends"
        case .catalog: return "Catalog"
        case .detail: return "Detail"
        case .jobs: return "Jobs"
        case .settings: return "Settings"
        case .nodes: return "Nodes"
        }
    }
}

/// Everything a key can ask the UI to do.
public enum Action: Equatable, Sendable {
    case moveUp, moveDown, pageUp, pageDown, first, last
    case nextScreen, previousScreen, show(Screen)
    case openDetail, startFilter, escape
    case upgradeSelected, upgradeAll, reinstallSelected, installSelected, uninstallSelected
    case checkNow, cancelSelectedJob, clearFinishedJobs, toggleHold, toggleJobsHistory, showVersions
    case rollbackSelected
    case toggleAutoUpgrade, cycleSort, toggleShowAll, toggleDevelopment
    case activateSetting, adjustSetting(Int)
    case help, quit, forceQuit
}

/// One entry of a screen's key map: the keys, how help and the footer write them, what they do.
public struct KeyBinding: Sendable, Equatable {
    public var keys: [Key]
    public var label: String
    public var action: Action
    public var description: String
    /// Shown in the footer (the keys that matter most on this screen).
    public var inFooter: Bool
}

/// The single source of key handling: the same table dispatches keys, writes the footer and the Help overlay.
public enum KeyMap {
    /// The local-only feature an action asks for, if any: on a LocalAI server (`--server`) its key is left out of
    /// the footer and help and answers with the engine's reason instead of pretending to work.
    public static func localOnlyFeature(of action: Action) -> LocalOnlyFeature? {
        switch action {
        case .rollbackSelected: return .rollback
        case .toggleHold: return .holds
        case .showVersions: return .versions
        default: return nil
        }
    }

    /// The bindings the footer and Help show: every binding, less the local-only ones on a LocalAI server (`remote`).
    public static func shownBindings(for screen: Screen, glyphs: Glyphs = .unicode, remote: Bool) -> [KeyBinding] {
        let all = bindings(for: screen, glyphs: glyphs)
        guard remote else { return all }
        return all.compactMap { binding in
            if localOnlyFeature(of: binding.action) != nil { return nil }
            guard binding.action == .toggleAutoUpgrade else { return binding }
            var live = binding
            live.description = "toggle auto-upgrade (the server's live setting, through its settings API)"
            return live
        }
    }

    /// Every binding active on `screen`, screen keys first, then the keys that work everywhere.
    public static func bindings(for screen: Screen, glyphs: Glyphs = .unicode) -> [KeyBinding] {
        func b(_ keys: [Key], _ label: String, _ action: Action, _ description: String, footer: Bool = false) -> KeyBinding {
            KeyBinding(keys: keys, label: label, action: action, description: description, inFooter: footer)
        }
        let up = glyphs == .ascii ? "Up" : "↑"
        let down = glyphs == .ascii ? "Down" : "↓"
        let move = [
            b([.up, .char("k")], "\(up)/k", .moveUp, "move up"),
            b([.down, .char("j")], "\(down)/j", .moveDown, "move down", footer: true),
            b([.pageUp], "PgUp", .pageUp, "page up"),
            b([.pageDown], "PgDn", .pageDown, "page down"),
            b([.char("g"), .home], "g", .first, "first row"),
            b([.char("G"), .end], "G", .last, "last row"),
        ]
        var screenKeys: [KeyBinding] = []
        switch screen {
        case .backends:
            screenKeys = [
                b([.enter], "Enter", .openDetail, "open the detail of the backend", footer: true),
                b([.char("/")], "/", .startFilter, "filter by name or tag (Esc clears)", footer: true),
                b([.escape], "Esc", .escape, "clear the filter"),
                b([.char("u")], "u", .upgradeSelected, "upgrade the selected backend", footer: true),
                b([.char("U")], "U", .upgradeAll, "upgrade every backend with an upgrade", footer: true),
                b([.char("r")], "r", .reinstallSelected, "reinstall the selected backend"),
                b([.char("d")], "d", .uninstallSelected, "uninstall the selected backend", footer: true),
                b([.char("h")], "h", .toggleHold, "hold the selected backend (upgrades skip it) or release it"),
                b([.char("R")], "R", .rollbackSelected, "roll back to the previous version (\(glyphs.previous) marks rows that keep one)"),
                b([.char("c")], "c", .checkNow, "check for upgrades now", footer: true),
                b([.char("o")], "o", .cycleSort, "order: by name, upgrades first, upgrades only"),
            ]
        case .catalog:
            screenKeys = [
                b([.char("i")], "i", .installSelected, "install the selected entry", footer: true),
                b([.enter], "Enter", .openDetail, "open the detail of an installed entry"),
                b([.char("/")], "/", .startFilter, "filter by name or tag (Esc clears)", footer: true),
                b([.escape], "Esc", .escape, "clear the filter"),
                b([.char("u")], "u", .upgradeSelected, "upgrade the selected entry (when installed)"),
                b([.char("r")], "r", .reinstallSelected, "reinstall the selected entry"),
                b([.char("d")], "d", .uninstallSelected, "uninstall the selected entry (when installed)"),
                b([.char("A")], "A", .toggleShowAll, "show entries for other hardware too", footer: true),
                b([.char("P")], "P", .toggleDevelopment, "show development builds", footer: true),
            ]
        case .detail:
            screenKeys = [
                b([.char("u")], "u", .upgradeSelected, "upgrade this backend", footer: true),
                b([.char("r")], "r", .reinstallSelected, "reinstall this backend", footer: true),
                b([.char("d")], "d", .uninstallSelected, "uninstall this backend", footer: true),
                b([.char("h")], "h", .toggleHold, "hold this backend (upgrades skip it) or release it"),
                b([.char("v")], "v", .showVersions, "versions: the image's versioned builds; Enter installs one, pinned", footer: true),
                b([.char("R")], "R", .rollbackSelected, "roll back to the previous version", footer: true),
                b([.char("c")], "c", .checkNow, "check for upgrades now"),
                b([.escape], "Esc", .escape, "back to Backends", footer: true),
            ]
        case .jobs:
            screenKeys = [
                b([.char("x")], "x", .cancelSelectedJob, "cancel the selected job", footer: true),
                b([.char("C")], "C", .clearFinishedJobs, "clear finished jobs", footer: true),
                b([.char("H")], "H", .toggleJobsHistory, "history (every hangar process) / this session's jobs", footer: true),
                b([.char("/")], "/", .startFilter, "filter the history by backend, operation, result or message"),
                b([.escape], "Esc", .escape, "clear the filter"),
                b([.enter], "Enter", .openDetail, "open the detail of the job's backend"),
            ]
        case .settings:
            screenKeys = [
                b([.enter, .char(" ")], "Enter", .activateSetting, "toggle or change the selected setting", footer: true),
                b([.right, .char("l"), .char("+")], glyphs == .ascii ? "Right/l" : "→/l", .adjustSetting(1), "next value", footer: true),
                b([.left, .char("h"), .char("-")], glyphs == .ascii ? "Left/h" : "←/h", .adjustSetting(-1), "previous value"),
            ]
        case .nodes:
            screenKeys = [
                b([.char("u")], "u", .upgradeSelected, "upgrade the selected backend on its node only", footer: true),
                b([.char("r")], "r", .reinstallSelected, "reinstall the selected backend on its node only", footer: true),
                b([.char("d")], "d", .uninstallSelected, "uninstall the selected backend from its node only", footer: true),
                b([.char("c")], "c", .checkNow, "check for upgrades now, then read the nodes again", footer: true),
                b([.escape], "Esc", .escape, "back to Backends", footer: true),
            ]
        }
        let global = [
            b([.tab], "Tab", .nextScreen, "next screen", footer: true),
            b([.backTab], "Shift-Tab", .previousScreen, "previous screen"),
        ] + Screen.allCases.map { target in
            b([.char(Character(String(target.rawValue)))], String(target.rawValue), .show(target), target.title)
        } + [
            b([.char("s")], "s", .show(.settings), "settings"),
            b([.char("n")], "n", .show(.nodes), "nodes of a distributed LocalAI server (--server URL)", footer: true),
            b([.char("a")], "a", .toggleAutoUpgrade, "toggle auto-upgrade (runtime_settings.json)", footer: true),
            b([.char("?")], "?", .help, "this help", footer: true),
            b([.char("q")], "q", .quit, "quit (asks while jobs run)", footer: true),
            b([.ctrlC], "Ctrl-C", .forceQuit, "quit now, cancelling jobs"),
        ]
        return screenKeys + move + global
    }

    /// The action `key` triggers on `screen`, if any.
    public static func action(for key: Key, on screen: Screen) -> Action? {
        bindings(for: screen).first { $0.keys.contains(key) }?.action
    }

    /// The Help overlay's lines (key label, description): the bindings in order, the per-screen digit keys merged
    /// into one `1-5` line.
    public static func helpLines(for screen: Screen, glyphs: Glyphs = .unicode, remote: Bool = false) -> [(label: String, description: String)] {
        var lines: [(label: String, description: String)] = []
        var digits: [KeyBinding] = []
        func flushDigits() {
            guard let first = digits.first, let last = digits.last else { return }
            lines.append((first.label + (digits.count > 1 ? "-" + last.label : ""), digits.map(\.description).joined(separator: ", ")))
            digits = []
        }
        for binding in shownBindings(for: screen, glyphs: glyphs, remote: remote) {
            if case .show = binding.action, binding.label.count == 1, binding.label.first?.isNumber == true {
                digits.append(binding)
                continue
            }
            flushDigits()
            lines.append((binding.label, binding.description))
        }
        flushDigits()
        return lines
    }
}
