/// OCI and Docker schema 2 media types hangar reads (spec §5.3 and the registry gotchas: always all four).
public enum OCIMediaType {
    public static let ociIndex = "application/vnd.oci.image.index.v1+json"
    public static let ociManifest = "application/vnd.oci.image.manifest.v1+json"
    public static let dockerManifest = "application/vnd.docker.distribution.manifest.v2+json"
    public static let dockerManifestList = "application/vnd.docker.distribution.manifest.list.v2+json"

    /// The `Accept` header for manifest requests: without the list types a registry may silently answer a list
    /// tag with one platform's manifest (and its digest), so the digest would not match LocalAI's.
    /// Schema 1 types are listed too (as LocalAI does) so an old registry answers with one and `parse` refuses it
    /// by name instead of sending something unexpected.
    public static let manifestAccept = [ociIndex, ociManifest, dockerManifest, dockerManifestList,
                                        dockerSchema1, dockerSchema1Signed].joined(separator: ", ")
    public static let dockerSchema1 = "application/vnd.docker.distribution.manifest.v1+json"
    public static let dockerSchema1Signed = "application/vnd.docker.distribution.manifest.v1+prettyjws"

    static func isIndex(_ type: String) -> Bool { type == ociIndex || type == dockerManifestList }
}

/// A content descriptor: what a manifest says about a blob or a child manifest.
public struct OCIDescriptor: Sendable, Equatable {
    /// The blob's or child manifest's media type ("" when the manifest omits it).
    public var mediaType: String
    /// `sha256:<64 hex>`.
    public var digest: String
    /// Bytes, at most `OCIDescriptor.maxSize`.
    public var size: Int64
    /// `os`, `architecture`, `variant` for index entries (empty otherwise).
    public var os: String = ""
    public var architecture: String = ""
    public var variant: String = ""

    /// `os/architecture[/variant]` of an index entry, or the digest's start when it names no platform (for messages).
    var platformName: String {
        if os.isEmpty && architecture.isEmpty { return "\(digest.prefix(19))… (no platform)" }
        return os + "/" + architecture + (variant.isEmpty ? "" : "/" + variant)
    }

    /// Largest size a descriptor may claim (1 TiB): sums and free-space factors over hostile sizes stay far from overflow.
    public static let maxSize: Int64 = 1 << 40
}

/// A manifest or an index, as far as pulling needs it.
public enum OCIManifest: Sendable, Equatable {
    /// An image manifest: its config blob and its layers in application order.
    case image(config: OCIDescriptor, layers: [OCIDescriptor])
    /// An index (OCI index or Docker manifest list): one child manifest per platform.
    case index([OCIDescriptor])

    /// Parses a manifest body; `contentType` (the response header) decides when the body has no `mediaType`.
    public static func parse(_ bytes: [UInt8], contentType: String, source: String) throws -> OCIManifest {
        let root: JSONValue
        do {
            root = try JSONValue.parse(bytes, maxBytes: 4 << 20)
        } catch {
            throw HangarError.operation("manifest of \(source) is not valid JSON: \(error)")
        }
        let type = root["mediaType"]?.stringValue ?? contentType.split(separator: ";").first.map {
            String($0).trimmingCharacters(in: .whitespaces)
        } ?? ""
        let isSchema1Type = type == OCIMediaType.dockerSchema1 || type == OCIMediaType.dockerSchema1Signed
        if root["schemaVersion"]?.numberText != "2" || isSchema1Type {
            let what = isSchema1Type ? "Docker schema 1 (\(type))" : "schema version \(root["schemaVersion"]?.numberText ?? "?")"
            throw HangarError.operation(
                "manifest of \(source) is \(what): only schema 2 (OCI or Docker v2) images can be pulled; push the image again with a current docker or skopeo")
        }
        if let entries = root["manifests"]?.arrayValue, OCIMediaType.isIndex(type) || root["layers"] == nil {
            return .index(try entries.map { try descriptor($0, source: source) })
        }
        guard let config = root["config"], let layers = root["layers"]?.arrayValue else {
            throw HangarError.operation("manifest of \(source) has neither layers nor manifests (media type \(type))")
        }
        return .image(config: try descriptor(config, source: source), layers: try layers.map { try descriptor($0, source: source) })
    }

    private static func descriptor(_ value: JSONValue, source: String) throws -> OCIDescriptor {
        guard let digest = value["digest"]?.stringValue, ImageReference.isDigest(digest),
              let sizeText = value["size"]?.numberText, let size = Int64(sizeText), size >= 0 else {
            throw HangarError.operation("manifest of \(source) has a descriptor without a sha256 digest and size")
        }
        guard size <= OCIDescriptor.maxSize else {
            throw HangarError.operation(
                "manifest of \(source) claims \(digest) is \(size) bytes, more than the \(TextFormat.bytes(OCIDescriptor.maxSize)) hangar accepts; refused")
        }
        let platform = value["platform"]
        return OCIDescriptor(mediaType: value["mediaType"]?.stringValue ?? "", digest: digest, size: size,
                             os: platform?["os"]?.stringValue ?? "", architecture: platform?["architecture"]?.stringValue ?? "",
                             variant: platform?["variant"]?.stringValue ?? "")
    }
}

/// The platform this hangar runs on, in OCI terms (GOARCH names), for picking an index entry.
public struct OCIPlatform: Sendable, Equatable, CustomStringConvertible {
    public var os: String
    public var architecture: String
    public var variant: String

    /// A platform by its OCI names, e.g. `OCIPlatform(architecture: "arm", variant: "v7")`.
    public init(os: String = "linux", architecture: String, variant: String = "") {
        self.os = os
        self.architecture = architecture
        self.variant = variant
    }

    /// linux + this machine's architecture (`uname -m` mapped to amd64, arm64, arm/v7, ...).
    public static let current: OCIPlatform = {
        var name = utsname()
        uname(&name)
        let machine = withUnsafeBytes(of: &name.machine) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        switch machine {
        case "x86_64", "amd64": return OCIPlatform(architecture: "amd64")
        case "aarch64", "arm64": return OCIPlatform(architecture: "arm64", variant: "v8")
        case "armv7l", "armv7": return OCIPlatform(architecture: "arm", variant: "v7")
        case "armv6l": return OCIPlatform(architecture: "arm", variant: "v6")
        case "i386", "i686": return OCIPlatform(architecture: "386")
        case "ppc64le", "s390x", "riscv64": return OCIPlatform(architecture: machine)
        default: return OCIPlatform(architecture: machine)
        }
    }()

    public var description: String { os + "/" + architecture + (variant.isEmpty ? "" : "/" + variant) }

    /// The index entry for this platform: exact variant first, then an entry without variant (arm64's is optional).
    public func pick(from entries: [OCIDescriptor]) -> OCIDescriptor? {
        let candidates = entries.filter { $0.os == os && $0.architecture == architecture }
        return candidates.first { $0.variant == variant } ?? candidates.first { $0.variant.isEmpty }
            ?? (architecture == "arm64" ? candidates.first : nil)
    }
}

extension JSONValue {
    /// The literal text of a number value.
    var numberText: String? { if case .number(let text) = self { return text }; return nil }
}
