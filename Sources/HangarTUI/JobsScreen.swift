import Foundation
import HangarEngine

/// Jobs: one two-line row per operation, running or finished.
@MainActor
enum JobsScreen {
    /// The second line of a job: progress bar with bytes, percent, speed and ETA, or the outcome.
    static func jobDetail(_ job: JobRow, now: Double, glyphs: Glyphs) -> String {
        if let outcome = job.outcomeText(dash: glyphs.dash) { return outcome }
        var parts: [String] = []
        if job.total > 0 {
            parts.append("\(formatBytes(job.bytes)) / \(formatBytes(job.total))")
        } else if job.bytes > 0 {
            parts.append(formatBytes(job.bytes))
        }
        if let speed = job.speed(now: now) { parts.append("\(formatBytes(Int64(speed)))/s") }
        if let eta = job.eta(now: now) { parts.append("ETA \(durationText(eta))") }
        if case .running(_, let detail) = job.state, !detail.isEmpty, parts.isEmpty { parts.append(detail) }
        if case .queued = job.state { parts.append("waiting for a worker or an earlier job on \(job.backend)") }
        if let warning = job.warnings.last { parts.append("warning: \(warning)") }
        return parts.joined(separator: "  ")
    }

    static func draw(_ state: UIState, _ canvas: Canvas, _ body: (top: Int, height: Int), _ layout: inout FrameLayout) {
        let jobs = state.jobs
        let g = state.glyphs
        guard !jobs.isEmpty else {
            canvas.put("No jobs yet. u upgrades the selected backend, i installs from the catalog (2).", x: 1, y: body.top + 1,
                       style: Style(.dim), maxWidth: canvas.width - 2)
            return
        }
        let running = jobs.filter { !$0.isFinished }.count
        canvas.put("\(running) active \(g.separator) \(jobs.count - running) finished (C clears finished)", x: 1, y: body.top,
                   style: Style(.dim))
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
            let titleWidth = min(50, canvas.width - 22)
            canvas.put(g.truncate(title, titleWidth), x: 2, y: y, style: ListView.selectionStyle(selected, .text), maxWidth: titleWidth)
            canvas.put("\(glyph) \(job.stateWord)", x: titleWidth + 4, y: y, style: ListView.selectionStyle(selected, role), maxWidth: 16)
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
