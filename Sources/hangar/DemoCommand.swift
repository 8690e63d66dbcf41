import ArgumentParser
import Foundation
import HangarEngine
import HangarTUI

/// `hangar demo`: build a sandboxed LocalAI installation with upgrades waiting and open the UI on it (on a terminal),
/// or list it (otherwise).
struct DemoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Create the built-in demo sandbox (no network needed) and open the UI on it.",
        discussion: """
            The sandbox holds a backends directory with old versions installed (a meta with its alias, a system \
            backend, an unversioned install and one backend whose new version is broken), a local gallery of \
            directories and sha256-checked tarballs with newer versions and more to install, and a config dir. \
            Copies are throttled (HANGAR_COPY_LIMIT, 8 MiB/s) so progress is visible. On a terminal the UI opens on \
            it; otherwise the sandbox is listed. Point any hangar command at it with `source <dir>/env`.
            """)

    @Flag(help: "Delete the sandbox and build it afresh.")
    var reset = false

    @Option(help: "Where to build the sandbox (default: $XDG_DATA_HOME/hangar/demo or ~/.local/share/hangar/demo).")
    var dir: String?

    func run() throws {
        let env = ProcessInfo.processInfo.environment
        let base = env["XDG_DATA_HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? ((env["HOME"] ?? "/tmp") + "/.local/share")
        let path = dir.map { $0.hasPrefix("/") ? $0 : FileManager.default.currentDirectoryPath + "/" + $0 } ?? base + "/hangar/demo"
        let sandbox = DemoSandbox(directory: path)
        let fresh = reset || !sandbox.exists
        try sandbox.create(reset: reset)

        let engine = try sandbox.engine(base: env)
        Output.printRecovery(engine.recover())
        if TerminalUI.isAvailable(environment: env) {
            let status = MainActor.assumeIsolated { TerminalUI.run(engine: engine, options: TUIOptions()) }
            Output.stdout("Demo sandbox in \(sandbox.directory): hangar demo opens it again, hangar demo --reset starts fresh,")
            Output.stdout("and `source \(sandbox.environmentFile)` points the hangar commands at it.")
            if status != 0 { throw OperationsFailed(code: status) }
            return
        }
        Output.stdout(fresh ? "Demo sandbox created in \(sandbox.directory)" : "Demo sandbox in \(sandbox.directory) (use --reset to start fresh)")
        Output.stdout("")
        var table = Table(header: ["NAME", "VERSION", "UPGRADE", "KIND"])
        let report = try engine.checkUpgrades()
        for row in try engine.installed().rows {
            table.add([row.name, row.versionBadge, report.upgrade(for: row)?.indicator() ?? "",
                       row.kindMarks(devSuffix: engine.configuration.devSuffix)])
        }
        Output.stdout(table.render())
        Output.stdout("")
        let invocation = Self.invocation()
        Output.stdout("Try it (the sandbox's settings are in \(sandbox.environmentFile)):")
        if invocation != "hangar" { Output.stdout("  alias hangar='\(invocation)'") }
        Output.stdout("  source \(sandbox.environmentFile)")
        let hangar = "hangar"
        Output.stdout("  \(hangar) check              # what can be upgraded")
        Output.stdout("  \(hangar) upgrade piper      # progress, then the new version")
        Output.stdout("  \(hangar) upgrade kokoro     # its new version is broken: watch the rollback")
        Output.stdout("  \(hangar) list --available   # the demo gallery")
    }

    /// `hangar` when the running binary is the one on PATH, else its full path, so the hints work when pasted.
    static func invocation() -> String {
        guard let exe = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") else { return "hangar" }
        let path = ProcessInfo.processInfo.environment["PATH"] ?? ""
        for dir in path.split(separator: ":") {
            let candidate = "\(dir)/hangar"
            if let resolved = try? FileManager.default.destinationOfSymbolicLink(atPath: candidate), resolved == exe { return "hangar" }
            if candidate == exe { return "hangar" }
        }
        return exe
    }
}
