import CLibArchive
import Foundation

/// `ocifile://<path>`: installs from a `docker save` tarball (`manifest.json` + layer tars) or an OCI-layout tarball
/// (`index.json` + `blobs/sha256/…`), plain or compressed. The tarball is read in place, never unpacked to disk:
/// one pass reads the small JSON documents, then each layer is streamed from the tarball into the extractor, hashed
/// on the way and checked against its digest (blob name, or the config's `diff_ids` for uncompressed docker-save
/// layers). A mismatch fails the install and the engine discards the staging directory.
public struct OCIFileSource: BackendSource {
    public let platform: OCIPlatform
    public let maxExtractBytes: Int64

    public init(platform: OCIPlatform = .current, maxExtractBytes: Int64 = 64 << 30) {
        self.platform = platform
        self.maxExtractBytes = maxExtractBytes
    }

    public func handles(_ uri: String) -> Bool { BackendURI.looksLikeOCIFile(uri) }

    /// A layer inside the tarball and the digest its bytes must have (nil when the format gives none).
    struct LayerEntry: Equatable {
        var path: String
        var digest: String?
    }

    public func fetch(_ request: FetchRequest, into staging: String, context: JobContext) throws -> String? {
        let path = String(request.uri.dropFirst("ocifile://".count))
        context.phase(.resolving, path)
        var st = stat()
        guard stat(path, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG else {
            throw HangarError.operation("\(request.uri): \(path) is not a readable file (ocifile:// names a docker save or OCI-layout tarball)")
        }
        let documents = try Self.readDocuments(path)
        let layers = try layerEntries(documents, path: path)
        let total = Int64(st.st_size)
        var extracted: Int64 = 0
        for (index, layer) in layers.enumerated() {
            try context.checkCancelled()
            context.phase(.extracting, "layer \(index + 1)/\(layers.count) of \(path)")
            extracted += try apply(layer, from: path, into: staging, alreadyExtracted: extracted, context: context,
                                   what: "layer \(index + 1) (\(layer.path)) of \(path)")
            context.progress(bytes: min(total, total * Int64(index + 1) / Int64(layers.count)), total: total)
        }
        context.phase(.verifying, "\(layers.filter { $0.digest != nil }.count) of \(layers.count) layers of \(path) match their digests")
        return nil
    }

    /// The layer list of either format, in application order.
    func layerEntries(_ documents: [String: [UInt8]], path: String) throws -> [LayerEntry] {
        func json(_ name: String) throws -> JSONValue {
            guard let bytes = documents[name] else { throw HangarError.operation("\(path): \(name) is missing from the tarball") }
            do { return try JSONValue.parse(bytes, maxBytes: 4 << 20) } catch {
                throw HangarError.operation("\(path): \(name) is not valid JSON: \(error)")
            }
        }
        func blobName(_ digest: String) -> String { "blobs/sha256/" + digest.dropFirst("sha256:".count) }

        if documents["manifest.json"] != nil {
            // docker save: [{"Config": "...", "RepoTags": [...], "Layers": ["<id>/layer.tar" | "blobs/sha256/<hex>"]}]
            guard let first = try json("manifest.json").arrayValue?.first, let paths = first["Layers"]?.arrayValue?.compactMap(\.stringValue) else {
                throw HangarError.operation("\(path): manifest.json lists no image with Layers")
            }
            let diffIDs = try first["Config"]?.stringValue.map { try json($0)["rootfs"]?["diff_ids"]?.arrayValue?.compactMap(\.stringValue) } ?? nil
            return paths.enumerated().map { i, layer in
                if layer.hasPrefix("blobs/sha256/") { return LayerEntry(path: layer, digest: "sha256:" + layer.dropFirst("blobs/sha256/".count)) }
                // Classic docker save layers are uncompressed tars: their sha256 is the config's diff_id.
                return LayerEntry(path: layer, digest: diffIDs.flatMap { i < $0.count ? $0[i] : nil })
            }
        }
        guard documents["index.json"] != nil else {
            throw HangarError.operation("\(path): neither manifest.json (docker save) nor index.json (OCI layout) is in the tarball")
        }
        var manifest = try OCIManifest.parse(documents["index.json"]!, contentType: OCIMediaType.ociIndex, source: path)
        for _ in 0..<3 {
            guard case .index(let entries) = manifest else { break }
            // This platform's entry; else the only entry when it names no platform (a plain `oci-layout` save).
            let unnamed = entries.count == 1 && entries[0].os.isEmpty && entries[0].architecture.isEmpty ? entries.first : nil
            guard let chosen = platform.pick(from: entries) ?? unnamed else {
                let offered = entries.map(\.platformName)
                throw HangarError.operation(
                    "\(path): the OCI layout has no image for \(platform) (it offers \(offered.isEmpty ? "none" : offered.joined(separator: ", ")))")
            }
            let name = blobName(chosen.digest)
            guard let bytes = documents[name] else { throw HangarError.operation("\(path): manifest \(chosen.digest) is missing") }
            var hasher = SHA256()
            hasher.update(bytes)
            guard "sha256:" + hasher.finalizeHex() == chosen.digest else {
                throw HangarError.operation("\(path): manifest \(name) does not match its digest")
            }
            manifest = try OCIManifest.parse(bytes, contentType: chosen.mediaType, source: "\(path) \(name)")
        }
        guard case .image(_, let layers) = manifest else { throw HangarError.operation("\(path): no image manifest found") }
        return layers.map { LayerEntry(path: blobName($0.digest), digest: $0.digest) }
    }

    /// Reads `manifest.json`, `index.json` and every JSON-sized entry (configs, manifests) of the tarball.
    static func readDocuments(_ path: String) throws -> [String: [UInt8]] {
        var documents: [String: [UInt8]] = [:]
        var kept = 0
        try OuterTar.scan(path) { name, size, archive in
            guard size <= 4 << 20, kept < 64 << 20,
                  name == "manifest.json" || name == "index.json" || name.hasSuffix(".json") || name.hasPrefix("blobs/sha256/") else {
                return false
            }
            var bytes = [UInt8](repeating: 0, count: Int(size))
            var filled = 0
            while filled < bytes.count {
                let n = bytes.withUnsafeMutableBytes { archive_read_data(archive, $0.baseAddress! + filled, $0.count - filled) }
                guard n > 0 else { throw HangarError.operation("\(path): entry \(name) is truncated") }
                filled += n
            }
            documents[name] = bytes
            kept += bytes.count
            return false
        }
        return documents
    }

    /// Streams one layer entry from the tarball into the extractor, hashing what it reads.
    private func apply(_ layer: LayerEntry, from path: String, into staging: String, alreadyExtracted: Int64,
                       context: JobContext, what: String) throws -> Int64 {
        var written: Int64?
        try OuterTar.scan(path) { name, _, archive in
            guard name == layer.path else { return false }
            let hasher = HashingReader(archive: archive)
            let bytes = try LayerApplier.apply(read: { try hasher.read(into: $0) }, into: staging, limit: maxExtractBytes,
                                               alreadyExtracted: alreadyExtracted, isCancelled: { context.isCancelled }, what: what)
            if let expected = layer.digest {
                let actual = hasher.digest()
                guard actual == expected else {
                    throw HangarError.operation("\(what): its bytes have digest \(actual), not \(expected): the tarball is corrupt, nothing was installed")
                }
            }
            written = bytes
            return true
        }
        guard let written else { throw HangarError.operation("\(what): the entry is missing from the tarball") }
        return written
    }
}

/// Pulls an outer-tar entry's bytes for the layer extractor, hashing them.
private final class HashingReader {
    let archive: OpaquePointer
    private var hasher = SHA256()
    init(archive: OpaquePointer) { self.archive = archive }

