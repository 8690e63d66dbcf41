import ArgumentParser
import HangarEngine

/// `hangar uninstall NAME...`: remove backends (a meta removes its concrete too; system backends are refused).
struct UninstallCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "uninstall",
        abstract: "Remove installed backends.",
        discussion: "Each name is tried even when an earlier one fails; the exit status is 1 if any failed.")

    @OptionGroup var global: GlobalOptions

    @Argument(help: "Backend names (a meta, an alias or a directory name).")
    var names: [String]

    @OptionGroup var nodeOption: NodeOption

    @OptionGroup var jobOptions: JobOptions

    func validate() throws {
        if names.isEmpty { throw ValidationError("name at least one backend to uninstall") }
    }

    func run() throws {
        // Every name is checked before anything is queued, so a bad one cannot stop the run halfway.
        for name in names { _ = try BackendName.validate(name) }
        try nodeOption.check(global)
        if let node = nodeOption.node {
            try jobOptions.run(global) { engine in try names.map { try engine.uninstall($0, node: node) } }
            return
        }
        try jobOptions.run(global) { engine in try names.map { try engine.uninstall($0) } }
    }
}
