/// Where things landed on the last frame, so mouse clicks can be mapped back to tabs and rows.
public struct FrameLayout: Sendable, Equatable {
    public var tabs: [(screen: Screen, columns: Range<Int>)] = []
    /// The screen row of the first visible list row, the list index shown there, and rows per item.
    public var listTop = 0
    public var listFirstIndex = 0
    public var listVisibleItems = 0
    public var rowsPerItem = 1
    /// The screen whose list was drawn (nil when none was, e.g. Detail), so its scroll position can be kept.
    public var listScreen: Screen?
    /// The terminal was below the minimum size: only the size message was drawn.
    public var tooSmall = false

    public static func == (a: FrameLayout, b: FrameLayout) -> Bool {
        a.tabs.map(\.screen) == b.tabs.map(\.screen) && a.tabs.map(\.columns) == b.tabs.map(\.columns)
            && a.listTop == b.listTop && a.listFirstIndex == b.listFirstIndex && a.listVisibleItems == b.listVisibleItems
            && a.rowsPerItem == b.rowsPerItem && a.listScreen == b.listScreen && a.tooSmall == b.tooSmall
    }

    /// The list index at screen row `y`, if a list row is there.
    public func listIndex(atRow y: Int) -> Int? {
        guard y >= listTop, rowsPerItem > 0 else { return nil }
        let offset = (y - listTop) / rowsPerItem
        return offset < listVisibleItems ? listFirstIndex + offset : nil
    }
}

/// Small drawing pieces shared by the screens. Each takes a canvas and a rectangle; none keeps state.
@MainActor
enum Widgets {
    /// A full-width bar (header/footer) with `text` on it.
    static func bar(_ canvas: Canvas, y: Int, text: String, role: StyleRole) {
        canvas.fill(x: 0, y: y, width: canvas.width, height: 1, style: Style(role))
        canvas.put(text, x: 0, y: y, style: Style(role), maxWidth: canvas.width)
    }

    /// The tab bar; the current screen is drawn in the selection style (reverse/bold without colour).
    static func tabs(_ canvas: Canvas, y: Int, current: Screen, labels: [Screen: String]) -> [(screen: Screen, columns: Range<Int>)] {
        var x = 1
        var ranges: [(screen: Screen, columns: Range<Int>)] = []
        // Counts are dropped when the full labels do not fit, so every tab stays visible and clickable.
        let full = Screen.allCases.map { " \($0.rawValue) \(labels[$0] ?? $0.title) ".cellWidth + 1 }.reduce(1, +)
        for screen in Screen.allCases {
            let label = " \(screen.rawValue) \(full <= canvas.width ? labels[screen] ?? screen.title : screen.title) "
            let style = screen == current ? Style(.selection, [.bold]) : Style(.dim)
            canvas.put(label, x: x, y: y, style: style, maxWidth: canvas.width - x)
            ranges.append((screen, x..<(x + label.cellWidth)))
            x += label.cellWidth + 1
        }
        return ranges
    }

    /// `[██████░░░░]`-style bar of `width` cells for `fraction` (0...1).
    /// On a selected row the bar takes the selection's colours: a fill in the same colour as the selection's
    /// background would not be seen.
    static func progressBar(_ canvas: Canvas, x: Int, y: Int, width: Int, fraction: Double, glyphs: Glyphs, selected: Bool = false) {
        guard width > 0 else { return }
        let filled = Int((max(0, min(1, fraction)) * Double(width)).rounded(.down))
        canvas.put(String(repeating: glyphs.barFull, count: filled), x: x, y: y,
                   style: selected ? Style(.selection, [.bold]) : Style(.progressFill), maxWidth: width)
        canvas.put(String(repeating: glyphs.barEmpty, count: width - filled), x: x + filled, y: y,
                   style: selected ? Style(.selection) : Style(.progressEmpty), maxWidth: width - filled)
    }

    /// Coloured segments left to right with the separator between them; a segment that does not fit whole ends
    /// the line (the first is cut rather than dropped, so the line is never empty).
    @discardableResult
    static func segments(_ canvas: Canvas, x: Int, y: Int, width: Int, segments: [Segment], glyphs: Glyphs) -> Int {
        let separator = " \(glyphs.separator) "
        var column = x
        for (i, segment) in segments.enumerated() {
            let lead = i == 0 ? "" : separator
            let room = x + width - column
            if lead.cellWidth + segment.text.cellWidth > room {
                if i == 0 { canvas.put(glyphs.truncate(segment.text, room), x: column, y: y, style: Style(segment.role, segment.attributes), maxWidth: room) }
                break
            }
            canvas.put(lead, x: column, y: y, style: Style(.dim))
            column += lead.cellWidth
            canvas.put(segment.text, x: column, y: y, style: Style(segment.role, segment.attributes))
            column += segment.text.cellWidth
        }
        return column
    }

    /// One table row: cells left to right at the given widths, separated by one blank.
    static func row(_ canvas: Canvas, y: Int, x: Int, cells: [(text: String, width: Int, style: Style)], glyphs: Glyphs) {
        var column = x
        for cell in cells where cell.width > 0 {
            canvas.put(glyphs.truncate(cell.text, cell.width), x: column, y: y, style: cell.style, maxWidth: cell.width)
            column += cell.width + 1
        }
    }

    /// First visible index so that `selected` stays on screen with `visible` rows.
    static func scrollOffset(selected: Int, previous: Int, visible: Int, count: Int) -> Int {
        guard visible > 0, count > visible else { return 0 }
        var top = min(previous, count - visible)
        if selected < top { top = selected }
        if selected >= top + visible { top = selected - visible + 1 }
        return max(0, top)
    }

    /// A centred box with a title and lines, over whatever is below (dialogs, help).
    static func dialog(_ canvas: Canvas, title: String, lines: [String], footer: String, glyphs: Glyphs) {
        let inner = min(canvas.width - 6, max(title.cellWidth + 4, footer.cellWidth, lines.map(\.cellWidth).max() ?? 0))
        let width = inner + 4
        let height = min(canvas.height - 2, lines.count + 4)
        let x = max(0, (canvas.width - width) / 2)
        let y = max(0, (canvas.height - height) / 2)
        let border = Style(.border)
        canvas.fill(x: x, y: y, width: width, height: height, style: .text)
        let h = String(repeating: glyphs.horizontal, count: max(0, width - 2))
        let c = glyphs.corners
        canvas.put(c[0] + h + c[1], x: x, y: y, style: border, maxWidth: width)
        canvas.put(c[2] + h + c[3], x: x, y: y + height - 1, style: border, maxWidth: width)
        for row in 1..<max(1, height - 1) {
            canvas.put(glyphs.vertical, x: x, y: y + row, style: border)
            canvas.put(glyphs.vertical, x: x + width - 1, y: y + row, style: border)
        }
        canvas.put(" \(title) ", x: x + 2, y: y, style: Style(.accent, [.bold]), maxWidth: width - 4)
        for (i, line) in lines.prefix(max(0, height - 4)).enumerated() {
            canvas.put(glyphs.truncate(line, inner), x: x + 2, y: y + 1 + i, style: .text, maxWidth: inner)
        }
        canvas.put(glyphs.truncate(footer, inner), x: x + 2, y: y + height - 2, style: Style(.accent, [.bold]), maxWidth: inner)
    }
}
