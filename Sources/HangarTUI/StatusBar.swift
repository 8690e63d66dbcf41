import Foundation
import HangarEngine

/// The status line (messages, the filter being typed, gallery warnings) and the footer of keys.
@MainActor
enum StatusBar {
    static func drawStatus(_ state: UIState, _ canvas: Canvas, y: Int) {
        if state.isEditingFilter {
            canvas.put("/" + state.filter + "_", x: 1, y: y, style: Style(.accent, [.bold]))
            canvas.put("  Enter keeps, Esc clears", x: state.filter.cellWidth + 3, y: y, style: Style(.dim))
            return
        }
        var text = ""
        var style = Style(.dim)
        if let message = state.message {
            text = (message.isError ? "error: " : "") + message.text
            style = message.isError ? Style(.error, [.bold]) : Style(.text)
        } else if !state.filter.isEmpty, state.screen == .backends || state.screen == .catalog {
            text = "filter \"\(state.filter)\" (Esc clears)"
        } else if let warning = state.snapshot.galleryWarnings.first {
            text = "warning: " + warning
            style = Style(.warning)
        }
        canvas.put(state.glyphs.truncate(text, canvas.width - 2), x: 1, y: y, style: style, maxWidth: canvas.width - 2)
    }

    static func drawFooter(_ state: UIState, _ canvas: Canvas) {
        // Help and quit always show; the screen's keys fill the room before them, in key-map order.
        let bindings = KeyMap.shownBindings(for: state.screen, glyphs: state.glyphs, remote: state.snapshot.server != nil).filter(\.inFooter)
        let last = bindings.filter { $0.action == .help || $0.action == .quit }.map { "\($0.label) \(shortName($0))" }
        let tail = last.joined(separator: "  ")
        var text = " "
        for binding in bindings where binding.action != .help && binding.action != .quit {
            let hint = "\(binding.label) \(shortName(binding))"
            if text.cellWidth + hint.cellWidth + 2 + tail.cellWidth > canvas.width { break }
            text += hint + "  "
        }
        text += tail
        Widgets.bar(canvas, y: canvas.height - 1, text: text, role: .footer)
    }

    /// The footer's one-word name of a binding.
    private static func shortName(_ binding: KeyBinding) -> String {
        switch binding.action {
        case .moveDown: return "move"
        case .openDetail: return "detail"
        case .startFilter: return "filter"
        case .upgradeSelected: return "upgrade"
        case .upgradeAll: return "upgrade all"
        case .reinstallSelected: return "reinstall"
        case .uninstallSelected: return "uninstall"
        case .rollbackSelected: return "roll back"
        case .installSelected: return "install"
        case .checkNow: return "check"
        case .cancelSelectedJob: return "cancel"
        case .clearFinishedJobs: return "clear"
        case .toggleJobsHistory: return "history"
        case .toggleHold: return "hold"
        case .showVersions: return "versions"
        case .toggleShowAll: return "all"
        case .toggleDevelopment: return "dev builds"
        case .activateSetting: return "change"
        case .adjustSetting: return "next"
        case .show(.nodes): return "nodes"
        case .escape: return "back"
        case .nextScreen: return "screens"
        case .toggleAutoUpgrade: return "auto-upgrade"
        case .help: return "help"
        case .quit: return "quit"
        default: return binding.description
        }
    }

}