    func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        let n = archive_read_data(archive, buffer.baseAddress, buffer.count)
        if n < 0 { throw HangarError.operation("cannot read the tarball: \(String(cString: archive_error_string(archive)))") }
        hasher.update(UnsafeRawBufferPointer(rebasing: buffer[0..<n]))
        return n
    }

    func digest() -> String { "sha256:" + hasher.finalizeHex() }
}

/// Sequential reads of the outer tarball (plain, gzip, xz or zstd).
private enum OuterTar {
    /// Calls `visit(name, size, archive)` for each regular entry until it returns true (its data may be read from `archive`).
    static func scan(_ path: String, _ visit: (String, Int64, OpaquePointer) throws -> Bool) throws {
        let archive = try ArchiveExtractor.newTarReader()
        defer { archive_read_free(archive) }
        guard archive_read_open_filename(archive, path, 1 << 16) == ARCHIVE_OK else {
            throw HangarError.operation("\(path) is not a readable tar: \(String(cString: archive_error_string(archive)))")
        }
        var entry: OpaquePointer?
        while true {
            let status = archive_read_next_header(archive, &entry)
            if status == ARCHIVE_EOF { return }
            // ARCHIVE_RETRY (a damaged header) is corruption too, not a warning.
            guard status == ARCHIVE_OK || status == ARCHIVE_WARN, let entry else {
                throw HangarError.operation("\(path) is corrupt: \(String(cString: archive_error_string(archive)))")
            }
            guard archive_entry_filetype(entry) & 0o170000 == 0o100000 else { continue }
            var name = String(cString: archive_entry_pathname(entry))
            while name.hasPrefix("./") { name.removeFirst(2) }
            if try visit(name, Int64(archive_entry_size(entry)), archive) { return }
        }
    }
}
