import Dispatch
import Foundation
import Synchronization

/// What the background checker last found.
public struct UpgradeCheckStatus: Sendable, Equatable {
    /// When the last check finished (successfully or not); nil before the first one.
    public var lastCheck: Date?
    public var isChecking: Bool
    /// The last successful report, kept when a later check fails (as LocalAI keeps its cache).
    public var report: UpgradeReport?
    /// Why the last check failed; nil when it succeeded.
    public var error: String?
    /// The jobs the last auto-upgrade round submitted (one per flagged backend).
    public var autoUpgradeJobs: [JobID]
    /// Backends the last auto-upgrade round left alone, with the reason (busy with another job, or the same
    /// upgrade already failed and is not retried until the gallery offers something else).
    public var autoUpgradeSkipped: [String: String]

    public init(lastCheck: Date? = nil, isChecking: Bool = false, report: UpgradeReport? = nil, error: String? = nil,
                autoUpgradeJobs: [JobID] = [], autoUpgradeSkipped: [String: String] = [:]) {
        self.lastCheck = lastCheck
        self.isChecking = isChecking
        self.report = report
        self.error = error
        self.autoUpgradeJobs = autoUpgradeJobs
        self.autoUpgradeSkipped = autoUpgradeSkipped
    }
}

/// LocalAI's background upgrade checker (spec §6), on Dispatch: a check after `initialDelay`, then every
/// `interval()` seconds (read each round), plus coalesced on-demand checks. When auto-upgrade is on at check time,
/// every flagged backend is upgraded as a background job in the engine's queue (visible like any other job, giving
/// way to a manual operation on the same backend), and a fresh check follows once those jobs finished.
/// Better than LocalAI: an auto-upgrade that failed is not retried every round for the same available version.
public final class UpgradeScheduler: Sendable {
    /// Why a round runs: only scheduled and requested checks may start auto-upgrades; the refresh after them
    /// may not, or a broken new version would be retried in a loop.
    enum Reason: Sendable { case scheduled, requested, afterAutoUpgrade }

    private struct Subscriber: Sendable {
        let queue: DispatchQueue
        let handler: @Sendable (UpgradeCheckStatus) -> Void
    }

    private struct State {
        var status = UpgradeCheckStatus()
        var subscribers: [Int: Subscriber] = [:]
        var nextSubscriber = 1
        /// Bumped by start and stop, so timers of an earlier run fire into nothing.
        var generation = 0
        var running = false
        var requestPending = false
        /// Backend → the upgrade ("v1.1.0" or a digest) whose auto-upgrade failed.
        var failedAutoUpgrades: [String: String] = [:]
        /// An auto-upgrade round's jobs are still running: later checks report but start no upgrades, so each
        /// round sees what the previous one achieved (LocalAI upgrades sequentially inside its check).
        var autoUpgradeInFlight = false
        /// The checker's own subscription to the engine's job events.
        var jobSubscription: Int?
    }

    public let engine: Engine
    private let interval: @Sendable () -> Double
    private let initialDelay: Double
    /// Auto-upgrade regardless of LocalAI's `auto_upgrade_backends` (`hangar daemon --auto-upgrade`), so it can stay
    /// off for LocalAI, whose own upgrader does not respect hangar's holds.
    private let alwaysAutoUpgrade: Bool
    private let queue = DispatchQueue(label: "hangar.upgrade-checker")
    private let state = Mutex(State())

    public init(engine: Engine, interval: @escaping @Sendable () -> Double, initialDelay: Double = 0,
                alwaysAutoUpgrade: Bool = false) {
        self.engine = engine
        self.interval = interval
        self.initialDelay = initialDelay
        self.alwaysAutoUpgrade = alwaysAutoUpgrade
        let subscription = engine.jobs.subscribe(on: queue) { [weak self] event in self?.jobFinished(event) }
        state.withLock { $0.jobSubscription = subscription }
    }

    deinit {
        if let id = state.withLock({ $0.jobSubscription }) { engine.jobs.unsubscribe(id) }
    }

    /// Starts the schedule: a check after `initialDelay`, then every `interval()` seconds. A second call restarts it.
    public func start() {
        let generation = state.withLock { s in
            s.generation += 1
            s.running = true
            return s.generation
        }
        schedule(after: initialDelay, generation: generation)
    }

    /// Keeps the schedule running but makes the next check come `interval()` seconds from now (a changed interval
    /// must not check at once, nor start auto-upgrades). Starts the schedule when it was stopped.
    public func reschedule() {
        let generation = state.withLock { s in
            s.generation += 1
            s.running = true
            return s.generation
        }
        schedule(after: interval(), generation: generation)
    }

    /// Stops the schedule; a check already under way finishes, jobs it submitted keep running in the engine.
    public func stop() {
        state.withLock { s in
            s.generation += 1
            s.running = false
        }
    }

    /// Requests a check now without waiting for it; calls while one is still pending coalesce into it.
    /// `refreshGalleries` (a user's "check now") fetches the galleries again instead of using the in-memory copy.
    public func checkNow(refreshGalleries: Bool = false) {
        if refreshGalleries { engine.refreshGalleries() }
        let enqueue = state.withLock { s in
            if s.requestPending { return false }
            s.requestPending = true
            return true
        }
        if enqueue { queue.async { [self] in round(.requested) } }
    }

    public var status: UpgradeCheckStatus { state.withLock { $0.status } }

