import HangarEngine

/// The short texts the Backends screen shows per row: version badge, upgrade indicator, kind marks.
public enum Badges {
    /// `v1.2.0` when a version is recorded, else the short image digest (`sha256:3f2a9c1`), else `?`.
    public static func version(_ row: InstalledBackend) -> String {
        guard let metadata = row.metadata else { return row.isSystem ? "system" : "?" }
        if !metadata.version.isEmpty { return "v" + metadata.version }
        if !metadata.digest.isEmpty { return shortDigest(metadata.digest) }
        return "?"
    }

    /// `sha256:3f2a9c1`: the algorithm and the first seven hex digits.
    public static func shortDigest(_ digest: String) -> String {
        guard let colon = digest.firstIndex(of: ":") else { return String(digest.prefix(7)) }
        return String(digest[...colon]) + String(digest[digest.index(after: colon)...].prefix(7))
    }

    /// `↑ v2.0.0`, or `↑ new build` when only the digest changed.
    public static func upgrade(_ info: UpgradeInfo, glyphs: Glyphs) -> String {
        glyphs.upgrade + " " + (info.availableVersion.isEmpty ? "new build" : "v" + info.availableVersion)
    }

    /// What an upgrade would change: `v1.0.0 → v2.0.0`, or the digests when no version is known.
    public static func upgradeChange(_ info: UpgradeInfo, glyphs: Glyphs) -> String {
        if !info.availableVersion.isEmpty {
            let from = info.installedVersion.isEmpty ? "no recorded version" : "v" + info.installedVersion
            return "\(from) \(glyphs.arrow) v\(info.availableVersion)"
        }
        let from = info.installedDigest.isEmpty ? "no recorded digest" : shortDigest(info.installedDigest)
        return "\(from) \(glyphs.arrow) \(info.availableDigest.isEmpty ? "new build" : shortDigest(info.availableDigest))"
    }

    /// Kind marks: broken with its error, system (protected), meta → concrete, alias → build, development build.
    public static func kind(_ row: InstalledBackend, devSuffix: String, glyphs: Glyphs) -> String {
        if let broken = row.broken { return "broken: \(broken)" }
        if row.isSystem { return "system (protected)" }
        var marks: [String] = []
        if row.isMeta { marks.append("meta \(glyphs.arrow) \(row.metadata?.metaBackendFor ?? "?")") }
        if row.isAlias {
            if let meta = row.replacedMeta { marks.append("meta \(glyphs.arrow) \(meta.metaBackendFor)") }
            marks.append("alias \(glyphs.arrow) \(row.metadata?.name ?? "?")")
        }
        let build = row.isMeta ? (row.metadata?.metaBackendFor ?? row.name) : (row.metadata?.name ?? row.name)
        if build.hasSuffix("-" + devSuffix) { marks.append("development build") }
        return marks.joined(separator: ", ")
    }

    /// The gallery a row came from: the gallery's name when the URL is one of the configured galleries, else the URL.
    public static func gallery(_ row: InstalledBackend, galleries: [GalleryStatus]) -> String {
        guard let url = row.metadata?.galleryURL, !url.isEmpty else { return row.isSystem ? "system" : "" }
        return galleries.first { $0.gallery.url == url }?.gallery.name ?? url
    }
}
