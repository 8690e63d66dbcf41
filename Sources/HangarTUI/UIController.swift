import Dispatch
import Foundation
import HangarEngine

/// Runs the state machine against a real engine: applies keys, turns effects into engine commands (which run on
/// the engine's queues), folds job events that arrive on the main queue, and redraws only when something changed.
@MainActor
public final class UIController {
    public let engine: Engine
    /// The background checker whose results the header and the indicators show.
    public let checker: UpgradeScheduler
    public internal(set) var state: UIState
    /// Draws one frame; set by the terminal driver (tests leave it nil and render the state themselves).
    var draw: ((UIState) -> FrameLayout)?
    /// Called when the user quits; `cancelJobs` tells whether running jobs must be cancelled first.
    var onQuit: ((Bool) -> Void)?
    /// Called when the theme changes in Settings; returns an error text when the theme cannot be used.
    var onThemeChange: ((String) -> String?)?
    private var layout = FrameLayout()
    private var redrawScheduled = false
    private var ticker: DispatchSourceTimer?
    /// Once a minute, so "checked 2 min ago" stays true on an idle screen.
    private var clock: DispatchSourceTimer?
    private var subscription: Int?
    private var checkerSubscription: Int?
    private let background = DispatchQueue(label: "hangar.tui.load", qos: .userInitiated)
    private let sizing = DispatchQueue(label: "hangar.tui.sizes", qos: .utility)
    /// Bumped with each new listing, so sizes measured for an older one are not applied to it.
    private var snapshotGeneration = 0
    private let clockStart = MonotonicClock.now()
    private var measuring: Set<String> = []
    /// A reload runs; further requests wait for it and then coalesce into one more.
    private var reloadInFlight = false
    private var reloadPending = false
    /// Bumped by every settings write, so a reload that read the settings before it does not undo it on screen.
    private var settingsGeneration = 0
    /// A job succeeded since the last re-check; the re-check waits until no job is active.
    private var recheckWhenIdle = false
    /// The user pressed c: when that check ends, the Catalog is re-read from the galleries it fetched.
    private var reloadAfterCheck = false
    /// Remote mode: the next look at the server (every `serverPollInterval` while it answers, sooner with backoff
    /// after it stopped answering), and a once-a-second redraw of "retrying in N s" meanwhile.
    private var serverPoll: DispatchSourceTimer?
    private var retryCountdown: DispatchSourceTimer?
    /// Polls in a row the server did not answer (the backoff's exponent).
    private var serverFailures = 0

    public init(engine: Engine, checker: UpgradeScheduler, snapshot: EngineSnapshot, glyphs: Glyphs) {
        self.engine = engine
        self.checker = checker
        state = UIState(snapshot: snapshot, glyphs: glyphs)
        state.now = monotonicNow()
        do {
            state.checkInterval = try engine.hangarSettings.load().checkInterval
        } catch {
            state.message = ("\(error)", true)
        }
    }

    /// Subscribes to job events and checker results (both delivered on the main queue) and starts the checker,
    /// which checks at once and then every interval.
    public func start() {
        subscription = engine.jobs.subscribe(on: .main) { [weak self] event in
            MainActor.assumeIsolated { self?.apply(event) }
        }
        checkerSubscription = checker.subscribe(on: .main) { [weak self] status in
            MainActor.assumeIsolated { self?.apply(status) }
        }
        checker.start()
        measureDiskUsage()
        startClock()
        if state.snapshot.server != nil { serverAnswered(state.snapshot.installedError == nil ? nil : state.snapshot.server) }
    }

    /// Unsubscribes and stops the checker and the ticker; jobs keep running in the engine.
    public func stop() {
        if let subscription { engine.jobs.unsubscribe(subscription) }
        if let checkerSubscription { checker.unsubscribe(checkerSubscription) }
        checker.stop()
        ticker?.cancel()
        ticker = nil
        clock?.cancel()
        clock = nil
        serverPoll?.cancel()
        serverPoll = nil
        retryCountdown?.cancel()
        retryCountdown = nil
    }

    private func monotonicNow() -> Double { MonotonicClock.now() - clockStart }

    // MARK: - Input

    /// One key from the terminal.
    public func handle(_ key: Key) {
        let effects = state.handle(key)
        execute(effects)
        setNeedsDisplay()
    }

