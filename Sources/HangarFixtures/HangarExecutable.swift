import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// The `hangar` binary the build put next to the running test bundle or benchmark, and a way to run it once.
/// Never one on PATH: tests must run exactly what was just built.
public enum HangarExecutable {
    /// What one finished run printed and how it exited.
    public struct Run: Sendable {
        public var arguments: [String]
        public var status: Int32
        public var stdout: String
        public var stderr: String
        public var timedOut: Bool
        /// For assertion messages: the command and everything it printed.
        public var transcript: String {
            "hangar \(arguments.joined(separator: " ")) → \(timedOut ? "TIMED OUT" : "exit \(status)")\n--- stdout\n\(stdout)--- stderr\n\(stderr)---"
        }
    }

    /// Absolute path of the built `hangar`: the build puts it in the same products directory as the running test
    /// runner (`*PackageTests.xctest`) or benchmark.
    public static func path() throws -> String {
        let running = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe"))
            ?? CommandLine.arguments.first ?? ""
        let candidate = URL(fileURLWithPath: running).deletingLastPathComponent().appendingPathComponent("hangar").path
        guard access(candidate, X_OK) == 0 else {
            throw FixtureError("hangar binary not found at \(candidate); build with `swift build --build-tests` first")
        }
        return candidate
    }

    /// Runs `hangar` with exactly `environment` (nothing inherited) in `directory`; killed after `timeout` seconds.
    public static func run(_ arguments: [String], environment: [String: String], directory: String,
                           timeout: Double = 30) throws -> Run {
        let io = FileManager.default.temporaryDirectory.path + "/hangar-run-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: io, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: io) }
        _ = FileManager.default.createFile(atPath: io + "/out", contents: nil)
        _ = FileManager.default.createFile(atPath: io + "/err", contents: nil)
        let out = try FileHandle(forWritingTo: URL(fileURLWithPath: io + "/out"))
        let err = try FileHandle(forWritingTo: URL(fileURLWithPath: io + "/err"))
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try path())
        process.arguments = arguments
        process.environment = environment
        process.currentDirectoryURL = URL(fileURLWithPath: directory)
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = out
        process.standardError = err
        let exited = DispatchSemaphore(value: 0)
        process.terminationHandler = { _ in exited.signal() }
        try process.run()
        try? out.close()
        try? err.close()
        var timedOut = false
        if exited.wait(timeout: .now() + timeout) == .timedOut {
            timedOut = true
            kill(process.processIdentifier, SIGKILL)
            _ = exited.wait(timeout: .now() + 10)
        }
        let read = { (name: String) in (try? String(contentsOfFile: io + "/" + name, encoding: .utf8)) ?? "" }
        return Run(arguments: arguments, status: process.terminationStatus, stdout: read("out"), stderr: read("err"),
                   timedOut: timedOut)
    }
}
