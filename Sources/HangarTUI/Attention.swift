import Foundation
import HangarEngine

/// How many installed rows are in each state, counted once per frame for the meters and the banner.
public struct BackendSummary: Sendable, Equatable {
    public var total = 0
    /// Checked, not broken, no upgrade waiting.
    public var current = 0
    public var upgradable = 0
    public var broken = 0
    /// Held or pinned builds (hangar's holds, counted once however many rows stand for them): checked, but
    /// upgrades leave them alone.
    public var held = 0
    /// System backends (protected: never upgraded from a gallery).
    public var system = 0
    /// Not known yet: no check has finished.
    public var unchecked = 0

    /// Counts `state`'s installed rows; an upgrade is the same decision the row's indicator shows.
    public init(_ state: UIState) {
        let checked = state.upgrades.lastCheck != nil
        held = Set(state.snapshot.installed.filter { !$0.isSystem }.map(UpgradeDecision.target(of:)))
            .filter { state.snapshot.holds[$0] != nil }.count
        for row in state.snapshot.installed {
            total += 1
            if row.broken != nil { broken += 1 } else if row.isSystem { system += 1 } else if state.upgrades.upgrade(for: row) != nil {
                upgradable += 1
            } else if checked { current += 1 } else { unchecked += 1 }
        }
    }

    /// Backends `U` would upgrade (a meta or alias row shares its build's upgrade, so it counts once).
    public static func upgradeCount(_ state: UIState) -> Int { state.upgrades.report?.upgrades.count ?? 0 }
}

/// One piece of a status line with its own colour.
struct Segment: Equatable {
    var text: String
    var role: StyleRole
    var attributes: CellAttributes = []
}

/// The line that says what needs attention, where the eye lands (LocalAI's web UI has the same banner):
/// `↑ 4 upgrades available · U upgrades all · checked 2 min ago`, then the broken count when there are any.
/// Held and drifted rows are further problem segments when the engine knows them.
@MainActor
enum AttentionBanner {
    /// The banner's segments, most urgent first; separators are added when drawing.
    static func segments(_ state: UIState, summary: BackendSummary) -> [Segment] {
        let g = state.glyphs
        let u = state.upgrades
        var out: [Segment] = []
        let count = BackendSummary.upgradeCount(state)
        if u.isChecking {
            out.append(Segment(text: "\(g.spinner[state.spinnerFrame % g.spinner.count]) checking for upgrades\(g.ellipsis)", role: .accent))
        } else if let last = u.lastCheck {
            if let error = u.error {
                out.append(Segment(text: "\(g.failed) last check failed: \(error)", role: .error, attributes: [.bold]))
                out.append(Segment(text: "c retries", role: .text))
            } else if count > 0 {
                out.append(Segment(text: "\(g.upgrade) \(count) upgrade\(count == 1 ? "" : "s") available", role: .upgrade, attributes: [.bold]))
                out.append(Segment(text: "U upgrades all", role: .text, attributes: [.bold]))
            } else {
                out.append(Segment(text: "\(g.ok) all backends up to date", role: .ok))
            }
            out.append(Segment(text: "checked \(agoText(from: last, to: state.wallClock))", role: .dim))
        } else {
            out.append(Segment(text: "not checked for upgrades yet", role: .dim))
            out.append(Segment(text: "c checks now", role: .text))
        }
        for problem in problems(summary, glyphs: g) { out.append(problem) }
        return out
    }

    /// Rows that need a person, beyond upgrades: broken now; held and drifted once the engine reports them.
    static func problems(_ summary: BackendSummary, glyphs g: Glyphs) -> [Segment] {
        var out: [Segment] = []
        if summary.broken > 0 { out.append(Segment(text: "\(g.failed) broken: \(summary.broken)", role: .error, attributes: [.bold])) }
        if summary.held > 0 { out.append(Segment(text: "held: \(summary.held)", role: .warning)) }
        return out
    }

    /// Draws the banner on row `y`; segments that do not fit are left out whole, never cut mid-word.
    static func draw(_ state: UIState, _ canvas: Canvas, y: Int, summary: BackendSummary) {
        Widgets.segments(canvas, x: 1, y: y, width: canvas.width - 2, segments: segments(state, summary: summary), glyphs: state.glyphs)
    }

