import CNCursesW
import Dispatch
import Foundation
import HangarEngine
import Synchronization

/// How the UI looks: theme, colour and glyphs. `nil` fields are decided from the environment.
public struct TUIOptions: Sendable {
    /// A theme name or a path to a theme file; nil = `HANGAR_THEME`, then hangar's settings, then `default`.
    public var theme: String?
    /// No colour at all (also when `NO_COLOR` is set and non-empty).
    public var noColor: Bool
    /// ASCII glyphs; nil = from the locale (ASCII unless it is UTF-8).
    public var asciiOnly: Bool?
    /// Where themes are looked up; nil = the standard search path.
    public var themeDirectories: [String]?
    /// The environment to read `NO_COLOR`, `HANGAR_THEME` and the theme search path from.
    public var environment: [String: String]

    public init(theme: String? = nil, noColor: Bool = false, asciiOnly: Bool? = nil, themeDirectories: [String]? = nil,
                environment: [String: String] = ProcessInfo.processInfo.environment) {
        self.theme = theme
        self.noColor = noColor
        self.asciiOnly = asciiOnly
        self.themeDirectories = themeDirectories
        self.environment = environment
    }

    /// `NO_COLOR` set and non-empty (no-color.org), or `--no-color`.
    public var colorDisabled: Bool { noColor || !(environment["NO_COLOR"] ?? "").isEmpty }

    /// The search path for themes.
    public var themeLibrary: ThemeLibrary {
        themeDirectories.map(ThemeLibrary.init(directories:)) ?? ThemeLibrary.standard(environment: environment)
    }

    /// The theme to start with: the option, `HANGAR_THEME`, the saved choice, `default`.
    public func themeName(saved: String?) -> String {
        theme ?? environment["HANGAR_THEME"].flatMap { $0.isEmpty ? nil : $0 } ?? saved ?? "default"
    }
}

/// The full-screen UI's entry points.
public enum TerminalUI {
    /// Runs the full-screen UI until the user quits; returns the exit status (0, or 2 when the terminal or the
    /// theme cannot be used). Restores the terminal on every exit path: quit, Ctrl-C, SIGTERM, SIGHUP, a crash.
    @MainActor
    public static func run(engine: Engine, options: TUIOptions) -> Int32 {
        limitAllocatorFootprint()
        setlocale(LC_ALL, "")
        let glyphs = glyphs(for: options)
        let library = options.themeLibrary
        let saved = (try? engine.hangarSettings.load()) ?? HangarSettings()
        let themeName = options.themeName(saved: saved.theme)
        let theme: Theme
        do {
            theme = try library.load(themeName)
        } catch {
            FileHandle.standardError.write(Data("hangar: \(error); choose another with --theme NAME or HANGAR_THEME\n".utf8))
            return 2
        }
        let (snapshot, galleriesRead) = firstSnapshot(engine)
        guard let session = TerminalSession.open() else {
            FileHandle.standardError.write(Data("hangar: cannot open the terminal (TERM=\(options.environment["TERM"] ?? "unset")); use hangar list\n".utf8))
            return 2
        }
        let canvas = session.canvas
        canvas.asciiOnly = glyphs == .ascii
        let noColor = options.colorDisabled
        canvas.apply(theme, noColor: noColor)

        // The interval is read from hangar.json each round, so a change in Settings (or by another hangar) applies.
        let checker = UpgradeScheduler(engine: engine, interval: engine.hangarSettings.checkIntervalReader())
        let controller = UIController(engine: engine, checker: checker, snapshot: snapshot, glyphs: glyphs)
        connect(controller, to: canvas, library: library, themeName: themeName, noColor: noColor)
        let quit: @MainActor (Bool) -> Void = { cancelJobs in
            if cancelJobs { engine.jobs.cancelAll() }
            session.finish()
        }
        controller.onQuit = quit
        session.start(onInput: { events in
            controller.handle(events)
            controller.setPageSize(height: canvas.height)
        }, onResize: {
            controller.setPageSize(height: canvas.height)
            controller.resized()
        }, onTerminate: { quit(true) })

        controller.setPageSize(height: canvas.height)
        controller.redraw()
        controller.start()
        controller.showLiveChangesNoteOnce()
        if !snapshot.galleriesLoaded {
            // The first fetch is still running: when it ends, the controller's reload reads its result from the
            // gallery loader's in-memory cache instead of fetching a second time alongside it.
            DispatchQueue.global(qos: .userInitiated).async {
                galleriesRead.wait()
                DispatchQueue.main.async { MainActor.assumeIsolated { controller.reload() } }
            }
        }
        session.runUntilFinished()
        let active = controller.state.activeJobs.count
        controller.stop()
        session.close()
        waitForCancelledJobs(engine, count: active)
        return session.exitStatus
    }

