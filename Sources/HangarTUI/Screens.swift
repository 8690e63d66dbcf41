import Foundation
import HangarEngine

/// Draws a `UIState` on a canvas: header, tabs, the current screen, status line, footer, and any overlay.
/// A pure view: the same state always draws the same cells.
@MainActor
public enum Screens {
    public static let minimumWidth = 60
    public static let minimumHeight = 12

    /// Draws one full frame; returns where tabs and list rows landed (for the mouse).
    @discardableResult
    public static func render(_ state: UIState, on canvas: Canvas) -> FrameLayout {
        canvas.fill(x: 0, y: 0, width: canvas.width, height: canvas.height, style: .text)
        guard canvas.width >= minimumWidth, canvas.height >= minimumHeight else {
            tooSmall(state, canvas)
            var layout = FrameLayout()
            layout.tooSmall = true
            return layout
        }
        var layout = FrameLayout()
        header(state, canvas)
        layout.tabs = Widgets.tabs(canvas, y: 2, current: state.screen, labels: tabLabels(state))
        let body = (top: 3, height: canvas.height - 5)
        switch state.screen {
        case .backends: backends(state, canvas, body, &layout)
        case .catalog: catalog(state, canvas, body, &layout)
        case .detail: detail(state, canvas, body)
        case .jobs: jobs(state, canvas, body, &layout)
        case .settings: settings(state, canvas, body, &layout)
        }
        statusLine(state, canvas, y: canvas.height - 2)
        footer(state, canvas)
        if state.showHelp { help(state, canvas) }
        if let confirmation = state.confirmation {
            Widgets.dialog(canvas, title: confirmation.title, lines: confirmation.lines,
                           footer: "y = yes   n / Esc / Enter = no (default)", glyphs: state.glyphs)
        }
        return layout
    }

    /// The number of list rows a screen of this canvas height shows (PgUp/PgDn step).
    public static func pageSize(for screen: Screen, height: Int) -> Int {
        let body = height - 5
        switch screen {
        case .backends: return max(1, body - 1)
        case .catalog: return max(1, body - 5)
        case .jobs: return max(1, (body - 1) / 2)
        default: return max(1, body)
        }
    }

    // MARK: - Frame pieces

    private static func tooSmall(_ state: UIState, _ canvas: Canvas) {
        var lines = ["Terminal too small: \(canvas.width)x\(canvas.height)",
                     "hangar needs at least \(minimumWidth)x\(minimumHeight)"]
        // A question asked before the terminal shrank (or by q here) must stay answerable and visible.
        if let confirmation = state.confirmation {
            lines += [confirmation.title, "y = yes   n = no"]
        } else {
            lines.append("q quits")
        }
        let top = max(0, (canvas.height - lines.count) / 2)
        for (i, line) in lines.enumerated() {
            let x = max(0, (canvas.width - line.cellWidth) / 2)
            canvas.put(state.glyphs.truncate(line, canvas.width), x: x, y: top + i, style: Style(i == 0 ? .error : .text, i == 0 ? [.bold] : []), maxWidth: canvas.width)
        }
    }

    private static func header(_ state: UIState, _ canvas: Canvas) {
        let s = state.snapshot
        let dot = " \(state.glyphs.separator) "
        let forced: String
        switch s.capability.source {
        case .detected: forced = "detected"
        case .runFile: forced = "from run file"
        case .flag, .environment: forced = "forced"
        }
        let line1 = " hangar\(dot)capability \(s.capability.value) (\(forced))\(dot)backends \(s.backendsPath)"
        var galleries = s.galleries.map { g -> String in
            if g.entryCount == 0 { return "\(g.gallery.name) failed" }
            if let age = g.cacheAge { return "\(g.gallery.name) \(g.entryCount) entries (cached copy, \(ageText(age)) old)" }
            return "\(g.gallery.name) \(g.entryCount) entries"
        }.joined(separator: ", ")
        if galleries.isEmpty { galleries = s.galleriesLoaded ? "none" : "reading\(state.glyphs.ellipsis)" }
        let auto = state.snapshot.settings?.autoUpgradeBackends == true ? "on" : "off"
        let line2 = " gallery \(galleries), read \(clockText(s.loadedAt))\(dot)auto-upgrade \(auto)\(dot)\(checkText(state))"
        Widgets.bar(canvas, y: 0, text: state.glyphs.truncate(line1, canvas.width), role: .header)
        Widgets.bar(canvas, y: 1, text: state.glyphs.truncate(line2, canvas.width), role: .header)
    }

