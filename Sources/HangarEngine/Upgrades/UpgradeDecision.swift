/// What to do when someone asks to upgrade one backend, decided in one place for the CLI (`hangar upgrade NAME`)
/// and the UI (`u`): the engine's job then re-checks the versions under the backend's lock.
public enum UpgradeDecision: Sendable, Equatable {
    /// Send the upgrade of `target`, the directory an upgrade replaces (a meta's concrete, an alias's build).
    /// `info` is the check's finding; nil before any check, when the job itself compares with the gallery.
    case upgrade(target: String, info: UpgradeInfo?)
    /// Nothing to send, and why, in words for people.
    case skip(reason: String)
    /// The build behind the name is held: `upgrade NAME` refuses it (unless told to ignore holds), `upgrade` (all),
    /// `U` and auto-upgrade skip it.
    case held(target: String, hold: Hold)

    /// The decision for `name` as typed (a directory, a meta or an alias), given what is installed and a check's
    /// report: one made just now (the CLI checks first), or nil when the caller has none it can trust — the UI's
    /// may be hours old — and the job's own comparison with the gallery must decide.
    /// `holds` are hangar's (`Engine.holds()`); pass none to ignore them (`--ignore-hold`).
    public static func decide(_ name: String, installed: InstalledBackends, report: UpgradeReport?,
                              holds: [String: Hold] = [:]) -> UpgradeDecision {
        guard let row = installed.get(name) else { return .skip(reason: "no upgrade available") }
        return decide(row, report: report, holds: holds)
    }

    /// The decision for an installed row (see `decide(_:installed:report:holds:)`).
    public static func decide(_ row: InstalledBackend, report: UpgradeReport?, holds: [String: Hold] = [:]) -> UpgradeDecision {
        if row.isSystem {
            return .skip(reason: "\(row.name) is a system backend (protected): it cannot be upgraded from a gallery")
        }
        let target = target(of: row)
        if let hold = holds[target] { return .held(target: target, hold: hold) }
        guard let report else { return .upgrade(target: target, info: nil) }
        guard let info = report.upgrades[target] else { return .skip(reason: "no upgrade available") }
        return .upgrade(target: target, info: info)
    }

    /// The directory an upgrade of `row` replaces: a meta's concrete, an alias's build, or the row itself.
    public static func target(of row: InstalledBackend) -> String {
        if row.isMeta, let concrete = row.metadata?.metaBackendFor, !concrete.isEmpty { return concrete }
        if let recorded = row.metadata?.name, !recorded.isEmpty { return recorded }
        return row.name
    }
}
