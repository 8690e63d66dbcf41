import Foundation

/// The `hangar` binary the build put next to the running test bundle or benchmark, and a way to run it once.
/// Never one on PATH: tests must run exactly what was just built.
public enum HangarExecutable {
    /// What one finished run printed and how it exited.
    public typealias Run = RunResult

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
        let io = try makeTemporaryDirectory("run")
        defer { removeTree(io) }
        return try RunningHangar(arguments, environment: environment, directory: directory, outputDirectory: io)
            .wait(timeout: timeout)
    }
}
