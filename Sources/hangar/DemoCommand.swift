import ArgumentParser
import Foundation
import HangarEngine

/// `hangar demo`: build a sandboxed LocalAI installation with upgrades waiting and show it.
struct DemoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Create the built-in demo sandbox (no network needed) and list it.",
        discussion: """
            The sandbox holds a backends directory with old versions installed (a meta with its alias, a system \
            backend, an unversioned install and one backend whose new version is broken), a local gallery with newer \
            versions, and a config dir. Point any hangar command at it with `source <dir>/env`.
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

        var merged = env
        for (k, v) in sandbox.environment { merged[k] = v }
        let configuration = try HangarConfiguration.resolve(flags: .init(), environment: merged,
                                                            workingDirectory: sandbox.directory)
        let engine = Engine(configuration: configuration)
        Output.stdout(fresh ? "Demo sandbox created in \(sandbox.directory)" : "Demo sandbox in \(sandbox.directory) (use --reset to start fresh)")
        Output.stdout("")
        var table = Table(header: ["NAME", "VERSION", "UPGRADE", "KIND"])
        let report = try engine.checkUpgrades()
        for row in try engine.installed().rows {
            let upgrade = report.upgrades[row.name].map { "↑ " + ($0.availableVersion.isEmpty ? "new build" : "v" + $0.availableVersion) } ?? ""
            table.add([row.name, row.versionBadge, upgrade, row.kindMarks])
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
