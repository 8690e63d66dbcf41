/// One configured backend gallery (`LOCALAI_BACKEND_GALLERIES` element, spec §1.4).
public struct GalleryConfig: Sendable, Equatable, Hashable {
    public var name: String
    public var url: String
    public var mirrors: [String]
    public var verification: GalleryVerification?

    public init(name: String, url: String, mirrors: [String] = [], verification: GalleryVerification? = nil) {
        self.name = name
        self.url = url
        self.mirrors = mirrors
        self.verification = verification
    }

    /// LocalAI's built-in default gallery list.
    public static let localAIDefault: [GalleryConfig] = [
        GalleryConfig(name: "localai", url: "https://index.localai.io/backends",
                      mirrors: ["github:mudler/LocalAI/backend/index.yaml@master"]),
    ]
}

/// Cosign signature policy attached to a gallery configuration (spec §1.8). hangar records it; it does not verify yet.
public struct GalleryVerification: Sendable, Equatable, Hashable {
    public var issuer: String?
    public var issuerRegex: String?
    public var identity: String?
    public var identityRegex: String?
    public var notBefore: String?

    public init(issuer: String? = nil, issuerRegex: String? = nil, identity: String? = nil,
                identityRegex: String? = nil, notBefore: String? = nil) {
        self.issuer = issuer
        self.issuerRegex = issuerRegex
        self.identity = identity
        self.identityRegex = identityRegex
        self.notBefore = notBefore
    }
}
