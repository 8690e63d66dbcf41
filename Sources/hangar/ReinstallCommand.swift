import ArgumentParser
import HangarEngine

/// `hangar reinstall NAME`: a forced install that atomically replaces the installed files.
struct ReinstallCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reinstall",
        abstract: "Reinstall a backend from its gallery entry (files absent from the new copy disappear).")

    @OptionGroup var global: GlobalOptions

    @Argument(help: "Backend name.")
    var name: String

    @Flag(name: .customLong("restart-models"),
          help: "Then restart the models a running LocalAI (--server) has loaded on it, so they run the new build.")
    var restartModels = false
    @OptionGroup var nodeOption: NodeOption

    @OptionGroup var jobOptions: JobOptions

    func run() throws {
        guard restartModels else {
            return try InstallCommand.install(name, force: true, node: nodeOption, global: global, jobOptions: jobOptions)
        }
        if nodeOption.node != nil {
            throw HangarError.configuration("--restart-models is for a local backends directory linked to its server; reinstall on a node without it")
        }
        let engine = try global.engine()
        try engine.requireServerLink()
        if try JobRunner.run(engine, json: jobOptions.json, submit: { [try $0.install(name, force: true)] }) > 0 {
            throw OperationsFailed()
        }
        try RestartModelsCommand.restart(name, on: engine, json: jobOptions.json)
    }
}
