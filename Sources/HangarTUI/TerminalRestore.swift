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
        installAlternateStack()
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
            // On the alternate stack: a stack overflow's SIGSEGV has no stack left to run the handler on.
            action.sa_flags = SA_ONSTACK
            _ = sigaction(sig, &action, previous.advanced(by: Int(sig)))
        }
        atexit { TerminalRestore.restoreNow() }
    }

    /// Gives the main thread a signal stack of its own, unless one is set up already (Swift's backtracer may).
    private static func installAlternateStack() {
        var current = stack_t()
        guard sigaltstack(nil, &current) == 0, current.ss_flags & Int32(SS_DISABLE) != 0 else { return }
        let size = 64 << 10
        guard let memory = malloc(size) else { return }
        var stack = stack_t(ss_sp: memory, ss_flags: 0, ss_size: size)
        if sigaltstack(&stack, nil) != 0 { free(memory) }
    }

    /// Restores cooked mode and leaves the alternate screen, if curses still owns the terminal.
    static func restoreNow() {
        guard isActive.exchange(false, ordering: .acquiringAndReleasing) else { return }
        if hasSaved.load(ordering: .acquiring) { _ = tcsetattr(STDIN_FILENO, TCSANOW, saved) }
        // Mouse reporting off, cursor and keypad keys back to normal mode (else arrows print ^[OA in the shell),
        // attributes reset, cursor shown, main screen back.
        let reset: StaticString =
            "\u{1B}[?1000l\u{1B}[?1002l\u{1B}[?1006l\u{1B}[?1l\u{1B}>\u{1B}[0m\u{1B}[?25h\u{1B}[?1049l\r\n"
        _ = write(STDOUT_FILENO, reset.utf8Start, reset.utf8CodeUnitCount)
    }
}
