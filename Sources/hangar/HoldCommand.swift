import ArgumentParser
import HangarEngine

/// `hangar hold NAME [--reason TEXT]`: keep a backend at the build it has.
struct HoldCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "hold",
        abstract: "Keep a backend at its build: checked, but never upgraded by upgrade (all), U or hangar's auto-upgrade.",
        discussion: """
            A meta's hold sits on its concrete. `hangar upgrade NAME` refuses a held backend without --ignore-hold. \
            Holds are hangar's (in <backends>/.hangar/holds.json), so LocalAI's own auto-upgrade does not know them: \
            hangar says so when that is on. Without a NAME, lists the holds.
            """)

    @OptionGroup var global: GlobalOptions

    @Argument(help: "The backend to hold (a directory, meta or alias name); none lists the holds.")
    var name: String?

    @Option(help: "Why it is held (shown in the UI, in check and in upgrade's skip line).")
    var reason: String?

    @OptionGroup var output: JSONOutput
    private var json: Bool { output.json }

    func run() throws {
        let engine = try global.engine()
        if let name {
            let target = try engine.hold(name, reason: reason)
            if !json { Output.stdout("\(target) is held\(target == name ? "" : " (\(name) upgrades through it)"): upgrades skip it until hangar unhold \(name)") }
        }
        let holds = try engine.holds()
        if json {
            var object = JSONObject()
            for key in holds.keys.sorted() {
                var o = JSONObject()
                o["reason"] = .string(holds[key]!.reason)
                o["held_at"] = .string(holds[key]!.heldAt)
                o["pinned_uri"] = holds[key]!.pinnedURI.map(JSONValue.string) ?? .null
                object[key] = .object(o)
            }
            Output.json(.object(object))
        } else if name == nil {
            if holds.isEmpty { Output.stdout("No backend is held.") }
            var table = Table(header: ["BACKEND", "HOLD", "SINCE"])
            for key in holds.keys.sorted() { table.add([key, holds[key]!.text, holds[key]!.heldAt]) }
            if !holds.isEmpty { Output.stdout(table.render()) }
        }
        if let warning = engine.holdsIgnoredByLocalAI() { Output.stderr("hangar: warning: \(warning)") }
    }
}

/// `hangar unhold NAME`: let upgrades touch a held or pinned backend again.
struct UnholdCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "unhold", abstract: "Remove a backend's hold or pin, so upgrades apply to it again.")

    @OptionGroup var global: GlobalOptions

    @Argument(help: "The held backend (a directory, meta or alias name).")
    var name: String

    func run() throws {
        let engine = try global.engine()
        guard let released = try engine.unhold(name) else {
            throw HangarError.notFound("\(name) is not held (hangar hold lists the holds)")
        }
        Output.stdout("\(released) is no longer held: upgrades apply to it again")
    }
}
