import Foundation
import XCTest

#if canImport(Glibc)
import Glibc
#endif

/// One program in a private, headless tmux server: its own socket in a temp dir (never the user's server), an empty
/// config, a fixed size, `-u` and LC_ALL=C.UTF-8 so UTF-8 and line drawing survive a CI box without LANG, and
/// remain-on-exit so the last screen can be read after the program quits.
final class TmuxSession {
    let directory: String
    let name = "t"
    private let tmuxPath: String
    private let environment: [String: String]

    /// `command` runs in `/bin/sh` inside the pane; `EXIT=<status>` is printed when it ends.
    init(command: String, width: Int = 120, height: Int = 35, scratch: String) throws {
        guard let path = ["/usr/bin/tmux", "/usr/local/bin/tmux"].first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else {
            throw HarnessError("tmux is not installed: apt-get install tmux (scripts/setup.sh does)")
        }
        tmuxPath = path
        directory = scratch + "/tmux-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        _ = FileManager.default.createFile(atPath: directory + "/empty.conf", contents: Data())
        environment = ["PATH": "/usr/bin:/bin", "LC_ALL": "C.UTF-8", "HOME": directory, "SHELL": "/bin/sh",
                       "TMUX_TMPDIR": directory]
        try tmux(["-f", directory + "/empty.conf", "start-server", ";",
                  "set-option", "-g", "remain-on-exit", "on", ";",
                  "new-session", "-d", "-s", name, "-x", "\(width)", "-y", "\(height)", "\(command); echo EXIT=$?"])
    }

    deinit {
        _ = try? tmux(["kill-server"])
        try? FileManager.default.removeItem(atPath: directory)
    }

    @discardableResult
    func tmux(_ arguments: [String]) throws -> String {
        let result = try ChildProcess.run([tmuxPath, "-u", "-S", directory + "/socket"] + arguments,
                                          environment: environment, scratch: directory, timeout: 10)
        guard result.status == 0 else { throw HarnessError("tmux \(arguments.first ?? "") failed (\(result.status)): \(result.output)") }
        return result.output
    }

    /// Keys by tmux name: `j`, `Down`, `Enter`, `Escape`, `C-c`; `literal` sends the text as typed.
    func send(_ keys: String..., literal: Bool = false) throws {
        try tmux(["send-keys", "-t", name] + (literal ? ["-l"] : []) + keys)
    }

    /// The visible screen as text (with SGR escapes when `colors`), plus the scrollback when `history`.
    func screen(colors: Bool = false, history: Bool = false) -> String {
        (try? tmux(["capture-pane", "-p", "-t", name] + (colors ? ["-e"] : []) + (history ? ["-S", "-"] : []))) ?? ""
    }

    var lines: [String] { screen().components(separatedBy: "\n") }

    /// The first visible line containing `text`.
    func line(containing text: String) -> String? { lines.first { $0.contains(text) } }

    func resize(width: Int, height: Int) throws {
        try tmux(["resize-window", "-t", name, "-x", "\(width)", "-y", "\(height)"])
    }

    /// A tmux format evaluated for the pane, e.g. `#{alternate_on}`.
    func paneFormat(_ format: String) -> String {
        ((try? tmux(["display-message", "-p", "-t", name, format])) ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// The program's exit status once it has ended (from the `EXIT=` line), nil while it runs.
    var exitStatus: Int32? {
        guard let line = screen(history: true).components(separatedBy: "\n").last(where: { $0.hasPrefix("EXIT=") })
        else { return nil }
        return Int32(line.dropFirst(5).trimmingCharacters(in: .whitespaces))
    }
}