    /// Everything the terminal delivered in one read: keys, clicks and wheel notches, in order.
    func handle(_ events: [TerminalInput]) {
        for event in events {
            switch event {
            case .key(let key): handle(key)
            case .click(let x, let y): click(x: x, y: y)
            case .wheel(let delta): scroll(by: delta)
            }
        }
    }

    /// A mouse click at a cell: tabs switch screens, list rows select (a second click on the selection opens it).
    public func click(x: Int, y: Int) {
        guard state.confirmation == nil, !state.showHelp else { return }
        if let tab = layout.tabs.first(where: { y == 2 && $0.columns.contains(x) }) {
            _ = state.perform(.show(tab.screen))
        } else if let index = layout.listIndex(atRow: y) {
            if state.selectedIndex(on: state.screen) == index, state.screen != .settings {
                execute(state.perform(.openDetail))
            } else {
                state.select(index, on: state.screen)
            }
        }
        setNeedsDisplay()
    }

    /// Mouse wheel: one row per notch.
    public func scroll(by delta: Int) {
        _ = state.perform(delta < 0 ? .moveUp : .moveDown)
        setNeedsDisplay()
    }

    /// The terminal changed size: lay out again at once.
    public func resized() { redraw() }

    // MARK: - Engine events

    /// Folds one job event into the Jobs rows; a finished job reloads the listing (coalesced), and once no job is
    /// active after a success, upgrades are checked again.
    public func apply(_ event: JobEvent) {
        state.now = monotonicNow()
        if let i = state.jobs.firstIndex(where: { $0.job == event.job }) {
            state.jobs[i].apply(event.kind, now: state.now)
        } else {
            var row = JobRow(job: event.job, operation: event.operation, backend: event.backend)
            row.apply(event.kind, now: state.now)
            state.jobs.append(row)
        }
        if event.isTerminal {
            state.diskUsage[event.backend] = nil
            if let row = state.jobs.first(where: { $0.job == event.job }), let text = row.outcomeText(dash: state.glyphs.dash) {
                let failed: Bool
                switch row.state {
                case .failed, .rolledBack: failed = true
                default: failed = false
                }
                state.message = ("#\(row.job) \(text)", failed)
            }
            reload()
            // As LocalAI does after successful operations, but once for a batch (`U` on 40 backends is one check).
            if case .done = event.kind { recheckWhenIdle = true }
            offerModelRestart(after: event)
            if recheckWhenIdle, state.activeJobs.isEmpty {
                recheckWhenIdle = false
                checker.checkNow()
            }
        }
        updateTicker()
        setNeedsDisplay()
    }

    // MARK: - Effects

    func execute(_ effects: [Effect]) {
        for effect in effects { execute(effect) }
    }

