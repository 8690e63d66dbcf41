import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// Puts the terminal back on paths where endwin() cannot run: fatal signals (a crash) and exit() from
/// elsewhere. Only async-signal-safe calls in the handler: tcsetattr and write.
enum TerminalRestore {
    /// True while curses owns the terminal.
    static let isActive = Atomic<Bool>(false)
    nonisolated(unsafe) private static let saved = UnsafeMutablePointer<termios>.allocate(capacity: 1)
    private static let hasSaved = Atomic<Bool>(false)
    private static let installed = Atomic<Bool>(false)
    private static let crashSignals = [SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT, SIGTRAP]
    /// The handlers hangar replaced, indexed by signal number.
    nonisolated(unsafe) private static let previous: UnsafeMutablePointer<sigaction> = {
        let table = UnsafeMutablePointer<sigaction>.allocate(capacity: 65)
        table.initialize(repeating: sigaction(), count: 65)
        return table
    }()

    /// Records the cooked terminal state before curses changes it, and installs the crash handlers once.
    static func saveTerminalState() {
        if tcgetattr(STDIN_FILENO, saved) == 0 { hasSaved.store(true, ordering: .releasing) }
        guard !installed.exchange(true, ordering: .acquiringAndReleasing) else { return }
        for sig in crashSignals {
            var action = sigaction()
            action.__sigaction_handler.sa_handler = { sig in
                TerminalRestore.restoreNow()
                // Hand the signal to whoever had it before (Swift's backtracer, or the default action),
                // which now writes to a sane terminal.
                _ = sigaction(sig, TerminalRestore.previous.advanced(by: Int(sig)), nil)
                raise(sig)
            }
            sigemptyset(&action.sa_mask)
            action.sa_flags = 0
            _ = sigaction(sig, &action, previous.advanced(by: Int(sig)))
        }
        atexit { TerminalRestore.restoreNow() }
    }

    /// Restores cooked mode and leaves the alternate screen, if curses still owns the terminal.
    static func restoreNow() {
        guard isActive.exchange(false, ordering: .acquiringAndReleasing) else { return }
        if hasSaved.load(ordering: .acquiring) { _ = tcsetattr(STDIN_FILENO, TCSANOW, saved) }
        // Mouse reporting off, attributes reset, cursor shown, main screen back.
        let reset: StaticString = "\u{1B}[?1000l\u{1B}[?1002l\u{1B}[?1006l\u{1B}[0m\u{1B}[?25h\u{1B}[?1049l\r\n"
        _ = write(STDOUT_FILENO, reset.utf8Start, reset.utf8CodeUnitCount)
    }
}
