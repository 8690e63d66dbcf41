import Foundation

/// The entries of a gallery index as hangar decoded them, beside LocalAI's last-known-good copy
/// (`<cache>/<sha256(url)>.yaml.hangar-entries`), keyed by a fingerprint of the index bytes: an unchanged index (a
/// local gallery on every listing, a remote one between fetches) is read back in a fraction of what parsing its
/// YAML again costs. Anything that does not match to the byte — another fingerprint, another format, a truncated or
/// damaged file — is ignored and the YAML is parsed as always, so the cache can only be stale by being unused.
enum DecodedGalleryCache {
    static let suffix = ".hangar-entries"
    private static let magic = Array("hangar-entries 1\n".utf8)
    /// A file larger than this is not read (the real index decodes to about 300 KiB).
    static let maxBytes = 32 << 20

    /// A 64-bit fingerprint of `bytes` and their length (FNV-1a over 8-byte words): not a security check — the cache
    /// sits beside files the same user can already rewrite — but any edit of the index changes it.
    static func fingerprint(_ bytes: [UInt8]) -> UInt64 {
        bytes.withUnsafeBytes { fingerprint($0) }
    }

    /// The fingerprint of raw bytes (see `fingerprint(_:)`).
    static func fingerprint(_ raw: UnsafeRawBufferPointer) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325 ^ UInt64(raw.count)
        let words = raw.count / 8
        for i in 0..<words {
            hash = (hash ^ raw.loadUnaligned(fromByteOffset: i * 8, as: UInt64.self)) &* 0x0000_0100_0000_01b3
        }
        for i in (words * 8)..<raw.count { hash = (hash ^ UInt64(raw[i])) &* 0x0000_0100_0000_01b3 }
        return hash
    }

    /// The cached entries for index `bytes`, attached to `gallery`; nil when there is no matching cache.
    static func read(_ path: String, for bytes: [UInt8], gallery: GalleryConfig) -> [GalleryEntry]? {
        guard let file = try? Sys.readFile(path, limit: maxBytes), file.count < maxBytes, file.count > 8 else { return nil }
        // The file's own fingerprint closes it: a damaged or half-written cache is never read as entries.
        let end = file.count - 8
        let closed = file.withUnsafeBytes { raw in
            raw.loadUnaligned(fromByteOffset: end, as: UInt64.self) == fingerprint(UnsafeRawBufferPointer(rebasing: raw[..<end]))
        }
        guard closed else { return nil }
        var reader = Reader(bytes: file, end: end)
        guard reader.take(magic.count).map(Array.init) == magic, reader.u64() == fingerprint(bytes), let count = reader.u32(),
              count <= 1_000_000 else { return nil }
        var entries: [GalleryEntry] = []
        entries.reserveCapacity(Int(count))
        for _ in 0..<count {
            guard let name = reader.string() else { return nil }
            var e = GalleryEntry(name: name, gallery: gallery)
            guard let description = reader.string(), let license = reader.string(), let urls = reader.strings(),
                  let icon = reader.string(), let tags = reader.strings(), let url = reader.string(), let size = reader.string(),
                  let backend = reader.string(), let alias = reader.string(), let uri = reader.string(),
                  let version = reader.string(), let mirrors = reader.strings(), let pairs = reader.strings(),
                  pairs.count % 2 == 0, let sha256 = reader.string() else { return nil }
            (e.description, e.license, e.urls, e.icon, e.tags) = (description, license, urls, icon, tags)
            (e.url, e.size, e.backend, e.alias, e.uri, e.version, e.mirrors, e.sha256) = (url, size, backend, alias, uri, version, mirrors, sha256)
            e.capabilities = stride(from: 0, to: pairs.count, by: 2).map { CapabilityMapping(capability: pairs[$0], concrete: pairs[$0 + 1]) }
            entries.append(e)
        }
        return reader.atEnd ? entries : nil
    }

    /// Writes the cache for index `bytes` (temp file + rename); best effort, like the last-known-good copy.
    static func write(_ entries: [GalleryEntry], for bytes: [UInt8], to path: String) {
        var out = magic
        var fp = fingerprint(bytes)
        withUnsafeBytes(of: &fp) { out.append(contentsOf: $0) }
        appendU32(UInt32(entries.count), to: &out)
        for e in entries {
            for text in [e.name, e.description, e.license] { appendString(text, to: &out) }
            appendStrings(e.urls, to: &out)
            appendString(e.icon, to: &out)
            appendStrings(e.tags, to: &out)
            for text in [e.url, e.size, e.backend, e.alias, e.uri, e.version] { appendString(text, to: &out) }
            appendStrings(e.mirrors, to: &out)
            appendStrings(e.capabilities.flatMap { [$0.capability, $0.concrete] }, to: &out)
            appendString(e.sha256, to: &out)
        }
        var check = fingerprint(out)
        withUnsafeBytes(of: &check) { out.append(contentsOf: $0) }
        let tmp = "\(path).\(getpid())-\(UInt32.random(in: 0...UInt32.max)).tmp"
        guard (try? Sys.writeFile(tmp, out, mode: 0o644, exclusive: true, sync: false)) != nil else { return }
        if rename(tmp, path) != 0 { unlink(tmp) }
    }

    private static func appendU32(_ value: UInt32, to out: inout [UInt8]) {
        var v = value.littleEndian
        withUnsafeBytes(of: &v) { out.append(contentsOf: $0) }
    }

    private static func appendString(_ text: String, to out: inout [UInt8]) {
        let utf8 = Array(text.utf8)
        appendU32(UInt32(utf8.count), to: &out)
        out.append(contentsOf: utf8)
    }

    private static func appendStrings(_ list: [String], to out: inout [UInt8]) {
        appendU32(UInt32(list.count), to: &out)
        for text in list { appendString(text, to: &out) }
    }

    /// Bounds-checked reads; every read of a damaged file returns nil instead of trapping.
    private struct Reader {
        let bytes: [UInt8]
        /// Where the entries end (the file's own fingerprint follows).
        let end: Int
        var offset = 0

        var atEnd: Bool { offset == end }

        mutating func take(_ count: Int) -> ArraySlice<UInt8>? {
            guard count >= 0, end - offset >= count else { return nil }
            defer { offset += count }
            return bytes[offset..<(offset + count)]
        }

        mutating func u32() -> UInt32? {
            guard let raw = take(4) else { return nil }
            return raw.withUnsafeBytes { UInt32(littleEndian: $0.loadUnaligned(as: UInt32.self)) }
        }

        mutating func u64() -> UInt64? {
            guard let raw = take(8) else { return nil }
            return raw.withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) }
        }

        mutating func string() -> String? {
            guard let length = u32(), let raw = take(Int(length)) else { return nil }
            // Written from Strings and closed by the file's fingerprint: decoded without a second validation, through
            // the buffer fast path (the generic one costs a metadata lookup per string).
            return raw.withUnsafeBufferPointer { String(decoding: $0, as: UTF8.self) }
        }

        mutating func strings() -> [String]? {
            guard let count = u32(), Int(count) <= end - offset else { return nil }
            var list: [String] = []
            list.reserveCapacity(Int(count))
            for _ in 0..<count {
                guard let text = string() else { return nil }
                list.append(text)
            }
            return list
        }
    }
}
