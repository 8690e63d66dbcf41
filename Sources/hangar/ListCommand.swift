import ArgumentParser
import HangarEngine

/// `hangar list`: installed backends, or with `--available` the gallery entries.
struct ListCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list",
        abstract: "List installed backends (or, with --available, the backends the galleries offer).")

    @OptionGroup var global: GlobalOptions

    @Flag(help: "List gallery entries instead of installed backends.")
    var available = false

    @Flag(help: "With --available: include entries not compatible with this host's capability.")
    var all = false

    @OptionGroup var output: JSONOutput
    private var json: Bool { output.json }

    func run() throws {
        let engine = try global.engine()
        if available {
            try listAvailable(engine)
        } else {
            try listInstalled(engine)
        }
    }

    private func listInstalled(_ engine: Engine) throws {
        let installed = try engine.installed()
        if json {
            Output.json(.array(installed.rows.map { .object($0.jsonObject) }))
            return
        }
        if installed.rows.isEmpty {
            Output.stdout("No backends installed in \(engine.configuration.backendsPath).")
            return
        }
        var table = Table(header: ["NAME", "VERSION", "SOURCE", "KIND"])
        for row in installed.rows {
            table.add([row.name, row.versionBadge, row.metadata?.uri ?? row.metadata?.galleryURL ?? "",
                       row.kindMarks(devSuffix: engine.configuration.devSuffix)])
        }
        Output.stdout(table.render())
    }

    private func listAvailable(_ engine: Engine) throws {
        let listing = try engine.availableBackends(includeIncompatible: all)
        for warning in listing.gallery.warnings { Output.stderr("hangar: warning: \(warning)") }
        if json {
            let rows = JSONValue.array(listing.backends.map { .object($0.jsonObject) })
            Output.json(rows)
            Output.keepUntilExit(listing, rows)
            return
        }
        if listing.backends.isEmpty {
            Output.stdout("No gallery entries (capability \(engine.capabilityReport.value)).")
            return
        }
        for backend in listing.backends {
            let entry = backend.entry
            let version = entry.version.isEmpty ? "" : " v\(entry.version)"
            var notes: [String] = []
            if backend.installed { notes.append("installed") }
            if let concrete = backend.resolvesTo { notes.append("meta → \(concrete)") }
            if !backend.compatible { notes.append("not compatible with \(engine.capabilityReport.value)") }
            let marker = backend.installed ? "*" : "-"
            Output.stdout(" \(marker) \(entry.id)\(version)\(notes.isEmpty ? "" : " (" + notes.joined(separator: ", ") + ")")")
        }
    }
}

extension InstalledBackend {
    /// `hangar list --json` row.
    var jsonObject: JSONObject {
        var o = JSONObject()
        o["name"] = .string(name)
        o["run_file"] = .string(runFile)
        o["is_meta"] = .bool(isMeta)
        o["is_system"] = .bool(isSystem)
        o["is_alias"] = .bool(isAlias)
        o["metadata"] = metadata.map { .object($0.jsonObject) } ?? .null
        if let broken { o["broken"] = .string(broken) }
        return o
    }
}

extension AvailableBackend {
    /// `hangar list --available --json` row.
    var jsonObject: JSONObject {
        var o = JSONObject()
        o["name"] = .string(entry.name)
        o["gallery"] = .string(entry.gallery.name)
        o["installed"] = .bool(installed)
        o["is_meta"] = .bool(entry.isMeta)
        o["compatible"] = .bool(compatible)
        o["resolves_to"] = resolvesTo.map { .string($0) } ?? .null
        o["uri"] = .string(entry.uri)
        o["version"] = .string(entry.version)
        o["alias"] = .string(entry.alias)
        o["tags"] = .array(entry.tags.map { .string($0) })
        o["description"] = .string(entry.description)
        return o
    }
}
