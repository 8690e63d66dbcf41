import HangarEngine

/// Row texts only the terminal UI needs; the version badge, kind marks and upgrade indicator are the engine's
/// shared rules (`InstalledBackend.versionBadge`, `kindMarks`, `UpgradeInfo.indicator`, `UpgradeReport.upgrade(for:)`).
public enum Badges {
    /// The gallery a row came from: the gallery's name when the URL is one of the configured galleries, else the URL.
    public static func gallery(_ row: InstalledBackend, galleries: [GalleryStatus]) -> String {
        guard let url = row.metadata?.galleryURL, !url.isEmpty else { return row.isSystem ? "system" : "" }
        return galleries.first { $0.gallery.url == url }?.gallery.name ?? url
    }

    /// The row's kind marks as the UI shows them: an alias that replaced a meta pointing at the same build says
    /// `meta → X` once instead of `meta → X, alias → X`.
    public static func kind(_ row: InstalledBackend, devSuffix: String, arrow: String) -> String {
        let marks = row.kindMarks(devSuffix: devSuffix, arrow: arrow)
        guard row.isAlias, let meta = row.replacedMeta, let build = row.metadata?.name, meta.metaBackendFor == build else { return marks }
        return marks.replacingOccurrences(of: ", alias \(arrow) \(build)", with: "")
    }
}
