/// What a piece of text means on screen; a theme maps each role to colours and attributes.
public enum StyleRole: String, CaseIterable, Sendable, Hashable {
    case text, dim, accent, selection, border, ok, warning, error, upgrade
    case progressFill = "progress_fill"
    case progressEmpty = "progress_empty"
    case header, footer
}

extension StyleRole {
    /// The attributes a role is drawn with: the theme's, plus, when the role gets no colour (NO_COLOR, a terminal
    /// without colours), what carries its meaning instead: selection, header, footer and bars reversed, problems
    /// and highlights bold, so the selected row stays visible.
    public static func attributes(_ style: RoleStyle, role: StyleRole, colored: Bool) -> CellAttributes {
        guard !colored else { return style.attributes }
        switch role {
        case .selection, .header, .footer, .progressFill: return style.attributes.union(.reverse)
        case .error, .upgrade, .accent, .warning: return style.attributes.union(.bold)
        case .text, .dim, .border, .ok, .progressEmpty: return style.attributes
        }
    }
}

/// Text attributes that survive without colour (NO_COLOR, monochrome): selection stays visible through them.
public struct CellAttributes: OptionSet, Sendable, Hashable {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }
    public static let bold = CellAttributes(rawValue: 1)
    public static let reverse = CellAttributes(rawValue: 2)
    public static let underline = CellAttributes(rawValue: 4)
}

/// A role plus attributes added by the widget (e.g. bold for a title).
public struct Style: Sendable, Hashable {
    public var role: StyleRole
    public var attributes: CellAttributes
    public init(_ role: StyleRole, _ attributes: CellAttributes = []) {
        self.role = role
        self.attributes = attributes
    }
    public static let text = Style(.text)
}

/// The surface widgets draw on: ncurses is one implementation, an in-memory cell grid another (tests).
/// Coordinates are cells; text is clipped at the right edge and never wraps. A character takes `cellWidth` cells
/// (two for CJK and most emoji); control characters are printed as one replacement cell (`TerminalText`).
@MainActor
public protocol Canvas: AnyObject {
    var width: Int { get }
    var height: Int { get }
    /// Writes `text` from (x, y), at most `maxWidth` cells (and never past the right edge).
    func put(_ text: String, x: Int, y: Int, style: Style, maxWidth: Int)
    /// Fills a rectangle with blanks in `style` (backgrounds, clearing under a dialog).
    func fill(x: Int, y: Int, width: Int, height: Int, style: Style)
}

extension Canvas {
    /// Writes `text` up to the right edge.
    public func put(_ text: String, x: Int, y: Int, style: Style = .text) {
        put(text, x: x, y: y, style: style, maxWidth: Int.max)
    }
}

/// Text as a terminal can print it. A control character (tab, newline, escape, other C0 and C1 codes, DEL) in a
/// job error or a hostile gallery tag would move the cursor or start an escape sequence: a tab or line break becomes a
/// space, any other control `?`. In ASCII mode every non-ASCII character becomes its ASCII twin or `?`.
public enum TerminalText {
    public static func displayable(_ text: String, asciiOnly: Bool) -> String {
        if text.utf8.allSatisfy({ $0 >= 0x20 && $0 < 0x7F }) { return text }
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for character in text {
            if character.unicodeScalars.contains(where: { $0.value < 0x20 || (0x7F...0x9F).contains($0.value) }) {
                out.append(character.unicodeScalars.allSatisfy { [0x09, 0x0A, 0x0B, 0x0C, 0x0D].contains($0.value) } ? " " : "?")
            } else if asciiOnly, !character.isASCII {
                out += Glyphs.ascii(for: character)
            } else {
                out.append(character)
            }
        }
        return out
    }
}

/// One cell of the in-memory canvas. A wide character fills its cell and the next, which is marked as its
/// continuation (as a terminal shows it).
public struct Cell: Sendable, Equatable {
    public var character: Character
    public var style: Style
    /// The right half of the wide character in the cell to the left.
    public var isContinuation = false

    public init(character: Character, style: Style, isContinuation: Bool = false) {
        self.character = character
        self.style = style
        self.isContinuation = isContinuation
    }
}

/// An in-memory grid of cells: renders without a terminal, for tests and the first-frame benchmark.
@MainActor
public final class CellGridCanvas: Canvas {
    public let width: Int
    public let height: Int
    public private(set) var cells: [[Cell]]

    public init(width: Int, height: Int) {
        self.width = max(0, width)
        self.height = max(0, height)
        cells = Array(repeating: Array(repeating: Cell(character: " ", style: .text), count: self.width), count: self.height)
    }

    /// Prints text as `NCursesCanvas` does in ASCII mode.
    public var asciiOnly = false

    public func put(_ text: String, x: Int, y: Int, style: Style, maxWidth: Int) {
        guard y >= 0, y < height, x < width else { return }
        var column = x
        let limit = x + min(maxWidth, width - x)
        for character in TerminalText.displayable(text, asciiOnly: asciiOnly) {
            let cells = character.cellWidth
            if column + cells > limit { break }
            if column >= 0, cells > 0 { place(Cell(character: character, style: style), at: column, y, span: cells) }
            column += cells
        }
    }

    public func fill(x: Int, y: Int, width: Int, height: Int, style: Style) {
        for row in max(0, y)..<max(max(0, y), min(self.height, y + max(0, height))) {
            for column in max(0, x)..<max(max(0, x), min(self.width, x + max(0, width))) {
                place(Cell(character: " ", style: style), at: column, row, span: 1)
            }
        }
    }

    /// Writes `cell` over `span` columns; a wide character partly overwritten loses its other half, as on a terminal.
    private func place(_ cell: Cell, at column: Int, _ row: Int, span: Int) {
        if cells[row][column].isContinuation, column > 0 { blank(column - 1, row) }
        if column + span < width, cells[row][column + span].isContinuation { blank(column + span, row) }
        cells[row][column] = cell
        if span == 2 { cells[row][column + 1] = Cell(character: " ", style: cell.style, isContinuation: true) }
    }

    private func blank(_ column: Int, _ row: Int) {
        cells[row][column] = Cell(character: " ", style: cells[row][column].style)
    }

    /// The characters of one row as a terminal shows them (a wide character once), trailing blanks removed.
    public func line(_ y: Int) -> String {
        guard y >= 0, y < height else { return "" }
        let text = String(cells[y].filter { !$0.isContinuation }.map(\.character))
        return String(text.reversed().drop { $0 == " " }.reversed())
    }

    /// Every row as text, joined by newlines: what a user would read.
    public var text: String { (0..<height).map(line).joined(separator: "\n") }

    /// The first (x, y) where `needle` starts, scanning rows top to bottom; x is the cell column.
    public func find(_ needle: String) -> (x: Int, y: Int)? {
        for y in 0..<height {
            let shown = cells[y].indices.filter { !cells[y][$0].isContinuation }
            let row = String(shown.map { cells[y][$0].character })
            if let range = row.range(of: needle) {
                return (shown[row.distance(from: row.startIndex, to: range.lowerBound)], y)
            }
        }
        return nil
    }

    /// Cells used in row `y` up to its last non-blank cell: a wide character counts two.
    public func usedWidth(_ y: Int) -> Int {
        guard y >= 0, y < height, let last = cells[y].lastIndex(where: { $0.character != " " || $0.isContinuation }) else { return 0 }
        return last + 1
    }

    /// The style of one cell.
    public func style(x: Int, y: Int) -> Style { cells[y][x].style }
}
