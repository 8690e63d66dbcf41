import ArgumentParser
import HangarEngine

/// `hangar recover`: finish or undo what an interrupted operation left behind.
struct RecoverCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "recover",
        abstract: "Repair interrupted operations (runs automatically before every command).",
        discussion: """
            Every backend ends up complete at its old or its new version; hangar's leftover staging and trash \
            directories are removed, and LocalAI's own <name>.backup is restored when <name> is missing.
            """)

    @OptionGroup var global: GlobalOptions

    @OptionGroup var output: JSONOutput
    private var json: Bool { output.json }

    func run() throws {
        let configuration = try global.configuration()
        for warning in configuration.warnings { Output.stderr("hangar: warning: \(warning)") }
        try configuration.requireBackendsDirectory()
        let report = Engine.live(configuration: configuration, recover: false).engine.recover(thorough: true)
        if json {
            Output.json(.object(JSONObject([
                "repairs": .array(report.repairs.map { .string($0) }),
                "skipped": .array(report.skipped.map { .string($0) }),
                "problems": .array(report.problems.map { .string($0) }),
            ])))
        } else if report.isEmpty {
            Output.stdout("Nothing to recover.")
        } else {
            for line in report.repairs { Output.stdout("repaired: \(line)") }
            for line in report.skipped { Output.stdout("left alone: \(line)") }
            for line in report.problems { Output.stderr("hangar: could not repair: \(line)") }
        }
        if !report.problems.isEmpty { throw OperationsFailed() }
    }
}
