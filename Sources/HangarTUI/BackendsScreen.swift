import Foundation
import HangarEngine

/// Backends (home): one row per installed backend.
@MainActor
enum BackendsScreen {
    static func draw(_ state: UIState, _ canvas: Canvas, _ body: (top: Int, height: Int), _ layout: inout FrameLayout) {
        let rows = state.backendRows
        if let error = state.snapshot.installedError {
            canvas.put("error: " + error, x: 1, y: body.top + 1, style: Style(.error, [.bold]), maxWidth: canvas.width - 2)
            return
        }
        guard !rows.isEmpty else {
            let text = state.snapshot.installed.isEmpty
                ? "No backends installed in \(state.snapshot.backendsPath). Press 2 for the catalog, i installs."
                : (state.order == .upgradesOnly && state.filter.isEmpty ? "No backend has an upgrade (o changes the order)."
                   : "No backend matches \"\(state.filter)\" (Esc clears the filter).")
            canvas.put(state.glyphs.truncate(text, canvas.width - 2), x: 1, y: body.top + 1, style: Style(.dim))
            return
        }
        let width = canvas.width - 2
        let nameWidth = min(28, max(12, rows.map(\.name.cellWidth).max() ?? 12))
        let versionWidth = 14
        let upgradeWidth = 16
        let galleryWidth = width >= 100 ? 12 : 0
        let fixed = nameWidth + versionWidth + upgradeWidth + galleryWidth + (galleryWidth > 0 ? 4 : 3)
        let kindWidth = max(0, width - fixed)
        ListView.columnHeader(canvas, y: body.top, cells: [("NAME", nameWidth), ("VERSION", versionWidth), ("UPGRADE", upgradeWidth),
                                                   ("KIND", kindWidth), ("GALLERY", galleryWidth)], glyphs: state.glyphs)
        ListView.draw(state, canvas, screen: .backends, top: body.top + 1, visible: body.height - 1, count: rows.count, &layout) { i, y, selected in
            let row = rows[i]
            var upgradeText = state.upgrades.upgrade(for: row)?.indicator(arrow: state.glyphs.upgrade) ?? ""
            var upgradeRole = StyleRole.upgrade
            if let job = state.activeJob(for: row.name) {
                upgradeText = "\(job.operation.rawValue) " + (job.percent.map { "\($0)%" } ?? job.stateWord)
                upgradeRole = .accent
            }
            let kind = row.kindMarks(devSuffix: state.snapshot.devSuffix, arrow: state.glyphs.arrow)
            Widgets.row(canvas, y: y, x: 2, cells: [
                (row.name, nameWidth, ListView.selectionStyle(selected, .text)),
                (row.versionBadge, versionWidth, ListView.selectionStyle(selected, row.broken != nil ? .error : .text)),
                (upgradeText, upgradeWidth, ListView.selectionStyle(selected, upgradeRole)),
                (kind, kindWidth, ListView.selectionStyle(selected, row.broken != nil ? .error : .dim)),
                (Badges.gallery(row, galleries: state.snapshot.galleries), galleryWidth, ListView.selectionStyle(selected, .dim)),
            ], glyphs: state.glyphs)
        }
    }
}
