import Foundation
import HangarEngine

/// The `?` overlay: the current screen's keys, from the key map that handles them.
@MainActor
enum HelpOverlay {
    static func draw(_ state: UIState, _ canvas: Canvas) {
        let help = KeyMap.helpLines(for: state.screen, glyphs: state.glyphs, remote: state.snapshot.server != nil)
        let keyWidth = help.map(\.label.cellWidth).max() ?? 6
        let lines = help.map { $0.label.padding(toLength: keyWidth + 2, withPad: " ", startingAt: 0) + $0.description }
        // Scrolls with j/k when the terminal is shorter than the list.
        let room = Screens.helpRoom(height: canvas.height)
        let first = min(state.helpScroll, max(0, lines.count - room))
        let more = lines.count > room ? " (j/k scroll, \(first + 1)-\(min(lines.count, first + room)) of \(lines.count))" : ""
        Widgets.dialog(canvas, title: "Keys: \(state.screen.title)", lines: Array(lines.dropFirst(first)),
                       footer: "Esc, ? or q closes" + more, glyphs: state.glyphs)
    }
}