    private func execute(_ effect: Effect) {
        do {
            switch effect {
            case .install(let name): track(try engine.install(name, force: false), .install, name)
            case .reinstall(let name): track(try engine.install(name, force: true), .reinstall, name)
            case .upgrade(let name): track(try engine.upgrade(name), .upgrade, name)
            case .upgradeOnNode(let name, let node): track(try engine.upgrade(name, node: node), .upgrade, name)
            case .reinstallOnNode(let name, let node): track(try engine.install(name, force: true, node: node), .reinstall, name)
            case .uninstallOnNode(let name, let node): track(try engine.uninstall(name, node: node), .uninstall, name)
            case .upgradeAll(let names):
                for name in names { track(try engine.upgrade(name), .upgrade, name) }
                state.message = ("\(names.count) upgrade\(names.count == 1 ? "" : "s") queued (4 shows them)", false)
            case .uninstall(let name):
                track(try engine.uninstall(name), .uninstall, name)
                state.message = ("uninstall \(name) queued", false)
            case .loadVersions(let name):
                let engine = self.engine
                background.async {
                    let result = Result { try engine.versions(of: name) }
                    DispatchQueue.main.async {
                        MainActor.assumeIsolated {
                            guard self.state.versionPicker?.backend == name else { return }
                            switch result {
                            case .success(let versions): self.state.versionPicker?.versions = versions
                            case .failure(let error): self.state.versionPicker?.error = (error as? HangarError)?.message ?? "\(error)"
                            }
                            self.setNeedsDisplay()
                        }
                    }
                }
            case .installTag(let name, let tag):
                track(try engine.install(name, force: true, tag: tag), .reinstall, name)
                state.message = ("install \(name) at \(tag) queued (pinned when done)", false)
            case .hold(let name):
                let target = try engine.hold(name, reason: "held from the UI")
                reloadSettings()
                let warning = state.snapshot.holdsWarning.map { "; but " + $0 } ?? ""
                state.message = ("\(target) is held: U and auto-upgrade skip it, h releases it" + warning, warning.isEmpty ? false : true)
            case .unhold(let name):
                let released = try engine.unhold(name)
                reloadSettings()
                state.message = (released.map { "\($0) is no longer held" } ?? "\(name) was not held", false)
            case .rollback(let name):
                track(try engine.rollback(name), .rollback, name)
                state.message = ("rollback \(name) queued", false)
            case .restartModels(let name): restartModels(name)
            case .cancel(let id): engine.jobs.cancel(id)
            // The user asked: the galleries are fetched again, not taken from the in-memory copy.
            case .checkNow:
                reloadAfterCheck = true
                checker.checkNow(refreshGalleries: true)
            case .setAutoUpgrade(let on):
                let change = try engine.setAutoUpgrade(on)
                reloadSettings()
                // hangar's own checker reads the setting at check time: check now so flagged backends upgrade at once.
                if on { checker.checkNow() }
                state.message = (change.line, false)
            case .setPreferDevelopment(let on):
                try engine.setPreferDevelopment(on)
                reloadSettings()
                state.message = ("prefer development builds \(on ? "on" : "off") (prefer_development_backends in \(RuntimeSettingsFile.fileName))", false)
            case .setCheckInterval(let seconds):
                var saved = try engine.hangarSettings.load()
                saved.checkInterval = seconds
                try engine.hangarSettings.save(saved)
                state.checkInterval = seconds
                // The next check comes one new interval from now; changing the interval does not check.
                checker.reschedule()
                state.message = ("check interval \(HangarSettings.formatInterval(seconds)), saved in \(engine.hangarSettings.path)", false)
            case .setTheme(let name):
                if let error = onThemeChange?(name) {
                    state.message = (error, true)
                } else {
                    var saved = try engine.hangarSettings.load()
                    saved.theme = name
                    try engine.hangarSettings.save(saved)
                    state.themeName = name
                    state.message = ("theme \(name), saved in \(engine.hangarSettings.path)", false)
                }
            case .setKeepGenerations(let count):
                try engine.setKeepGenerations(count)
                state.snapshot.keepGenerations = count
                state.message = ("keep \(count) previous version\(count == 1 ? "" : "s") per backend (from the next upgrade), saved in \(engine.hangarSettings.path)", false)
            case .quit(let cancelJobs):
                onQuit?(cancelJobs)
            }
        } catch {
            state.message = ("\(error)", true)
        }
    }

    /// Adds a Jobs row at once (the queued event follows on the main queue) so the screen never lags the key.
    private func track(_ id: JobID, _ operation: JobOperation, _ backend: String) {
        guard !state.jobs.contains(where: { $0.job == id }) else { return }
        state.jobs.append(JobRow(job: id, operation: operation, backend: backend))
        updateTicker()
    }

    /// The checker's latest status; an auto-upgrade round's jobs are marked as such on the Jobs screen.
    public func apply(_ status: UpgradeCheckStatus) {
        let wasChecking = state.upgrades.isChecking
        state.upgrades = status
        for id in status.autoUpgradeJobs {
            if let i = state.jobs.firstIndex(where: { $0.job == id }) { state.jobs[i].background = true }
        }
        if wasChecking, !status.isChecking, state.message?.text.hasPrefix("checking") == true {
            state.message = (HeaderView.checkText(state), status.error != nil)
        }
        // "upgrades first/only" reorder with the result: keep the same backend selected.
        state.reselect()
        if reloadAfterCheck, wasChecking, !status.isChecking {
            reloadAfterCheck = false
            reload()
        }
        updateTicker()
        setNeedsDisplay()
    }

    /// Re-reads the listing, galleries and settings off the main thread. Requests during a reload coalesce into
    /// one more after it; settings changed meanwhile stay as written; the selection stays on the same backend.
    public func reload() {
        if reloadInFlight {
            reloadPending = true
            return
        }
        reloadInFlight = true
        let engine = self.engine
        let settingsAtStart = settingsGeneration
        background.async {
            let snapshot = EngineSnapshot.load(engine)
            DispatchQueue.main.async {
                MainActor.assumeIsolated { self.finishReload(snapshot, settingsAtStart: settingsAtStart) }
            }
        }
    }

