import Foundation
import HangarEngine

/// Settings: auto-upgrade, interval, development builds, capability, galleries, theme.
@MainActor
enum SettingsScreen {
    /// Label, value and the note lines under it, per Settings row.
    static func settingLines(_ state: UIState, _ item: SettingItem) -> (label: String, value: String, notes: [(String, StyleRole)]) {
        let s = state.snapshot
        switch item {
        case .autoUpgrade:
            guard let setting = state.autoUpgradeSetting else {
                return ("Auto-upgrade backends", "unknown", [(s.settingsError ?? "settings not loaded", .error)])
            }
            var notes: [(String, StyleRole)]
            if let server = s.server {
                // A server's setting is its live config: no file of hangar's, and LocalAI's own checker acts on it.
                notes = [
                    ("the server's live setting: auto_upgrade_backends on \(server.url) through its settings API", .dim),
                    ("a change applies at once on the server; LocalAI's own checker upgrades flagged backends there", .dim),
                ]
            } else {
                notes = [
                    ("auto_upgrade_backends in \(s.configDir)/\(RuntimeSettingsFile.fileName)", .dim),
                    ("a running LocalAI picks the file up; while hangar runs, it upgrades flagged backends itself", .dim),
                ]
            }
            if let note = setting.environmentNote {
                notes.append((note + (setting.overriddenByEnvironment ? ": the file value does not apply while it is set" : ""), .warning))
            }
            if let warning = s.holdsWarning { notes.append((warning, .warning)) }
            return ("Auto-upgrade backends", (setting.value.boolValue == true ? "on" : "off") + "  (Enter or a toggles)", notes)
        case .checkInterval:
            return ("Check interval", HangarSettings.formatInterval(state.checkInterval),
                    [("\(state.glyphs == .ascii ? "Left/Right" : "←/→") changes; hangar checks on start and then at this interval", .dim)])
        case .preferDevelopment:
            let on = s.settings?.preferDevelopmentBackends == true
            let setting = s.settings?[.preferDevelopmentBackends]
            var notes: [(String, StyleRole)] = [("Enter toggles; installs pick -development builds first (prefer_development_backends)", .dim)]

            if let note = setting?.environmentNote { notes.append((note, .warning)) }
            return ("Prefer development builds", on ? "on" : "off", notes)
        case .capability:
            if let server = s.server {
                // hangar's --capability and the variable only steer a local directory's installs.
                return ("Capability", "the server's own",
                        [("LocalAI at \(server.url) picks builds for its own hardware (LOCALAI_FORCE_META_BACKEND_CAPABILITY is set there)", .dim)])
            }
            let explanation = s.capability.explanation
            let how: String
            switch s.capability.source {
            case .detected: how = "detected"
            default: how = "forced"
            }
            return ("Capability", "\(s.capability.value) (\(how))",
                    [(explanation, .dim), ("set with --capability or LOCALAI_FORCE_META_BACKEND_CAPABILITY", .dim)])
        case .galleries:
            let notes = s.galleries.map { g -> (String, StyleRole) in
                var text = "\(g.gallery.name): \(g.gallery.url) \(state.glyphs.dash) \(g.entryCount) entries"
                if let age = g.cacheAge { text += ", cached copy \(TextFormat.age(age)) old" }
                if let error = g.error, g.entryCount == 0 { text += ", failed: \(error)" }
                return (text, g.entryCount == 0 ? .error : .dim)
            }
            return ("Galleries", "\(s.galleries.count) configured", notes.isEmpty ? [("none configured", .warning)] : notes)
        case .keepGenerations:
            if let server = s.server {
                return ("Previous versions kept", "does not apply on a LocalAI server",
                        [(LocalOnlyFeature.keepGenerations.reason(server: server.url), .dim)])
            }
            return ("Previous versions kept", s.keepGenerations == 0 ? "none (rollback off)" : "\(s.keepGenerations) per backend",
                    [("\(state.glyphs == .ascii ? "Left/Right" : "←/→") changes; keep_generations in \(s.configDir)/\(HangarSettingsFile.fileName); each is a whole backend tree on disk", .dim)])
        case .theme:
            return ("Theme", state.themeName,
                    [("Enter or \(state.glyphs == .ascii ? "Left/Right" : "←/→") cycles: \(state.themeNames.joined(separator: ", "))"
                      + (state.colorNote.isEmpty ? "" : "; \(state.colorNote)"), .dim)])
        }
    }

    static func draw(_ state: UIState, _ canvas: Canvas, _ body: (top: Int, height: Int), _ layout: inout FrameLayout) {
        let selected = state.selectedIndex(on: .settings)
        var y = body.top
        layout.listScreen = .settings
        layout.listTop = body.top
        layout.rowsPerItem = 0
        for item in SettingItem.allCases {
            guard y < body.top + body.height else { break }
            let lines = settingLines(state, item)
            let isSelected = item.rawValue == selected
            if isSelected { canvas.fill(x: 0, y: y, width: canvas.width, height: 1, style: Style(.selection, [.bold])) }
            canvas.put(isSelected ? state.glyphs.cursor : " ", x: 0, y: y, style: ListView.selectionStyle(isSelected, .accent))
            canvas.put(lines.label, x: 2, y: y, style: ListView.selectionStyle(isSelected, .text), maxWidth: 28)
            canvas.put(lines.value, x: 30, y: y, style: ListView.selectionStyle(isSelected, .accent), maxWidth: canvas.width - 31)
            y += 1
            for note in lines.notes where y < body.top + body.height {
                canvas.put(state.glyphs.truncate(note.0, canvas.width - 5), x: 4, y: y, style: Style(note.1))
                y += 1
            }
        }
    }
}
