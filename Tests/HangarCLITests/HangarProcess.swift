import Foundation
import Synchronization
import XCTest

#if canImport(Glibc)
import Glibc
#endif

/// Finds the `hangar` executable the build put next to this test bundle. The tests must run the binary that was
/// just built with this scratch path, never another engineer's build or one on PATH.
enum HangarBinary {
    /// Anchor class for `Bundle(for:)`.
    private final class Anchor {}

    /// Absolute path of the built `hangar`, or nil when none was found next to the tests.
    static let path: String? = locate()

    private static func locate() -> String? {
        var starts: [URL] = [Bundle.main.bundleURL, Bundle(for: Anchor.self).bundleURL]
        if let executable = Bundle.main.executableURL { starts.append(executable) }
        if let first = CommandLine.arguments.first { starts.append(URL(fileURLWithPath: first)) }
        for start in starts {
            var dir = start.standardizedFileURL
            // Walk up from the bundle: the products directory of the build holds both the bundle and `hangar`.
            for _ in 0..<6 {
                let candidate = dir.appendingPathComponent("hangar").path
                var st = stat()
                if stat(candidate, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG, access(candidate, X_OK) == 0 {
                    return candidate
                }
                let parent = dir.deletingLastPathComponent()
                if parent.path == dir.path { break }
                dir = parent
            }
        }
        return nil
    }

    /// The path, or an error failing the test (never a skip: a suite that silently ran nothing would look green).
    static func require() throws -> String {
        guard let path else { throw MissingBinary() }
        return path
    }

    struct MissingBinary: Error, CustomStringConvertible {
        var description: String {
            "hangar binary not found next to the test bundle; build with `swift build --build-tests` first"
        }
    }
}

/// What one finished `hangar` process did.
struct RunResult: Sendable {
    let arguments: [String]
    /// Exit status, or the signal number when `signaled`.
    let status: Int32
    /// True when the process was ended by a signal (Foundation's `.uncaughtSignal`).
    let signaled: Bool
    let stdout: String
    let stderr: String
    /// True when the test's timeout fired and the test killed the process.
    let timedOut: Bool
    /// Monotonic seconds at launch and when the exit was observed, to prove two processes overlapped.
    let launchedAt: Double
    let endedAt: Double

    var diedBySIGKILL: Bool { signaled && status == SIGKILL && !timedOut }
    var exitedNormally: Bool { !signaled && !timedOut }

    /// Non-empty stderr lines.
    var stderrLines: [String] { stderr.split(separator: "\n").map(String.init).filter { !$0.isEmpty } }
    var stdoutLines: [String] { stdout.split(separator: "\n").map(String.init).filter { !$0.isEmpty } }

    /// For failure messages: the command and everything it printed.
    var transcript: String {
        let how = timedOut ? "TIMED OUT" : (signaled ? "killed by signal \(status)" : "exit \(status)")
        return "hangar \(arguments.joined(separator: " ")) → \(how)\n--- stdout\n\(stdout)--- stderr\n\(stderr)---"
    }
}

/// Monotonic clock in seconds.
func monotonicNow() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
}

/// A started `hangar` process whose output goes to files (pipes could fill up and block a process nobody reads).
/// Used from one thread at a time; the termination handler only touches the semaphore and the end time.
final class RunningHangar {
    let arguments: [String]
    let launchedAt: Double
    private let process: Process
    private let exited = DispatchSemaphore(value: 0)
    private let endedAt = Locked<Double>(0)
    private let stdoutPath: String
    private let stderrPath: String

    /// Launches the built binary with exactly `environment` (nothing inherited) in `directory`.
    init(_ arguments: [String], environment: [String: String], directory: String, outputDirectory: String) throws {
        self.arguments = arguments
        let token = UUID().uuidString
        stdoutPath = outputDirectory + "/\(token).out"
        stderrPath = outputDirectory + "/\(token).err"
        guard FileManager.default.createFile(atPath: stdoutPath, contents: nil),
              FileManager.default.createFile(atPath: stderrPath, contents: nil) else {
            throw CocoaError(.fileWriteUnknown)
        }
        let out = try FileHandle(forWritingTo: URL(fileURLWithPath: stdoutPath))
        let err = try FileHandle(forWritingTo: URL(fileURLWithPath: stderrPath))
        defer {
            // The child has its own copies once launched; ours would only leak descriptors across many runs.
            try? out.close()
            try? err.close()
        }
        process = Process()
        process.executableURL = URL(fileURLWithPath: try HangarBinary.require())
        process.arguments = arguments
        process.environment = environment
        process.currentDirectoryURL = URL(fileURLWithPath: directory)
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = out
        process.standardError = err
        let semaphore = exited
        let end = endedAt
        process.terminationHandler = { _ in
            end.set(monotonicNow())
            semaphore.signal()
        }
        launchedAt = monotonicNow()
        try process.run()
    }

    var pid: Int32 { process.processIdentifier }
    var isRunning: Bool { process.isRunning }

    /// Sends SIGKILL if the process has not exited yet (only ever to this process, by its pid).
    func killNow() {
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
    }

    /// Waits for the exit; after `timeout` seconds the process is killed and the result says `timedOut`.
    func wait(timeout: Double = 30) -> RunResult {
        var timedOut = false
        if exited.wait(timeout: .now() + timeout) == .timedOut {
            timedOut = true
            kill(process.processIdentifier, SIGKILL)
            _ = exited.wait(timeout: .now() + 10)
        }
        let signaled = process.terminationReason == .uncaughtSignal
        let read = { (path: String) -> String in
            let text = (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
            try? FileManager.default.removeItem(atPath: path)
            return text
        }
        return RunResult(arguments: arguments, status: process.terminationStatus, signaled: signaled,
                         stdout: read(stdoutPath), stderr: read(stderrPath), timedOut: timedOut,
                         launchedAt: launchedAt, endedAt: endedAt.get())
    }
}

/// A value shared between threads (a copyable handle around a `Mutex`, which itself cannot be captured).
final class Locked<Value: Sendable>: Sendable {
    private let storage: Mutex<Value>

    init(_ value: Value) { storage = Mutex(value) }

    func get() -> Value { storage.withLock { $0 } }
    func set(_ value: Value) { storage.withLock { $0 = value } }

    /// Runs `body` with exclusive access.
    func update<R: Sendable>(_ body: (inout Value) -> R) -> R { storage.withLock { body(&$0) } }
}
