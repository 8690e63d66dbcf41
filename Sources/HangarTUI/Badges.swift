import HangarEngine

/// Row texts only the terminal UI needs; the version badge, kind marks and upgrade indicator are the engine's
/// shared rules (`InstalledBackend.versionBadge`, `kindMarks`, `UpgradeInfo.indicator`, `UpgradeReport.upgrade(for:)`).
public enum Badges {
    /// The gallery a row came from: the gallery's name when the URL is one of the configured galleries, else the URL.
    public static func gallery(_ row: InstalledBackend, galleries: [GalleryStatus]) -> String {
        guard let url = row.metadata?.galleryURL, !url.isEmpty else { return row.isSystem ? "system" : "" }
        return galleries.first { $0.gallery.url == url }?.gallery.name ?? url
    }
}
