import ArgumentParser
import HangarEngine

/// `hangar rollback NAME [--to N]`: swap a kept previous build back in.
struct RollbackCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rollback",
        abstract: "Put a previous version of a backend back (hangar generations lists what is kept).",
        discussion: """
            The kept build is swapped in atomically, like an upgrade, with its metadata.json exactly as it was; the \
            build it replaces is kept as generation 1, so a rollback can be rolled forward. A meta rolls back its \
            concrete backend.
            """)

    @OptionGroup var global: GlobalOptions

    @Argument(help: "Backend name (a meta, an alias or a directory name).")
    var name: String

    @Option(name: .customLong("to"), help: "Generation to put back: 1 is the most recently replaced build.")
    var generation: Int = 1

    @OptionGroup var jobOptions: JobOptions

    func validate() throws {
        if generation < 1 { throw ValidationError("--to takes a generation number from 1 (the most recent), got \(generation)") }
    }

    func run() throws {
        try jobOptions.run(global) { engine in [try engine.rollback(name, to: generation)] }
    }
}
