import Foundation
import HangarEngine

/// Catalog: the gallery entries this host can install, with a description pane.
@MainActor
enum CatalogScreen {
    static func draw(_ state: UIState, _ canvas: Canvas, _ body: (top: Int, height: Int), _ layout: inout FrameLayout) {
        let rows = state.catalogRows
        let width = canvas.width - 2
        let scope = state.catalogShowAll ? "all capabilities" : "compatible with \(state.snapshot.capability.value)"
        let dev = state.catalogShowDevelopment ? "with" : "without"
        canvas.put(state.glyphs.truncate("\(rows.count) of \(state.snapshot.catalog.count) entries, \(scope), \(dev) development builds",
                                         width), x: 1, y: body.top, style: Style(.dim))
        guard !rows.isEmpty else {
            let text = !state.snapshot.galleriesLoaded ? "Reading the galleries\(state.glyphs.ellipsis)"
                : state.snapshot.catalog.isEmpty ? "The galleries have no entries (see the header)."
                : "No entry matches (Esc clears the filter; A shows all, P development builds)."
            canvas.put(text, x: 1, y: body.top + 2, style: Style(.dim), maxWidth: width)
            return
        }
        let nameWidth = min(34, max(12, rows.map(\.entry.name.cellWidth).max() ?? 12))
        let versionWidth = 12
        let stateWidth = 13
        let resolvesWidth = width >= 90 ? 22 : 0
        let tagsWidth = max(0, width - nameWidth - versionWidth - stateWidth - resolvesWidth - (resolvesWidth > 0 ? 4 : 3))
        ListView.columnHeader(canvas, y: body.top + 1, cells: [("NAME", nameWidth), ("VERSION", versionWidth), ("STATE", stateWidth),
                                                       ("RESOLVES TO", resolvesWidth), ("TAGS", tagsWidth)], glyphs: state.glyphs)
        let visible = body.height - 5
        ListView.draw(state, canvas, screen: .catalog, top: body.top + 2, visible: visible, count: rows.count, &layout) { i, y, selected in
            let row = rows[i]
            var stateText = row.installed ? "\(state.glyphs.ok) installed" : "not installed"
            var stateRole: StyleRole = row.installed ? .ok : .dim
            // The same lookup as the Backends row: a meta or alias shows its build's upgrade.
            if row.installed, let installed = state.snapshot.installed.first(where: { $0.name == row.entry.name }),
               state.upgrades.upgrade(for: installed) != nil {
                stateText = "\(state.glyphs.upgrade) upgradable"
                stateRole = .upgrade
            }
            if !row.compatible { stateText = "other hardware" }
            if let job = state.activeJob(for: row.entry.name) ?? state.activeJob(for: row.entry.id) {
                stateText = job.operation.rawValue + " " + (job.percent.map { "\($0)%" } ?? job.stateWord)
            }
            let resolves = row.entry.isMeta ? "meta \(state.glyphs.arrow) \(row.resolvesTo ?? "none for this host")" : ""
            Widgets.row(canvas, y: y, x: 2, cells: [
                (row.entry.name, nameWidth, ListView.selectionStyle(selected, .text)),
                (row.entry.version.isEmpty ? "" : "v" + row.entry.version, versionWidth, ListView.selectionStyle(selected, .text)),
                (stateText, stateWidth, ListView.selectionStyle(selected, stateRole)),
                (resolves, resolvesWidth, ListView.selectionStyle(selected, .dim)),
                (row.entry.tags.joined(separator: ", "), tagsWidth, ListView.selectionStyle(selected, .dim)),
            ], glyphs: state.glyphs)
        }
        // Description pane of the selected entry.
        guard let entry = state.selectedCatalogEntry?.entry else { return }
        let paneTop = body.top + 2 + visible
        canvas.put(String(repeating: state.glyphs.horizontal, count: canvas.width), x: 0, y: paneTop, style: Style(.border))
        let resolves = entry.isMeta ? "meta \(state.glyphs.arrow) \(state.selectedCatalogEntry?.resolvesTo ?? "no build for this host")" : entry.uri
        canvas.put(state.glyphs.truncate("\(entry.id)  \(resolves)", width), x: 1, y: paneTop + 1, style: Style(.accent))
        let description = entry.description.split(whereSeparator: \.isNewline).joined(separator: " ")
        canvas.put(state.glyphs.truncate(description.isEmpty ? "(no description)" : description, width), x: 1, y: paneTop + 2,
                   style: .text)
    }
}