    private func finishReload(_ loaded: EngineSnapshot, settingsAtStart: Int) {
        var snapshot = loaded
        if settingsGeneration != settingsAtStart {
            snapshot.settings = state.snapshot.settings
            snapshot.settingsError = state.snapshot.settingsError
            snapshot.holds = state.snapshot.holds
            snapshot.holdsWarning = state.snapshot.holdsWarning
        }
        if let server = snapshot.server, server.state != .connected, snapshot.installedError != nil,
           state.snapshot.loadedAt > Date(timeIntervalSince1970: 0) {
            // The server stopped answering: the last listing stays on screen, marked stale, and hangar retries.
            let previous = state.snapshot
            snapshot = previous
            snapshot.server = server
            snapshot.staleSince = previous.staleSince ?? previous.loadedAt
        }
        snapshot.reuseDiskUsage(from: state.snapshot)
        state.snapshot = snapshot
        snapshotGeneration += 1
        measureDiskUsage()
        state.reselect()
        reloadInFlight = false
        if reloadPending {
            reloadPending = false
            reload()
        }
        if let server = state.snapshot.server { serverAnswered(server.state == .connected ? nil : server) }
        setNeedsDisplay()
    }

    // MARK: - Remote mode: watching the server

    /// How often an idle UI looks at the server (one `GET /backends`, `HANGAR_SERVER_IDLE_POLL`, 10 s): changes made
    /// by others appear, and a server that went away is noticed, at one small request per interval.
    private var serverPollInterval: Double { engine.configuration.server?.idlePollInterval ?? 10 }

    /// Schedules the next look at the server: the idle interval after an answer (`failure` nil), else a backoff of
    /// 1, 2, 4 … 30 s with "retrying in N s" on screen. A refused key is not retried: the same key would be refused.
    private func serverAnswered(_ failure: ServerConnection?) {
        serverPoll?.cancel()
        serverPoll = nil
        retryCountdown?.cancel()
        retryCountdown = nil
        state.serverRetryAt = nil
        if failure == nil { serverFailures = 0 } else { serverFailures += 1 }
        if failure?.state == .unauthorised { return }
        let delay = failure == nil ? serverPollInterval : min(30, Double(1 << min(serverFailures - 1, 5)))
        if failure != nil {
            state.serverRetryAt = monotonicNow() + delay
            let countdown = DispatchSource.makeTimerSource(queue: .main)
            countdown.schedule(deadline: .now() + 1, repeating: 1, leeway: .milliseconds(100))
            countdown.setEventHandler { [weak self] in MainActor.assumeIsolated { self?.setNeedsDisplay() } }
            countdown.resume()
            retryCountdown = countdown
        }
        let timer = DispatchSource.makeTimerSource(queue: .main)
        timer.schedule(deadline: .now() + delay, leeway: .milliseconds(failure == nil ? 1000 : 100))
        timer.setEventHandler { [weak self] in MainActor.assumeIsolated { self?.pollServer() } }
        timer.resume()
        serverPoll = timer
    }

    /// One `GET /backends`: an unchanged listing only refreshes the connection; a changed one (someone else's job),
    /// or the first answer after the server was back, re-reads everything.
    private func pollServer() {
        if reloadInFlight || !state.activeJobs.isEmpty {
            // A reload reports the connection when it lands; a running job polls the server itself.
            if !reloadInFlight { serverAnswered(nil) }
            return
        }
        let engine = self.engine
        background.async {
            let result = Result { try engine.installed().rows }
            let connection = engine.serverConnection
            DispatchQueue.main.async {
                MainActor.assumeIsolated {
                    self.state.snapshot.server = connection
                    let answered = connection?.state == .connected
                    if case .success(let rows) = result, rows != self.state.snapshot.installed || self.state.snapshot.staleSince != nil {
                        self.reload()
                    } else if !answered {
                        if self.state.snapshot.staleSince == nil { self.state.snapshot.staleSince = self.state.snapshot.loadedAt }
                        self.serverAnswered(connection)
                    } else {
                        self.serverAnswered(nil)
                    }
                    self.setNeedsDisplay()
                }
            }
        }
    }

