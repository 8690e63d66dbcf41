import Foundation
import HangarEngine

/// Jobs: one two-line row per operation, running or finished.
@MainActor
enum JobsScreen {
    /// The second line of a job: progress bar with bytes, percent, speed and ETA (after each node's state for a
    /// cluster job), or the outcome.
    static func jobDetail(_ job: JobRow, now: Double, glyphs: Glyphs) -> String {
        if let outcome = job.outcomeText(dash: glyphs.dash) { return outcome }
        var parts: [String] = []
        // A cluster job: where each node stands leads, since that is what a cut line must keep.
        if !job.nodes.isEmpty { parts.append(job.nodes.map(\.text).joined(separator: " \(glyphs.separator) ")) }
        if job.total > 0 {
            parts.append("\(TextFormat.bytes(job.bytes)) / \(TextFormat.bytes(job.total))")
        } else if job.bytes > 0 {
            parts.append(TextFormat.bytes(job.bytes))
        }
        if let speed = job.speed(now: now) { parts.append("\(TextFormat.bytes(Int64(speed)))/s") }
        if let eta = job.eta(now: now) { parts.append("ETA \(TextFormat.duration(eta))") }
        if case .running(_, let detail) = job.state, !detail.isEmpty, parts.isEmpty { parts.append(detail) }
        if case .queued = job.state { parts.append("waiting for a worker or an earlier job on \(job.backend)") }
        if let warning = job.warnings.last { parts.append("warning: \(warning)") }
        return parts.joined(separator: "  ")
    }

    /// The right-hand columns of a job's first line, dropped from the right on narrow terminals.
    struct Columns: Equatable {
        var state = 16, started = 0, took = 0, bytes = 0, speed = 0
        /// Cells the title keeps at least before a column is added.
        static let minimumTitleWidth = 30

        init(width: Int) {
            var rest = width - state - 1
            for (column, want) in [(\Columns.started, 8), (\Columns.took, 7), (\Columns.bytes, 9), (\Columns.speed, 11)]
            where rest - want - 1 >= Self.minimumTitleWidth {
                self[keyPath: column] = want
                rest -= want + 1
            }
        }

        /// Cells of every column right of the title, separators included.
        var used: Int { [state, started, took, bytes, speed].filter { $0 > 0 }.reduce(0) { $0 + $1 + 1 } }
    }

    static func draw(_ state: UIState, _ canvas: Canvas, _ body: (top: Int, height: Int), _ layout: inout FrameLayout) {
        if state.jobsView == .history { return HistoryView.draw(state, canvas, body, &layout) }
        let jobs = state.jobs
        let g = state.glyphs
        guard !jobs.isEmpty else {
            canvas.put("No jobs yet. u upgrades the selected backend, i installs from the catalog (2).", x: 1, y: body.top + 1,
                       style: Style(.dim), maxWidth: canvas.width - 2)
            return
        }
        let running = jobs.filter { !$0.isFinished }.count
        let c = Columns(width: canvas.width - 3)
        let titleWidth = canvas.width - 3 - c.used
        canvas.put(g.truncate("\(running) active \(g.separator) \(jobs.count - running) finished (C clears finished)", titleWidth),
                   x: 1, y: body.top, style: Style(.dim), maxWidth: titleWidth)
        let columnsX = 2 + titleWidth + 1
        Widgets.row(canvas, y: body.top, x: columnsX, cells: [("STATE", c.state, Style(.dim, [.bold])), ("STARTED", c.started, Style(.dim, [.bold])),
                                                            (BackendsScreen.rightAligned("TOOK", c.took), c.took, Style(.dim, [.bold])),
                                                            (BackendsScreen.rightAligned("BYTES", c.bytes), c.bytes, Style(.dim, [.bold])),
                                                            (BackendsScreen.rightAligned("SPEED", c.speed), c.speed, Style(.dim, [.bold]))], glyphs: g)
        let barWidth = max(10, min(30, canvas.width / 4))
        ListView.draw(state, canvas, screen: .jobs, top: body.top + 1, visible: (body.height - 1) / 2, count: jobs.count, rowsPerItem: 2,
             &layout) { i, y, selected in
            let job = jobs[i]
            let (glyph, role): (String, StyleRole) = {
                switch job.state {
                case .queued: return (" ", .dim)
                case .running: return (g.spinner[state.spinnerFrame % g.spinner.count], .accent)
                case .done: return (g.ok, .ok)
                case .failed: return (g.failed, .error)
                case .rolledBack: return (g.rolledBack, .warning)
                case .cancelled, .skipped: return (g.cancelled, .dim)
                }
            }()
            let title = "#\(job.job) \(job.operation.rawValue) \(job.backend)" + (job.background ? " (auto-upgrade)" : "")
            canvas.put(g.truncate(title, titleWidth), x: 2, y: y, style: ListView.selectionStyle(selected, .text), maxWidth: titleWidth)
            let speed = (job.isFinished ? job.finalSpeed : job.speed(now: state.now)).map { "\(TextFormat.bytes(Int64($0)))/s" } ?? ""
            Widgets.row(canvas, y: y, x: columnsX, cells: [
                ("\(glyph) \(job.stateWord)", c.state, ListView.selectionStyle(selected, role)),
                (job.startedClock.map(TextFormat.clock) ?? "", c.started, ListView.selectionStyle(selected, .dim)),
                (BackendsScreen.rightAligned(job.duration(now: state.now).map(TextFormat.duration) ?? "", c.took), c.took,
                 ListView.selectionStyle(selected, .dim)),
                (BackendsScreen.rightAligned(job.bytes > 0 ? TextFormat.bytes(job.bytes) : "", c.bytes), c.bytes, ListView.selectionStyle(selected, .dim)),
                (BackendsScreen.rightAligned(speed, c.speed), c.speed, ListView.selectionStyle(selected, .dim)),
            ], glyphs: g)
            var x = 4
            if !job.isFinished, job.total > 0 {
                Widgets.progressBar(canvas, x: x, y: y + 1, width: barWidth, fraction: Double(job.bytes) / Double(job.total), glyphs: g)
                canvas.put(String(format: "%3d%%", job.percent ?? 0), x: x + barWidth + 1, y: y + 1, style: .text)
                x += barWidth + 6
            }
            let detailRole: StyleRole = {
                switch job.state {
                case .failed: return .error
                case .rolledBack: return .warning
                case .done: return .ok
                default: return .dim
                }
            }()
            canvas.put(g.truncate(jobDetail(job, now: state.now, glyphs: g), canvas.width - x - 1), x: x, y: y + 1,
                       style: Style(detailRole), maxWidth: canvas.width - x - 1)
        }
    }
}
