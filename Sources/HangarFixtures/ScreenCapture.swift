import Foundation

/// A terminal colour as SGR sets it: the terminal's default, a palette index (0-15 for the ANSI colours, 16-255 for
/// the 256-colour cube and greys), or 24-bit.
public enum TerminalColor: Equatable, Sendable, CustomStringConvertible {
    case `default`
    case indexed(Int)
    case rgb(UInt8, UInt8, UInt8)

    public var description: String {
        switch self {
        case .default: return "default"
        case .indexed(let n): return "colour \(n)"
        case .rgb(let r, let g, let b): return String(format: "#%02x%02x%02x", r, g, b)
        }
    }
}

/// One cell of a captured screen: what is printed there and how.
public struct CapturedCell: Equatable, Sendable {
    public var character: Character = " "
    public var foreground: TerminalColor = .default
    public var background: TerminalColor = .default
    public var bold = false
    public var reverse = false
    public var underline = false
    /// The right half of a wide character in the cell to the left.
    public var isContinuation = false

    public init() {}

    /// Neither colour is set (what NO_COLOR must give every cell).
    public var isUncoloured: Bool { foreground == .default && background == .default }
}

/// A `tmux capture-pane -e -p` capture parsed into a grid of cells, so tests can assert on the colours and attributes
/// a user sees, not only on the text. SGR sequences (`ESC [ … m`) set the pen; tmux carries the pen from one line to
/// the next, so the parser does too. Other escape sequences are skipped. A wide character (CJK, emoji) takes two
/// cells, as on the terminal.
public struct ScreenCapture: Sendable {
    public private(set) var rows: [[CapturedCell]] = []

    public init(_ capture: String) {
        var pen = CapturedCell()
        var row: [CapturedCell] = []
        var scalars = Array(capture.unicodeScalars)[...]
        var pending = ""
        func flush() {
            for character in pending {
                var cell = pen
                cell.character = character
                row.append(cell)
                if Self.isWide(character) {
                    cell.character = " "
                    cell.isContinuation = true
                    row.append(cell)
                }
            }
            pending = ""
        }
        while let scalar = scalars.popFirst() {
            switch scalar {
            case "\u{1B}":
                flush()
                guard scalars.first == "[" else {
                    // ESC ( B (character set) takes one byte more than ESC 7 or ESC =: none of them draws.
                    if let next = scalars.popFirst(), "()*+-./#%".unicodeScalars.contains(next) { _ = scalars.popFirst() }
                    continue
                }
                scalars.removeFirst()
                var parameters = ""
                while let next = scalars.popFirst() {
                    if (0x40...0x7E).contains(next.value) {
                        if next == "m" { Self.apply(parameters, to: &pen) }
                        break
                    }
                    parameters.unicodeScalars.append(next)
                }
            case "\n":
                flush()
                rows.append(row)
                row = []
            case "\r":
                continue
            default:
                pending.unicodeScalars.append(scalar)
            }
        }
        flush()
        if !row.isEmpty { rows.append(row) }
    }

    /// Applies one SGR parameter list (`1;38;5;14`, empty = reset) to the pen.
    static func apply(_ parameters: String, to pen: inout CapturedCell) {
        let codes = parameters.split(omittingEmptySubsequences: false, whereSeparator: { $0 == ";" || $0 == ":" }).map { Int($0) ?? 0 }
        var i = 0
        func color(_ codes: [Int], _ i: inout Int) -> TerminalColor {
            // 38;5;N or 38;2;R;G;B (i points at the 38/48).
            guard i + 1 < codes.count else { return .default }
            if codes[i + 1] == 5, i + 2 < codes.count {
                i += 2
                return .indexed(codes[i])
            }
            if codes[i + 1] == 2, i + 4 < codes.count {
                defer { i += 4 }
                return .rgb(UInt8(clamping: codes[i + 2]), UInt8(clamping: codes[i + 3]), UInt8(clamping: codes[i + 4]))
            }
            return .default
        }
        while i < codes.count {
            let code = codes[i]
            switch code {
            case 0: pen = CapturedCell()
            case 1: pen.bold = true
            case 4: pen.underline = true
            case 7: pen.reverse = true
            case 22: pen.bold = false
            case 24: pen.underline = false
            case 27: pen.reverse = false
            case 30...37: pen.foreground = .indexed(code - 30)
            case 38: pen.foreground = color(codes, &i)
            case 39: pen.foreground = .default
            case 40...47: pen.background = .indexed(code - 40)
            case 48: pen.background = color(codes, &i)
            case 49: pen.background = .default
            case 90...97: pen.foreground = .indexed(code - 90 + 8)
            case 100...107: pen.background = .indexed(code - 100 + 8)
            default: break
            }
            i += 1
        }
    }

    /// Two cells for the wide ranges terminals agree on (CJK, Hangul, fullwidth forms, emoji); one otherwise.
    static func isWide(_ character: Character) -> Bool {
        guard let v = character.unicodeScalars.first?.value, v >= 0x1100 else { return false }
        switch v {
        case 0x1100...0x115F, 0x2E80...0x303E, 0x3041...0x33FF, 0x3400...0x4DBF, 0x4E00...0x9FFF, 0xA000...0xA4CF,
             0xAC00...0xD7A3, 0xF900...0xFAFF, 0xFE30...0xFE4F, 0xFF00...0xFF60, 0xFFE0...0xFFE6, 0x1F300...0x1F64F,
             0x1F680...0x1F6FF, 0x1F900...0x1F9FF, 0x1FA70...0x1FAFF, 0x20000...0x3FFFD:
            return true
        default:
            return false
        }
    }

    /// The cell at column `x` of row `y`; nil outside what was captured (tmux leaves blank line ends out).
    public func cell(x: Int, y: Int) -> CapturedCell? {
        guard rows.indices.contains(y), rows[y].indices.contains(x) else { return nil }
        return rows[y][x]
    }

    /// Row `y`'s characters as a user reads them (a wide character once), trailing blanks removed.
    public func text(_ y: Int) -> String {
        guard rows.indices.contains(y) else { return "" }
        let text = String(rows[y].filter { !$0.isContinuation }.map(\.character))
        return String(text.reversed().drop { $0 == " " }.reversed())
    }

    /// The first (column, row) where `needle` starts, top to bottom; the column counts cells.
    public func find(_ needle: String) -> (x: Int, y: Int)? {
        for y in rows.indices {
            let shown = rows[y].indices.filter { !rows[y][$0].isContinuation }
            let line = String(shown.map { rows[y][$0].character })
            if let range = line.range(of: needle) {
                return (shown[line.distance(from: line.startIndex, to: range.lowerBound)], y)
            }
        }
        return nil
    }

    /// The cells of `needle` where it first appears, or nil when it is not on screen.
    public func cells(of needle: String) -> [CapturedCell]? {
        guard let at = find(needle) else { return nil }
        return Array(rows[at.y][at.x...].filter { !$0.isContinuation }.prefix(needle.count))
    }

    /// Every cell that has a colour set.
    public var colouredCells: [(x: Int, y: Int, cell: CapturedCell)] {
        rows.indices.flatMap { y in rows[y].indices.compactMap { x in rows[y][x].isUncoloured ? nil : (x, y, rows[y][x]) } }
    }
}
