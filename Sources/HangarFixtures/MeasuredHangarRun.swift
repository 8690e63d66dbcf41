import Foundation

extension HangarExecutable {
    /// A run and the peak resident memory of the hangar process.
    public struct MeasuredRun: Sendable {
        public var run: Run
        public var maxRSSBytes: Int64
    }

    /// Like `run`, also measuring hangar's own peak RSS (the benchmark's memory goal): `VmHWM` of
    /// `/proc/<pid>/status`, polled every 2 ms once the process is hangar. Not wait4's `ru_maxrss`: a posix_spawn
    /// child inherits the parent's high-water mark from before its exec, so that would report the benchmark's memory.
    public static func runMeasuringMemory(_ arguments: [String], environment: [String: String], directory: String,
                                          timeout: Double = 120) throws -> MeasuredRun {
        let binary = try path()
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
        // sh changes directory, then execs hangar in the same process (same pid).
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
        var peak: Int64 = 0
        var timedOut = false
        let deadline = Date().addingTimeInterval(timeout)
        while true {
            if let hwm = Self.highWaterMark(pid) { peak = max(peak, hwm) }
            let r = wait4(pid, &status, WNOHANG, &usage)
            if r == pid { break }
            if r < 0 && errno != EINTR { throw FixtureError("wait4 failed: \(String(cString: strerror(errno)))") }
            if Date() > deadline && !timedOut {
                timedOut = true
                kill(pid, SIGKILL)
            }
            usleep(2_000)
        }
        let exited = (status & 0x7f) == 0
        let code: Int32 = exited ? (status >> 8) & 0xff : 128 + (status & 0x7f)
        let run = Run(arguments: arguments, status: code,
                      stdout: (try? String(contentsOfFile: outPath, encoding: .utf8)) ?? "",
                      stderr: (try? String(contentsOfFile: errPath, encoding: .utf8)) ?? "", timedOut: timedOut)
        return MeasuredRun(run: run, maxRSSBytes: peak)
    }

    /// `VmHWM` in bytes while `pid` runs the hangar binary (nil before its exec or after its exit).
    private static func highWaterMark(_ pid: pid_t) -> Int64? {
        guard let comm = try? String(contentsOfFile: "/proc/\(pid)/comm", encoding: .utf8),
              comm.trimmingCharacters(in: .whitespacesAndNewlines) == "hangar",
              let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
              let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }),
              let kib = Int64(line.dropFirst("VmHWM:".count).trimmingCharacters(in: .whitespaces).split(separator: " ").first ?? "")
        else { return nil }
        return kib * 1024
    }
}
