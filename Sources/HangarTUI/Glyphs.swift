import CNCursesW

/// The symbols the UI draws, in a Unicode and an ASCII set (for terminals without a UTF-8 locale, or `--ascii`).
public struct Glyphs: Sendable, Equatable {
    public var upgrade: String
    public var arrow: String
    public var ok: String
    public var failed: String
    public var rolledBack: String
    /// Marks a backend that keeps a previous version to roll back to.
    public var previous: String
    public var cancelled: String
    public var barFull: String
    public var barEmpty: String
    public var horizontal: String
    public var vertical: String
    /// Top-left, top-right, bottom-left, bottom-right.
    public var corners: [String]
    public var cursor: String
    public var separator: String
    public var ellipsis: String
    /// Between a failure and what was restored.
    public var dash: String
    public var spinner: [String]

    public static let unicode = Glyphs(
        upgrade: "↑", arrow: "→", ok: "✓", failed: "✗", rolledBack: "↺", previous: "↶", cancelled: "⊘",
        barFull: "█", barEmpty: "░", horizontal: "─", vertical: "│", corners: ["┌", "┐", "└", "┘"],
        cursor: "▸", separator: "·", ellipsis: "…", dash: "—", spinner: ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"])

    public static let ascii = Glyphs(
        upgrade: "^", arrow: "->", ok: "+", failed: "x", rolledBack: "<", previous: "<<", cancelled: "-",
        barFull: "#", barEmpty: ".", horizontal: "-", vertical: "|", corners: ["+", "+", "+", "+"],
        cursor: ">", separator: "-", ellipsis: "...", dash: "-", spinner: ["|", "/", "-", "\\"])

    /// A Unicode symbol the glyph set has no field for, as this set prints it (its ASCII twin in ASCII mode).
    public func symbol(_ character: Character) -> String { self == .ascii ? Glyphs.ascii(for: character) : String(character) }

    /// `text` cut to `width` cells (a wide character counts two), ending in the ellipsis when something was cut.
    public func truncate(_ text: String, _ width: Int) -> String {
        guard width > 0 else { return "" }
        guard text.cellWidth > width else { return text }
        let mark = ellipsis.cellWidth < width ? ellipsis : ""
        return String(text.prefix(cells: width - mark.cellWidth)) + mark
    }

    /// What ASCII mode prints for the non-ASCII symbols the UI and the engine's texts use: each Unicode glyph's
    /// ASCII twin, plus dashes, arrows, quotes and bullets. Box drawing and anything else are handled by the caller.
    static let asciiReplacements: [Character: String] = {
        let u = Glyphs.unicode, a = Glyphs.ascii
        var table: [Character: String] = [
            "—": "-", "–": "-", "‐": "-", "−": "-", "←": "<-", "↓": "v", "⇒": "=>", "•": "*", "“": "\"", "”": "\"",
            "‘": "'", "’": "'", "▶": ">", "▪": "*", "■": "#", "▒": ":", "▓": "#", "×": "x", "\u{A0}": " ",
        ]
        let pairs = [(u.upgrade, a.upgrade), (u.arrow, a.arrow), (u.ok, a.ok), (u.failed, a.failed), (u.rolledBack, a.rolledBack),
                     (u.previous, a.previous),
                     (u.cancelled, a.cancelled), (u.barFull, a.barFull), (u.barEmpty, a.barEmpty), (u.horizontal, a.horizontal),
                     (u.vertical, a.vertical), (u.cursor, a.cursor), (u.separator, a.separator), (u.ellipsis, a.ellipsis),
                     (u.dash, a.dash)] + zip(u.corners, a.corners).map { ($0, $1) }
        for (unicode, ascii) in pairs { if let c = unicode.first { table[c] = ascii } }
        return table
    }()

    /// One character as ASCII: itself, its twin from `asciiReplacements`, a box-drawing or braille (spinner) shape,
    /// or `?`.
    static func ascii(for character: Character) -> String {
        if character.isASCII { return String(character) }
        if let twin = asciiReplacements[character] { return twin }
        guard let scalar = character.unicodeScalars.first else { return "?" }
        switch scalar.value {
        case 0x2500, 0x2501, 0x2504, 0x2505, 0x2508, 0x2509, 0x254C, 0x254D, 0x2550: return "-"
        case 0x2502, 0x2503, 0x2506, 0x2507, 0x250A, 0x250B, 0x254E, 0x254F, 0x2551: return "|"
        case 0x2500...0x257F: return "+"
        case 0x2800...0x28FF: return "*"
        default: return "?"
        }
    }
}

extension Unicode.Scalar {
    /// Terminal cells this scalar takes: the C library's wcwidth, as ncurses and the terminal count them. Where
    /// wcwidth does not know the character (-1, e.g. in the C locale, which tests run in) a fallback covers the
    /// common wide ranges (CJK, Hangul, fullwidth forms, emoji) and zero-width marks; anything else is one cell.
    /// Control characters count one cell: the canvases print them as one replacement character.
    public var cellWidth: Int {
        let v = value
        if v < 0x7F { return 1 }
        let width = hangar_wcwidth(v)
        if width >= 0 { return Int(width) }
        switch v {
        case 0x7F...0x9F: return 1
        case 0x0300...0x036F, 0x0483...0x0489, 0x0591...0x05BD, 0x0610...0x061A, 0x064B...0x065F, 0x1AB0...0x1AFF,
             0x1DC0...0x1DFF, 0x200B...0x200F, 0x2060...0x2064, 0x20D0...0x20FF, 0xFE00...0xFE0F, 0xFE20...0xFE2F,
             0xE0000...0xE0FFF:
            return 0
        case 0x1100...0x115F, 0x231A...0x231B, 0x23E9...0x23EC, 0x23F0, 0x23F3, 0x25FD...0x25FE, 0x2614...0x2615,
             0x2648...0x2653, 0x267F, 0x2693, 0x26A1, 0x26AA...0x26AB, 0x26BD...0x26BE, 0x26C4...0x26C5, 0x26CE, 0x26D4,
             0x26EA, 0x26F2...0x26F3, 0x26F5, 0x26FA, 0x26FD, 0x2705, 0x270A...0x270B, 0x2728, 0x274C, 0x274E,
             0x2753...0x2755, 0x2757, 0x2795...0x2797, 0x27B0, 0x27BF, 0x2B1B...0x2B1C, 0x2B50, 0x2B55,
             0x2E80...0x303E, 0x3041...0x33FF, 0x3400...0x4DBF, 0x4E00...0x9FFF, 0xA000...0xA4CF, 0xA960...0xA97F,
             0xAC00...0xD7A3, 0xF900...0xFAFF, 0xFE10...0xFE19, 0xFE30...0xFE6F, 0xFF00...0xFF60, 0xFFE0...0xFFE6,
             0x1F004, 0x1F0CF, 0x1F18E, 0x1F191...0x1F19A, 0x1F200...0x1F251, 0x1F300...0x1F320, 0x1F32D...0x1F335,
             0x1F337...0x1F37C, 0x1F37E...0x1F393, 0x1F3A0...0x1F3CA, 0x1F3CF...0x1F3D3, 0x1F3E0...0x1F3F0, 0x1F3F4,
             0x1F3F8...0x1F43E, 0x1F440, 0x1F442...0x1F4FC, 0x1F4FF...0x1F53D, 0x1F54B...0x1F54E, 0x1F550...0x1F567,
             0x1F57A, 0x1F595...0x1F596, 0x1F5A4, 0x1F5FB...0x1F64F, 0x1F680...0x1F6C5, 0x1F6CC, 0x1F6D0...0x1F6D2,
             0x1F6D5...0x1F6D7, 0x1F6EB...0x1F6EC, 0x1F6F4...0x1F6FC, 0x1F7E0...0x1F7EB, 0x1F90C...0x1F93A,
             0x1F93C...0x1F945, 0x1F947...0x1F9FF, 0x1FA70...0x1FAFF, 0x20000...0x2FFFD, 0x30000...0x3FFFD:
            return 2
        default:
            return 1
        }
    }
}

extension Character {
    /// Terminal cells this character takes: its scalars' widths summed (a base plus combining marks or a variation
    /// selector is the base's width), as ncurses adds them.
    public var cellWidth: Int {
        if isASCII { return 1 }
        return unicodeScalars.reduce(0) { $0 + $1.cellWidth }
    }
}

extension StringProtocol {
    /// Terminal cells this text takes; one per character for ASCII.
    public var cellWidth: Int {
        if utf8.allSatisfy({ $0 < 0x80 }) { return utf8.count }
        return reduce(0) { $0 + $1.cellWidth }
    }

    /// The longest start of this text that fits in `cells` terminal cells (a wide character that would straddle
    /// the limit is left out).
    public func prefix(cells: Int) -> SubSequence {
        var used = 0
        var end = startIndex
        for character in self {
            let width = character.cellWidth
            if used + width > cells { break }
            used += width
            end = index(after: end)
        }
        return self[startIndex..<end]
    }
}