    /// `checking…`, `last check 02:31:07: 3 upgrades`, `last check failed: …`, `not checked yet`.
    static func checkText(_ state: UIState) -> String {
        let u = state.upgrades
        if u.isChecking { return "checking for upgrades \(state.glyphs.spinner[state.spinnerFrame % state.glyphs.spinner.count])" }
        guard let last = u.lastCheck else { return "not checked yet" }
        if let error = u.error { return "last check \(clockText(last)) failed: \(error)" }
        let count = u.report?.upgrades.count ?? 0
        return "last check \(clockText(last)): " + (count == 0 ? "up to date" : "\(count) upgrade\(count == 1 ? "" : "s")")
    }

    private static func tabLabels(_ state: UIState) -> [Screen: String] {
        let active = state.activeJobs.count
        return [.backends: "Backends (\(state.snapshot.installed.count))",
                .catalog: "Catalog",
                .jobs: active > 0 ? "Jobs (\(active) active)" : "Jobs (\(state.jobs.count))",
                .detail: "Detail", .settings: "Settings"]
    }

    private static func statusLine(_ state: UIState, _ canvas: Canvas, y: Int) {
        if state.isEditingFilter {
            canvas.put("/" + state.filter + "_", x: 1, y: y, style: Style(.accent, [.bold]))
            canvas.put("  Enter keeps, Esc clears", x: state.filter.cellWidth + 3, y: y, style: Style(.dim))
            return
        }
        var text = ""
        var style = Style(.dim)
        if let message = state.message {
            text = (message.isError ? "error: " : "") + message.text
            style = message.isError ? Style(.error, [.bold]) : Style(.text)
        } else if !state.filter.isEmpty, state.screen == .backends || state.screen == .catalog {
            text = "filter \"\(state.filter)\" (Esc clears)"
        } else if let warning = state.snapshot.galleryWarnings.first {
            text = "warning: " + warning
            style = Style(.warning)
        }
        canvas.put(state.glyphs.truncate(text, canvas.width - 2), x: 1, y: y, style: style, maxWidth: canvas.width - 2)
    }

    private static func footer(_ state: UIState, _ canvas: Canvas) {
        // Help and quit always show; the screen's keys fill the room before them, in key-map order.
        let bindings = KeyMap.bindings(for: state.screen, glyphs: state.glyphs).filter(\.inFooter)
        let last = bindings.filter { $0.action == .help || $0.action == .quit }.map { "\($0.label) \(shortName($0))" }
        let tail = last.joined(separator: "  ")
        var text = " "
        for binding in bindings where binding.action != .help && binding.action != .quit {
            let hint = "\(binding.label) \(shortName(binding))"
            if text.cellWidth + hint.cellWidth + 2 + tail.cellWidth > canvas.width { break }
            text += hint + "  "
        }
        text += tail
        Widgets.bar(canvas, y: canvas.height - 1, text: text, role: .footer)
    }

    /// The footer's one-word name of a binding.
    private static func shortName(_ binding: KeyBinding) -> String {
        switch binding.action {
        case .moveDown: return "move"
        case .openDetail: return "detail"
        case .startFilter: return "filter"
        case .upgradeSelected: return "upgrade"
        case .upgradeAll: return "upgrade all"
        case .reinstallSelected: return "reinstall"
        case .uninstallSelected: return "uninstall"
        case .installSelected: return "install"
        case .checkNow: return "check"
        case .cancelSelectedJob: return "cancel"
        case .clearFinishedJobs: return "clear"
        case .toggleShowAll: return "all"
        case .toggleDevelopment: return "dev builds"
        case .activateSetting: return "change"
        case .adjustSetting: return "next"
        case .escape: return "back"
        case .nextScreen: return "screens"
        case .toggleAutoUpgrade: return "auto-upgrade"
        case .help: return "help"
        case .quit: return "quit"
        default: return binding.description
        }
    }

    /// Help lines that fit on a terminal of `height` rows (the dialog's border, title and footer take six).
    public static func helpRoom(height: Int) -> Int { max(1, height - 6) }

