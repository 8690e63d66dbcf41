import HangarYAML

extension GalleryEntry {
    /// Decodes a backend gallery index (a top-level YAML list of entries, spec §1.1–1.3) as LocalAI's yaml.v3 load does.
    ///
    /// Anchors, aliases and `<<` merges are resolved; unknown keys are ignored; numbers and booleans are
    /// kept as their text; a single scalar is accepted where a list of strings is expected; entries keep
    /// file order, duplicates and empty names included; `gallery` is always set to `gallery`. An empty or
    /// null document is an empty gallery. When a key is written twice in one entry, the first wins.
    /// Errors are `HangarError.configuration` naming the gallery, line and column.
    public static func decodeIndex(_ bytes: [UInt8], gallery: GalleryConfig, limits: YAMLLimits = .default) throws -> [GalleryEntry] {
        let root: YAMLNode?
        do {
            root = try YAMLParser.parse(bytes, limits: limits)
        } catch {
            throw GalleryDecodeError.yaml(error).hangarError(gallery: gallery)
        }
        return try decodeIndex(root, gallery: gallery)
    }

    /// Decodes an already parsed gallery document (nil: no document); same rules and errors as the byte form.
    public static func decodeIndex(_ root: YAMLNode?, gallery: GalleryConfig) throws -> [GalleryEntry] {
        guard let root, !root.isNull else { return [] }
        guard case .sequence(let items, _) = root else {
            throw GalleryDecodeError.at(root.mark, "the index is not a list of backends (found \(root.kindDescription))")
                .hangarError(gallery: gallery)
        }
        var entries: [GalleryEntry] = []
        entries.reserveCapacity(items.count)
        var cache = SharedValueCache()
        do throws(GalleryDecodeError) {
            for (index, item) in items.enumerated() {
                // Filled in place: GalleryEntry is large, and returning it by value showed up as copies.
                entries.append(GalleryEntry(name: "", gallery: gallery))
                try fill(&entries[index], from: item, number: index + 1, cache: &cache)
            }
        } catch {
            throw error.hangarError(gallery: gallery)
        }
        return entries
    }

    private static func fill(_ entry: inout GalleryEntry, from node: YAMLNode, number: Int,
                             cache: inout SharedValueCache) throws(GalleryDecodeError) {
        guard case .mapping(let pairs, _) = node else {
            throw .at(node.mark, "backend entry \(number) is \(node.kindDescription), not a mapping")
        }
        // First occurrence wins, like `YAMLNode[key]`; one bit per field already set.
        var seen: UInt32 = 0
        // Pairs are read in place: in the profile, handing pairs and nodes around by value cost more in
        // retain/release than everything else in the decode.
        try pairs.withUnsafeRuns { (inherited, hidden, written) throws(GalleryDecodeError) in
            for index in inherited.indices where hidden & (1 << UInt64(index)) == 0 {
                try apply(inherited.baseAddress! + index, to: &entry, seen: &seen, cache: &cache)
            }
            for index in written.indices {
                try apply(written.baseAddress! + index, to: &entry, seen: &seen, cache: &cache)
            }
        }
    }

