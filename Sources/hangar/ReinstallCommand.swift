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

    @Flag(help: "Print job events as JSON Lines.")
    var json = false

    func run() throws {
        let engine = try global.engine()
        let failed = try JobRunner.run(engine, json: json) { [try $0.install(name, force: true)] }
        if failed > 0 { throw OperationsFailed() }
    }
}
