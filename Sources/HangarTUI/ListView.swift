import Foundation
import HangarEngine

/// The scrolling list every list screen draws its rows with, and its column header.
@MainActor
enum ListView {
    static func selectionStyle(_ selected: Bool, _ role: StyleRole) -> Style {
        selected ? Style(.selection, [.bold]) : Style(role)
    }

    /// Draws list rows `first..<first+visible` with `draw(index, y, selected)`; fills the selection bar first.
    static func draw(_ state: UIState, _ canvas: Canvas, screen: Screen, top: Int, visible: Int, count: Int,
                             rowsPerItem: Int = 1, _ layout: inout FrameLayout, draw: (Int, Int, Bool) -> Void) {
        let selected = UIState.clamp(state.selection[screen] ?? 0, count: count)
        let first = Widgets.scrollOffset(selected: selected, previous: state.scroll[screen] ?? 0, visible: visible, count: count)
        layout.listScreen = screen
        layout.listTop = top
        layout.listFirstIndex = first
        layout.listVisibleItems = min(visible, max(0, count - first))
        layout.rowsPerItem = rowsPerItem
        for i in first..<min(count, first + visible) {
            let y = top + (i - first) * rowsPerItem
            let isSelected = i == selected
            if isSelected { canvas.fill(x: 0, y: y, width: canvas.width, height: 1, style: Style(.selection, [.bold])) }
            canvas.put(isSelected ? state.glyphs.cursor : " ", x: 0, y: y, style: selectionStyle(isSelected, .accent))
            draw(i, y, isSelected)
        }
        if first > 0 { canvas.put("\(state.glyphs.upgrade) more", x: canvas.width - 8, y: top, style: Style(.dim)) }
        if first + visible < count {
            canvas.put("\(count - first - visible) more", x: canvas.width - 10, y: top + visible * rowsPerItem - 1, style: Style(.dim))
        }
    }

    static func columnHeader(_ canvas: Canvas, y: Int, cells: [(String, Int)], glyphs: Glyphs) {
        Widgets.row(canvas, y: y, x: 2, cells: cells.map { ($0.0, $0.1, Style(.dim, [.bold])) }, glyphs: glyphs)
    }
}