    /// Sets the field `pair` names, unless an earlier pair already did; unknown keys are ignored.
    private static func apply(_ pair: UnsafePointer<YAMLPair>, to entry: inout GalleryEntry, seen: inout UInt32,
                              cache: inout SharedValueCache) throws(GalleryDecodeError) {
        // Unknown keys (and `gallery`, `installed`, `files`) are ignored.
        guard let field = Field(key: pair.pointee.key) else { return }
        let bit: UInt32 = 1 << field.rawValue
        guard seen & bit == 0 else { return }
        seen |= bit
        switch field {
        case .urls: entry.urls = try cache.texts(pair.pointee.value, key: pair.pointee.key)
        case .tags: entry.tags = try cache.texts(pair.pointee.value, key: pair.pointee.key)
        case .mirrors: entry.mirrors = try cache.texts(pair.pointee.value, key: pair.pointee.key)
        case .capabilities: entry.capabilities = try cache.capabilities(pair.pointee.value)
        default:
            let text: String
            switch pair.pointee.value {
            case .scalar(let scalar): text = scalar.isNull ? "" : scalar.value
            default:
                throw .at(pair.pointee.value.mark,
                          "\"\(pair.pointee.key)\" must be a string, found \(pair.pointee.value.kindDescription)")
            }
            switch field {
            case .name: entry.name = text
            case .description: entry.description = text
            case .license: entry.license = text
            case .icon: entry.icon = text
            case .url: entry.url = text
            case .size: entry.size = text
            case .backend: entry.backend = text
            case .alias: entry.alias = text
            case .uri: entry.uri = text
            case .version: entry.version = text
            case .sha256: entry.sha256 = text
            case .urls, .tags, .mirrors, .capabilities: break  // handled above
            }
        }
    }

    private enum Field: UInt32 {
        case name, description, license, urls, icon, tags, url, size, backend, alias, uri, version, mirrors, capabilities, sha256

        /// The field a YAML key names. Narrowed by length and first byte so that only one string comparison
        /// runs per key: unequal-string comparisons dominated the decode profile.
        init?(key: String) {
            let utf8 = key.utf8
            guard let first = utf8.first else { return nil }
            let candidate: Field
            switch utf8.count {
            case 3:
                guard first == UInt8(ascii: "u") else { return nil }
                candidate = utf8.last == UInt8(ascii: "i") ? .uri : .url
            case 4:
                switch first {
                case UInt8(ascii: "n"): candidate = .name
                case UInt8(ascii: "u"): candidate = .urls
                case UInt8(ascii: "i"): candidate = .icon
                case UInt8(ascii: "t"): candidate = .tags
                case UInt8(ascii: "s"): candidate = .size
                default: return nil
                }
            case 5: candidate = .alias
            case 6: candidate = .sha256
            case 7:
                switch first {
                case UInt8(ascii: "l"): candidate = .license
                case UInt8(ascii: "b"): candidate = .backend
                case UInt8(ascii: "v"): candidate = .version
                case UInt8(ascii: "m"): candidate = .mirrors
                default: return nil
                }
            case 11: candidate = .description
            case 12: candidate = .capabilities
            default: return nil
            }
            guard key == candidate.key else { return nil }
            self = candidate
        }

        var key: String {
            switch self {
            case .name: "name"
            case .description: "description"
            case .license: "license"
            case .urls: "urls"
            case .icon: "icon"
            case .tags: "tags"
            case .url: "url"
            case .size: "size"
            case .backend: "backend"
            case .alias: "alias"
            case .uri: "uri"
            case .version: "version"
            case .mirrors: "mirrors"
            case .capabilities: "capabilities"
            case .sha256: "sha256"
            }
        }
    }
}

/// Decodes string lists and capability maps once per shared YAML array.
///
/// Entries that inherit through `<<: *anchor` share the anchor's arrays (the tree shares storage rather
/// than copying), so the storage address identifies "the same list": decoding it once and handing out
/// the same (copy-on-write) Swift array saves most of the model build's allocations. Addresses are
/// stable because the tree, which owns that storage, outlives the decode.
private struct SharedValueCache {
    private var texts = RecentByAddress<[String]>()
    private var capabilities = RecentByAddress<[CapabilityMapping]>()

    private static func identity<T>(_ array: [T]) -> UnsafeRawPointer? {
        array.withUnsafeBufferPointer { $0.baseAddress.map(UnsafeRawPointer.init) }
    }

