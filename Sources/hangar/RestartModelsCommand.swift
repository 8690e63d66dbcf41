import ArgumentParser
import HangarEngine

/// `hangar restart-models BACKEND`: stop the models a running LocalAI has loaded on a backend, so each one's next
/// request runs the build now on disk (an upgrade never restarts loaded models, localai-api.md §12.2).
struct RestartModelsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "restart-models",
        abstract: "Restart the models a running LocalAI has loaded on a backend, so they run its new build.",
        discussion: "Needs --server (with --backends-path in link mode). Each loaded model is stopped through POST /backend/shutdown; its next request loads it again from the backend's current build.")

    @OptionGroup var global: GlobalOptions

    @Argument(help: "Backend name (a meta or alias name covers the build behind it).")
    var backend: String

    @OptionGroup var output: JSONOutput

    func run() throws {
        let engine = try global.engine()
        try Self.restart(backend, on: engine, json: output.json)
    }

    /// Stops and reports; `upgrade --restart-models` and `reinstall --restart-models` use it after their jobs.
    static func restart(_ backend: String, on engine: Engine, json: Bool) throws {
        let stopped = try engine.restartModels(on: backend)
        let server = engine.serverLink?.url ?? ""
        if json {
            Output.stdout(JSONValue.object(JSONObject([
                "event": .string("restarted_models"), "backend": .string(backend),
                "models": .array(stopped.map { .string($0) }), "server": .string(server)])).compact())
        } else if stopped.isEmpty {
            Output.stdout("No model is loaded on \(backend) at \(server).")
        } else {
            Output.stdout("restarted \(stopped.joined(separator: ", ")) on \(server): the next request to each runs \(backend)'s new build")
        }
    }
}