    /// Delivers the current status at once, then every change, to `handler` on `queue`.
    @discardableResult
    public func subscribe(on queue: DispatchQueue, _ handler: @escaping @Sendable (UpgradeCheckStatus) -> Void) -> Int {
        let (id, current) = state.withLock { s in
            let id = s.nextSubscriber
            s.nextSubscriber += 1
            s.subscribers[id] = Subscriber(queue: queue, handler: handler)
            return (id, s.status)
        }
        queue.async { handler(current) }
        return id
    }

    public func unsubscribe(_ id: Int) {
        state.withLock { _ = $0.subscribers.removeValue(forKey: id) }
    }

    // MARK: - Rounds (all on `queue`)

    private func schedule(after delay: Double, generation: Int) {
        queue.asyncAfter(deadline: .now() + max(0, delay)) { [weak self] in
            guard let self, state.withLock({ $0.running && $0.generation == generation }) else { return }
            round(.scheduled)
            // Read the interval each round, so a changed setting applies from the next check on.
            schedule(after: max(0.001, interval()), generation: generation)
        }
    }

    private func round(_ reason: Reason) {
        if reason == .requested { state.withLock { $0.requestPending = false } }
        update { $0.isChecking = true }
        let result = Result { try engine.checkUpgrades() }
        var submitted: [(name: String, target: String, id: JobID)]?
        var skipped: [String: String] = [:]
        // Remote mode: the server's own checker auto-upgrades (spec §9.2); hangar doing it too would race it (G16).
        if reason != .afterAutoUpgrade, engine.configuration.server == nil, case .success(let report) = result, !report.upgrades.isEmpty,
           !state.withLock({ $0.autoUpgradeInFlight }),
           alwaysAutoUpgrade || (try? engine.settings().autoUpgradeBackends) == true {
            (submitted, skipped) = submitAutoUpgrades(report)
            if submitted?.isEmpty == false { state.withLock { $0.autoUpgradeInFlight = true } }
        }
        // One update, so a subscriber never sees the check finished without the jobs it started.
        update { s in
            s.isChecking = false
            s.lastCheck = Date()
            switch result {
            case .success(let report):
                s.report = report
                s.error = nil
            case .failure(let error):
                s.error = (error as? HangarError)?.message ?? "\(error)"
            }
            if let submitted {
                s.autoUpgradeJobs = submitted.map(\.id)
                s.autoUpgradeSkipped = skipped
            }
        }
        if let submitted, !submitted.isEmpty { refresh(after: submitted) }
    }

    /// A successful upgrade, reinstall or uninstall makes that backend's entry in the report stale: it is dropped at
    /// once, so no indicator shows a done upgrade even when the next check fails.
    private func jobFinished(_ event: JobEvent) {
        guard case .done = event.kind, event.operation != .install else { return }
        let installed = try? engine.installed().rows.first { $0.name == event.backend }
        let names = Set(installed?.upgradeNames ?? []).union([event.backend])
        let stale = state.withLock { s in s.status.report.map { !Set($0.upgrades.keys).isDisjoint(with: names) } ?? false }
        guard stale else { return }
        update { s in
            for name in names { s.report?.upgrades[name] = nil }
        }
    }

    /// One background upgrade job per flagged backend, except those busy or whose same upgrade already failed.
    private func submitAutoUpgrades(_ report: UpgradeReport) -> ([(name: String, target: String, id: JobID)], [String: String]) {
        var jobs: [(name: String, target: String, id: JobID)] = []
        var skipped: [String: String] = [:]
        let failed = state.withLock { $0.failedAutoUpgrades }
        let holds = (try? engine.holds()) ?? [:]
        for name in report.upgrades.keys.sorted() {
            let target = Self.describeTarget(report.upgrades[name]!)
            if let hold = holds[name] {
                skipped[name] = "\(hold.text); auto-upgrade leaves it alone"
                continue
            }
            if failed[name] == target {
                skipped[name] = "auto-upgrade to \(target) failed before; not retried until the gallery offers another"
                continue
            }
            if engine.history.isActive(name) {
                skipped[name] = "another operation on \(name) is queued or running; auto-upgrade gave way"
                continue
            }
            do {
                jobs.append((name, target, try engine.upgrade(name, background: true)))
            } catch {
                skipped[name] = (error as? HangarError)?.message ?? "\(error)"
            }
        }
        return (jobs, skipped)
    }

    /// Waits off the checker's queue for the auto-upgrade jobs, remembers which failed, then checks again.
    private func refresh(after jobs: [(name: String, target: String, id: JobID)]) {
        let engine = engine
        DispatchQueue.global().async { [weak self] in
            var failures: [String: String] = [:]
            var successes: [String] = []
            for job in jobs {
                switch engine.jobs.wait(job.id) {
                case .failed, .rolledBack: failures[job.name] = job.target
                case .succeeded: successes.append(job.name)
                case .cancelled, .skipped: break
                }
            }
            guard let self else { return }
            state.withLock { s in
                for name in successes { s.failedAutoUpgrades[name] = nil }
                s.failedAutoUpgrades.merge(failures) { $1 }
                s.autoUpgradeInFlight = false
            }
            queue.async { self.round(.afterAutoUpgrade) }
        }
    }

    /// "v1.1.0", or the available digest when only the build changed.
    static func describeTarget(_ info: UpgradeInfo) -> String {
        info.availableVersion.isEmpty ? (info.availableDigest.isEmpty ? "new build" : info.availableDigest) : "v" + info.availableVersion
    }

    private func update(_ change: (inout UpgradeCheckStatus) -> Void) {
        let (status, targets) = state.withLock { s in
            change(&s.status)
            return (s.status, Array(s.subscribers.values))
        }
        for target in targets { target.queue.async { target.handler(status) } }
    }
}
