import ArgumentParser
import Foundation
import HangarEngine

/// `hangar generations [NAME]`: the previous versions kept for rollback.
struct GenerationsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "generations",
        abstract: "List the previous versions kept for rollback (1 = the most recent).")

    @OptionGroup var global: GlobalOptions

    @Argument(help: "Backend name; all backends when omitted.")
    var name: String?

    @Flag(help: "Print JSON instead of a table.")
    var json = false

    func run() throws {
        let engine = try global.engine()
        let generations = try engine.generations(of: name)
        if json {
            Output.json(.array(generations.map { .object($0.jsonObject) }))
            return
        }
        if generations.isEmpty {
            let keep = engine.keepGenerations
            let why = keep == 0 ? "keep_generations is 0 in \(engine.hangarSettings.path)" : "one is kept at each upgrade or reinstall"
            Output.stdout("No previous versions kept\(name.map { " of \($0)" } ?? "") (\(why)).")
            return
        }
        let now = Date().timeIntervalSince1970
        var table = Table(header: ["BACKEND", "GEN", "VERSION", "REPLACED", "SIZE"])
        for generation in generations {
            table.add([generation.backend, "\(generation.number)", generation.label,
                       TextFormat.age(max(0, Int(now - generation.replacedAt))),
                       TextFormat.bytes(generation.diskBytes)])
        }
        Output.stdout(table.render())
    }
}

/// `hangar prune [NAME] [--keep N]`: delete older kept versions.
struct PruneCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "prune",
        abstract: "Delete kept previous versions beyond the newest N (default: keep_generations from hangar.json).")

    @OptionGroup var global: GlobalOptions

    @Argument(help: "Backend name; all backends when omitted.")
    var name: String?

    @Option(help: "How many of the most recent generations to keep (0 deletes them all).")
    var keep: Int?

    @Flag(help: "Print the removed generations as JSON.")
    var json = false

    func validate() throws {
        if let keep, keep < 0 { throw ValidationError("--keep must be 0 or more, got \(keep)") }
    }

    func run() throws {
        let engine = try global.engine()
        let removed = try engine.prune(name, keep: keep)
        if json {
            Output.json(.array(removed.map { .object($0.jsonObject) }))
            return
        }
        if removed.isEmpty {
            Output.stdout("Nothing to prune.")
            return
        }
        for generation in removed {
            Output.stdout("removed generation \(generation.number) of \(generation.backend) (\(generation.label), \(TextFormat.bytes(generation.diskBytes)) freed)")
        }
    }
}

extension BackendGeneration {
    /// `hangar generations --json` row.
    var jsonObject: JSONObject {
        var o = JSONObject()
        o["backend"] = .string(backend)
        o["generation"] = .number(String(number))
        o["version"] = .string(metadata?.version ?? "")
        o["digest"] = .string(metadata?.digest ?? "")
        o["replaced_at"] = .string(RFC3339.format(Int(replacedAt)))
        o["size_bytes"] = .number(String(diskBytes))
        o["metadata"] = metadata.map { .object($0.jsonObject) } ?? .null
        return o
    }
}
