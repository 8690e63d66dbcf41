import Foundation

/// The builds of one backend that a registry keeps beside its floating tag: LocalAI's CI publishes
/// `v3.4.0-cpu-llama-cpp` next to `latest-cpu-llama-cpp` (`master-…` for development builds).
public struct VersionTags: Sendable, Equatable {
    /// The gallery entry's image, floating tag included (`quay.io/go-skynet/local-ai-backends:latest-cpu-llama-cpp`).
    public var uri: String
    /// What every build of this backend ends in (`cpu-llama-cpp`); empty when the floating tag is bare `latest`.
    public var suffix: String
    /// Versioned tags, newest version first.
    public var tags: [String]

    /// `uri` with its tag replaced by `tag`: the exact build `install --tag` pulls.
    public func uri(for tag: String) -> String {
        Self.replacingTag(of: uri, with: tag)
    }

    /// The suffix of a floating tag: `latest-cpu-llama-cpp` → `cpu-llama-cpp`; nil when the tag is not floating.
    static func suffix(ofFloatingTag tag: String) -> String? {
        for prefix in ["latest", "master"] {
            if tag == prefix { return "" }
            if tag.hasPrefix(prefix + "-") { return String(tag.dropFirst(prefix.count + 1)) }
        }
        return nil
    }

    /// The version parts of `tag` when it is a versioned build with `suffix` (`v3.4.0-cpu-llama-cpp` → [3, 4, 0]);
    /// a pre-release (`v3.5.0-rc1-…`) sorts below its release.
    static func version(of tag: String, suffix: String) -> (numbers: [Int], preRelease: String?)? {
        var rest = Substring(tag)
        if !suffix.isEmpty {
            guard rest.hasSuffix("-" + suffix) else { return nil }
            rest = rest.dropLast(suffix.count + 1)
        }
        if rest.hasPrefix("v") { rest = rest.dropFirst() }
        var preRelease: String?
        if let dash = rest.firstIndex(of: "-") {
            let tail = rest[rest.index(after: dash)...]
            guard !tail.isEmpty, tail.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == ".") }),
                  tail.first?.isLetter == true else { return nil }
            preRelease = String(tail)
            rest = rest[..<dash]
        }
        let parts = rest.split(separator: ".", omittingEmptySubsequences: false)
        guard (1...4).contains(parts.count) else { return nil }
        var numbers: [Int] = []
        for part in parts {
            guard !part.isEmpty, part.count <= 9, part.allSatisfy({ $0.isASCII && $0.isNumber }), let n = Int(part) else { return nil }
            numbers.append(n)
        }
        return (numbers, preRelease)
    }

    /// The versioned tags among `all` for `suffix`, newest first.
    static func matching(_ all: [String], suffix: String) -> [String] {
        let parsed = all.compactMap { tag in version(of: tag, suffix: suffix).map { (tag, $0) } }
        return parsed.sorted { a, b in
            let (x, y) = (a.1, b.1)
            for i in 0..<max(x.numbers.count, y.numbers.count) {
                let l = i < x.numbers.count ? x.numbers[i] : 0, r = i < y.numbers.count ? y.numbers[i] : 0
                if l != r { return l > r }
            }
            switch (x.preRelease, y.preRelease) {
            case (nil, nil): return a.0 < b.0
            case (nil, _): return true
            case (_, nil): return false
            case (let l?, let r?): return l == r ? a.0 < b.0 : l > r
            }
        }.map(\.0)
    }

    static func replacingTag(of uri: String, with tag: String) -> String {
        var base = uri
        if let at = base.firstIndex(of: "@") { base = String(base[..<at]) }
        let lastSlash = base.lastIndex(of: "/") ?? base.startIndex
        if let colon = base[lastSlash...].lastIndex(of: ":") { base = String(base[..<colon]) }
        return base + ":" + tag
    }
}

extension Engine {
    /// The versioned builds the registry keeps for `name` (an installed backend, a meta's concrete, or a gallery
    /// entry), newest first. Refused with the reason for a backend that is not an image with a floating tag.
    public func versions(of name: String) throws -> VersionTags {
        let entry = try versionedEntry(name)
        let reference = try ImageReference.parse(entry.uri)
        guard let tag = reference.tag, let suffix = VersionTags.suffix(ofFloatingTag: tag) else {
            throw HangarError.configuration(
                "\(entry.name)'s image \(entry.uri) is not on a floating latest-/master- tag: there are no versioned builds to choose from")
        }
        let tags = try store.listTags(of: entry.uri)
        return VersionTags(uri: entry.uri, suffix: suffix, tags: VersionTags.matching(tags, suffix: suffix))
    }

    /// The gallery entry behind `name`: its installed build's, or the entry itself; an image entry only.
    func versionedEntry(_ name: String) throws -> GalleryEntry {
        _ = try BackendName.validate(name)
        var entryName = name
        if let row = try installed().get(name) {
            if row.isSystem { throw HangarError.configuration("\(name) is a system backend: it has no gallery builds") }
            entryName = UpgradeDecision.target(of: row)
        }
        let snapshot = gallery()
        guard var entry = snapshot.entries.findGalleryElement(entryName) else {
            throw HangarError.notFound("no gallery entry found for \"\(entryName)\" (hangar list --available shows the gallery)")
        }
        if entry.isMeta {
            guard let concrete = capability.resolvedConcrete(entry.capabilities),
                  let found = snapshot.entries.findByName(concrete) else {
                throw HangarError.notFound("meta \(entry.name) has no build for capability \"\(capability.value)\"")
            }
            entry = found
        }
        guard BackendURI.isRegistryImage(entry.uri) else {
            throw HangarError.configuration("\(entry.name) is installed from \(entry.uri), not from a registry image: it has no tags to choose from")
        }
        return entry
    }
}
