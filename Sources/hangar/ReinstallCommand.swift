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

    @OptionGroup var nodeOption: NodeOption

    @OptionGroup var jobOptions: JobOptions

    func run() throws {
        try InstallCommand.install(name, force: true, node: nodeOption, global: global, jobOptions: jobOptions)
    }
}
