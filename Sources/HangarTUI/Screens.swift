import Foundation
import HangarEngine

/// Draws a `UIState` on a canvas: header, tabs, the current screen, status line, footer, and any overlay.
/// A pure view: the same state always draws the same cells.
@MainActor
public enum Screens {
    public static let minimumWidth = 60
    public static let minimumHeight = 12

    /// Draws one full frame; returns where tabs and list rows landed (for the mouse).
    @discardableResult
    public static func render(_ state: UIState, on canvas: Canvas) -> FrameLayout {
        canvas.fill(x: 0, y: 0, width: canvas.width, height: canvas.height, style: .text)
        guard canvas.width >= minimumWidth, canvas.height >= minimumHeight else {
            tooSmall(state, canvas)
            var layout = FrameLayout()
            layout.tooSmall = true
            return layout
        }
        var layout = FrameLayout()
        HeaderView.draw(state, canvas)
        layout.tabs = Widgets.tabs(canvas, y: 2, current: state.screen, labels: HeaderView.tabLabels(state))
        let body = (top: 3, height: canvas.height - 5)
        switch state.screen {
        case .backends: BackendsScreen.draw(state, canvas, body, &layout)
        case .catalog: CatalogScreen.draw(state, canvas, body, &layout)
        case .detail: DetailScreen.draw(state, canvas, body)
        case .jobs: JobsScreen.draw(state, canvas, body, &layout)
        case .settings: SettingsScreen.draw(state, canvas, body, &layout)
        case .nodes: NodesScreen.draw(state, canvas, body, &layout)
        }
        StatusBar.drawStatus(state, canvas, y: canvas.height - 2)
        StatusBar.drawFooter(state, canvas)
        if state.showHelp { HelpOverlay.draw(state, canvas) }
        if let picker = state.versionPicker { VersionPickerView.draw(picker, canvas, glyphs: state.glyphs) }
        if let confirmation = state.confirmation {
            Widgets.dialog(canvas, title: confirmation.title, lines: confirmation.lines,
                           footer: "y = yes   n / Esc / Enter = no (default)", glyphs: state.glyphs)
        }
        return layout
    }

    /// The number of list rows a screen of this canvas height shows (PgUp/PgDn step).
    public static func pageSize(for screen: Screen, height: Int) -> Int {
        let body = height - 5
        switch screen {
        case .backends:
            let dashboard = BackendsScreen.dashboardRows(height: height)
            return max(1, body - 1 - (dashboard.meters ? 1 : 0) - (dashboard.banner ? 1 : 0))
        case .catalog: return max(1, body - 5)
        case .jobs: return max(1, (body - 1) / 2)
        default: return max(1, body)
        }
    }

    /// Help lines that fit on a terminal of `height` rows (the dialog's border, title and footer take six).
    public static func helpRoom(height: Int) -> Int { max(1, height - 6) }

    private static func tooSmall(_ state: UIState, _ canvas: Canvas) {
        var lines = ["Terminal too small: \(canvas.width)x\(canvas.height)",
                     "hangar needs at least \(minimumWidth)x\(minimumHeight)"]
        // A question asked before the terminal shrank (or by q here) must stay answerable and visible.
        if let confirmation = state.confirmation {
            lines += [confirmation.title, "y = yes   n = no"]
        } else {
            lines.append("q quits")
        }
        let top = max(0, (canvas.height - lines.count) / 2)
        for (i, line) in lines.enumerated() {
            let x = max(0, (canvas.width - line.cellWidth) / 2)
            canvas.put(state.glyphs.truncate(line, canvas.width), x: x, y: top + i, style: Style(i == 0 ? .error : .text, i == 0 ? [.bold] : []), maxWidth: canvas.width)
        }
    }
}
