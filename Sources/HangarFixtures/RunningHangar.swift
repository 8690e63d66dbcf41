import Foundation
import HangarEngine
import Synchronization

/// What one finished `hangar` process did.
public struct RunResult: Sendable {
    public var arguments: [String]
    /// Exit status, or the signal number when `signaled`.
    public var status: Int32
    /// True when the process was ended by a signal (Foundation's `.uncaughtSignal`).
    public var signaled: Bool
    public var stdout: String
    public var stderr: String
    /// True when the caller's timeout fired and the process was killed.
    public var timedOut: Bool
    /// Monotonic seconds at launch and when the exit was observed, to prove two processes overlapped.
    public var launchedAt: Double
    public var endedAt: Double

    public init(arguments: [String], status: Int32, signaled: Bool = false, stdout: String, stderr: String,
                timedOut: Bool, launchedAt: Double = 0, endedAt: Double = 0) {
        self.arguments = arguments
        self.status = status
        self.signaled = signaled
        self.stdout = stdout
        self.stderr = stderr
        self.timedOut = timedOut
        self.launchedAt = launchedAt
        self.endedAt = endedAt
    }

    public var diedBySIGKILL: Bool { signaled && status == SIGKILL && !timedOut }
    public var exitedNormally: Bool { !signaled && !timedOut }

    /// Non-empty stderr and stdout lines.
    public var stderrLines: [String] { stderr.split(separator: "\n").map(String.init).filter { !$0.isEmpty } }
    public var stdoutLines: [String] { stdout.split(separator: "\n").map(String.init).filter { !$0.isEmpty } }

    /// For failure messages: the command and everything it printed.
    public var transcript: String {
        let how = timedOut ? "TIMED OUT" : (signaled ? "killed by signal \(status)" : "exit \(status)")
        return "hangar \(arguments.joined(separator: " ")) → \(how)\n--- stdout\n\(stdout)--- stderr\n\(stderr)---"
    }
}

/// A started `hangar` process (the one the build just made) whose output goes to files: pipes could fill up and
/// block a process nobody reads. Used from one thread at a time; the termination handler only touches the
/// semaphore and the end time.
public final class RunningHangar {
    public let arguments: [String]
    public let launchedAt: Double
    private let process: Process
    private let exited = DispatchSemaphore(value: 0)
    private let endedAt = Locked<Double>(0)
    private let stdoutPath: String
    private let stderrPath: String

    /// Launches the built binary with exactly `environment` (nothing inherited) in `directory`.
    public init(_ arguments: [String], environment: [String: String], directory: String, outputDirectory: String) throws {
        self.arguments = arguments
        let token = UUID().uuidString
        stdoutPath = outputDirectory + "/\(token).out"
        stderrPath = outputDirectory + "/\(token).err"
        guard FileManager.default.createFile(atPath: stdoutPath, contents: nil),
              FileManager.default.createFile(atPath: stderrPath, contents: nil) else {
            throw FixtureError("cannot create output files in \(outputDirectory)")
        }
        let out = try FileHandle(forWritingTo: URL(fileURLWithPath: stdoutPath))
        let err = try FileHandle(forWritingTo: URL(fileURLWithPath: stderrPath))
        defer {
            // The child has its own copies once launched; ours would only leak descriptors across many runs.
            try? out.close()
            try? err.close()
        }
        process = Process()
        process.executableURL = URL(fileURLWithPath: try HangarExecutable.path())
        process.arguments = arguments
        process.environment = environment
        process.currentDirectoryURL = URL(fileURLWithPath: directory)
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = out
        process.standardError = err
        let semaphore = exited
        let end = endedAt
        process.terminationHandler = { _ in
            end.set(MonotonicClock.now())
            semaphore.signal()
        }
        launchedAt = MonotonicClock.now()
        try process.run()
    }

    public var pid: Int32 { process.processIdentifier }
    public var isRunning: Bool { process.isRunning }

    /// Sends SIGKILL if the process has not exited yet (only ever to this process, by its pid).
    public func killNow() {
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
    }

    /// Waits for the exit; after `timeout` seconds the process is killed and the result says `timedOut`.
    public func wait(timeout: Double = 30) -> RunResult {
        var timedOut = false
        if exited.wait(timeout: .now() + timeout) == .timedOut {
            timedOut = true
            kill(process.processIdentifier, SIGKILL)
            _ = exited.wait(timeout: .now() + 10)
        }
        let read = { (path: String) -> String in
            let text = (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
            try? FileManager.default.removeItem(atPath: path)
            return text
        }
        // Foundation traps on the status of a process it has not reaped yet (the wait after SIGKILL can time out).
        let reaped = !process.isRunning
        return RunResult(arguments: arguments, status: reaped ? process.terminationStatus : SIGKILL,
                         signaled: reaped ? process.terminationReason == .uncaughtSignal : true,
                         stdout: read(stdoutPath), stderr: read(stderrPath), timedOut: timedOut,
                         launchedAt: launchedAt, endedAt: endedAt.get())
    }
}

/// A value shared between threads (a copyable handle around a `Mutex`, which itself cannot be captured).
public final class Locked<Value: Sendable>: Sendable {
    private let storage: Mutex<Value>

    public init(_ value: Value) { storage = Mutex(value) }

    public func get() -> Value { storage.withLock { $0 } }
    public func set(_ value: Value) { storage.withLock { $0 = value } }

    /// Runs `body` with exclusive access.
    public func update<R: Sendable>(_ body: (inout Value) -> R) -> R { storage.withLock { body(&$0) } }
}
