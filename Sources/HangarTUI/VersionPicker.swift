import Foundation
import HangarEngine

/// Detail's Versions list (`v`): the versioned builds of the backend's image, newest first; Enter asks to install
/// the selected one (pinned), Esc closes.
public struct VersionPicker: Sendable, Equatable {
    public var backend: String
    /// Nil while the registry is asked.
    public var versions: VersionTags?
    /// Why the builds could not be listed.
    public var error: String?
    /// The image the backend runs now, to mark its row.
    public var installedURI: String?
    public var selected = 0

    /// Rows shown at once; the list scrolls past them.
    static let visibleRows = 12
}

extension UIState {
    /// Keys while the Versions list is open: move, Enter to ask, Esc (or v, q) to close.
    mutating func handleVersionPicker(_ key: Key, _ picker: VersionPicker) -> [Effect] {
        var picker = picker
        let count = picker.versions?.tags.count ?? 0
        switch key {
        case .down, .char("j"): picker.selected = Self.clamp(picker.selected + 1, count: count)
        case .up, .char("k"): picker.selected = Self.clamp(picker.selected - 1, count: count)
        case .enter:
            guard let versions = picker.versions, versions.tags.indices.contains(picker.selected) else { return [] }
            let tag = versions.tags[picker.selected]
            versionPicker = nil
            confirmation = Confirmation(
                title: "Install \(tag)?",
                lines: ["Installs exactly the build \(tag) of \(picker.backend) (\(versions.uri(for: tag))),",
                        "replacing what is installed, and pins it: upgrades leave it alone until h releases it."],
                effect: .installTag(picker.backend, tag))
            return []
        case .escape, .char("v"), .char("q"): versionPicker = nil; return []
        default: return []
        }
        versionPicker = picker
        return []
    }

    /// Opens the Versions list of the selected backend and asks the engine for it.
    mutating func showVersions() -> [Effect] {
        guard let row = selectedBackend else { message = ("no backend selected", true); return [] }
        if row.isSystem { message = ("\(row.name) is a system backend: it has no gallery builds", true); return [] }
        let target = UpgradeDecision.target(of: row)
        versionPicker = VersionPicker(backend: row.name, installedURI: snapshot.installed.first { $0.name == target }?.metadata?.uri)
        return [.loadVersions(row.name)]
    }
}

@MainActor
enum VersionPickerView {
    static func draw(_ picker: VersionPicker, _ canvas: Canvas, glyphs g: Glyphs) {
        var lines: [String] = []
        if let error = picker.error {
            lines = [error]
        } else if let versions = picker.versions {
            if versions.tags.isEmpty { lines = ["No versioned builds of \(versions.uri)."] }
            let first = max(0, min(picker.selected - VersionPicker.visibleRows / 2, versions.tags.count - VersionPicker.visibleRows))
            for (i, tag) in versions.tags.enumerated().dropFirst(first).prefix(VersionPicker.visibleRows) {
                let installed = picker.installedURI == versions.uri(for: tag) ? "  (installed, pinned)" : ""
                lines.append((i == picker.selected ? g.cursor : " ") + " " + tag + installed)
            }
        } else {
            lines = ["asking the registry\(g.ellipsis)"]
        }
        Widgets.dialog(canvas, title: "Versions of \(picker.backend)", lines: lines,
                       footer: "Enter installs and pins   Esc closes", glyphs: g)
    }
}
