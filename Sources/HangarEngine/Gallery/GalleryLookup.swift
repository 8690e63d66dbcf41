/// LocalAI's gallery lookups and listings (spec §1.1), on a list of entries in gallery-then-file order.
public extension Array where Element == GalleryEntry {
    /// `FindGalleryElement`: `name` or `gallery@name`, case-insensitive, path separators as `__`, first match wins.
    func findGalleryElement(_ name: String) -> GalleryEntry? {
        let wanted = name.replacingOccurrences(of: "/", with: "__").lowercased()
        if wanted.contains("@") {
            return first { $0.id.lowercased() == wanted }
        }
        return first { $0.name.lowercased() == wanted }
    }

    /// `FindByName` (meta → concrete): case-insensitive, first match.
    func findByName(_ name: String) -> GalleryEntry? {
        let wanted = name.lowercased()
        return first { $0.name.lowercased() == wanted }
    }

    /// `Search`: fuzzy on name and gallery name, substring on name, description, gallery name and joined tags.
    func search(_ term: String) -> [GalleryEntry] {
        let t = term.lowercased()
        return filter { e in
            fuzzyMatch(t, e.name) || fuzzyMatch(t, e.gallery.name)
                || e.name.lowercased().contains(t) || e.description.lowercased().contains(t)
                || e.gallery.name.lowercased().contains(t) || e.tags.joined(separator: ",").lowercased().contains(t)
        }
    }

    /// `FilterByTag`: entries having a tag equal to `tag`, case-insensitive.
    func filterByTag(_ tag: String) -> [GalleryEntry] {
        let t = tag.lowercased()
        return filter { $0.tags.contains { $0.lowercased() == t } }
    }
}

/// lithammer/fuzzysearch `Match`: every character of `source` appears in `target` in order (case-sensitive,
/// so callers lower-case the term as LocalAI does).
func fuzzyMatch(_ source: String, _ target: String) -> Bool {
    var it = target.unicodeScalars.makeIterator()
    outer: for c in source.unicodeScalars {
        while let t = it.next() { if t == c { continue outer } }
        return false
    }
    return true
}

/// `FindByName` over many lookups (listing every meta's resolution): the first entry per lower-cased name
/// among the entries that pass `include` (e.g. the capability filter), without copying them.
public struct GalleryNameIndex: Sendable {
    private var first: [String: Int] = [:]
    private let entries: [GalleryEntry]

    public init(_ entries: [GalleryEntry], where include: (GalleryEntry) -> Bool = { _ in true }) {
        self.entries = entries
        first.reserveCapacity(entries.count)
        for i in entries.indices where include(entries[i]) {
            let key = entries[i].name.lowercased()
            if first[key] == nil { first[key] = i }
        }
    }

    /// Same answer as `filtered.findByName(name)`, in constant time.
    public func findByName(_ name: String) -> GalleryEntry? { first[name.lowercased()].map { entries[$0] } }
}
