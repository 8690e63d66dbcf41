import ArgumentParser
import HangarEngine

#if canImport(Glibc)
import Glibc
#endif

/// `hangar`: manage LocalAI backends from the command line.
@main
struct Hangar: ParsableCommand {
    static let version = "0.1.0"

    static let configuration = CommandConfiguration(
        commandName: "hangar",
        abstract: "Browse, install, upgrade and remove LocalAI backends.",
        discussion: """
            hangar reads and changes a LocalAI backends directory exactly as LocalAI does: same layout, same \
            metadata.json, same gallery format, same runtime_settings.json. Every install and upgrade is staged \
            and swapped in atomically, so an interrupted or failed operation never loses a backend.
            """,
        version: version,
        subcommands: [ListCommand.self, CheckCommand.self, InstallCommand.self, ReinstallCommand.self,
                      UninstallCommand.self, UpgradeCommand.self, SettingsCommand.self, RecoverCommand.self,
                      DemoCommand.self],
        defaultSubcommand: ListCommand.self)

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
            // ArgumentParser reports usage errors with its own text; hangar's contract says exit 2 for them.
            let message = fullMessage(for: error)
            if !message.isEmpty { Output.stderr(message) }
            Output.exit(code == .validationFailure ? 2 : code.rawValue)
        }
    }
}

/// Raised after a command already printed its failures, carrying the exit status.
struct OperationsFailed: Error {
    var code: Int32 = 1
}
