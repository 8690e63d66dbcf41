import Foundation

/// Whole-process measurements shared by the start-up and list sections: baselines compiled in the run, and a tiny
/// C launcher that runs one process and reports its wall time and peak RSS.
///
/// Why a launcher: a child spawned from the benchmark inherits the benchmark's own memory high-water mark in
/// `ru_maxrss` (posix_spawn's child shares the parent's memory until exec), so the figure would be the benchmark's.
/// The launcher is a few hundred KiB, forks, execs the program, and reports `wait4`'s figures for it.
final class ProcessBench {
    let directory: String
    private let launcher: String

    init() throws {
        directory = FileManager.default.temporaryDirectory.path + "/hangar-bench-process-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        launcher = directory + "/launch"
        try compileC(Self.launcherSource, output: launcher, libraries: [])
    }

    func remove() { try? FileManager.default.removeItem(atPath: directory) }

    /// One run of `program`: wall milliseconds from fork to reaped exit, peak RSS in KiB, exit status. Output goes
    /// to /dev/null; `directory` is the working directory; `environment` replaces the benchmark's.
    func measure(_ program: String, _ arguments: [String], environment: [String: String] = [:],
                 directory workingDirectory: String? = nil) throws -> (milliseconds: Double, peakKiB: Int) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: launcher)
        process.arguments = [program] + arguments
        process.environment = environment
        process.currentDirectoryURL = URL(fileURLWithPath: workingDirectory ?? directory)
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = FileHandle.nullDevice
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        let fields = output.split(separator: " ").map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }
        guard process.terminationStatus == 0, fields.count == 3, let nanoseconds = Double(fields[0]),
              let kib = Int(fields[1]) else {
            throw BenchFailure("the launcher could not run \(program) \(arguments.joined(separator: " ")): \(output)")
        }
        guard fields[2] == "0" else {
            throw BenchFailure("\(program) \(arguments.joined(separator: " ")) exited with status \(fields[2])")
        }
        return (nanoseconds / 1e6, kib)
    }

    /// Compiles a C program with the system's C compiler (`cc`, else the toolchain's `clang`).
    func compileC(_ source: String, output: String, libraries: [String]) throws {
        let file = output + ".c"
        try source.write(toFile: file, atomically: true, encoding: .utf8)
        let compiler = ["/usr/bin/cc", "/usr/bin/gcc", "/usr/bin/clang"].first { FileManager.default.isExecutableFile(atPath: $0) }
            ?? toolchainTool("clang")
        try runTool(compiler, ["-O2", "-o", output, file] + libraries.map { "-l" + $0 })
    }

    /// Compiles a Swift program as a plain user program is compiled: `swiftc -O`, linked dynamically.
    func compileSwift(_ source: String, output: String) throws {
        let file = output + ".swift"
        try source.write(toFile: file, atomically: true, encoding: .utf8)
        try runTool(toolchainTool("swiftc"), ["-O", "-o", output, file])
    }

    /// A tool of the Swift toolchain: from PATH, else next to the toolchain in /opt/swift or /usr/share/swift.
    private func toolchainTool(_ name: String) -> String {
        let path = (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":").map(String.init)
        for dir in path + ["/opt/swift/usr/bin", "/usr/share/swift/usr/bin"] where FileManager.default.isExecutableFile(atPath: dir + "/" + name) {
            return dir + "/" + name
        }
        return name
    }

    private func runTool(_ tool: String, _ arguments: [String]) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: tool)
        process.arguments = arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw BenchFailure("\(tool) \(arguments.joined(separator: " ")) failed:\n\(output)")
        }
    }

    /// `launch PROGRAM ARGS...`: prints "<wall ns> <peak RSS KiB> <exit status>" for one run of PROGRAM.
    static let launcherSource = #"""
        #include <fcntl.h>
        #include <stdio.h>
        #include <sys/resource.h>
        #include <sys/wait.h>
        #include <time.h>
        #include <unistd.h>
        int main(int argc, char **argv) {
            if (argc < 2) return 2;
            struct timespec start, end;
            clock_gettime(CLOCK_MONOTONIC, &start);
            pid_t pid = fork();
            if (pid == 0) {
                int null = open("/dev/null", O_WRONLY);
                dup2(null, 1);
                execv(argv[1], argv + 1);
                _exit(127);
            }
            int status = 0;
            struct rusage usage;
            if (pid < 0 || wait4(pid, &status, 0, &usage) != pid) return 3;
            clock_gettime(CLOCK_MONOTONIC, &end);
            long long ns = (long long)(end.tv_sec - start.tv_sec) * 1000000000LL + (end.tv_nsec - start.tv_nsec);
            printf("%lld %ld %d\n", ns, usage.ru_maxrss, WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
            return 0;
        }
        """#
}

/// Medians of alternating whole-process runs of a baseline and of hangar: wall time and peak RSS.
struct ProcessComparison {
    var baselineTime: Timing
    var hangarTime: Timing
    var baselineKiB: [Int] = []
    var hangarKiB: [Int] = []

    /// Runs both `rounds + 2` times, alternating, and drops the first two rounds (page cache, dynamic loader).
    init(rounds: Int, baseline: Timing, hangar: Timing, runBaseline: () throws -> (Double, Int),
         runHangar: () throws -> (Double, Int)) rethrows {
        baselineTime = baseline
        hangarTime = hangar
        for round in 0..<(rounds + 2) {
            let (b, bKiB) = try runBaseline()
            let (h, hKiB) = try runHangar()
            guard round >= 2 else { continue }
            baselineTime.samples.append(b)
            hangarTime.samples.append(h)
            baselineKiB.append(bKiB)
            hangarKiB.append(hKiB)
        }
    }

    var timeRatio: Double { hangarTime.median / baselineTime.median }
    var baselineMiB: Double { medianMiB(baselineKiB) }
    var hangarMiB: Double { medianMiB(hangarKiB) }

    private func medianMiB(_ kib: [Int]) -> Double {
        guard !kib.isEmpty else { return .nan }
        return Double(kib.sorted()[(kib.count - 1) / 2]) / 1024
    }
}
