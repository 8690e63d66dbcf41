import Foundation
import HangarEngine

/// Pushes images to a registry through the distribution API (curl for the uploads, as in the test-registry recipe):
/// deterministic tar.gz layers of directories, a config, a manifest, optionally an index with one linux entry.
public struct ImagePusher: Sendable {
    /// OCI or Docker schema 2 media types.
    public enum Format: Sendable { case oci, docker }

    /// What was pushed: the tag's digest (the index's when there is one) and the layers.
    public struct PushedImage: Sendable {
        public var digest: String
        public var manifestDigest: String
        public var layers: [Blob]
    }

    /// A blob on disk with its digest and size.
    public struct Blob: Sendable {
        public var path: String
        public var digest: String
        public var size: Int64
    }

    /// `host:port` (plain http).
    public let registry: String
    /// An `Authorization` header value for registries that require one.
    public let authorization: String?
    /// Where layers and manifests are written before upload.
    public let workDirectory: String

    public init(registry: String, authorization: String? = nil, workDirectory: String) {
        self.registry = registry
        self.authorization = authorization
        self.workDirectory = workDirectory
        try? FileManager.default.createDirectory(atPath: workDirectory, withIntermediateDirectories: true)
    }

    /// Packs the contents of `directory` into one deterministic layer (sorted names, mtime 0, owner 0, `gzip -n`):
    /// identical input gives identical digests. `gzipLevel` 1 keeps big benchmark layers quick to build.
    public func layer(of directory: String, gzipLevel: Int = 6) throws -> Blob {
        let out = workDirectory + "/layer-\(UUID().uuidString.prefix(8)).tar.gz"
        let script = """
            set -eo pipefail
            cd "$1" && find . -mindepth 1 -printf '%P\\n' | LC_ALL=C sort |
              tar -C "$1" --no-recursion --mtime=@0 --owner=0 --group=0 --numeric-owner -cf - -T - | gzip -n -\(gzipLevel) > "$2"
            """
        try runTool("/bin/bash", ["-c", script, "layer", directory, out])
        return try blob(at: out)
    }

    /// Digest and size of a file (for layers built by hand, e.g. a truncated gzip).
    public func blob(at path: String) throws -> Blob {
        let sum = try runTool("/usr/bin/sha256sum", [path])
        let attributes = try FileManager.default.attributesOfItem(atPath: path)
        return Blob(path: path, digest: "sha256:" + String(sum.prefix(64)), size: (attributes[.size] as? NSNumber)?.int64Value ?? 0)
    }

    /// Writes `bytes` to a file in the work directory and returns it as a blob.
    public func blob(bytes: [UInt8], name: String) throws -> Blob {
        let path = workDirectory + "/\(name)-\(UUID().uuidString.prefix(8))"
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        return try blob(at: path)
    }

    /// Pushes the contents of `directory` as a one-layer image under `tag`.
    @discardableResult
    public func push(directory: String, repository: String, tag: String, format: Format = .oci, index: Bool = false,
                     architecture: String = "amd64", gzipLevel: Int = 6) throws -> PushedImage {
        try push(layers: [try layer(of: directory, gzipLevel: gzipLevel)], repository: repository, tag: tag, format: format,
                 index: index, architecture: architecture)
    }

