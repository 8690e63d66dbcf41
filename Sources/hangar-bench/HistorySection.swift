import Foundation
import HangarEngine

/// Section: `hangar history` over 100,000 records (a history written by a long-lived installation), the whole
/// process, next to `hangar list` on the same site (the same start-up and set-up without the history).
struct HistorySection: BenchSection {
    let id = "history"
    let title = "hangar history over 100,000 records (whole process) vs hangar list on the same site"
    let records = 100_000
    /// Issue 9: the whole command at most this many milliseconds.
    let goal = 200.0

    func run(_ options: BenchOptions) throws -> BenchReport {
        let hangar = try releaseHangar()
        let bench = try ProcessBench()
        defer { bench.remove() }
        let site = bench.directory + "/site"
        let privateDir = site + "/backends/.hangar"
        try FileManager.default.createDirectory(atPath: privateDir, withIntermediateDirectories: true)
        let bytes = try writeHistory(privateDir)
        let environment = [
            "PATH": "/usr/bin:/bin", "HOME": site, "LANG": "C.UTF-8",
            "LOCALAI_BACKENDS_PATH": site + "/backends", "LOCALAI_CONFIG_DIR": site + "/configuration",
            "LOCALAI_FORCE_META_BACKEND_CAPABILITY": "default",
        ]
        // The command must really have read every record.
        let check = Process()
        check.executableURL = URL(fileURLWithPath: hangar)
        check.arguments = ["history", "--all", "--json"]
        check.environment = environment
        let pipe = Pipe()
        check.standardOutput = pipe
        try check.run()
        let out = pipe.fileHandleForReading.readDataToEndOfFile()
        check.waitUntilExit()
        let printed = out.split(separator: UInt8(ascii: "\n")).filter { $0.contains(UInt8(ascii: "{")) }.count
        guard check.terminationStatus == 0, printed == records else {
            throw BenchFailure("hangar history --all --json printed \(printed) records of \(records) (status \(check.terminationStatus))")
        }

        let rounds = max(5, min(options.iterations, 15))
        let all = try ProcessComparison(
            rounds: rounds,
            baseline: Timing(id: "list", "a) hangar list (same site)"),
            hangar: Timing(id: "history", "b) hangar history (the newest 100, the default)"),
            runBaseline: { try bench.measure(hangar, ["list"], environment: environment, directory: site) },
            runHangar: { try bench.measure(hangar, ["history"], environment: environment, directory: site) })
        let json = try ProcessComparison(
            rounds: rounds,
            baseline: Timing(id: "list_again", "a) hangar list (same site)"),
            hangar: Timing(id: "history_json", "c) hangar history --all --json (all 100,000, streamed)"),
            runBaseline: { try bench.measure(hangar, ["list"], environment: environment, directory: site) },
            runHangar: { try bench.measure(hangar, ["history", "--all", "--json"], environment: environment, directory: site) })
        let one = try ProcessComparison(
            rounds: rounds,
            baseline: Timing(id: "list_third", "a) hangar list (same site)"),
            hangar: Timing(id: "history_name", "d) hangar history backend-7 --all (2,500 of them)"),
            runBaseline: { try bench.measure(hangar, ["list"], environment: environment, directory: site) },
            runHangar: { try bench.measure(hangar, ["history", "backend-7", "--all"], environment: environment, directory: site) })

        var report = BenchReport(id: id, section: title)
        report.timings = [all.baselineTime, all.hangarTime, json.hangarTime, one.hangarTime]
        report.checks = [
            BenchCheck(id: "history_ms", label: "b) median", value: all.hangarTime.median, goal: goal, unit: " ms"),
        ]
        report.facts = [
            ("history", "\(records) records, \(format(Double(bytes) / 1_048_576, decimals: 1)) MiB of JSON Lines in history.jsonl"),
            ("b/a", format(all.timeRatio, decimals: 1) + "× hangar list"),
            ("c) every record, streamed (information)", format(json.hangarTime.median, decimals: 0) + " ms, "
                + format(json.hangarMiB, decimals: 1) + " MiB peak"),
            ("peak RSS, median", "list \(format(all.baselineMiB, decimals: 1)) MiB, history \(format(all.hangarMiB, decimals: 1)) MiB"),
        ]
        return report
    }

    /// 100,000 records as hangar writes them: upgrades with both builds, some failures, several origins.
    private func writeHistory(_ directory: String) throws -> Int {
        var text = ""
        text.reserveCapacity(records * 330)
        let start = 1_780_000_000.0
        for i in 0..<records {
            let failed = i % 17 == 0
            let record = OperationRecord(
                job: i % 50 + 1, operation: i % 9 == 0 ? .install : .upgrade, backend: "backend-\(i % 40)",
                finishedAt: Date(timeIntervalSince1970: start + Double(i) * 60), outcome: failed ? "rolled_back" : "done",
                message: failed ? "not a valid backend: run.sh missing in new version — v1.\(i % 7).0 restored"
                    : "upgraded backend-\(i % 40) v1.\(i % 7).0 → v1.\(i % 7 + 1).0",
                startedAt: Date(timeIntervalSince1970: start + Double(i) * 60 - 12),
                change: BackendChange(from: BuildIdentity(version: "1.\(i % 7).0", digest: "sha256:" + String(repeating: "a", count: 64)),
                                      to: BuildIdentity(version: "1.\(i % 7 + 1).0", digest: "sha256:" + String(repeating: "b", count: 64))),
                bytes: Int64(i % 1000) * 1_048_576, origin: ["cli", "ui", "auto-upgrade (daemon)"][i % 3])
            text += record.jsonValue.compact() + "\n"
        }
        try text.write(toFile: directory + "/history.jsonl", atomically: false, encoding: .utf8)
        return text.utf8.count
    }
}
