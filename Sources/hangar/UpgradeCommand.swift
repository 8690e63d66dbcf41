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

    @Flag(name: .customLong("ignore-hold"), help: "Upgrade named backends even when they are held or pinned.")
    var ignoreHold = false

    @Flag(name: .customLong("restart-models"),
          help: "Then restart the models a running LocalAI (--server) has loaded on each upgraded backend, so they run the new build.")
    var restartModels = false
    @OptionGroup var nodeOption: NodeOption

    @OptionGroup var jobOptions: JobOptions
    private var json: Bool { jobOptions.json }

    func run() throws {
        for name in names { _ = try BackendName.validate(name) }
        try nodeOption.check(global)
        if let node = nodeOption.node {
            if restartModels {
                throw HangarError.configuration("--restart-models is for a local backends directory linked to its server; upgrade on a node without it")
            }
            // One node: the named backends, as that node has them (the cluster's upgrade check does not apply).
            if names.isEmpty { throw HangarError.configuration("--node needs backend names: hangar upgrade NAME --node \(node)") }
            try jobOptions.run(global) { engine in try names.map { try engine.upgrade($0, node: node) } }
            return
        }
        let engine = try global.engine()
        if restartModels { try engine.requireServerLink() }
        let report = try engine.checkUpgrades()
        if !json { for warning in report.warnings { Output.stderr("hangar: warning: \(warning)") } }
        let holds = ignoreHold ? [:] : try engine.holds()
        var targets: [String] = []
        var refused = false
        if names.isEmpty {
            targets = report.upgrades.keys.sorted()
            if targets.isEmpty {
                say("All backends are up to date.", event: "up_to_date", backend: nil, reason: nil)
                return
            }
            for name in targets {
                guard let hold = holds[name] else { continue }
                targets.removeAll { $0 == name }
                say("Backend \(name): \(hold.text); skipped (hangar unhold \(name) allows upgrades again)",
                    event: "skipped", backend: name, reason: hold.text)
            }
        } else {
            let installed = try engine.installed()
            for name in names {
                switch UpgradeDecision.decide(name, installed: installed, report: report, holds: holds) {
                case .upgrade(let target, _):
                    if !targets.contains(target) { targets.append(target) }
                case .skip(let reason):
                    say("Backend \(name): \(reason)", event: "skipped", backend: name, reason: reason)
                case .held(let target, let hold):
                    refused = true
                    Output.stderr("hangar: \(name) is \(target == name ? "" : "upgraded through \(target), which is ")"
                                  + "\(hold.text): add --ignore-hold to upgrade it anyway, or hangar unhold \(name)")
                }
            }
        }
        if let warning = engine.holdsIgnoredByLocalAI(), !holds.isEmpty, !json { Output.stderr("hangar: warning: \(warning)") }
        if targets.isEmpty {
            if !json && !names.isEmpty { Output.stdout("No upgrades to apply.") }
            if refused { throw OperationsFailed() }
            return
        }
        var outcomes: [(String, JobID)] = []
        let failed = try JobRunner.run(engine, json: json) { engine in
            try targets.map { name in
                let id = try engine.upgrade(name)
                outcomes.append((name, id))
                return id
            }
        }
        if restartModels {
            for (name, id) in outcomes where engine.jobs.outcome(id)?.isSuccess == true {
                try RestartModelsCommand.restart(name, on: engine, json: json)
            }
        }
        if !json && targets.count > 1 {
            Output.stdout("\(targets.count - failed) of \(targets.count) upgrades succeeded.")
            for (name, id) in outcomes where !(engine.jobs.outcome(id)?.isSuccess ?? false) {
                Output.stdout("  failed: \(name)")
            }
        }
        if failed > 0 || refused { throw OperationsFailed() }
    }

    /// A line for people, or with --json a JSON Lines event (`skipped` with a reason, `up_to_date`).
    private func say(_ text: String, event: String, backend: String?, reason: String?) {
        guard json else { return Output.stdout(text) }
        var o = JSONObject()
        o["event"] = .string(event)
        if let backend { o["backend"] = .string(backend) }
        if let reason { o["reason"] = .string(reason) }
        Output.stdout(JSONValue.object(o).compact())
    }
}