    /// `just now`, `2 min ago`, `3 h ago`, `2 days ago`.
    static func agoText(from date: Date, to now: Date) -> String {
        let seconds = Int(now.timeIntervalSince(date))
        if seconds < 60 { return "just now" }
        if seconds < 3600 { return "\(seconds / 60) min ago" }
        if seconds < 86400 { return "\(seconds / 3600) h ago" }
        let days = seconds / 86400
        return "\(days) day\(days == 1 ? "" : "s") ago"
    }
}

/// htop-style meters above the Backends table: backends by state (a bar and the counts), disk used, jobs.
@MainActor
enum Meters {
    /// The bar's cells per state, in drawing order; each state has its own character so the bar reads without colour.
    static func barSegments(_ summary: BackendSummary, glyphs g: Glyphs) -> [(count: Int, symbol: String, role: StyleRole)] {
        [(summary.current, g.barFull, .ok), (summary.upgradable, g.symbol("▒"), .upgrade), (summary.broken, g.symbol("✗"), .error),
         (summary.system + summary.unchecked, g.barEmpty, .dim)]
    }

    static func draw(_ state: UIState, _ canvas: Canvas, y: Int, summary: BackendSummary) {
        let g = state.glyphs
        var x = 1
        let label = "Backends "
        canvas.put(label, x: x, y: y, style: Style(.accent, [.bold]))
        x += label.cellWidth
        let barWidth = canvas.width >= 140 ? 30 : canvas.width >= 100 ? 20 : 12
        canvas.put("[", x: x, y: y, style: Style(.border))
        x += 1
        var used = 0
        let segments = barSegments(summary, glyphs: g)
        for (i, segment) in segments.enumerated() where segment.count > 0 {
            // Each state present gets at least one cell; the last one present takes what rounding left.
            let isLast = !segments[(i + 1)...].contains { $0.count > 0 }
            let cells = isLast ? barWidth - used
                : min(barWidth - used, max(1, Int((Double(segment.count) / Double(max(1, summary.total)) * Double(barWidth)).rounded())))
            canvas.put(String(repeating: segment.symbol, count: cells), x: x + used, y: y, style: Style(segment.role), maxWidth: cells)
            used += cells
        }
        if summary.total == 0 { canvas.put(String(repeating: g.barEmpty, count: barWidth), x: x, y: y, style: Style(.dim)) }
        x += barWidth
        canvas.put("]", x: x, y: y, style: Style(.border))
        x += 2
        // Disk and jobs keep their place at the right edge; the counts fill what is left, whole segments only.
        let disk = state.snapshot.totalDiskUsage.map(TextFormat.bytes) ?? "measuring\(g.ellipsis)"
        let active = state.activeJobs.count
        // A server reports no sizes (§5.1): no disk meter in remote mode.
        let right = (state.snapshot.server == nil ? [Segment(text: "disk: \(disk)", role: .accent)] : [])
            + [Segment(text: active > 0 ? "jobs: \(active) active" : "jobs: idle", role: active > 0 ? .accent : .dim)]
        let rightWidth = right.map(\.text.cellWidth).reduce(0, +) + 3 * (right.count - 1)
        let rightX = canvas.width - 1 - rightWidth
        // The total is on the tab ("Backends (10)"): the meter says how they are.
        // Most urgent first: what does not fit is left out from the end.
        var parts: [Segment] = []
        if summary.broken > 0 { parts.append(Segment(text: "broken: \(summary.broken)", role: .error)) }
        if summary.upgradable > 0 { parts.append(Segment(text: "upgradable: \(summary.upgradable)", role: .upgrade)) }
        if summary.current > 0 { parts.append(Segment(text: "current: \(summary.current)", role: .ok)) }
        if summary.system > 0 { parts.append(Segment(text: "system: \(summary.system)", role: .dim)) }
        if summary.unchecked > 0 { parts.append(Segment(text: "not checked: \(summary.unchecked)", role: .dim)) }
        if rightX - x >= 16 {
            Widgets.segments(canvas, x: x, y: y, width: rightX - x - 2, segments: parts, glyphs: g)
            Widgets.segments(canvas, x: rightX, y: y, width: rightWidth, segments: right, glyphs: g)
        } else {
            Widgets.segments(canvas, x: x, y: y, width: canvas.width - x - 1, segments: [right[0]] + parts, glyphs: g)
        }
    }
}
