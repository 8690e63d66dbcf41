import ArgumentParser
import HangarEngine

/// `hangar settings`: LocalAI's runtime_settings.json as it applies, and the auto-upgrade switch.
struct SettingsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "settings",
        abstract: "Show the effective backend settings, or change auto-upgrade.",
        subcommands: [ShowSettings.self, AutoUpgradeSetting.self],
        defaultSubcommand: ShowSettings.self)
}

/// `hangar settings [--json]`.
struct ShowSettings: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "show", abstract: "Show every backend setting and where its value comes from.")

    @OptionGroup var global: GlobalOptions

    @OptionGroup var output: JSONOutput
    private var json: Bool { output.json }

    func run() throws {
        let engine = try global.engine(requireBackends: false)
        let configuration = engine.configuration
        let effective = try engine.settings()
        // Remote mode: the values are the server's live settings, not a file here.
        let remote = configuration.server != nil
        let file = configuration.server.map { $0.url + "/api/settings" } ?? RuntimeSettingsFile(configDir: configuration.configDir).path
        func source(_ s: EffectiveSetting) -> String { remote && s.source == .file ? "server" : s.sourceText }
        if json {
            var settings = JSONObject()
            for s in effective.settings {
                var o = JSONObject()
                o["value"] = s.value
                o["source"] = .string(source(s))
                o["file_value"] = s.fileValue ?? .null
                o["overridden_by_environment"] = .bool(s.overriddenByEnvironment)
                settings[s.key] = .object(o)
            }
            var root = JSONObject()
            root["file"] = .string(file)
            root["settings"] = .object(settings)
            root["capability"] = .string(engine.capabilityReport.value)
            root["capability_source"] = .string(engine.capabilityReport.explanation)
            root["backends_path"] = .string(configuration.backendsPath)
            root["backends_system_path"] = .string(configuration.systemBackendsPath)
            Output.json(.object(root))
            return
        }
        Output.stdout(remote ? "Settings: live on the server (\(file))" : "Settings file: \(file)")
        var table = Table(header: ["SETTING", "VALUE", "SOURCE"])
        for s in effective.settings {
            table.add([s.key, s.value.compact(), s.environmentNote ?? source(s)])
        }
        Output.stdout(table.render())
        Output.stdout("")
        Output.stdout("capability            \(engine.capabilityReport.value) (\(engine.capabilityReport.explanation))")
        Output.stdout("backends path         \(configuration.backendsPath) (\(configuration.sources["backends_path"] ?? "default"))")
        Output.stdout("system backends path  \(configuration.systemBackendsPath)")
        if let warning = engine.holdsIgnoredByLocalAI() { Output.stderr("hangar: warning: \(warning)") }
    }
}

/// `hangar settings auto-upgrade on|off`.
struct AutoUpgradeSetting: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "auto-upgrade",
        abstract: "Turn LocalAI's automatic backend upgrades on or off (writes auto_upgrade_backends).")

    enum Switch: String, ExpressibleByArgument, CaseIterable { case on, off }

    @OptionGroup var global: GlobalOptions

    @Argument(help: "on or off.")
    var state: Switch

    func run() throws {
        let change = try global.engine(requireBackends: false).setAutoUpgrade(state == .on)
        Output.stdout(change.message)
        if let warning = change.warning { Output.stderr("hangar: warning: \(warning)") }
    }
}

extension EffectiveSetting {
    /// `runtime_settings.json`, `LOCALAI_AUTO_UPGRADE_BACKENDS` or `default`.
    var sourceText: String {
        switch source {
        case .file: return RuntimeSettingsFile.fileName
        case .environment(let name): return name
        case .default: return "default"
        }
    }
}
