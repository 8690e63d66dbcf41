import Foundation

extension TerminalUI {
    /// Whether the full-screen UI can run here: both ends of the terminal are a tty and `TERM` can drive a
    /// full-screen program. Pipes, CI and `TERM=dumb` get the plain listing instead.
    public static func isAvailable(environment: [String: String] = ProcessInfo.processInfo.environment) -> Bool {
        let term = environment["TERM"] ?? ""
        return isatty(STDIN_FILENO) == 1 && isatty(STDOUT_FILENO) == 1 && !term.isEmpty && term != "dumb"
    }
}
