import Foundation
import HangarEngine

/// Detail: every metadata.json field of one backend, its upgrade and its last operation.
@MainActor
enum DetailScreen {
    /// `name: value` lines of the Detail screen, in the order LocalAI's metadata.json writes them.
    static func detailLines(_ state: UIState, _ row: InstalledBackend) -> [(label: String, value: String, role: StyleRole)] {
        let m = row.metadata
        let g = state.glyphs
        let kind = Badges.kind(row, devSuffix: state.snapshot.devSuffix, arrow: g.arrow)
        var lines: [(String, String, StyleRole)] = [
            ("name", row.name, .accent),
            ("kind", kind.isEmpty ? "backend" : kind, row.broken != nil ? .error : .text),
            ("version", m.map { $0.version.isEmpty ? "(none recorded)" : "v" + $0.version } ?? "-", .text),
            ("digest", m.map { $0.digest.isEmpty ? "(none recorded)" : $0.digest } ?? "-", .text),
            ("alias", m.map { $0.alias.isEmpty ? "-" : $0.alias } ?? "-", .text),
            ("meta_backend_for", m.map { $0.metaBackendFor.isEmpty ? "-" : $0.metaBackendFor } ?? "-", .text),
            ("uri", m.map { $0.uri.isEmpty ? "-" : $0.uri } ?? "-", .text),
            ("gallery", m.map { $0.galleryURL.isEmpty ? "-" : "\(Badges.gallery(row, galleries: state.snapshot.galleries)) (\($0.galleryURL))" }
                ?? (row.isSystem ? "system backend" : "-"), .text),
            ("installed_at", m.map { $0.installedAt.isEmpty ? "-" : $0.installedAt } ?? "-", .text),
            ("run file", row.runFile.isEmpty ? "(missing)" : row.runFile, row.isRunnable || row.runFile.isEmpty ? .text : .warning),
            ("directory", row.directory, .text),
            ("size on disk", state.sizeOnDisk(of: row.name).map(TextFormat.bytes) ?? "measuring\(g.ellipsis)", .text),
        ]
        lines += state.generationLines(for: row)
        lines += NodesScreen.detailLines(state, row)
        if let broken = row.broken { lines.append(("error", broken, .error)) }
        if !row.isSystem, let directory = row.directory.split(separator: "/").last {
            let record = SignatureRecordCache.records(backendsPath: state.snapshot.backendsPath)[String(directory)]
            lines.append(("signature", record?.summary ?? "unsigned", record == nil ? .dim : .ok))
        }
        if let hold = state.snapshot.holds[UpgradeDecision.target(of: row)] {
            lines.append(("hold", "\(hold.text) (since \(hold.heldAt)); upgrades skip it, h releases it", .warning))
        }
        if let info = state.upgrades.upgrade(for: row) {
            lines.append(("upgrade", info.change(arrow: g.arrow) + "  (u upgrades)", .upgrade))
        } else if state.upgrades.lastCheck != nil {
            lines.append(("upgrade", "up to date at the last check (\(TextFormat.clock(state.upgrades.lastCheck!)))", .ok))
        } else {
            lines.append(("upgrade", state.upgrades.isChecking ? "checking\(g.ellipsis)" : "not checked yet (c checks)", .dim))
        }
        lines += state.loadedByLines(for: row)
        if let job = state.activeJob(for: row.name) {
            lines.append(("running", "#\(job.job) \(job.operation.rawValue): \(job.stateWord)" + (job.percent.map { " \($0)%" } ?? ""), .accent))
        }
        // This session's jobs first; the engine's history also knows earlier runs, the CLI and the daemon.
        let last = state.jobs.last { $0.isFinished && $0.backend == row.name }?.outcomeText(dash: g.dash)
            ?? state.lastOperations[row.name].map { "\($0.outcome.replacingOccurrences(of: "_", with: " ")) at \(TextFormat.clock($0.finishedAt)): \($0.message)" }
        lines.append(("last operation", last ?? "none recorded", last == nil ? .dim : .text))
        return lines
    }

    /// Lines that matter most when Detail is too short for all of them; the rest give way, in their order.
    static let importantDetailLabels: Set<String> = ["name", "kind", "version", "error", "signature", "upgrade", "loaded by", "running", "last operation"]

    /// All lines when they fit; otherwise the important ones first (in their order), then as many others as fit,
    /// and a last line saying how many were left out.
    static func fitDetailLines(_ lines: [(label: String, value: String, role: StyleRole)], height: Int, glyphs: Glyphs)
        -> [(label: String, value: String, role: StyleRole)] {
        guard lines.count > height, height > 0 else { return lines }
        let room = height - 1
        let important = lines.indices.filter { importantDetailLabels.contains(lines[$0].label) }
        let others = lines.indices.filter { !importantDetailLabels.contains(lines[$0].label) }
        let kept = Set(important.prefix(room) + others.prefix(max(0, room - important.count)))
        let shown = lines.indices.filter(kept.contains).map { lines[$0] }
        return shown + [("\(glyphs.ellipsis)", "\(lines.count - shown.count) more lines on a taller terminal", .dim)]
    }

    static func draw(_ state: UIState, _ canvas: Canvas, _ body: (top: Int, height: Int)) {
        guard let row = state.selectedBackend else {
            canvas.put("Nothing selected: pick a backend on the Backends screen (1) and press Enter.", x: 1, y: body.top + 1,
                       style: Style(.dim), maxWidth: canvas.width - 2)
            return
        }
        let lines = fitDetailLines(detailLines(state, row), height: body.height, glyphs: state.glyphs)
        let labelWidth = 17
        for (i, line) in lines.enumerated() {
            canvas.put(line.label, x: 2, y: body.top + i, style: Style(.dim))
            canvas.put(state.glyphs.truncate(line.value, canvas.width - labelWidth - 4), x: labelWidth + 2, y: body.top + i,
                       style: Style(line.role))
        }
    }
}