    /// Pushes `layers` (in order) with a config and a manifest, and with `index` an index holding one
    /// linux/`architecture` entry, under `tag`. Returns the digest the tag now has.
    @discardableResult
    public func push(layers: [Blob], repository: String, tag: String, format: Format = .oci, index: Bool = false,
                     architecture: String = "amd64") throws -> PushedImage {
        let types = format == .oci
            ? (index: OCIMediaType.ociIndex, manifest: OCIMediaType.ociManifest,
               config: "application/vnd.oci.image.config.v1+json", layer: "application/vnd.oci.image.layer.v1.tar+gzip")
            : (index: OCIMediaType.dockerManifestList, manifest: OCIMediaType.dockerManifest,
               config: "application/vnd.docker.container.image.v1+json", layer: "application/vnd.docker.image.rootfs.diff.tar.gzip")
        for layer in layers { try upload(layer, repository: repository) }
        let config = try blob(bytes: Array(#"{"architecture":"\#(architecture)","os":"linux","config":{},"rootfs":{"type":"layers","diff_ids":[]}}"#.utf8),
                              name: "config")
        try upload(config, repository: repository)
        let layerJSON = layers.map { #"{"mediaType":"\#(types.layer)","digest":"\#($0.digest)","size":\#($0.size)}"# }
        let manifest = #"{"schemaVersion":2,"mediaType":"\#(types.manifest)","config":{"mediaType":"\#(types.config)","digest":"\#(config.digest)","size":\#(config.size)},"layers":[\#(layerJSON.joined(separator: ","))]}"#
        let manifestBlob = try blob(bytes: Array(manifest.utf8), name: "manifest")
        if !index {
            try putManifest(manifestBlob, mediaType: types.manifest, repository: repository, reference: tag)
            return PushedImage(digest: manifestBlob.digest, manifestDigest: manifestBlob.digest, layers: layers)
        }
        try putManifest(manifestBlob, mediaType: types.manifest, repository: repository, reference: manifestBlob.digest)
        let indexJSON = #"{"schemaVersion":2,"mediaType":"\#(types.index)","manifests":[{"mediaType":"\#(types.manifest)","digest":"\#(manifestBlob.digest)","size":\#(manifestBlob.size),"platform":{"architecture":"\#(architecture)","os":"linux"}}]}"#
        let indexBlob = try blob(bytes: Array(indexJSON.utf8), name: "index")
        try putManifest(indexBlob, mediaType: types.index, repository: repository, reference: tag)
        return PushedImage(digest: indexBlob.digest, manifestDigest: manifestBlob.digest, layers: layers)
    }

    private var authArguments: [String] { authorization.map { ["-H", "Authorization: \($0)"] } ?? [] }

    /// HEAD, then POST an upload session and PUT the bytes to its Location with `digest=` (distribution 2.8 ignores
    /// a body on the POST).
    public func upload(_ blob: Blob, repository: String) throws {
        let base = "http://\(registry)/v2/\(repository)"
        let status = try runTool("/usr/bin/curl", ["-s", "-o", "/dev/null", "-w", "%{http_code}", "-I"] + authArguments
                                 + ["\(base)/blobs/\(blob.digest)"])
        if status == "200" { return }
        let headers = try runTool("/usr/bin/curl", ["-fsS", "-o", "/dev/null", "-D", "-", "-X", "POST"] + authArguments
                                  + ["\(base)/blobs/uploads/"])
        guard let line = headers.split(whereSeparator: \.isNewline)
            .first(where: { $0.lowercased().hasPrefix("location:") }) else {
            throw FixtureError("upload of \(blob.digest) to \(repository): no Location header")
        }
        var location = line.dropFirst("location:".count).trimmingCharacters(in: .whitespaces)
        if location.hasPrefix("/") { location = "http://\(registry)" + location }
        location += (location.contains("?") ? "&" : "?") + "digest=" + blob.digest
        try runTool("/usr/bin/curl", ["-fsS", "-o", "/dev/null", "-X", "PUT", "-H", "Content-Type: application/octet-stream"]
                    + authArguments + ["-T", blob.path, location])
    }

    /// PUTs a manifest under a tag or digest.
    public func putManifest(_ blob: Blob, mediaType: String, repository: String, reference: String) throws {
        try runTool("/usr/bin/curl", ["-fsS", "-o", "/dev/null", "-X", "PUT", "-H", "Content-Type: \(mediaType)"] + authArguments
                    + ["--data-binary", "@" + blob.path, "http://\(registry)/v2/\(repository)/manifests/\(reference)"])
    }
}
