import Foundation
import HangarEngine
import HangarFixtures

/// Section: rollback of a backend whose tree is 512 MiB (the swap is renames, never a copy): the in-process
/// rollback job against an absolute goal, the whole `hangar rollback` command against `hangar list`, and an upgrade
/// of the same size keeping the replaced tree as a generation against the same upgrade deleting it.
struct RollbackSection: BenchSection {
    let id = "rollback"
    let title = "rollback of a 512 MiB backend; keeping a generation during a 512 MiB upgrade"
    /// The whole rollback job in-process (resolve, lock, lend, validate, swap, keep, consume), ms.
    let jobGoal = 50.0
    /// `hangar rollback` over `hangar list`, whole commands.
    let commandRatioGoal = 1.5
    /// What keeping a generation adds to the same upgrade without, in percent of it.
    let keepGoalPercent = 5.0
    /// 512 MiB copies: a handful of upgrades give a stable median without taking minutes.
    let maxUpgradeIterations = 16

    func run(_ options: BenchOptions) throws -> BenchReport {
        let root = NSTemporaryDirectory() + "hangar-bench-rollback-\(getpid())"
        defer { try? FileManager.default.removeItem(atPath: root) }
        let backends = root + "/backends"
        for dir in [backends, root + "/system", root + "/config", root + "/home"] {
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        }
        let treeBytes = try makeTree(root + "/src/big-1", version: "1.0.0")
        _ = try makeTree(root + "/src/big-2", version: "2.0.0")
        let galleries = ["1.0.0": root + "/gallery-1.yaml", "2.0.0": root + "/gallery-2.yaml"]
        for (version, file) in galleries {
            let source = root + "/src/big-" + String(version.prefix(1))
            try "---\n- name: big\n  uri: \"\(source)\"\n  version: \"\(version)\"\n".write(toFile: file, atomically: true, encoding: .utf8)
        }
        func environment(_ version: String) -> [String: String] {
            ["PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": root + "/home", "LANG": "C.UTF-8",
             "LOCALAI_BACKENDS_PATH": backends, "LOCALAI_BACKENDS_SYSTEM_PATH": root + "/system",
             "LOCALAI_CONFIG_DIR": root + "/config", "LOCALAI_FORCE_META_BACKEND_CAPABILITY": "default",
             "LOCALAI_BACKEND_GALLERIES": "[{\"name\":\"bench\",\"url\":\"file://\(galleries[version]!)\"}]"]
        }
        func hangar(_ arguments: [String], _ version: String = "2.0.0") throws {
            let run = try HangarExecutable.run(arguments, environment: environment(version), directory: root, timeout: 600)
            guard run.status == 0 else { throw BenchFailure("hangar \(arguments.joined(separator: " ")) failed:\n\(run.transcript)") }
        }
        func keep(_ count: Int) throws {
            try "{\"keep_generations\": \(count)}\n".write(toFile: root + "/config/hangar.json", atomically: true, encoding: .utf8)
        }
        func installedVersion() -> String {
            let text = (try? String(contentsOfFile: backends + "/big/VERSION", encoding: .utf8)) ?? ""
            return text.trimmingCharacters(in: .whitespacesAndNewlines)
        }

        // 1.0.0 installed, upgraded to 2.0.0: 1.0.0 is generation 1.
        try keep(1)
        try hangar(["install", "big"], "1.0.0")
        try hangar(["upgrade", "big"], "2.0.0")

        // a) The rollback job in-process, back and forth (each rollback keeps what it replaced).
        let configuration = try HangarConfiguration.resolve(flags: .init(), environment: environment("2.0.0"), workingDirectory: root)
        let engine = Engine.live(configuration: configuration, recover: false).engine
        var job = Timing(id: "job", "a) rollback job in-process (512 MiB tree)")
        let clock = ContinuousClock()
        for round in 0...options.iterations {
            let before = installedVersion()
            let started = clock.now
            let outcome = engine.jobs.wait(try engine.rollback("big"))
            if round > 0 { job.samples.append(milliseconds(clock.now - started)) }
            guard outcome.isSuccess, installedVersion() != before else { throw BenchFailure("rollback did not swap: \(outcome)") }
        }

        // b, c) Whole commands, alternating after a warm-up.
        var list = Timing(id: "list", "b) hangar list")
        var rollback = Timing(id: "command", "c) hangar rollback big")
        for round in 0...options.iterations {
            var started = clock.now
            try hangar(["list"])
            if round > 0 { list.samples.append(milliseconds(clock.now - started)) }
            let before = installedVersion()
            started = clock.now
            try hangar(["rollback", "big"])
            if round > 0 { rollback.samples.append(milliseconds(clock.now - started)) }
            guard installedVersion() != before else { throw BenchFailure("hangar rollback did not swap") }
        }

        // d, e) Upgrades of 512 MiB alternating between the two builds, keeping a generation or not (alternating).
        var plain = Timing(id: "upgrade_delete", "d) hangar upgrade, replaced tree deleted (keep_generations 0)")
        var kept = Timing(id: "upgrade_keep", "e) hangar upgrade, replaced tree kept (keep_generations 1)")
        // Each round's two upgrades run back to back, under the same load from other processes: the median of the
        // per-round ratios is far less noisy than the ratio of two medians over minutes of a shared disk.
        var pairRatios: [Double] = []
        let upgrades = min(options.iterations, maxUpgradeIterations)
        for round in 0...upgrades {
            // Which one goes first alternates too, so neither always follows the other's writeback.
            for keeping in round % 2 == 0 ? [false, true] : [true, false] {
                try keep(keeping ? 1 : 0)
                let target = installedVersion() == "1.0.0" ? "2.0.0" : "1.0.0"
                let started = clock.now
                try hangar(["upgrade", "big"], target)
                let elapsed = milliseconds(clock.now - started)
                if round > 0 && keeping { kept.samples.append(elapsed) }
                if round > 0 && !keeping { plain.samples.append(elapsed) }
                guard installedVersion() == target else { throw BenchFailure("upgrade to \(target) did not happen") }
            }
            if try engine.generations(of: "big").isEmpty { throw BenchFailure("no generation was kept") }
            if round > 0 { pairRatios.append(kept.samples.last! / plain.samples.last!) }
        }

        var report = BenchReport(id: id, section: title)
        report.timings = [job, list, rollback, plain, kept]
        report.checks = [
            BenchCheck(id: "rollback_job_ms", label: "a) median", value: job.median, goal: jobGoal, unit: " ms"),
            BenchCheck(id: "rollback_command_ratio", label: "c/b (median)", value: rollback.median / list.median,
                       goal: commandRatioGoal, unit: "×"),
            BenchCheck(id: "keep_generation_added_percent", label: "e/d - 1 (median of rounds)",
                       value: (Self.median(pairRatios) - 1) * 100, goal: keepGoalPercent, unit: " %"),
        ]
        report.facts = [
            ("e/d - 1 (ratio of medians)", format((kept.median / plain.median - 1) * 100) + " %"),
            ("tree", "run.sh + 64 files of 8 MiB = \(TextFormat.bytes(treeBytes)) per build, two builds"),
            ("rollback", "renames only: the generation's tree into staging, RENAME_EXCHANGE, the replaced tree into a new generation"),
            ("upgrades", "\(upgrades) of each after a warm-up, alternating (and alternating which goes first), each copying 512 MiB from a local directory and deleting 512 MiB (the replaced tree, or with keep_generations 1 the generation it pushes out)"),
        ]
        return report
    }

    private static func median(_ values: [Double]) -> Double {
        guard !values.isEmpty else { return .nan }
        let sorted = values.sorted()
        return sorted.count % 2 == 1 ? sorted[sorted.count / 2] : (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
    }

    /// run.sh, VERSION and 64 files of 8 MiB (distinct bytes per version). Returns the bytes written.
    private func makeTree(_ dir: String, version: String) throws -> Int64 {
        try FileManager.default.createDirectory(atPath: dir + "/lib", withIntermediateDirectories: true)
        try "#!/bin/sh\necho big \(version)\n".write(toFile: dir + "/run.sh", atomically: true, encoding: .utf8)
        chmod(dir + "/run.sh", 0o755)
        try "\(version)\n".write(toFile: dir + "/VERSION", atomically: true, encoding: .utf8)
        let fileSize = 8 << 20
        var total: Int64 = 0
        for i in 0..<64 {
            let data = Data(repeating: UInt8(truncatingIfNeeded: i &+ Int(version.utf8.first ?? 0)), count: fileSize)
            try data.write(to: URL(fileURLWithPath: dir + "/lib/part-\(i).bin"))
            total += Int64(fileSize)
        }
        return total
    }
}
