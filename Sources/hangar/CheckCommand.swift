import ArgumentParser
import HangarEngine

/// `hangar check`: which installed backends have upgrades (LocalAI's upgrade detection).
struct CheckCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Check installed backends for upgrades.",
        discussion: """
            --json prints exactly LocalAI's GET /backends/upgrades shape: {} when everything is up to date. \
            Registry digest lookups run 8 at a time (env HANGAR_CHECK_CONCURRENCY, 1-64).
            """)

    @OptionGroup var global: GlobalOptions

    @OptionGroup var output: JSONOutput
    private var json: Bool { output.json }

    func run() throws {
        let engine = try global.engine()
        let report = try engine.checkUpgrades()
        for warning in report.warnings { Output.stderr("hangar: warning: \(warning)") }
        if json {
            Output.json(.object(report.jsonObject))
            return
        }
        if report.upgrades.isEmpty {
            Output.stdout("All backends are up to date.")
            return
        }
        let holds = (try? engine.holds()) ?? [:]
        for name in report.upgrades.keys.sorted() {
            // A held backend is still checked; the line says why upgrades leave it alone.
            let held = holds[name].map { " (\($0.text); upgrades skip it)" } ?? ""
            Output.stdout("\(name): \(report.upgrades[name]!.changeText)\(held)")
        }
    }
}

extension UpgradeInfo {
    /// `v1.0.0 → v2.0.0`, or `new build (sha256:aaaaaaa → sha256:bbbbbbb)` when only the digest changed. On a cluster
    /// whose nodes disagree (§5.6 `node_drift`) the drifted nodes follow, with their builds.
    var changeText: String {
        guard let drift = driftText else { return versionChangeText }
        if isDriftOnly { return "most nodes have \(majorityBadge) (current); \(drift)" }
        return "\(versionChangeText) on most nodes; \(drift)"
    }

    private var versionChangeText: String {
        if !availableVersion.isEmpty {
            return "\(installedVersion.isEmpty ? "unversioned" : "v" + installedVersion) → v\(availableVersion)"
        }
        let from = installedDigest.isEmpty ? "no digest" : TextFormat.shortDigest(installedDigest)
        return "new build (\(from) → \(TextFormat.shortDigest(availableDigest)))"
    }
}
