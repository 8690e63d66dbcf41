import Foundation
import HangarEngine

/// Nodes (`n`): a distributed LocalAI server's nodes, each with its backends' versions and short digests; `u`
/// upgrades, `r` reinstalls and `d` uninstalls the selected backend on that node only.
@MainActor
enum NodesScreen {
    static func draw(_ state: UIState, _ canvas: Canvas, _ body: (top: Int, height: Int), _ layout: inout FrameLayout) {
        let g = state.glyphs
        guard let cluster = state.snapshot.cluster else {
            let text = state.snapshot.clusterError.map { "error: nodes could not be read: " + $0 }
                ?? "No nodes: this screen shows the nodes of a distributed LocalAI server (hangar --server URL)."
            canvas.put(g.truncate(text, canvas.width - 2), x: 1, y: body.top + 1,
                       style: state.snapshot.clusterError == nil ? Style(.dim) : Style(.error, [.bold]), maxWidth: canvas.width - 2)
            return
        }
        let rows = state.nodeRows
        let drifted = cluster.nodes.reduce(0) { $0 + $1.drifted.count }
        let offline = cluster.nodes.filter(\.node.isOffline).count
        let dot = " \(g.separator) "
        var summary = "Nodes of \(cluster.server): \(cluster.nodes.count) node\(cluster.nodes.count == 1 ? "" : "s")\(dot)\(cluster.backends.count) backends"
        if offline > 0 { summary += "\(dot)\(offline) offline" }
        summary += drifted > 0 ? "\(dot)\(drifted) drifted" : "\(dot)no drift"
        canvas.put(g.truncate(summary, canvas.width - 2), x: 1, y: body.top, style: Style(drifted > 0 || offline > 0 ? .warning : .ok),
                   maxWidth: canvas.width - 2)
        let nameWidth = min(28, max(14, rows.map { row -> Int in
            if case .backend(_, let b) = row { return b.name.cellWidth + 2 }
            if case .node(let s) = row { return s.node.name.cellWidth }
            return 0
        }.max() ?? 14))
        let columns = [("NAME", nameWidth), ("STATUS / VERSION", 18), ("DIGEST / ID", 16), ("", max(0, canvas.width - nameWidth - 40))]
        ListView.columnHeader(canvas, y: body.top + 1, cells: columns, glyphs: g)
        ListView.draw(state, canvas, screen: .nodes, top: body.top + 2, visible: body.height - 2, count: rows.count, &layout) { i, y, selected in
            let cells: [(String, Int, Style)]
            switch rows[i] {
            case .node(let s):
                let role: StyleRole = s.node.isOffline ? .error : s.node.status == "healthy" ? .ok : .warning
                var note: String
                if let backends = s.backends {
                    let count = backends.filter { !$0.isSystem }.count
                    note = "\(count) backend\(count == 1 ? "" : "s")" + (s.drifted.isEmpty ? "" : ", \(s.drifted.count) drifted")
                } else {
                    note = s.node.isOffline ? "backends unknown" : "error: \(s.error ?? "backends unknown")"
                }
                note += "\(dot)last seen \(s.node.lastHeartbeat.isEmpty ? "never" : s.node.lastHeartbeat)"
                cells = [(s.node.name, nameWidth, ListView.selectionStyle(selected, .accent)),
                         (s.node.status, 18, ListView.selectionStyle(selected, role)),
                         (s.node.id, 16, ListView.selectionStyle(selected, .dim)),
                         (note, columns[3].1, ListView.selectionStyle(selected, s.node.isOffline ? .error : .dim))]
            case .backend(let s, let b):
                let isDrifted = s.drifted.contains(b.name)
                var note = ""
                if isDrifted, let major = cluster.backends[b.name]?.majority {
                    note = "drifted: most nodes have \(major.versionBadge)"
                } else if let job = state.activeJob(for: b.name) {
                    note = "\(job.operation.rawValue) " + (job.percent.map { "\($0)%" } ?? job.stateWord)
                }
                cells = [("  " + b.name, nameWidth, ListView.selectionStyle(selected, .text)),
                         (b.version.isEmpty ? "-" : "v" + b.version, 18, ListView.selectionStyle(selected, isDrifted ? .upgrade : .text)),
                         (b.digest.isEmpty ? "-" : TextFormat.shortDigest(b.digest), 16, ListView.selectionStyle(selected, .dim)),
                         (note, columns[3].1, ListView.selectionStyle(selected, isDrifted ? .upgrade : .accent))]
            }
            Widgets.row(canvas, y: y, x: 2, cells: cells.map { (text: $0.0, width: $0.1, style: $0.2) }, glyphs: g)
        }
    }

    /// Detail's lines for a backend on a cluster: where it is and each node's build.
    static func detailLines(_ state: UIState, _ row: InstalledBackend) -> [(label: String, value: String, role: StyleRole)] {
        guard let cluster = state.snapshot.cluster else { return [] }
        guard let spread = cluster.backends[row.name] else { return [("nodes", "on no reachable node", .warning)] }
        var lines: [(label: String, value: String, role: StyleRole)] = [("nodes", spread.summary, spread.drifted.isEmpty ? .ok : .warning)]
        for (node, backend) in spread.holders {
            let drift = spread.drifted.contains(node.id) ? " (drifted)" : ""
            lines.append(("  " + node.name, "\(backend.versionBadge) \(TextFormat.shortDigest(backend.digest)) \(node.status)\(drift)",
                          drift.isEmpty ? .text : .upgrade))
        }
        for state in cluster.nodes where state.backends == nil {
            lines.append(("  " + state.node.name, "\(state.node.status): unknown", .dim))
        }
        return lines
    }
}
