import Foundation

/// The entries of a gallery index as hangar decoded them, beside LocalAI's last-known-good copy
/// (`<cache>/<sha256(url)>.yaml.hangar-entries`), keyed by a fingerprint of the index bytes: an unchanged index (a
/// local gallery on every listing, a remote one between fetches) is read back in a fraction of what parsing its
/// YAML again costs. Anything that does not match to the byte — another fingerprint, another format, a truncated or
/// damaged file — is ignored and the YAML is parsed as always, so the cache can only be stale by being unused.
enum DecodedGalleryCache {
    static let suffix = ".hangar-entries"
    private static let magic = Array("hangar-entries 2\n".utf8)
    /// A file larger than this is not read (the real 1,033-entry index caches to about 330 KiB).
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
        guard reader.take(magic.count).map(Array.init) == magic, reader.u64() == fingerprint(bytes),
              let table = reader.table(), let count = reader.u32(), count <= 1_000_000 else { return nil }
        var entries: [GalleryEntry] = []
        entries.reserveCapacity(Int(count))
        for _ in 0..<count {
            guard let name = reader.string(table) else { return nil }
            var e = GalleryEntry(name: name, gallery: gallery)
            guard let description = reader.string(table), let license = reader.string(table), let urls = reader.strings(table),
                  let icon = reader.string(table), let tags = reader.strings(table), let url = reader.string(table),
                  let size = reader.string(table), let backend = reader.string(table), let alias = reader.string(table),
                  let uri = reader.string(table), let version = reader.string(table), let mirrors = reader.strings(table),
                  let pairs = reader.strings(table), pairs.count % 2 == 0, let sha256 = reader.string(table) else { return nil }
            (e.description, e.license, e.urls, e.icon, e.tags) = (description, license, urls, icon, tags)
            (e.url, e.size, e.backend, e.alias, e.uri, e.version, e.mirrors, e.sha256) = (url, size, backend, alias, uri, version, mirrors, sha256)
            e.capabilities = stride(from: 0, to: pairs.count, by: 2).map { CapabilityMapping(capability: pairs[$0], concrete: pairs[$0 + 1]) }
            entries.append(e)
        }
        return reader.atEnd ? entries : nil
    }

    /// Writes the cache for index `bytes` (temp file + rename); best effort, like the last-known-good copy.
    /// Every distinct string is stored once and entries refer to it by number: the index's anchors repeat
    /// descriptions, tags and URLs across the builds of a backend, and one decoded string is then shared by all.
    static func write(_ entries: [GalleryEntry], for bytes: [UInt8], to path: String) {
        var numbers: [String: UInt32] = ["": 0]
        var table: [String] = [""]
        func number(_ text: String) -> UInt32 {
            if let known = numbers[text] { return known }
            let next = UInt32(table.count)
            numbers[text] = next
            table.append(text)
            return next
        }
        var body: [UInt8] = []
        func append(_ text: String) { appendU32(number(text), to: &body) }
        func append(_ list: [String]) {
            appendU32(UInt32(list.count), to: &body)
            for text in list { append(text) }
        }
        appendU32(UInt32(entries.count), to: &body)
        for e in entries {
            for text in [e.name, e.description, e.license] { append(text) }
            append(e.urls)
            append(e.icon)
            append(e.tags)
            for text in [e.url, e.size, e.backend, e.alias, e.uri, e.version] { append(text) }
            append(e.mirrors)
            append(e.capabilities.flatMap { [$0.capability, $0.concrete] })
            append(e.sha256)
        }
        var out = magic
        var fp = fingerprint(bytes)
        withUnsafeBytes(of: &fp) { out.append(contentsOf: $0) }
        appendU32(UInt32(table.count), to: &out)
        for text in table {
            let utf8 = Array(text.utf8)
            appendU32(UInt32(utf8.count), to: &out)
            out.append(contentsOf: utf8)
        }
        out.append(contentsOf: body)
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

        /// The string table: every distinct string once, decoded once.
        mutating func table() -> [String]? {
            guard let count = u32(), Int(count) <= end - offset, count > 0 else { return nil }
            var list: [String] = []
            list.reserveCapacity(Int(count))
            for _ in 0..<count {
                guard let length = u32(), let raw = take(Int(length)) else { return nil }
                // Written from Strings and closed by the file's fingerprint: decoded without a second validation,
                // through the buffer fast path (the generic one costs a metadata lookup per string).
                list.append(raw.withUnsafeBufferPointer { String(decoding: $0, as: UTF8.self) })
            }
            return list
        }

        /// A string by its number in `table`.
        mutating func string(_ table: [String]) -> String? {
            guard let number = u32(), Int(number) < table.count else { return nil }
            return table[Int(number)]
        }

        mutating func strings(_ table: [String]) -> [String]? {
            guard let count = u32(), Int(count) <= (end - offset) / 4 else { return nil }
            if count == 0 { return [] }
            var list: [String] = []
            list.reserveCapacity(Int(count))
            for _ in 0..<count {
                guard let text = string(table) else { return nil }
                list.append(text)
            }
            return list
        }
    }
}
