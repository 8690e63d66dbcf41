import Foundation

/// A process started with posix_spawn, stdin from /dev/null, stdout and stderr into one file. posix_spawn rather than
/// Foundation.Process: Process hands the child a descriptor it watches for exit, which a daemon the child forks (the
/// tmux server) inherits, so waiting would block until that daemon dies.
public final class ChildProcess {
    public let pid: pid_t
    public let outputPath: String
    private var exitStatus: Int32?
    /// Peak resident memory of the ended process (its `ru_maxrss`), in KiB; nil while it runs.
    public private(set) var peakMemoryKiB: Int?

    /// `environment` is the child's whole environment: nothing of the test runner's leaks in.
    public init(_ argv: [String], environment: [String: String], outputPath: String) throws {
        self.outputPath = outputPath
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, outputPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        let cArgs = argv.map { strdup($0) } + [nil]
        let cEnv = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { (cArgs + cEnv).forEach { free($0) } }
        var pid: pid_t = 0
        let rc = posix_spawn(&pid, argv[0], &actions, nil, cArgs, cEnv)
        guard rc == 0 else { throw POSIXError(POSIXErrorCode(rawValue: rc) ?? .EIO) }
        self.pid = pid
    }

    deinit {
        if exitStatus == nil {
            kill(pid, SIGKILL)
            _ = wait(timeout: 5)
        }
    }

    public func signal(_ number: Int32) { kill(pid, number) }

    /// The exit status (128 + signal when killed), or nil if it still runs after `timeout` seconds.
    public func wait(timeout: TimeInterval) -> Int32? {
        if let exitStatus { return exitStatus }
        let end = Date().addingTimeInterval(timeout)
        repeat {
            var status: Int32 = 0
            var usage = rusage()
            let r = wait4(pid, &status, WNOHANG, &usage)
            if r == pid {
                peakMemoryKiB = Int(usage.ru_maxrss)
                let code = (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
                exitStatus = code
                return code
            }
            if r < 0 && errno != EINTR { return nil }
            usleep(10_000)
        } while Date() < end
        return nil
    }

    public var output: String { (try? String(contentsOfFile: outputPath, encoding: .utf8)) ?? "" }

    /// Runs `argv` to its end (killed after `timeout`) and returns the status and everything it printed.
    public static func run(_ argv: [String], environment: [String: String], scratch: String,
                    timeout: TimeInterval = 30) throws -> (status: Int32, output: String) {
        let path = scratch + "/out-\(UUID().uuidString.prefix(8)).txt"
        defer { unlink(path) }
        let child = try ChildProcess(argv, environment: environment, outputPath: path)
        guard let status = child.wait(timeout: timeout) else {
            child.signal(SIGKILL)
            _ = child.wait(timeout: 5)
            return (-1, child.output + "\n[timed out after \(timeout) s]")
        }
        return (status, child.output)
    }
}

/// One program in a private, headless tmux server: its own socket in a temp dir (never the user's server), an empty
/// config, a fixed size, `-u` and LC_ALL=C.UTF-8 so UTF-8 and line drawing survive a CI box without LANG, and
/// remain-on-exit so the last screen can be read after the program quits.
public final class TmuxSession {
    public let directory: String
    public let name = "t"
    private let tmuxPath: String
    private let environment: [String: String]

    /// `command` runs in `/bin/sh` inside the pane; `EXIT=<status>` is printed when it ends.
    public init(command: String, width: Int = 120, height: Int = 35, scratch: String) throws {
        guard let path = ["/usr/bin/tmux", "/usr/local/bin/tmux"].first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else {
            throw FixtureError("tmux is not installed: apt-get install tmux (scripts/setup.sh does)")
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
    public func tmux(_ arguments: [String]) throws -> String {
        let result = try ChildProcess.run([tmuxPath, "-u", "-S", directory + "/socket"] + arguments,
                                          environment: environment, scratch: directory, timeout: 10)
        guard result.status == 0 else { throw FixtureError("tmux \(arguments.first ?? "") failed (\(result.status)): \(result.output)") }
        return result.output
    }

    /// Keys by tmux name: `j`, `Down`, `Enter`, `Escape`, `C-c`; `literal` sends the text as typed.
    public func send(_ keys: String..., literal: Bool = false) throws {
        try tmux(["send-keys", "-t", name] + (literal ? ["-l"] : []) + keys)
    }

    /// The visible screen as text (with SGR escapes when `colors`), plus the scrollback when `history`.
    public func screen(colors: Bool = false, history: Bool = false) -> String {
        (try? tmux(["capture-pane", "-p", "-t", name] + (colors ? ["-e"] : []) + (history ? ["-S", "-"] : []))) ?? ""
    }

    /// The visible screen as cells with their colours and attributes (`capture-pane -e -N`: trailing blanks kept,
    /// so a coloured bar to the right edge is captured too).
    public func capture() -> ScreenCapture {
        ScreenCapture((try? tmux(["capture-pane", "-p", "-e", "-N", "-t", name])) ?? "")
    }

    public var lines: [String] { screen().components(separatedBy: "\n") }

    /// The first visible line containing `text`.
    public func line(containing text: String) -> String? { lines.first { $0.contains(text) } }

    public func resize(width: Int, height: Int) throws {
        try tmux(["resize-window", "-t", name, "-x", "\(width)", "-y", "\(height)"])
    }

    /// A tmux format evaluated for the pane, e.g. `#{alternate_on}`.
    public func paneFormat(_ format: String) -> String {
        ((try? tmux(["display-message", "-p", "-t", name, format])) ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Replaces whatever runs in the pane with `command` (killing it), on the same server and terminal size.
    public func respawn(_ command: String) throws {
        try tmux(["respawn-pane", "-k", "-t", name, command])
    }

    /// The process id of the pane's program (the shell, or the program a command `exec`s).
    public var panePID: pid_t? { pid_t(paneFormat("#{pane_pid}")) }

    /// The program's exit status once it has ended (from the `EXIT=` line), nil while it runs.
    public var exitStatus: Int32? {
        guard let line = screen(history: true).components(separatedBy: "\n").last(where: { $0.hasPrefix("EXIT=") })
        else { return nil }
        return Int32(line.dropFirst(5).trimmingCharacters(in: .whitespaces))
    }
}