    /// A list of strings: a sequence of scalars, a single scalar, or null (empty).
    mutating func texts(_ node: YAMLNode, key: String) throws(GalleryDecodeError) -> [String] {
        switch node {
        case .scalar(let scalar):
            return scalar.isNull ? [] : [scalar.value]
        case .sequence(let items, _):
            guard !items.isEmpty else { return [] }
            let id = Self.identity(items)
            if let id, let known = texts[id] { return known }
            var result: [String] = []
            result.reserveCapacity(items.count)
            for item in items {
                guard case .scalar(let scalar) = item else {
                    throw .at(item.mark, "\"\(key)\" must be a list of strings, found \(item.kindDescription) in it")
                }
                result.append(scalar.isNull ? "" : scalar.value)
            }
            if let id { texts[id] = result }
            return result
        case .mapping:
            throw .at(node.mark, "\"\(key)\" must be a list of strings, found a mapping")
        }
    }

    /// An ordered map of capability → concrete name; a repeated capability keeps its first value.
    mutating func capabilities(_ node: YAMLNode) throws(GalleryDecodeError) -> [CapabilityMapping] {
        switch node {
        case .scalar(let scalar) where scalar.isNull:
            return []
        case .mapping(let pairs, _):
            guard !pairs.isEmpty else { return [] }
            let id = pairs.storageIdentity
            if let id, let known = capabilities[id] { return known }
            var result: [CapabilityMapping] = []
            result.reserveCapacity(pairs.count)
            // Only big (hostile) maps pay for hashing; real ones have a dozen keys.
            var taken: Set<String>? = pairs.count > 32 ? [] : nil
            for pair in pairs {
                guard case .scalar(let scalar) = pair.value else {
                    throw .at(pair.value.mark,
                              "capability \"\(pair.key)\" must map to a backend name, found \(pair.value.kindDescription)")
                }
                if taken != nil {
                    guard taken!.insert(pair.key).inserted else { continue }
                } else if result.contains(where: { $0.capability == pair.key }) {
                    continue
                }
                result.append(CapabilityMapping(capability: pair.key, concrete: scalar.isNull ? "" : scalar.value))
            }
            if let id { capabilities[id] = result }
            return result
        default:
            throw .at(node.mark, "\"capabilities\" must be a mapping of capability to backend name, found \(node.kindDescription)")
        }
    }
}

/// A decoding failure before the gallery name is attached.
private enum GalleryDecodeError: Error {
    case yaml(YAMLError)
    case structure(YAMLMark, String)

    static func at(_ mark: YAMLMark, _ message: String) -> GalleryDecodeError { .structure(mark, message) }

    func hangarError(gallery: GalleryConfig) -> HangarError {
        let detail: String
        switch self {
        case .yaml(let error): detail = error.description
        case .structure(let mark, let message): detail = "error at line \(mark.line), column \(mark.column): \(message)"
        }
        return .configuration("gallery \"\(gallery.name)\": \(detail); fix the file or the gallery URL")
    }
}

/// A direct-mapped cache keyed by address: most lists are unique (each entry's own `mirrors`), so a
/// growing dictionary spent its time hashing and resizing for nothing; the shared ones come in runs
/// (an anchor's concretes are listed together), which a few slots catch. A collision only costs a re-decode.
private struct RecentByAddress<Value> {
    private static var slotCount: Int { 64 }
    private var keys = [UnsafeRawPointer?](repeating: nil, count: Self.slotCount)
    private var values = [Value?](repeating: nil, count: Self.slotCount)

    private static func slot(_ key: UnsafeRawPointer) -> Int {
        let bits = UInt(bitPattern: key)
        // Allocations are 16-byte aligned: skip the always-zero low bits.
        return Int(truncatingIfNeeded: (bits >> 4) ^ (bits >> 10)) & (slotCount - 1)
    }

    subscript(key: UnsafeRawPointer) -> Value? {
        get {
            let slot = Self.slot(key)
            return keys[slot] == key ? values[slot] : nil
        }
        set {
            let slot = Self.slot(key)
            keys[slot] = key
            values[slot] = newValue
        }
    }
}