    private static func help(_ state: UIState, _ canvas: Canvas) {
        let help = KeyMap.helpLines(for: state.screen, glyphs: state.glyphs)
        let keyWidth = help.map(\.label.cellWidth).max() ?? 6
        let lines = help.map { $0.label.padding(toLength: keyWidth + 2, withPad: " ", startingAt: 0) + $0.description }
        // Scrolls with j/k when the terminal is shorter than the list.
        let room = helpRoom(height: canvas.height)
        let first = min(state.helpScroll, max(0, lines.count - room))
        let more = lines.count > room ? " (j/k scroll, \(first + 1)-\(min(lines.count, first + room)) of \(lines.count))" : ""
        Widgets.dialog(canvas, title: "Keys: \(state.screen.title)", lines: Array(lines.dropFirst(first)),
                       footer: "Esc, ? or q closes" + more, glyphs: state.glyphs)
    }

    // MARK: - Screens

    private static func selectionStyle(_ selected: Bool, _ role: StyleRole) -> Style {
        selected ? Style(.selection, [.bold]) : Style(role)
    }

    /// Draws list rows `first..<first+visible` with `draw(index, y, selected)`; fills the selection bar first.
    private static func list(_ state: UIState, _ canvas: Canvas, screen: Screen, top: Int, visible: Int, count: Int,
                             rowsPerItem: Int = 1, _ layout: inout FrameLayout, draw: (Int, Int, Bool) -> Void) {
        let selected = UIState.clamp(state.selection[screen] ?? 0, count: count)
        let first = Widgets.scrollOffset(selected: selected, previous: state.scroll[screen] ?? 0, visible: visible, count: count)
        layout.listScreen = screen
        layout.listTop = top
        layout.listFirstIndex = first
        layout.listVisibleItems = min(visible, max(0, count - first))
        layout.rowsPerItem = rowsPerItem
        for i in first..<min(count, first + visible) {
            let y = top + (i - first) * rowsPerItem
            let isSelected = i == selected
            if isSelected { canvas.fill(x: 0, y: y, width: canvas.width, height: 1, style: Style(.selection, [.bold])) }
            canvas.put(isSelected ? state.glyphs.cursor : " ", x: 0, y: y, style: selectionStyle(isSelected, .accent))
            draw(i, y, isSelected)
        }
        if first > 0 { canvas.put("\(state.glyphs.upgrade) more", x: canvas.width - 8, y: top, style: Style(.dim)) }
        if first + visible < count {
            canvas.put("\(count - first - visible) more", x: canvas.width - 10, y: top + visible * rowsPerItem - 1, style: Style(.dim))
        }
    }

    private static func columnHeader(_ canvas: Canvas, y: Int, cells: [(String, Int)], glyphs: Glyphs) {
        Widgets.row(canvas, y: y, x: 2, cells: cells.map { ($0.0, $0.1, Style(.dim, [.bold])) }, glyphs: glyphs)
    }

    private static func backends(_ state: UIState, _ canvas: Canvas, _ body: (top: Int, height: Int), _ layout: inout FrameLayout) {
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
        columnHeader(canvas, y: body.top, cells: [("NAME", nameWidth), ("VERSION", versionWidth), ("UPGRADE", upgradeWidth),
                                                   ("KIND", kindWidth), ("GALLERY", galleryWidth)], glyphs: state.glyphs)
        list(state, canvas, screen: .backends, top: body.top + 1, visible: body.height - 1, count: rows.count, &layout) { i, y, selected in
            let row = rows[i]
            var upgradeText = state.upgrades.upgrade(for: row)?.indicator(arrow: state.glyphs.upgrade) ?? ""
            var upgradeRole = StyleRole.upgrade
            if let job = state.activeJob(for: row.name) {
                upgradeText = "\(job.operation.rawValue) " + (job.percent.map { "\($0)%" } ?? job.stateWord)
                upgradeRole = .accent
            }
            let kind = row.kindMarks(devSuffix: state.snapshot.devSuffix, arrow: state.glyphs.arrow)
            Widgets.row(canvas, y: y, x: 2, cells: [
                (row.name, nameWidth, selectionStyle(selected, .text)),
                (row.versionBadge, versionWidth, selectionStyle(selected, row.broken != nil ? .error : .text)),
                (upgradeText, upgradeWidth, selectionStyle(selected, upgradeRole)),
                (kind, kindWidth, selectionStyle(selected, row.broken != nil ? .error : .dim)),
                (Badges.gallery(row, galleries: state.snapshot.galleries), galleryWidth, selectionStyle(selected, .dim)),
            ], glyphs: state.glyphs)
        }
    }

