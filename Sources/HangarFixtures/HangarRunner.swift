import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// What one finished `hangar` process did, with its peak memory from `wait4`'s rusage.
public struct HangarRun: Sendable, CustomStringConvertible {
    public let arguments: [String]
    public let status: Int32
    public let stdout: String
    public let stderr: String
    /// Peak resident set size of the process, in bytes.
    public let maxRSSBytes: Int64
    public let timedOut: Bool

    public var stderrLines: [String] { stderr.split(separator: "\n").map(String.init) }

    public var description: String {
        "hangar \(arguments.joined(separator: " ")) → \(timedOut ? "TIMED OUT" : "exit \(status)")\n--- stdout\n\(stdout)--- stderr\n\(stderr)---"
    }
}

/// Runs the `hangar` binary built next to the caller (test bundle or benchmark) as a child process.
public enum HangarRunner {
    /// The `hangar` executable in the build products directory holding this process (never one on PATH).
    public static func binaryPath() throws -> String {
        var starts = [Bundle.main.bundleURL]
        if let first = CommandLine.arguments.first { starts.append(URL(fileURLWithPath: first)) }
        for start in starts {
            var dir = start.standardizedFileURL
            for _ in 0..<6 {
                let candidate = dir.appendingPathComponent("hangar").path
                var st = stat()
                if stat(candidate, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG, access(candidate, X_OK) == 0 { return candidate }
                dir = dir.deletingLastPathComponent()
            }
        }
        throw FixtureError("hangar binary not found next to \(CommandLine.arguments.first ?? "?"); build with swift build --build-tests")
    }

    /// Runs hangar with exactly `environment` in `directory`; killed after `timeout` seconds.
    public static func run(_ arguments: [String], environment: [String: String], directory: String,
                           timeout: Double = 60) throws -> HangarRun {
        let binary = try binaryPath()
        let token = UUID().uuidString.prefix(8)
        let outPath = FileManager.default.temporaryDirectory.path + "/hangar-run-\(token).out"
        let errPath = FileManager.default.temporaryDirectory.path + "/hangar-run-\(token).err"
        defer {
            try? FileManager.default.removeItem(atPath: outPath)
            try? FileManager.default.removeItem(atPath: errPath)
        }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, outPath, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        posix_spawn_file_actions_addopen(&actions, 2, errPath, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        // sh changes directory, then execs hangar in the same process, so wait4's rusage is hangar's.
        let argv = (["/bin/sh", "-c", "cd \"$0\" && exec \"$@\"", directory, binary] + arguments).map { strdup($0) } + [nil]
        let envp = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            argv.forEach { free($0) }
            envp.forEach { free($0) }
        }
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, "/bin/sh", &actions, nil, argv, envp)
        guard spawned == 0 else { throw FixtureError("cannot start \(binary): \(String(cString: strerror(spawned)))") }
        var status: Int32 = 0
        var usage = rusage()
        var timedOut = false
        let deadline = Date().addingTimeInterval(timeout)
        while true {
            let r = wait4(pid, &status, WNOHANG, &usage)
            if r == pid { break }
            if r < 0 && errno != EINTR { throw FixtureError("wait4 failed: \(String(cString: strerror(errno)))") }
            if Date() > deadline && !timedOut {
                timedOut = true
                kill(pid, SIGKILL)
            }
            usleep(5_000)
        }
        let exited = (status & 0x7f) == 0
        let code: Int32 = exited ? (status >> 8) & 0xff : 128 + (status & 0x7f)
        return HangarRun(arguments: arguments, status: code,
                         stdout: (try? String(contentsOfFile: outPath, encoding: .utf8)) ?? "",
                         stderr: (try? String(contentsOfFile: errPath, encoding: .utf8)) ?? "",
                         maxRSSBytes: Int64(usage.ru_maxrss) * 1024, timedOut: timedOut)
    }
}
