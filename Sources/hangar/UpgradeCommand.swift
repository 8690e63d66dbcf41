import ArgumentParser
import HangarEngine

/// `hangar upgrade [NAME...]`: upgrade the named backends, or every backend `check` flags.
struct UpgradeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "upgrade",
        abstract: "Upgrade backends that have upgrades (all of them when no name is given).",
        discussion: "Continues past failures and summarises them; a failed upgrade leaves the previous version in place.")

    @OptionGroup var global: GlobalOptions

    @Argument(help: "Backend names; none means every backend with an upgrade.")
    var names: [String] = []

    @Flag(help: "Print job events as JSON Lines.")
    var json = false

    func run() throws {
        for name in names { _ = try BackendName.validate(name) }
        let engine = try global.engine()
        let report = try engine.checkUpgrades()
        if !json { for warning in report.warnings { Output.stderr("hangar: warning: \(warning)") } }
        var targets: [String] = []
        if names.isEmpty {
            targets = report.upgrades.keys.sorted()
            if targets.isEmpty {
                if !json { Output.stdout("All backends are up to date.") }
                return
            }
        } else {
            for name in names {
                if report.upgrades[name] != nil {
                    targets.append(name)
                } else if !json {
                    Output.stdout("Backend \(name): no upgrade available")
                }
            }
            if targets.isEmpty {
                if !json { Output.stdout("No upgrades to apply.") }
                return
            }
        }
        var outcomes: [(String, JobID)] = []
        let failed = try JobRunner.run(engine, json: json) { engine in
            try targets.map { name in
                let id = try engine.upgrade(name)
                outcomes.append((name, id))
                return id
            }
        }
        if !json && targets.count > 1 {
            Output.stdout("\(targets.count - failed) of \(targets.count) upgrades succeeded.")
            for (name, id) in outcomes where !(engine.jobs.outcome(id)?.isSuccess ?? false) {
                Output.stdout("  failed: \(name)")
            }
        }
        if failed > 0 { throw OperationsFailed() }
    }
}
