/// Predicates on a gallery entry's `uri` (spec §5.1), shared by install, upgrade and the integrity policy.
enum BackendURI {
    /// LocalAI's `LooksLikeOCI`: prefix match on the registries and schemes it knows.
    public static func looksLikeOCI(_ uri: String) -> Bool {
        ["quay.io/", "ghcr.io/", "docker.io/", "oci://", "ocifile://", "ollama://"].contains { uri.hasPrefix($0) }
    }

    /// An OCI image by either test: LocalAI's prefixes or a reference `OCISource` pulls (`registry.example.com/x:y`).
    /// The integrity policy uses this, so whatever hangar pulls as an image is judged as one.
    public static func isOCIImage(_ uri: String) -> Bool { looksLikeOCI(uri) || ImageReference.isPullable(uri) }

    /// An image with a registry digest to record and compare: `isOCIImage` without `ocifile://` tarballs.
    public static func isRegistryImage(_ uri: String) -> Bool { isOCIImage(uri) && !looksLikeOCIFile(uri) }

    /// `ocifile://` tarball sources.
    public static func looksLikeOCIFile(_ uri: String) -> Bool { uri.hasPrefix("ocifile://") }

    /// `http://` or `https://`.
    public static func looksLikeHTTP(_ uri: String) -> Bool { uri.hasPrefix("http://") || uri.hasPrefix("https://") }

    /// `developmentURI`: the branch-tag build of a release-tag URI, or nil when there is none (spec §2.7).
    public static func developmentURI(_ uri: String, releaseTag: String = "latest", branchTag: String = "master") -> String? {
        if uri.contains(branchTag + "-") { return nil }
        guard let range = uri.range(of: releaseTag + "-") else { return nil }
        return uri.replacingCharacters(in: range, with: branchTag + "-")
    }
}
