import ArgumentParser
import HangarEngine

/// `hangar`: manage LocalAI backends from the command line.
@main
struct Hangar: ParsableCommand {
    static let version = HangarVersion.current

    static let configuration = CommandConfiguration(
        commandName: "hangar",
        abstract: "Browse, install, upgrade and remove LocalAI backends.",
        discussion: """
            hangar reads and changes a LocalAI backends directory exactly as LocalAI does: same layout, same \
            metadata.json, same gallery format, same runtime_settings.json. Every install and upgrade is staged \
            and swapped in atomically, so an interrupted or failed operation never loses a backend.
            """,
        version: version,
        subcommands: [UICommand.self, ListCommand.self, CheckCommand.self, InstallCommand.self, ReinstallCommand.self,
                      UninstallCommand.self, UpgradeCommand.self, SettingsCommand.self, RecoverCommand.self,
                      DemoCommand.self, DaemonCommand.self, HistoryCommand.self, HoldCommand.self,
                      UnholdCommand.self, VersionsCommand.self, RollbackCommand.self, GenerationsCommand.self,
                      PruneCommand.self, VerifyCommand.self, RestartModelsCommand.self, NodesCommand.self],
        defaultSubcommand: UICommand.self)

    /// Exit codes: 0 success, 1 an operation failed, 2 usage or configuration error.
    static func main() {
        do {
            var command = try parseAsRoot()
            try command.run()
        } catch let error as HangarError {
            Output.fail(error)
        } catch let error as OperationsFailed {
            Output.exit(error.code)
        } catch {
            let code = exitCode(for: error)
            if code == .success {
                exit(withError: error)
            }
            // Usage errors: one line, like every other hangar error, and exit 2 (ArgumentParser would use 64).
            let message = Hangar.message(for: error).split(separator: "\n").first.map(String.init) ?? "invalid usage"
            Output.stderr("hangar: \(message) (see hangar --help)")
            Output.exit(code == .validationFailure ? 2 : code.rawValue)
        }
    }
}

/// Raised after a command already printed its failures, carrying the exit status.
struct OperationsFailed: Error {
    var code: Int32 = 1
}
