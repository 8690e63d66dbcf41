import ArgumentParser
import Dispatch
import Foundation
import HangarEngine
import Synchronization

/// `hangar daemon`: the UI's background upgrade checker without the UI, for a systemd unit. Logs to stderr.
struct DaemonCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "daemon",
        abstract: "Check for upgrades in the background (and auto-upgrade when enabled) until stopped.",
        discussion: """
            Checks at start and then every interval (check_interval_seconds in <config-dir>/hangar.json, default 6h, \
            re-read each round). When auto_upgrade_backends is on in runtime_settings.json (or \
            LOCALAI_AUTO_UPGRADE_BACKENDS), every backend with an upgrade is upgraded, one job each, giving way to any \
            other operation on it. One line per event on stderr. SIGTERM or SIGINT cancels running jobs (their \
            transactions restore the previous install) and exits 0.
            """)

    @OptionGroup var global: GlobalOptions

    @Option(help: "Time between checks, e.g. 30m, 6h, 1h30m (default: hangar.json's check interval, else 6h).")
    var interval: String?

    @Flag(name: .customLong("auto-upgrade"),
          help: "Auto-upgrade whatever LocalAI's auto_upgrade_backends says (keep that off: LocalAI's own upgrader ignores hangar's holds).")
    var autoUpgrade = false

    func validate() throws {
        if let interval { _ = try Self.parse(interval) }
    }

    func run() throws {
        let engine = try global.engine(origin: "daemon")
        let fixed = try interval.map(Self.parse)
        let settings = engine.hangarSettings
        let log = DaemonLog()
        let checker = UpgradeScheduler(engine: engine,
                                       interval: settings.checkIntervalReader(fixed: fixed) { log.line("warning: \($0)") },
                                       alwaysAutoUpgrade: autoUpgrade)
        log.follow(checker, engine: engine)

        let every = settings.checkIntervalReader(fixed: fixed)()
        let auto = autoUpgrade || (try? engine.settings().autoUpgradeBackends) == true
        log.line("hangar daemon \(Hangar.version) on \(engine.configuration.backendsPath): checking every "
                 + "\(HangarSettings.formatInterval(every)), auto-upgrade \(auto ? "on" : "off")")

        // Signals arrive as Dispatch events on the main queue; nothing else runs there.
        let stopping = Atomic<Bool>(false)
        var sources: [any DispatchSourceSignal] = []
        for signalNumber in [SIGTERM, SIGINT] {
            signal(signalNumber, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: signalNumber, queue: .main)
            let name = signalNumber == SIGTERM ? "SIGTERM" : "SIGINT"
            source.setEventHandler {
                guard !stopping.exchange(true, ordering: .acquiringAndReleasing) else { return }
                log.line("\(name): stopping; running jobs are cancelled and keep the installed versions")
                checker.stop()
                engine.jobs.cancelAll()
                DispatchQueue.global().async {
                    engine.jobs.waitAll()
                    log.line("stopped")
                    log.flush()
                    Output.exit(0)
                }
            }
            source.resume()
            sources.append(source)
        }
        checker.start()
        withExtendedLifetime(sources) { dispatchMain() }
    }

    static func parse(_ text: String) throws -> Double {
        do {
            return try HangarSettings.parseInterval(text, what: "--interval")
        } catch let error as HangarError {
            throw ValidationError(error.message)
        }
    }
}

/// The daemon's stderr log: one timestamped line per event, in order, from one serial queue.
final class DaemonLog: Sendable {
    private let queue = DispatchQueue(label: "hangar.daemon.log")
    /// What was logged last, so a status repeated by a later round is not logged again. Touched only on `queue`.
    private struct Reported {
        var checking = false
        var lastCheck: Date?
        var autoUpgradeJobs: [JobID] = []
        var autoUpgradeSkipped: [String: String] = [:]
    }
    private let reported = Mutex(Reported())

    func line(_ text: String) {
        let stamp = RFC3339.localNow()
        queue.async { Output.stderr("\(stamp) \(text)") }
    }

    func flush() { queue.sync {} }

    /// Logs each check (start, result, every available upgrade, what auto-upgrade did) and each job's end.
    func follow(_ checker: UpgradeScheduler, engine: Engine) {
        checker.subscribe(on: queue) { [self] status in log(status) }
        engine.jobs.subscribe(on: queue) { [self] event in
            switch event.kind {
            case .queued, .phase, .progress, .nodes: return
            default:
                if let text = event.kind.line() { write("auto-\(event.operation.rawValue) \(event.backend) (job \(event.job)): \(text)") }
            }
        }
    }

    /// Runs on `queue`.
    private func log(_ status: UpgradeCheckStatus) {
        let before = reported.withLock { r in
            defer {
                r.checking = status.isChecking
                r.lastCheck = status.lastCheck
                r.autoUpgradeJobs = status.autoUpgradeJobs
                r.autoUpgradeSkipped = status.autoUpgradeSkipped
            }
            return r
        }
        if status.isChecking && !before.checking { write("check started") }
        guard !status.isChecking, let when = status.lastCheck, when != before.lastCheck else { return }
        if let error = status.error {
            write("check failed: \(error)" + (status.report == nil ? "" : " (keeping the previous result)"))
            return
        }
        let upgrades = status.report?.upgrades ?? [:]
        write("check finished: \(upgrades.count) upgrade\(upgrades.count == 1 ? "" : "s") available")
        for warning in status.report?.warnings ?? [] { write("warning: \(warning)") }
        for name in upgrades.keys.sorted() { write("upgrade available: \(name) \(upgrades[name]!.changeText)") }
        if status.autoUpgradeJobs != before.autoUpgradeJobs && !status.autoUpgradeJobs.isEmpty {
            let jobs = status.autoUpgradeJobs.map { "job \($0)" }.joined(separator: ", ")
            write("auto-upgrade: \(status.autoUpgradeJobs.count) upgrade\(status.autoUpgradeJobs.count == 1 ? "" : "s") queued (\(jobs))")
        }
        if status.autoUpgradeSkipped != before.autoUpgradeSkipped {
            for name in status.autoUpgradeSkipped.keys.sorted() {
                write("auto-upgrade \(name) skipped: \(status.autoUpgradeSkipped[name]!)")
            }
        }
    }

    private func write(_ text: String) { Output.stderr("\(RFC3339.localNow()) \(text)") }
}
