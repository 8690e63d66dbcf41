/// The short texts every front end shows per installed backend (`hangar list`, `hangar demo`, the terminal UI),
/// in one place so they never disagree. Arrows are parameters because the UI has an ASCII mode.

extension InstalledBackend {
    /// `v1.2.0` when a version is recorded, else the short image digest, else `?` (`system` for a system backend).
    public var versionBadge: String {
        guard let metadata else { return isSystem ? "system" : "?" }
        if !metadata.version.isEmpty { return "v" + metadata.version }
        if !metadata.digest.isEmpty { return TextFormat.shortDigest(metadata.digest) }
        return "?"
    }

    /// Kind marks: broken with its error, system (protected), meta → concrete, alias → build (with the meta it
    /// replaced), development build (a build whose name ends in `-<devSuffix>`).
    public func kindMarks(devSuffix: String, arrow: String = "→") -> String {
        if let broken { return "broken: \(broken)" }
        if isSystem { return "system (protected)" }
        var marks: [String] = []
        if isMeta { marks.append("meta \(arrow) \(metadata?.metaBackendFor ?? "?")") }
        if isAlias {
            if let meta = replacedMeta { marks.append("meta \(arrow) \(meta.metaBackendFor)") }
            marks.append("alias \(arrow) \(metadata?.name ?? "?")")
        }
        let build = isMeta ? (metadata?.metaBackendFor ?? name) : (metadata?.name ?? name)
        if !devSuffix.isEmpty, build.hasSuffix("-" + devSuffix) { marks.append("development build") }
        return marks.joined(separator: ", ")
    }

    /// The names whose upgrade applies to this row: its own, the concrete behind a meta, the build behind an alias.
    public var upgradeNames: [String] {
        var names = [name]
        if let target = metadata?.metaBackendFor, !target.isEmpty, target != name { names.append(target) }
        if let build = metadata?.name, !build.isEmpty, build != name, !names.contains(build) { names.append(build) }
        return names
    }
}

extension UpgradeInfo {
    /// `↑ v2.0.0`, `↑ new build` when only the digest changed, or `↑ drift` when only a cluster's nodes disagree.
    public func indicator(arrow: String = "↑") -> String {
        if isDriftOnly { return arrow + " drift" }
        return arrow + " " + (availableVersion.isEmpty ? "new build" : "v" + availableVersion)
    }

    /// What the upgrade would change: `v1.0.0 → v2.0.0`, or the short digests when no version is known; for drift
    /// alone, which nodes have what.
    public func change(arrow: String = "→") -> String {
        if isDriftOnly, let drift = driftText { return "most nodes have \(majorityBadge) (current); \(drift)" }
        if !availableVersion.isEmpty {
            let from = installedVersion.isEmpty ? "no recorded version" : "v" + installedVersion
            return "\(from) \(arrow) v\(availableVersion)"
        }
        let from = installedDigest.isEmpty ? "no recorded digest" : TextFormat.shortDigest(installedDigest)
        return "\(from) \(arrow) \(availableDigest.isEmpty ? "new build" : TextFormat.shortDigest(availableDigest))"
    }
}

extension UpgradeReport {
    /// The upgrade shown on a row: its own, or the one of the build behind a meta or alias row.
    public func upgrade(for row: InstalledBackend) -> UpgradeInfo? {
        for name in row.upgradeNames { if let info = upgrades[name] { return info } }
        return nil
    }
}

extension UpgradeCheckStatus {
    /// The upgrade the last successful check found for `row` (see `UpgradeReport.upgrade(for:)`).
    public func upgrade(for row: InstalledBackend) -> UpgradeInfo? { report?.upgrade(for: row) }
}
