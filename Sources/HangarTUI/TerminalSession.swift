import CNCursesW
import Dispatch
import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// One run of the UI on the terminal: opens it (crash handlers and their alternate signal stack come with
/// `NCursesCanvas.open`), turns input and signals into main-queue events, suspends on Ctrl-Z, and closes it again.
/// Signals never run code in a handler: ncurses may only be called from the main queue.
@MainActor
final class TerminalSession {
    let canvas: NCursesCanvas
    /// 128 + the signal that ended the session (130 after Ctrl-C, 143 after SIGTERM, 129 on hangup); 0 otherwise.
    private(set) var exitStatus: Int32 = 0
    private(set) var finished = false
    private var sources: [any DispatchSourceProtocol] = []

    private init(canvas: NCursesCanvas) { self.canvas = canvas }

    /// Opens the terminal on stdin/stdout; nil when it cannot be used (unknown TERM).
    static func open() -> TerminalSession? {
        // ncurses installs its SIGWINCH and SIGTSTP handlers only over SIG_DFL, and its SIGTSTP handler calls curses
        // from the signal handler, racing the main thread. The session takes both through Dispatch on the main
        // queue, so an idle UI also needs no polling timer to notice a resize.
        signal(SIGWINCH, SIG_IGN)
        signal(SIGTSTP, SIG_IGN)
        return NCursesCanvas.open().map(TerminalSession.init(canvas:))
    }

    /// Starts delivering input to `onInput`, and a new size (resize, `fg` after Ctrl-Z, SIGCONT) to `onResize`.
    /// SIGINT, SIGTERM and SIGHUP record their exit status and call `onTerminate`.
    func start(onInput: @escaping @MainActor ([TerminalInput]) -> Void, onResize: @escaping @MainActor () -> Void,
               onTerminate: @escaping @MainActor () -> Void) {
        let canvas = self.canvas
        let input = DispatchSource.makeReadSource(fileDescriptor: STDIN_FILENO, queue: .main)
        input.setEventHandler { MainActor.assumeIsolated { onInput(canvas.readInput()) } }
        sources.append(input)
        for sig in [SIGINT, SIGTERM, SIGHUP] {
            onSignal(sig) { [weak self] in
                self?.exitStatus = 128 + sig
                onTerminate()
            }
        }
        onSignal(SIGWINCH) {
            canvas.resizeToTerminal()
            onResize()
        }
        onSignal(SIGTSTP) {
            canvas.suspend()
            Self.stopUntilContinued()
            canvas.resume()
            onResize()
        }
        // A stop from outside (kill -STOP, then -CONT) leaves the shell's drawing on screen too.
        onSignal(SIGCONT) {
            canvas.repaintAll()
            onResize()
        }
        sources.forEach { $0.resume() }
    }

    /// Signals arrive as main-queue events, never in a handler.
    private func onSignal(_ sig: Int32, _ body: @escaping @MainActor () -> Void) {
        signal(sig, SIG_IGN)
        let source = DispatchSource.makeSignalSource(signal: sig, queue: .main)
        source.setEventHandler { MainActor.assumeIsolated { body() } }
        sources.append(source)
    }

    /// Stops the process as SIGTSTP's default action does, right here, until SIGCONT. Dispatch keeps SIGTSTP
    /// blocked and the session ignores it: both are undone for the one re-raised signal. Runs on the main thread,
    /// never in a signal handler.
    private static func stopUntilContinued() {
        var tstp = sigset_t()
        var previous = sigset_t()
        sigemptyset(&tstp)
        sigaddset(&tstp, SIGTSTP)
        signal(SIGTSTP, SIG_DFL)
        pthread_sigmask(SIG_UNBLOCK, &tstp, &previous)
        raise(SIGTSTP)
        pthread_sigmask(SIG_SETMASK, &previous, nil)
        signal(SIGTSTP, SIG_IGN)
    }

    /// Ends `runUntilFinished` after the current event.
    func finish() { finished = true }

    /// The main thread waits in the run loop, which also drains the main queue: every event, key and timer runs
    /// there, and an idle UI sleeps here.
    func runUntilFinished() {
        while !finished {
            _ = RunLoop.main.run(mode: .default, before: Date.distantFuture)
        }
    }

    /// Stops the event sources and gives the terminal back (cooked mode, main screen).
    func close() {
        sources.forEach { $0.cancel() }
        sources = []
        canvas.close()
    }
}
