import Foundation
import HangarFixtures

/// Section: the whole `hangar --version` process against a Swift program that only imports Foundation, compiled in
/// this run the way a plain user program is (`swiftc -O`, dynamic): what hangar's start-up costs beyond Swift's own.
struct StartupSection: BenchSection {
    let id = "startup"
    let title = "start-up: hangar --version vs a Foundation-only Swift program (whole process)"
    /// Issue 11: at most this multiple of the Foundation-only program's wall time.
    let goal = 1.5

    func run(_ options: BenchOptions) throws -> BenchReport {
        let hangar = try releaseHangar()
        let bench = try ProcessBench()
        defer { bench.remove() }
        let baseline = bench.directory + "/foundation-only"
        try bench.compileSwift("""
            import Foundation
            // What `--version` does, in a program that only imports Foundation.
            FileHandle.standardOutput.write(Data("0.2.0\\n".utf8))
            """, output: baseline)

        let comparison = try ProcessComparison(
            rounds: max(options.iterations, 20),
            baseline: Timing(id: "foundation_only", "a) Foundation-only program (swiftc -O)"),
            hangar: Timing(id: "hangar_version", "b) hangar --version (release)"),
            runBaseline: { try bench.measure(baseline, []) },
            runHangar: { try bench.measure(hangar, ["--version"]) })

        var report = BenchReport(id: id, section: title)
        report.timings = [comparison.baselineTime, comparison.hangarTime]
        report.checks = [
            BenchCheck(id: "ratio", label: "ratio b/a (median wall time)", value: comparison.timeRatio, goal: goal, unit: "×"),
            BenchCheck(id: "rss_ratio", label: "peak RSS b/a (median)", value: comparison.hangarMiB / comparison.baselineMiB,
                       goal: 1, unit: "×", info: "information: \(format(comparison.hangarMiB, decimals: 1)) MiB vs "
                        + "\(format(comparison.baselineMiB, decimals: 1)) MiB"),
        ]
        let runtime = try swiftRuntimeLinking(hangar, scratch: bench.directory)
        if runtime != "static" {
            printError("hangar-bench: \(hangar) maps the Swift runtime as shared libraries: build it with "
                + "`swift build -c release --static-swift-stdlib` to measure what install.sh installs")
        }
        report.facts = [
            ("hangar", hangar + " (Swift runtime: \(runtime))"),
            ("peak RSS (VmHWM via wait4), median", "Foundation-only \(format(comparison.baselineMiB, decimals: 1)) MiB, "
                + "hangar --version \(format(comparison.hangarMiB, decimals: 1)) MiB"),
        ]
        return report
    }
}

/// "static" when a `hangar --version` process maps no Swift runtime library (`--static-swift-stdlib`), else
/// "dynamic": read from the process's own maps, which `HANGAR_DEBUG_MAPS_FILE` copies out at exit.
func swiftRuntimeLinking(_ hangar: String, scratch: String) throws -> String {
    let mapsFile = scratch + "/version.maps"
    let process = Process()
    process.executableURL = URL(fileURLWithPath: hangar)
    process.arguments = ["--version"]
    process.environment = ["HANGAR_DEBUG_MAPS_FILE": mapsFile]
    process.standardOutput = FileHandle.nullDevice
    try process.run()
    process.waitUntilExit()
    guard let maps = try? String(contentsOfFile: mapsFile, encoding: .utf8) else {
        throw BenchFailure("\(hangar) --version wrote no maps to HANGAR_DEBUG_MAPS_FILE")
    }
    return maps.contains("libswiftCore.so") ? "dynamic" : "static"
}

/// The release `hangar` next to this benchmark (`swift build -c release` puts both in `.build/release`).
func releaseHangar() throws -> String {
    do {
        return try HangarExecutable.path()
    } catch {
        throw BenchFailure("\(error) (whole-process sections run the release binary: swift build -c release first)")
    }
}
