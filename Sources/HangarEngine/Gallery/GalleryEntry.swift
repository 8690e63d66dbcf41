/// One backend entry of a gallery index (LocalAI's `GalleryBackend`, spec §1.1), after anchor/merge expansion.
public struct GalleryEntry: Sendable, Equatable {
    public var name: String
    public var description: String = ""
    public var license: String = ""
    public var urls: [String] = []
    public var icon: String = ""
    public var tags: [String] = []
    /// Model-gallery fields that backend entries may carry; kept so nothing in the file is lost.
    public var url: String = ""
    public var size: String = ""
    public var backend: String = ""
    public var alias: String = ""
    public var uri: String = ""
    public var version: String = ""
    public var mirrors: [String] = []
    /// capability → concrete entry name, in file order.
    public var capabilities: [CapabilityMapping] = []
    public var sha256: String = ""
    /// The gallery the entry was loaded from (always overwritten at load time, as LocalAI does).
    public var gallery: GalleryConfig

    public init(name: String, gallery: GalleryConfig) {
        self.name = name
        self.gallery = gallery
    }

    /// A meta entry maps capabilities to concrete builds and has nothing to download itself.
    public var isMeta: Bool { !capabilities.isEmpty && uri.isEmpty }

    /// `<gallery>@<name>`, LocalAI's `ID()`.
    public var id: String { "\(gallery.name)@\(name)" }

    /// Development builds are named `<something>-<devSuffix>`.
    public func isDevelopment(devSuffix: String) -> Bool { name.hasSuffix("-" + devSuffix) }

    /// The concrete name this meta maps `capability` to, if any (exact key).
    public func concreteName(forKey key: String) -> String? {
        capabilities.first { $0.capability == key }?.concrete
    }
}

/// One `capability: concrete-name` pair of a meta entry's `capabilities:` map.
public struct CapabilityMapping: Sendable, Equatable {
    public var capability: String
    public var concrete: String

    public init(capability: String, concrete: String) {
        self.capability = capability
        self.concrete = concrete
    }
}
