import ArgumentParser
import HangarEngine

/// `hangar versions NAME [--json]`: the versioned builds a registry keeps beside the gallery's floating tag.
struct VersionsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "versions",
        abstract: "List the versioned builds of a backend's image, newest first (install one with install --tag).",
        discussion: """
            LocalAI's CI publishes v3.4.0-cpu-llama-cpp beside latest-cpu-llama-cpp: the tags of the entry's \
            repository that end like its floating tag. `hangar install NAME --tag TAG` installs exactly that build \
            and pins it.
            """)

    @OptionGroup var global: GlobalOptions

    @Argument(help: "An installed backend, a meta or a gallery entry name.")
    var name: String

    @OptionGroup var output: JSONOutput
    private var json: Bool { output.json }

    func run() throws {
        let engine = try global.engine()
        let versions = try engine.versions(of: name)
        let installedURI: String? = {
            guard let rows = try? engine.installed(), let row = rows.get(name) else { return nil }
            return rows.get(UpgradeDecision.target(of: row))?.metadata?.uri
        }()
        if json {
            var o = JSONObject()
            o["backend"] = .string(name)
            o["image"] = .string(versions.uri)
            o["suffix"] = .string(versions.suffix)
            o["tags"] = .array(versions.tags.map(JSONValue.string))
            o["installed_uri"] = installedURI.map(JSONValue.string) ?? .null
            Output.json(.object(o))
            return
        }
        if versions.tags.isEmpty {
            Output.stdout("No versioned builds of \(versions.uri) (tags ending in -\(versions.suffix)).")
            return
        }
        var table = Table(header: ["TAG", ""])
        for tag in versions.tags {
            table.add([tag, installedURI == versions.uri(for: tag) ? "installed (pinned)" : ""])
        }
        Output.stdout(table.render())
        Output.stdout("")
        Output.stdout("hangar install \(name) --tag \(versions.tags[0]) installs the newest and pins it.")
    }
}
