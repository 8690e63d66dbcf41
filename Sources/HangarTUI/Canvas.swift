/// What a piece of text means on screen; a theme maps each role to colours and attributes.
public enum StyleRole: String, CaseIterable, Sendable, Hashable {
    case text, dim, accent, selection, border, ok, warning, error, upgrade
    case progressFill = "progress_fill"
    case progressEmpty = "progress_empty"
    case header, footer
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
/// Coordinates are cells; text is clipped at the right edge and never wraps. One `Character` is one cell.
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

/// One cell of the in-memory canvas.
public struct Cell: Sendable, Equatable {
    public var character: Character
    public var style: Style
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

    public func put(_ text: String, x: Int, y: Int, style: Style, maxWidth: Int) {
        guard y >= 0, y < height, x < width else { return }
        var column = x
        let limit = x + min(maxWidth, width - x)
        for character in text {
            if column >= limit { break }
            if column >= 0 { cells[y][column] = Cell(character: character, style: style) }
            column += 1
        }
    }

    public func fill(x: Int, y: Int, width: Int, height: Int, style: Style) {
        for row in max(0, y)..<max(max(0, y), min(self.height, y + max(0, height))) {
            for column in max(0, x)..<max(max(0, x), min(self.width, x + max(0, width))) {
                cells[row][column] = Cell(character: " ", style: style)
            }
        }
    }

    /// The characters of one row, trailing blanks removed.
    public func line(_ y: Int) -> String {
        guard y >= 0, y < height else { return "" }
        let text = String(cells[y].map(\.character))
        return String(text.reversed().drop { $0 == " " }.reversed())
    }

    /// Every row as text, joined by newlines: what a user would read.
    public var text: String { (0..<height).map(line).joined(separator: "\n") }

    /// The first (x, y) where `needle` starts, scanning rows top to bottom.
    public func find(_ needle: String) -> (x: Int, y: Int)? {
        for y in 0..<height {
            let row = String(cells[y].map(\.character))
            if let range = row.range(of: needle) {
                return (row.distance(from: row.startIndex, to: range.lowerBound), y)
            }
        }
        return nil
    }

    /// The style of one cell.
    public func style(x: Int, y: Int) -> Style { cells[y][x].style }
}