    private static func catalog(_ state: UIState, _ canvas: Canvas, _ body: (top: Int, height: Int), _ layout: inout FrameLayout) {
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
        columnHeader(canvas, y: body.top + 1, cells: [("NAME", nameWidth), ("VERSION", versionWidth), ("STATE", stateWidth),
                                                       ("RESOLVES TO", resolvesWidth), ("TAGS", tagsWidth)], glyphs: state.glyphs)
        let visible = body.height - 5
        list(state, canvas, screen: .catalog, top: body.top + 2, visible: visible, count: rows.count, &layout) { i, y, selected in
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
                (row.entry.name, nameWidth, selectionStyle(selected, .text)),
                (row.entry.version.isEmpty ? "" : "v" + row.entry.version, versionWidth, selectionStyle(selected, .text)),
                (stateText, stateWidth, selectionStyle(selected, stateRole)),
                (resolves, resolvesWidth, selectionStyle(selected, .dim)),
                (row.entry.tags.joined(separator: ", "), tagsWidth, selectionStyle(selected, .dim)),
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

    /// `name: value` lines of the Detail screen, in the order LocalAI's metadata.json writes them.
    static func detailLines(_ state: UIState, _ row: InstalledBackend) -> [(label: String, value: String, role: StyleRole)] {
        let m = row.metadata
        let g = state.glyphs
        let kind = row.kindMarks(devSuffix: state.snapshot.devSuffix, arrow: g.arrow)
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
            ("size on disk", state.diskUsage[row.name].map(formatBytes) ?? "measuring\(g.ellipsis)", .text),
        ]
        if let broken = row.broken { lines.append(("error", broken, .error)) }
        if let info = state.upgrades.upgrade(for: row) {
            lines.append(("upgrade", info.change(arrow: g.arrow) + "  (u upgrades)", .upgrade))
        } else if state.upgrades.lastCheck != nil {
            lines.append(("upgrade", "up to date at the last check (\(clockText(state.upgrades.lastCheck!)))", .ok))
        } else {
            lines.append(("upgrade", state.upgrades.isChecking ? "checking\(g.ellipsis)" : "not checked yet (c checks)", .dim))
        }
        if let job = state.activeJob(for: row.name) {
            lines.append(("running", "#\(job.job) \(job.operation.rawValue): \(job.stateWord)" + (job.percent.map { " \($0)%" } ?? ""), .accent))
        }
        // This session's jobs first; the engine's history also knows earlier runs, the CLI and the daemon.
        let last = state.jobs.last { $0.isFinished && $0.backend == row.name }?.outcomeText(dash: g.dash)
            ?? state.lastOperations[row.name].map { "\($0.outcome.replacingOccurrences(of: "_", with: " ")) at \(clockText($0.finishedAt)): \($0.message)" }
        lines.append(("last operation", last ?? "none recorded", last == nil ? .dim : .text))
        return lines
    }

    /// Lines that matter most when Detail is too short for all of them; the rest give way, in their order.
    static let importantDetailLabels: Set<String> = ["name", "kind", "version", "error", "upgrade", "running", "last operation"]

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

    private static func detail(_ state: UIState, _ canvas: Canvas, _ body: (top: Int, height: Int)) {
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

    private static func jobs(_ state: UIState, _ canvas: Canvas, _ body: (top: Int, height: Int), _ layout: inout FrameLayout) {
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
        list(state, canvas, screen: .jobs, top: body.top + 1, visible: (body.height - 1) / 2, count: jobs.count, rowsPerItem: 2,
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
            canvas.put(g.truncate(title, titleWidth), x: 2, y: y, style: selectionStyle(selected, .text), maxWidth: titleWidth)
            canvas.put("\(glyph) \(job.stateWord)", x: titleWidth + 4, y: y, style: selectionStyle(selected, role), maxWidth: 16)
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

    /// Label, value and the note lines under it, per Settings row.
    static func settingLines(_ state: UIState, _ item: SettingItem) -> (label: String, value: String, notes: [(String, StyleRole)]) {
        let s = state.snapshot
        switch item {
        case .autoUpgrade:
            guard let setting = state.autoUpgradeSetting else {
                return ("Auto-upgrade backends", "unknown", [(s.settingsError ?? "settings not loaded", .error)])
            }
            var notes: [(String, StyleRole)] = [
                ("auto_upgrade_backends in \(s.configDir)/\(RuntimeSettingsFile.fileName)", .dim),
                ("a running LocalAI picks the file up; while hangar runs, it upgrades flagged backends itself", .dim),
            ]
            if let note = setting.environmentNote {
                notes.append((note + (setting.overriddenByEnvironment ? ": the file value does not apply while it is set" : ""), .warning))
            }
            return ("Auto-upgrade backends", (setting.value.boolValue == true ? "on" : "off") + "  (Enter or a toggles)", notes)
        case .checkInterval:
            return ("Check interval", HangarSettings.formatInterval(state.checkInterval),
                    [("\(state.glyphs == .ascii ? "Left/Right" : "←/→") changes; hangar checks on start and then at this interval", .dim)])
        case .preferDevelopment:
            let on = s.settings?.preferDevelopmentBackends == true
            let setting = s.settings?[.preferDevelopmentBackends]
            var notes: [(String, StyleRole)] = [("Enter toggles; installs pick -development builds first (prefer_development_backends)", .dim)]

            if let note = setting?.environmentNote { notes.append((note, .warning)) }
            return ("Prefer development builds", on ? "on" : "off", notes)
        case .capability:
            let explanation = s.capability.explanation
            let how: String
            switch s.capability.source {
            case .detected: how = "detected"
            default: how = "forced"
            }
            return ("Capability", "\(s.capability.value) (\(how))",
                    [(explanation, .dim), ("set with --capability or LOCALAI_FORCE_META_BACKEND_CAPABILITY", .dim)])
        case .galleries:
            let notes = s.galleries.map { g -> (String, StyleRole) in
                var text = "\(g.gallery.name): \(g.gallery.url) \(state.glyphs.dash) \(g.entryCount) entries"
                if let age = g.cacheAge { text += ", cached copy \(ageText(age)) old" }
                if let error = g.error, g.entryCount == 0 { text += ", failed: \(error)" }
                return (text, g.entryCount == 0 ? .error : .dim)
            }
            return ("Galleries", "\(s.galleries.count) configured", notes.isEmpty ? [("none configured", .warning)] : notes)
        case .theme:
            return ("Theme", state.themeName,
                    [("Enter or \(state.glyphs == .ascii ? "Left/Right" : "←/→") cycles: \(state.themeNames.joined(separator: ", "))"
                      + (state.colorNote.isEmpty ? "" : "; \(state.colorNote)"), .dim)])
        }
    }

    private static func settings(_ state: UIState, _ canvas: Canvas, _ body: (top: Int, height: Int), _ layout: inout FrameLayout) {
        let selected = state.selectedIndex(on: .settings)
        var y = body.top
        layout.listScreen = .settings
        layout.listTop = body.top
        layout.rowsPerItem = 0
        for item in SettingItem.allCases {
            guard y < body.top + body.height else { break }
            let lines = settingLines(state, item)
            let isSelected = item.rawValue == selected
            if isSelected { canvas.fill(x: 0, y: y, width: canvas.width, height: 1, style: Style(.selection, [.bold])) }
            canvas.put(isSelected ? state.glyphs.cursor : " ", x: 0, y: y, style: selectionStyle(isSelected, .accent))
            canvas.put(lines.label, x: 2, y: y, style: selectionStyle(isSelected, .text), maxWidth: 28)
            canvas.put(lines.value, x: 30, y: y, style: selectionStyle(isSelected, .accent), maxWidth: canvas.width - 31)
            y += 1
            for note in lines.notes where y < body.top + body.height {
                canvas.put(state.glyphs.truncate(note.0, canvas.width - 5), x: 4, y: y, style: Style(note.1))
                y += 1
            }
        }
    }
}
