import Foundation
import HangarEngine

/// Which list the Jobs screen shows: this session's jobs, or the history every hangar process wrote.
public enum JobsView: Sendable, Equatable {
    case session, history
}

/// The Jobs screen's History view (`H`): the newest operations of every hangar process (CLI, UI, daemon,
/// auto-upgrade), newest first, filterable with `/`; Enter opens the backend.
@MainActor
enum HistoryView {
    static func draw(_ state: UIState, _ canvas: Canvas, _ body: (top: Int, height: Int), _ layout: inout FrameLayout) {
        let rows = state.historyRows
        let g = state.glyphs
        let filter = state.filters[.jobs].map { $0.isEmpty ? "" : " \(g.separator) filter \"\($0)\"" } ?? ""
        canvas.put(g.truncate("History of every hangar process: \(rows.count) operation\(rows.count == 1 ? "" : "s"), newest first\(filter) (H: this session's jobs)",
                              canvas.width - 2), x: 1, y: body.top, style: Style(.dim), maxWidth: canvas.width - 2)
        guard !rows.isEmpty else {
            canvas.put(state.snapshot.recentHistory.isEmpty ? "No operation recorded yet." : "No operation matches the filter (Esc clears it).",
                       x: 1, y: body.top + 2, style: Style(.dim), maxWidth: canvas.width - 2)
            return
        }
        let wide = canvas.width >= 100
        let columns: [(String, Int)] = [("FINISHED", wide ? 19 : 8), ("OPERATION", 9), ("BACKEND", 20), ("CHANGE", wide ? 20 : 0),
                                        ("RESULT", 11), ("TOOK", 6), ("BY", wide ? 12 : 0)]
        let visibleColumns = columns.filter { $0.1 > 0 }
        let used = 2 + visibleColumns.reduce(0) { $0 + $1.1 + 1 }
        ListView.columnHeader(canvas, y: body.top + 1, cells: visibleColumns + [("MESSAGE", max(0, canvas.width - used - 1))], glyphs: g)
        ListView.draw(state, canvas, screen: .jobs, top: body.top + 2, visible: body.height - 2, count: rows.count, &layout) { i, y, selected in
            let r = rows[i]
            let role: StyleRole = {
                switch r.outcome {
                case "done": return .ok
                case "failed": return .error
                case "rolled_back": return .warning
                default: return .dim
                }
            }()
            let finished = wide ? String(RFC3339.format(Int(r.finishedAt.timeIntervalSince1970)).prefix(19)).replacingOccurrences(of: "T", with: " ")
                : TextFormat.clock(r.finishedAt)
            let change = r.change.map { [$0.from?.text, g.arrow, $0.to?.text].compactMap { $0 }.joined(separator: " ") } ?? ""
            var cells: [(String, Int, Style)] = [(finished, visibleColumns[0].1, ListView.selectionStyle(selected, .dim)),
                                                 (r.operation.rawValue, 9, ListView.selectionStyle(selected, .text)),
                                                 (r.backend, 20, ListView.selectionStyle(selected, .text))]
            if wide { cells.append((change, 20, ListView.selectionStyle(selected, .text))) }
            cells.append((r.outcome.replacingOccurrences(of: "_", with: " "), 11, ListView.selectionStyle(selected, role)))
            cells.append((BackendsScreen.rightAligned(r.duration.map { TextFormat.duration(Int($0.rounded())) } ?? "", 6), 6,
                          ListView.selectionStyle(selected, .dim)))
            if wide { cells.append((r.origin, 12, ListView.selectionStyle(selected, .dim))) }
            cells.append((r.message, max(0, canvas.width - used - 1), ListView.selectionStyle(selected, .dim)))
            Widgets.row(canvas, y: y, x: 2, cells: cells, glyphs: g)
        }
    }
}

extension UIState {
    /// The History view's rows: the snapshot's newest operations, filtered by the Jobs filter (backend, operation,
    /// result, who or message).
    public var historyRows: [OperationRecord] {
        let records = snapshot.recentHistory
        guard let needle = filters[.jobs]?.lowercased(), !needle.isEmpty else { return records }
        return records.filter { r in
            [r.backend, r.operation.rawValue, r.outcome, r.origin, r.message].contains { $0.lowercased().contains(needle) }
        }
    }

    /// The selected History row, when the Jobs screen shows the history.
    public var selectedHistoryRecord: OperationRecord? {
        let rows = historyRows
        return jobsView == .history && !rows.isEmpty ? rows[Self.clamp(selection[.jobs] ?? 0, count: rows.count)] : nil
    }
}
