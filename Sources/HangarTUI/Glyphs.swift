/// The symbols the UI draws, in a Unicode and an ASCII set (for terminals without a UTF-8 locale, or `--ascii`).
public struct Glyphs: Sendable, Equatable {
    public var upgrade: String
    public var arrow: String
    public var ok: String
    public var failed: String
    public var rolledBack: String
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
        upgrade: "↑", arrow: "→", ok: "✓", failed: "✗", rolledBack: "↺", cancelled: "⊘",
        barFull: "█", barEmpty: "░", horizontal: "─", vertical: "│", corners: ["┌", "┐", "└", "┘"],
        cursor: "▸", separator: "·", ellipsis: "…", dash: "—", spinner: ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"])

    public static let ascii = Glyphs(
        upgrade: "^", arrow: "->", ok: "+", failed: "x", rolledBack: "<", cancelled: "-",
        barFull: "#", barEmpty: ".", horizontal: "-", vertical: "|", corners: ["+", "+", "+", "+"],
        cursor: ">", separator: "-", ellipsis: "...", dash: "-", spinner: ["|", "/", "-", "\\"])

    /// `text` cut to `width` cells, ending in the ellipsis when something was cut.
    public func truncate(_ text: String, _ width: Int) -> String {
        guard width > 0 else { return "" }
        guard text.count > width else { return text }
        let mark = ellipsis.count < width ? ellipsis : ""
        return String(text.prefix(width - mark.count)) + mark
    }
}
