import Foundation
import HangarEngine
import HangarFixtures
import Synchronization

/// Section 3: the real `hangar` UI under a private tmux server, on the real 1,033-entry gallery with 50 installed
/// backends: first full frame, idle CPU, progress redraws during a throttled copy, peak memory. Each figure sits
/// beside a baseline measured the same way in the same run.
struct TUISection: BenchSection {
    let id = "tui"
    let title = "terminal UI under tmux (real 1,033-entry gallery, 50 installed backends)"
    /// Goals of issue 4; the memory goal is issue 11's.
    let firstFrameGoalMs = 150.0
    let idleCPUGoalPercent = 1.0
    let redrawIntervalGoalMs = 250.0
    let memoryGoalMiB = 32.0
    /// How long the idle UI is watched.
    let idleSeconds = 10.0

    func run(_ options: BenchOptions) throws -> BenchReport {
        let hangar: String
        do {
            hangar = try HangarExecutable.path()
        } catch {
            throw TUIBenchError("\(error) (the UI benchmark drives the real binary: swift build -c release first)")
        }
        let site = try TUIBenchSite(gallery: options.galleryPath, hangar: hangar)
        defer { site.remove() }
        let session = try TmuxSession(command: "exec sleep 100000", width: 120, height: 35, scratch: site.root)

        // 1. First full frame vs the same data read by `hangar list --available` (gallery parse + listing, no UI).
        var baseline = Timing(id: "list_available", "a) hangar list --available > /dev/null, until its pane ends")
        var firstFrame = Timing(id: "first_frame", "b) hangar UI: spawn → full frame, gallery counted")
        let rounds = min(options.iterations, 20)
        for round in 0..<(rounds + 2) {
            let listed = try measureFrame(session) {
                try session.respawn(site.command(["list", "--available"], then: "true"))
            } until: { _ in session.paneFormat("#{pane_dead}") == "1" }
            let framed = try measureFrame(session) {
                try session.respawn(site.command([], exec: true))
            } until: { screen in
                let lines = screen.components(separatedBy: "\n")
                // Full means with the gallery read: the header counts its entries (the UI may draw the installed list
                // before the gallery arrives; that earlier frame does not count).
                return lines.count >= 35 && lines[34].contains("Enter detail") && lines[0].contains("hangar")
                    && lines[1].range(of: #"localai \d+ entries"#, options: .regularExpression) != nil
                    && screen.contains(site.installedNames[0])
            }
            if round >= 2 {  // two warm-up rounds: page cache and dyld, as for every other section
                baseline.samples.append(listed)
                firstFrame.samples.append(framed)
            }
        }

        // 2. Idle CPU of the UI left running from the last round, beside the tmux server rendering it.
        guard let uiPID = session.panePID, let serverPID = pid_t(session.paneFormat("#{pid}")) else {
            throw TUIBenchError("cannot find the UI's process id through tmux")
        }
        usleep(1_500_000)  // let the start-up check finish before watching
        let uiBefore = try cpuTicks(uiPID), serverBefore = try cpuTicks(serverPID)
        let idleStart = Date()
        usleep(UInt32(idleSeconds * 1_000_000))
        let elapsed = Date().timeIntervalSince(idleStart)
        let ticksPerSecond = Double(sysconf(Int32(_SC_CLK_TCK)))
        let uiCPU = Double(try cpuTicks(uiPID) - uiBefore) / ticksPerSecond / elapsed * 100
        let serverCPU = Double(try cpuTicks(serverPID) - serverBefore) / ticksPerSecond / elapsed * 100

        // 3. Progress redraws while a throttled copy runs, against the progress events the engine itself emits for
        //    the same copy (the UI cannot show more than it is told).
        let engineEvents = try site.engineProgressEvents()
        let redraws = try progressRedraws(session, site: site)

        // 4. Peak memory of the UI (still running) against `hangar list --available` on the same data.
        let uiPeakKiB = try statusKiB(uiPID, "VmHWM")
        let uiAnonKiB = try statusKiB(uiPID, "RssAnon"), uiFileKiB = try statusKiB(uiPID, "RssFile")
        let listPeakKiB = try site.peakMemoryOfList()

        var report = BenchReport(id: id, section: title)
        report.timings = [baseline, firstFrame]
        let redrawInterval = redraws.perSecond > 0 ? 1000 / redraws.perSecond : .infinity
        report.checks = [
            BenchCheck(id: "first_frame_ms", label: "b) first frame, median", value: firstFrame.median, goal: firstFrameGoalMs, unit: " ms"),
            BenchCheck(id: "idle_cpu_percent", label: "idle CPU over \(Int(idleSeconds)) s", value: uiCPU, goal: idleCPUGoalPercent, unit: " %"),
            BenchCheck(id: "progress_redraw_interval_ms", label: "progress redraw interval", value: redrawInterval,
                       goal: redrawIntervalGoalMs, unit: " ms"),
            BenchCheck(id: "peak_memory_mib", label: "UI peak RSS (VmHWM)", value: Double(uiPeakKiB) / 1024, goal: memoryGoalMiB, unit: " MiB"),
        ]
        report.facts = [
            ("installed backends", "\(site.installedNames.count) from the real gallery, plus 1 local one to upgrade"),
            ("first frame / list --available (median)", format(firstFrame.median / baseline.median) + "×"),
            ("idle CPU: UI / tmux server", "\(format(uiCPU, decimals: 3)) % / \(format(serverCPU, decimals: 3)) %"),
            ("progress redraws", "\(redraws.distinct) distinct percentages in \(format(redraws.seconds)) s = "
                + "\(format(redraws.perSecond, decimals: 1))/s (goal ≥ 4/s)"),
            ("engine progress events for the same copy", "\(format(engineEvents, decimals: 1))/s; UI shows "
                + format(redraws.perSecond / engineEvents * 100, decimals: 0) + " % of them"),
            ("peak RSS: UI / list --available", "\(format(Double(uiPeakKiB) / 1024, decimals: 1)) MiB / "
                + "\(format(Double(listPeakKiB) / 1024, decimals: 1)) MiB = " + format(Double(uiPeakKiB) / Double(listPeakKiB)) + "×"),
            ("UI resident at the end", "\(format(Double(uiAnonKiB) / 1024, decimals: 1)) MiB of its own (RssAnon) + "
                + "\(format(Double(uiFileKiB) / 1024, decimals: 1)) MiB of mapped libraries (RssFile: the pages of the binary it touched, ncurses, libyaml)"),
        ]
        return report
    }

    /// Upgrades the local backend from the UI and counts the distinct percentages shown on the Jobs screen.
    private func progressRedraws(_ session: TmuxSession, site: TUIBenchSite) throws -> (distinct: Int, seconds: Double, perSecond: Double) {
        // `u` acts on a backend the check has flagged: wait for the check's result in the header.
        try waitForScreen(session, "the upgrade check's result") { $0.contains("last check") }
        try session.send("/")
        try session.send(TUIBenchSite.payloadBackend, literal: true)
        try session.send("Enter")
        try waitForScreen(session, "the filtered row") { $0.contains("▸ \(TUIBenchSite.payloadBackend)") }
        try session.send("u")
        try session.send("4")
        var seen = Set<String>()
        var first: ContinuousClock.Instant?
        var last = ContinuousClock.now
        let clock = ContinuousClock()
        let deadline = clock.now + .seconds(60)
        while clock.now < deadline {
            let lines = session.lines
            guard let title = lines.firstIndex(where: { $0.contains("upgrade \(TUIBenchSite.payloadBackend)") }) else { continue }
            let row = lines[title] + "\n" + (title + 1 < lines.count ? lines[title + 1] : "")
            if row.contains("done") { break }
            if row.contains("failed") || row.contains("rolled back") { throw TUIBenchError("the benchmark upgrade failed:\n\(row)") }
            // Only the percentage counts: speed and ETA text change on their own and are not progress.
            if let percent = row.range(of: #"\d+%"#, options: .regularExpression), seen.insert(String(row[percent])).inserted {
                if first == nil { first = clock.now }
                last = clock.now
            }
        }
        guard let first, seen.count > 1 else { throw TUIBenchError("no progress seen on the Jobs screen:\n\(session.screen())") }
        let seconds = milliseconds(last - first) / 1000
        return (seen.count, seconds, Double(seen.count - 1) / max(seconds, 0.001))
    }
}