    /// Frames go to the terminal; a theme chosen in Settings is loaded and applied there.
    @MainActor
    private static func connect(_ controller: UIController, to canvas: NCursesCanvas, library: ThemeLibrary, themeName: String,
                                noColor: Bool) {
        controller.setThemeChoices(current: themeName, names: library.availableNames(), colorNote: canvas.colorDescription(noColor: noColor))
        controller.draw = { state in
            canvas.beginFrame()
            let layout = Screens.render(state, on: canvas)
            canvas.endFrame()
            return layout
        }
        controller.onThemeChange = { name in
            do {
                canvas.apply(try library.load(name), noColor: noColor)
                return nil
            } catch {
                return "\(error)"
            }
        }
    }

    /// The listing is local and fast; the galleries may need the network. Waits a little for them so a local
    /// gallery is on the first frame, but never lets a slow network hold the screen: then they arrive later, and
    /// the returned semaphore is signalled when they did.
    private static func firstSnapshot(_ engine: Engine) -> (EngineSnapshot, DispatchSemaphore) {
        if let server = engine.serverConnection {
            // Everything is on the server and read at once. A server that is slow or gone gets a first frame that says
            // so after a moment, and fills in when the read ends (or the controller's retries do).
            let full = Mutex<EngineSnapshot?>(nil)
            let read = DispatchSemaphore(value: 0)
            DispatchQueue.global(qos: .userInitiated).async {
                let snapshot = EngineSnapshot.load(engine)
                full.withLock { $0 = snapshot }
                read.signal()
            }
            if read.wait(timeout: .now() + 2) == .success, let snapshot = full.withLock({ $0 }) { return (snapshot, read) }
            var waiting = EngineSnapshot.empty(capability: engine.capabilityReport)
            waiting.server = server
            waiting.backendsPath = server.url
            return (waiting, read)
        }
        let snapshot = EngineSnapshot.loadLocal(engine)
        let galleries = Mutex<EngineSnapshot?>(nil)
        let galleriesRead = DispatchSemaphore(value: 0)
        DispatchQueue.global(qos: .userInitiated).async {
            var full = snapshot
            full.addGalleries(engine)
            galleries.withLock { $0 = full }
            galleriesRead.signal()
        }
        if galleriesRead.wait(timeout: .now() + 0.12) == .success, let full = galleries.withLock({ $0 }) { return (full, galleriesRead) }
        return (snapshot, galleriesRead)
    }

    /// Cancelled jobs stop at their next check and roll back; gives them a moment so nothing is left half-done for
    /// the next start's recovery to clean up.
    private static func waitForCancelledJobs(_ engine: Engine, count active: Int) {
        guard active > 0 else { return }
        FileHandle.standardError.write(Data("hangar: waiting for \(active) cancelled job\(active == 1 ? "" : "s") to stop\n".utf8))
        let stopped = DispatchSemaphore(value: 0)
        DispatchQueue.global().async {
            engine.jobs.waitAll()
            stopped.signal()
        }
        if stopped.wait(timeout: .now() + 5) == .timedOut {
            FileHandle.standardError.write(Data(("hangar: \(active == 1 ? "the job is" : "some jobs are") still stopping; "
                + "the next hangar start rolls back whatever they left unfinished\n").utf8))
        }
    }

    /// Renders one full frame of the UI for `engine` on `canvas`: reads the engine once, as `run` does before its
    /// first frame (for tests and the first-frame benchmark).
    @MainActor
    @discardableResult
    public static func renderFrame(engine: Engine, options: TUIOptions, on canvas: Canvas) -> UIState {
        let state = UIState(snapshot: EngineSnapshot.load(engine), glyphs: glyphs(for: options))
        Screens.render(state, on: canvas)
        return state
    }

    /// The UI stays resident for hours next to LocalAI. glibc gives each thread that allocates an arena of its own
    /// (the gallery read, the checker, the jobs each run on Dispatch threads), and keeps freed memory at each arena's
    /// top: one arena, trimmed past 128 KiB, keeps the UI's resident memory about 0.9 MiB lower (measured with the
    /// 1,033-entry gallery), at no cost a user could notice with a handful of threads.
    private static func limitAllocatorFootprint() {
        hangar_limit_allocator(128 << 10)
    }

    /// Unicode unless asked for ASCII or the locale is not UTF-8.
    static func glyphs(for options: TUIOptions) -> Glyphs {
        if let ascii = options.asciiOnly { return ascii ? .ascii : .unicode }
        setlocale(LC_ALL, "")
        return hangar_nc_locale_is_utf8() != 0 ? .unicode : .ascii
    }
}
