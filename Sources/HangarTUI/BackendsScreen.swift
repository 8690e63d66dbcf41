import Foundation
import HangarEngine

/// Backends (home): one row per installed backend.
@MainActor
enum BackendsScreen {
    /// Rows above the table on a terminal this tall: the meters from 20 rows, the attention banner from 16, so the
    /// list keeps its room on small terminals.
    static func dashboardRows(height: Int) -> (meters: Bool, banner: Bool) { (height >= 20, height >= 16) }

    /// The table's columns for this width, left to right. Name, version, upgrade and kind always show; gallery, size
    /// on disk and installed date join, in that order, while the kind column keeps `minimumKindWidth` cells.
    struct Columns: Equatable {
        var name = 12, version = 14, upgrade = 16, gallery = 0, size = 0, installed = 0, kind = 0
        static let minimumKindWidth = 24

        init(width: Int, nameWidth: Int, galleryWidth: Int) {
            name = nameWidth
            var rest = width - name - version - upgrade - 3
            for column in [\Columns.gallery, \Columns.size, \Columns.installed] {
                let want = column == \Columns.gallery ? galleryWidth : column == \Columns.size ? 9 : 10
                if rest - want - 1 >= Self.minimumKindWidth {
                    self[keyPath: column] = want
                    rest -= want + 1
                }
            }
            kind = max(0, rest)
        }
    }

    static func draw(_ state: UIState, _ canvas: Canvas, _ body: (top: Int, height: Int), _ layout: inout FrameLayout) {
        var body = body
        let dashboard = dashboardRows(height: canvas.height)
        if dashboard.meters || dashboard.banner {
            let summary = BackendSummary(state)
            if dashboard.meters {
                Meters.draw(state, canvas, y: body.top, summary: summary)
                body = (body.top + 1, body.height - 1)
            }
            if dashboard.banner {
                AttentionBanner.draw(state, canvas, y: body.top, summary: summary)
                body = (body.top + 1, body.height - 1)
            }
        }
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
        let g = state.glyphs
        let galleries = rows.map { Badges.gallery($0, galleries: state.snapshot.galleries) }
        let signatures = SignatureRecordCache.records(backendsPath: state.snapshot.backendsPath)
        let c = Columns(width: canvas.width - 2, nameWidth: min(28, max(12, rows.map(\.name.cellWidth).max() ?? 12)),
                        galleryWidth: min(16, max(7, galleries.map(\.cellWidth).max() ?? 7)))
        ListView.columnHeader(canvas, y: body.top, cells: [("NAME", c.name), ("VERSION", c.version), ("UPGRADE", c.upgrade),
                                                           ("GALLERY", c.gallery), (rightAligned("SIZE", c.size), c.size),
                                                           ("INSTALLED", c.installed), ("KIND", c.kind)], glyphs: g)
        ListView.draw(state, canvas, screen: .backends, top: body.top + 1, visible: body.height - 1, count: rows.count, &layout) { i, y, selected in
            let row = rows[i]
            var upgradeText = state.upgrades.upgrade(for: row)?.indicator(arrow: g.upgrade) ?? ""
            var upgradeRole = StyleRole.upgrade
            let job = state.activeJob(for: row.name)
            if let job {
                upgradeText = "\(job.operation.rawValue) " + (job.percent.map { "\($0)%" } ?? job.stateWord)
                upgradeRole = .accent
            }
            let size = state.sizeOnDisk(of: row.name).map(TextFormat.bytes) ?? ""
            let installed = String((row.metadata?.installedAt ?? "").prefix(10))
            Widgets.row(canvas, y: y, x: 2, cells: [
                (row.name, c.name, ListView.selectionStyle(selected, .text)),
                (row.versionBadge, c.version, ListView.selectionStyle(selected, row.broken != nil ? .error : .text)),
                (upgradeText, c.upgrade, ListView.selectionStyle(selected, upgradeRole)),
                (galleries[i], c.gallery, ListView.selectionStyle(selected, .dim)),
                (rightAligned(size, c.size), c.size, ListView.selectionStyle(selected, .dim)),
                (installed, c.installed, ListView.selectionStyle(selected, .dim)),
            ], glyphs: g)
            let kindX = 2 + [c.name, c.version, c.upgrade, c.gallery, c.size, c.installed].filter { $0 > 0 }.reduce(0) { $0 + $1 + 1 }
            var kind = Badges.kind(row, devSuffix: state.snapshot.devSuffix, arrow: g.arrow)
            if signatures[String(row.directory.split(separator: "/").last ?? "")] != nil {
                kind = "verified" + (kind.isEmpty ? "" : ", " + kind)
            }
            if let hold = state.snapshot.holds[UpgradeDecision.target(of: row)] {
                kind = hold.text + (kind.isEmpty ? "" : ", " + kind)
            }
            // A kept previous version: R rolls back to it.
            if !state.generations(for: row).isEmpty { kind = g.previous + (kind.isEmpty ? "" : " " + kind) }
            if let cluster = state.clusterSummary(of: row) { kind = cluster + (kind.isEmpty ? "" : ", " + kind) }
            if let job, job.total > 0 {
                // A running transfer draws its bar where the kind marks are; they come back when the job ends.
                progress(job, state: state, canvas, x: kindX, y: y, width: c.kind, selected: selected)
            } else {
                canvas.put(g.truncate(kind, c.kind), x: kindX, y: y,
                           style: ListView.selectionStyle(selected, row.broken != nil ? .error : .dim), maxWidth: c.kind)
            }
        }
    }

    /// A bar and the speed of a running job, in a row's kind column.
    private static func progress(_ job: JobRow, state: UIState, _ canvas: Canvas, x: Int, y: Int, width: Int, selected: Bool) {
        let barWidth = min(24, max(6, width / 2))
        guard width >= barWidth else { return }
        Widgets.progressBar(canvas, x: x, y: y, width: barWidth, fraction: Double(job.bytes) / Double(job.total), glyphs: state.glyphs,
                            selected: selected)
        var rest: [String] = []
        if let speed = job.speed(now: state.now) { rest.append("\(TextFormat.bytes(Int64(speed)))/s") }
        if let eta = job.eta(now: state.now) { rest.append("ETA \(TextFormat.duration(eta))") }
        let room = width - barWidth - 1
        guard room > 0, !rest.isEmpty else { return }
        canvas.put(state.glyphs.truncate(rest.joined(separator: " "), room), x: x + barWidth + 1, y: y,
                   style: ListView.selectionStyle(selected, .dim), maxWidth: room)
    }

    /// `text` padded on the left to `width` cells (numbers line up on their last digit).
    static func rightAligned(_ text: String, _ width: Int) -> String {
        width > text.cellWidth ? String(repeating: " ", count: width - text.cellWidth) + text : text
    }
}
