import ArgumentParser
import HangarEngine

/// `hangar install NAME`: install a backend from the galleries (a meta picks the build for this host).
struct InstallCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "install",
        abstract: "Install a backend by gallery name (NAME or GALLERY@NAME).",
        discussion: "Without --force an installed, runnable backend is left as it is (LocalAI's ensure-installed).")

    @OptionGroup var global: GlobalOptions

    @Argument(help: "Gallery entry name, e.g. llama-cpp or localai@cpu-llama-cpp.")
    var name: String

    @Flag(help: "Install again even when the backend is already installed.")
    var force = false

    @Flag(help: "Print job events as JSON Lines.")
    var json = false

    func run() throws {
        let engine = try global.engine()
        let failed = try JobRunner.run(engine, json: json) { [try $0.install(name, force: force)] }
        if failed > 0 { throw OperationsFailed() }
    }
}
