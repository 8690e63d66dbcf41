import Foundation
import HangarEngine
import HangarFixtures

/// The UI on a LocalAI server (the stand-in: real HTTP on 127.0.0.1) with 40 installed backends, through a proxy that
/// adds 50 ms to every request: the first full frame against the same 40 backends read from the directory, a running
/// job's progress against the poll interval, and what an idle UI costs the server and the machine.
struct RemoteUISection: BenchSection {
    let id = "remote_ui"
    let title = "terminal UI on a LocalAI server (40 backends) through a proxy adding 50 ms per request"
    let delay = 0.05
    let backends = 40
    /// Issue 8's goals: the first frame at most three round trips above the local one, progress on screen within
    /// one poll interval, an idle UI at most one request per 10 s and under 1 % CPU.
    let extraRoundTripsGoal = 3.0
    let pollInterval = 1.0
    let idleSeconds = 25.0

    func run(_ options: BenchOptions) throws -> BenchReport {
        let hangar = try HangarExecutable.path()
        let entries = (1...backends).map { n in
            LocalAIStandIn.Entry(name: String(format: "bench-%02d", n), version: "1.1.0",
                                 digest: "sha256:" + String(repeating: String(format: "%x", n % 16), count: 64), size: 8 << 20)
        }
        // Slow enough ticks that progress is on screen for several polls.
        let standIn = try LocalAIStandIn(gallery: entries, tick: 0.25, ticks: 16)
        defer { standIn.stop() }
        for entry in entries {
            try standIn.preinstall(entry, version: "1.0.0", digest: "sha256:" + String(repeating: "0", count: 64))
        }
        standIn.runCheckNow()
        let proxy = try DelayProxy(upstreamPort: standIn.port, delay: delay)
        defer { proxy.stop() }
        let root = try makeTemporaryDirectory("bench-remote-ui")
        defer { removeTree(root) }
        // The local baseline reads the same directory with the same 40 entries as its gallery.
        let gallery = root + "/gallery.yaml"
        try HangarFixtures.write(path: gallery, text: entries.map {
            "- name: \($0.name)\n  uri: \($0.uri)\n  version: \($0.version)\n"
        }.joined())
        let base = ["PATH": "/usr/bin:/bin", "HOME": root, "TERM": "xterm-256color", "LC_ALL": "C.UTF-8"]
        let local = base.merging(["LOCALAI_BACKENDS_PATH": standIn.backendsPath,
                                  "LOCALAI_BACKEND_GALLERIES": "[{\"name\":\"bench\",\"url\":\"file://\(gallery)\"}]"]) { $1 }
        let remote = base.merging(["HANGAR_SERVER": "http://" + proxy.hostPort,
                                   "HANGAR_SERVER_POLL_INTERVAL": String(pollInterval)]) { $1 }
        func command(_ environment: [String: String]) -> String {
            "cd \(shellQuote(root)) && exec " + envCommand(environment, [hangar])
        }
        let roundTrip = try measureRoundTrip(proxy)

        // 1. First full frame: header, footer, the first backend and the gallery counted.
        let session = try TmuxSession(command: "exec sleep 100000", width: 120, height: 35, scratch: root)
        func full(_ screen: String) -> Bool {
            let lines = screen.components(separatedBy: "\n")
            return lines.count >= 35 && lines[34].contains("Enter detail") && lines[0].contains("hangar")
                && lines[1].range(of: #"(bench|server) \#(backends) entries"#, options: .regularExpression) != nil
                && screen.contains("bench-01")
        }
        var localFrame = Timing(id: "local_first_frame", "a) UI on the directory: spawn → full frame")
        var remoteFrame = Timing(id: "remote_first_frame", "b) UI on the server through the proxy: spawn → full frame")
        let rounds = min(options.iterations, 10)
        for round in 0..<(rounds + 1) {
            let l = try measureFrame(session, { try session.respawn(command(local)) }, until: full)
            let r = try measureFrame(session, { try session.respawn(command(remote)) }, until: full)
            if round >= 1 {
                localFrame.samples.append(l)
                remoteFrame.samples.append(r)
            }
        }
        let extraRoundTrips = (remoteFrame.median - localFrame.median) / (roundTrip * 1000)

        // 2. Idle: the remote UI from the last round, once its start-up check is over.
        try waitForScreen(session, "the start-up check", timeout: 20) { $0.contains("last check") }
        usleep(1_500_000)
        guard let uiPID = session.panePID else { throw TUIBenchError("cannot find the UI's process id through tmux") }
        let requestsBefore = standIn.requests.count, ticksBefore = try cpuTicks(uiPID)
        let idleStart = Date()
        // When each request arrived (sampled every 20 ms): the rate is 10 s over the shortest gap between two.
        var arrivals: [Double] = []
        var seen = requestsBefore
        while Date().timeIntervalSince(idleStart) < idleSeconds {
            usleep(20_000)
            let count = standIn.requests.count
            if count > seen { arrivals += Array(repeating: MonotonicClock.now(), count: count - seen) }
            seen = count
        }
        let elapsed = Date().timeIntervalSince(idleStart)
        let idleRequests = standIn.requests.count - requestsBefore
        let idleCPU = Double(try cpuTicks(uiPID) - ticksBefore) / Double(sysconf(Int32(_SC_CLK_TCK))) / elapsed * 100
        let shortestGap = zip(arrivals, arrivals.dropFirst()).map { $1 - $0 }.min()
        let requestsPer10s = shortestGap.map { 10 / max($0, 0.001) } ?? Double(idleRequests)

        // 3. A running job: how long after the server reports progress (and the end) the screen shows it.
        try session.send("u")
        let clock = ContinuousClock()
        let deadline = clock.now + .seconds(60)
        var progressShown: Double?, doneShown: Double?
        while clock.now < deadline, doneShown == nil {
            let lines = session.lines
            let now = MonotonicClock.now()
            if progressShown == nil, lines.contains(where: { $0.contains("bench-01") && $0.range(of: #"\d+%"#, options: .regularExpression) != nil }) {
                progressShown = now
            }
            if progressShown != nil, lines.contains(where: { $0.contains("bench-01") && $0.contains("v1.1.0") && !$0.contains("%") && !$0.contains("↑") }) {
                doneShown = now
            }
        }
        guard let progressShown, let doneShown, let timeline = standIn.timeline(of: "bench-01"),
              let serverProgress = timeline.firstProgress, let serverDone = timeline.finished else {
            throw TUIBenchError("the upgrade of bench-01 was not seen through to the end:\n\(session.screen())")
        }
        let progressLag = (progressShown - serverProgress) * 1000
        let doneLag = (doneShown - serverDone) * 1000

        var report = BenchReport(id: id, section: title)
        report.timings = [localFrame, remoteFrame]
        report.checks = [
            BenchCheck(id: "first_frame_extra_round_trips", label: "b − a in round trips (median)", value: extraRoundTrips,
                       goal: extraRoundTripsGoal, unit: " RTT"),
            BenchCheck(id: "progress_lag_ms", label: "server's first progress → on screen", value: progressLag,
                       goal: pollInterval * 1000 + roundTrip * 1000, unit: " ms"),
            BenchCheck(id: "done_lag_ms", label: "server's job done → row shows the new version", value: doneLag,
                       goal: pollInterval * 1000 + 4 * roundTrip * 1000, unit: " ms"),
            BenchCheck(id: "idle_requests_per_10s", label: "idle requests per 10 s (10 s / shortest gap)", value: requestsPer10s,
                       goal: 1, unit: ""),
            BenchCheck(id: "idle_cpu_percent", label: "idle CPU over \(Int(idleSeconds)) s", value: idleCPU, goal: 1, unit: " %"),
        ]
        report.facts = [
            ("round trip through the proxy (median of 10 GET /healthz)", format(roundTrip * 1000, decimals: 1) + " ms"),
            ("first frame: server / directory (median)", format(remoteFrame.median) + " ms / " + format(localFrame.median)
                + " ms: +" + format(remoteFrame.median - localFrame.median, decimals: 1) + " ms"),
            ("job polling", "every \(format(pollInterval, decimals: 1)) s (HANGAR_SERVER_POLL_INTERVAL); the done lag includes the re-read of the listing"),
            ("idle", "\(idleRequests) requests in \(format(elapsed, decimals: 1)) s, shortest gap "
                + (shortestGap.map { format($0, decimals: 2) + " s" } ?? "n/a") + " (one GET /backends per HANGAR_SERVER_IDLE_POLL, 10 s)"),
        ]
        return report
    }

    /// The median time of a small request through the proxy: what one round trip costs hangar here.
    private func measureRoundTrip(_ proxy: DelayProxy) throws -> Double {
        let client = HTTPClient()
        var samples: [Double] = []
        for _ in 0..<10 {
            let start = MonotonicClock.now()
            _ = try client.send(HTTPRequest(url: "http://\(proxy.hostPort)/healthz"))
            samples.append(MonotonicClock.now() - start)
        }
        return samples.sorted()[samples.count / 2]
    }
}