    /// Sizes on disk for the rows of the current listing that have none, on their own low-priority queue so a
    /// long walk never holds up a reload; a result for a listing that was replaced meanwhile is dropped (the new
    /// listing measures itself).
    private func measureDiskUsage() {
        // A server's directories are on the server: their paths mean nothing here.
        guard !state.snapshot.diskUsageMeasured, state.snapshot.server == nil else { return }
        let rows = state.snapshot.installed
        let known = state.snapshot.diskUsage
        let generation = snapshotGeneration
        sizing.async {
            let sizes = EngineSnapshot.measure(rows, known: known)
            DispatchQueue.main.async {
                MainActor.assumeIsolated {
                    guard generation == self.snapshotGeneration else { return }
                    self.state.snapshot.diskUsage = sizes
                    self.state.snapshot.diskUsageMeasured = true
                    self.setNeedsDisplay()
                }
            }
        }
    }

    private func startClock() {
        guard clock == nil else { return }
        let timer = DispatchSource.makeTimerSource(queue: .main)
        timer.schedule(deadline: .now() + 60, repeating: 60, leeway: .seconds(5))
        timer.setEventHandler { [weak self] in MainActor.assumeIsolated { self?.setNeedsDisplay() } }
        timer.resume()
        clock = timer
    }

    /// Whether a reload is running or waiting (tests wait for the listing to settle).
    var isReloading: Bool { reloadInFlight || reloadPending }

    private func reloadSettings() {
        settingsGeneration += 1
        do {
            state.snapshot.settings = try engine.settings()
            state.snapshot.settingsError = nil
        } catch {
            state.snapshot.settingsError = "\(error)"
        }
        state.snapshot.holds = (try? engine.holds()) ?? state.snapshot.holds
        state.snapshot.holdsWarning = engine.holdsIgnoredByLocalAI()
    }

    /// Size on disk and the last recorded operation are read once per backend, off the main thread, when the
    /// Detail screen shows it (again after a job on it finished).
    private func measureIfNeeded() {
        guard state.screen == .detail, let row = state.selectedBackend else { return }
        let name = row.name
        guard state.diskUsage[name] == nil, !measuring.contains(name) else { return }
        measuring.insert(name)
        let engine = self.engine
        background.async {
            let size = engine.diskUsage(of: name)
            let last = engine.lastOperation(for: name)
            DispatchQueue.main.async {
                MainActor.assumeIsolated {
                    self.state.diskUsage[name] = size ?? 0
                    self.state.lastOperations[name] = last
                    self.measuring.remove(name)
                    self.setNeedsDisplay()
                }
            }
        }
    }

    // MARK: - Drawing

    /// Coalesces redraw requests into one frame on the next main-queue turn.
    public func setNeedsDisplay() {
        guard !redrawScheduled else { return }
        redrawScheduled = true
        DispatchQueue.main.async {
            MainActor.assumeIsolated { self.redraw() }
        }
    }

    /// Draws now.
    public func redraw() {
        redrawScheduled = false
        measureIfNeeded()
        state.now = monotonicNow()
        state.wallClock = Date()
        guard let draw else { return }
        layout = draw(state)
        // The next frame scrolls from here, so moving up a long list does not jump and clicks hit what is shown.
        if let list = layout.listScreen, list != .settings { state.scroll[list] = layout.listFirstIndex }
        state.isTooSmall = layout.tooSmall
    }

    /// Tells the state how many rows a page has on this terminal.
    func setPageSize(height: Int) {
        state.pageSize = Screens.pageSize(for: state.screen, height: height)
        state.helpRoom = Screens.helpRoom(height: height)
    }

    func setThemeChoices(current: String, names: [String], colorNote: String) {
        state.themeName = current
        state.themeNames = names
        state.colorNote = colorNote
    }

    /// A 4 Hz tick only while something moves (jobs, a check): spinners, speed and ETA. Idle means no timer at all.
    private func updateTicker() {
        let busy = !state.activeJobs.isEmpty || state.upgrades.isChecking
        if busy, ticker == nil {
            let timer = DispatchSource.makeTimerSource(queue: .main)
            timer.schedule(deadline: .now() + .milliseconds(250), repeating: .milliseconds(250), leeway: .milliseconds(20))
            timer.setEventHandler { [weak self] in
                MainActor.assumeIsolated {
                    guard let self else { return }
                    self.state.spinnerFrame += 1
                    self.setNeedsDisplay()
                }
            }
            timer.resume()
            ticker = timer
        } else if !busy, let timer = ticker {
            timer.cancel()
            ticker = nil
        }
    }
}
