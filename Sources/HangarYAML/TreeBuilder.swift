import CLibYAML
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Turns libyaml events into a `YAMLNode` tree.
///
/// The children of every open collection sit on one shared scratch stack (one for sequence items, one
/// for mapping pairs); when a collection ends, its children are moved off the top into an array of
/// exactly the right size. So each child is appended once in O(1), each collection costs one
/// allocation, and no frame ever copies an array. Aliases share the anchored node (copy-on-write), and
/// the usual `<<: *anchor` merge shares the anchor's pairs too (`YAMLMapping`).
struct TreeBuilder {
    private enum Kind {
        case document, sequence, mapping
    }

    private struct Frame {
        let kind: Kind
        let mark: YAMLMark
        let anchor: String?
        /// `nodeCount` when the collection started, to know how many nodes an alias to it stands for.
        let startCount: Int
        /// Where this collection's children start on `items` or `pairs`.
        let childStart: Int
        /// Where this mapping's merges start on `merges`.
        let mergeStart: Int
        /// The key read in this mapping whose value has not arrived yet.
        var pendingKey: String?
        var pendingKeyMark = YAMLMark(line: 0, column: 0)
        var pendingKeyIsMerge = false

        /// The document level, below every collection: whatever is added to it becomes the root.
        static let document = Frame(kind: .document, mark: YAMLMark(line: 0, column: 0), anchor: nil,
                                    startCount: 0, childStart: 0, mergeStart: 0)
    }

    /// One mapping merged in by a `<<` key, to be inserted before the written pair at `position` (relative
    /// to the mapping's first pair). `<<: [*a, *b]` adds one per list item, in order, at the same position.
    private struct MergeSource {
        let position: Int
        let pairs: YAMLMapping
    }

    private struct Anchored {
        let node: YAMLNode
        /// Nodes the anchored subtree stands for, its own aliases expanded.
        let count: Int
    }

    private let limits: YAMLLimits
    /// The open collections, the document level at the bottom. A scratch stack so the per-event work reaches
    /// the innermost frame through a pointer: through an optional or an array element, the profile showed
    /// whole-frame copies (and their string retains) on every event.
    private let frames = ScratchStack<Frame>(capacity: 16)
    private let items = ScratchStack<YAMLNode>()
    private let pairs = ScratchStack<YAMLPair>()
    private var merges: [MergeSource] = []
    private var anchors: [String: Anchored] = [:]
    /// Nodes so far, counting every alias as a full copy of its target.
    private var nodeCount = 0
    private(set) var root: YAMLNode?

    init(limits: YAMLLimits) {
        self.limits = limits
        frames.append(.document)
    }

    /// Consumes one event; true once the first document (or the stream) has ended.
    mutating func handle(_ event: UnsafeMutablePointer<yaml_event_t>) throws(YAMLError) -> Bool {
        let start = event.pointee.start_mark
        let mark = YAMLMark(line: Int(start.line) + 1, column: Int(start.column) + 1)
        switch event.pointee.type {
        case YAML_SCALAR_EVENT:
            let data = event.pointee.data.scalar
            let value = String(decoding: UnsafeBufferPointer(start: data.value, count: data.length), as: UTF8.self)
            let scalar = YAMLScalar(value, tag: data.tag.map(Self.tag), style: Self.style(data.style), mark: mark)
            try count(1, at: mark)
            try add(.scalar(scalar), anchor: data.anchor.map { String(cString: $0) }, count: 1, at: mark)

        case YAML_SEQUENCE_START_EVENT:
            try open(isMapping: false, anchor: event.pointee.data.sequence_start.anchor, at: mark)

        case YAML_MAPPING_START_EVENT:
            try open(isMapping: true, anchor: event.pointee.data.mapping_start.anchor, at: mark)

        case YAML_SEQUENCE_END_EVENT, YAML_MAPPING_END_EVENT:
            try close()

        case YAML_ALIAS_EVENT:
            let name = event.pointee.data.alias.anchor.map { String(cString: $0) } ?? ""
            guard let target = anchors[name] else {
                throw YAMLError(.unknownAlias, at: mark, "unknown alias *\(name) (no anchor &\(name) before it)")
            }
            try count(target.count, at: mark)
            try add(target.node, anchor: nil, count: target.count, at: mark)

        case YAML_DOCUMENT_END_EVENT, YAML_STREAM_END_EVENT:
            return true

        default:  // STREAM_START, DOCUMENT_START, NO_EVENT
            break
        }
        return false
    }

    private static func style(_ style: yaml_scalar_style_t) -> YAMLScalarStyle {
        switch style {
        case YAML_SINGLE_QUOTED_SCALAR_STYLE: return .singleQuoted
        case YAML_DOUBLE_QUOTED_SCALAR_STYLE: return .doubleQuoted
        case YAML_LITERAL_SCALAR_STYLE: return .literal
        case YAML_FOLDED_SCALAR_STYLE: return .folded
        default: return .plain
        }
    }

    /// The common core-schema tags as shared constants: the real gallery tags ~1,000 keys `!!merge`, and a
    /// fresh 23-byte string for each would be a heap allocation apiece.
    private static func tag(_ cString: UnsafeMutablePointer<yaml_char_t>) -> String {
        let length = strlen(UnsafeRawPointer(cString).assumingMemoryBound(to: CChar.self))
        for (known, string) in knownTags
        where known.utf8CodeUnitCount == length && memcmp(known.utf8Start, cString, length) == 0 {
            return string
        }
        return String(cString: cString)
    }

    private static let knownTags: [(StaticString, String)] = [
        ("tag:yaml.org,2002:merge", YAMLScalar.mergeTag),
        ("tag:yaml.org,2002:str", YAMLScalar.strTag),
        ("tag:yaml.org,2002:null", YAMLScalar.nullTag),
    ]

    private mutating func count(_ nodes: Int, at mark: YAMLMark) throws(YAMLError) {
        nodeCount += nodes
        if nodeCount > limits.maxNodes {
            throw YAMLError(.limitExceeded, at: mark,
                            "the document expands to more than \(limits.maxNodes) nodes with its aliases copied out; refusing it (alias bomb?)")
        }
    }

    private mutating func open(isMapping: Bool, anchor: UnsafeMutablePointer<yaml_char_t>?, at mark: YAMLMark) throws(YAMLError) {
        if frames.count > limits.maxDepth {  // `frames` also holds the document level
            throw YAMLError(.limitExceeded, at: mark, "nesting is deeper than \(limits.maxDepth) levels")
        }
        try count(1, at: mark)
        frames.append(Frame(kind: isMapping ? .mapping : .sequence, mark: mark,
                            anchor: anchor.map { String(cString: $0) }, startCount: nodeCount - 1,
                            childStart: isMapping ? pairs.count : items.count, mergeStart: merges.count))
    }

    private mutating func close() throws(YAMLError) {
        let frame = frames.popLast()
        let node: YAMLNode
        if frame.kind == .mapping {
            if merges.count == frame.mergeStart {
                node = .mapping(YAMLMapping(pairs.popArray(from: frame.childStart)), mark: frame.mark)
            } else if let shared = sharedMerge(written: frame.childStart, merges: frame.mergeStart) {
                merges.removeLast()
                node = .mapping(shared, mark: frame.mark)
            } else {
                let resolved = resolve(written: frame.childStart, merges: frame.mergeStart)
                pairs.drop(from: frame.childStart)
                merges.removeLast(merges.count - frame.mergeStart)
                node = .mapping(YAMLMapping(resolved), mark: frame.mark)
            }
        } else {
            node = .sequence(items.popArray(from: frame.childStart), mark: frame.mark)
        }
        try add(node, anchor: frame.anchor, count: nodeCount - frame.startCount, at: frame.mark)
    }

    /// Attaches a finished node to the open collection (or makes it the root), recording its anchor.
    ///
    /// `node` is consumed and moved into place: with a borrowed parameter every scalar cost a retain for
    /// the copy plus a release of the original, which showed up in the profile.
    private mutating func add(_ node: consuming YAMLNode, anchor: String?, count: Int, at mark: YAMLMark) throws(YAMLError) {
        if let anchor { anchors[anchor] = Anchored(node: copy node, count: count) }
        let top = frames.last
        switch top.pointee.kind {
        case .document:
            root = node
            return
        case .sequence:
            items.append(node)
            return
        case .mapping:
            break
        }
        if let key = top.pointee.pendingKey.take() {
            if top.pointee.pendingKeyIsMerge {
                try merge(node, keyMark: top.pointee.pendingKeyMark, childStart: top.pointee.childStart)
            } else {
                pairs.append(YAMLPair(key, node, keyMark: top.pointee.pendingKeyMark))
            }
            return
        }
        guard case .scalar(let key) = node else {
            throw YAMLError(.nonScalarKey, at: mark, "mapping keys must be scalars, found \(node.kindDescription) as a key")
        }
        // The real gallery writes `!!merge <<: *anchor`; a plain `<<` is the same.
        top.pointee.pendingKeyIsMerge = key.tag == YAMLScalar.mergeTag
            || (key.tag == nil && key.style == .plain && sameKey(key.value, "<<"))
        top.pointee.pendingKey = key.value
        // The key's own position: for an alias used as a key, `key.mark` is where the anchor was.
        top.pointee.pendingKeyMark = mark
    }

    private mutating func merge(_ value: YAMLNode, keyMark: YAMLMark, childStart: Int) throws(YAMLError) {
        let position = pairs.count - childStart
        switch value {
        case .mapping(let source, _):
            merges.append(MergeSource(position: position, pairs: source))
        case .sequence(let list, _):
            // Checked before anything is recorded, so a bad item leaves no partial merge behind.
            for (index, item) in list.enumerated() {
                guard case .mapping = item else {
                    throw YAMLError(.invalidMerge, at: keyMark,
                                    "'<<' merge list item \(index + 1) is \(item.kindDescription), not a mapping")
                }
            }
            for item in list {
                if case .mapping(let source, _) = item { merges.append(MergeSource(position: position, pairs: source)) }
            }
        case .scalar:
            throw YAMLError(.invalidMerge, at: keyMark,
                            "'<<' merges \(value.kindDescription); it takes a mapping or a list of mappings")
        }
    }

    /// The common merge, one `<<: *anchor` written first, as a mapping that shares the anchor's pairs
    /// (see `YAMLMapping`); nil for any other shape. Takes the written pairs off the scratch stack.
    private func sharedMerge(written start: Int, merges mergeStart: Int) -> YAMLMapping? {
        guard merges.count - mergeStart == 1, merges[mergeStart].position == 0 else { return nil }
        let source = merges[mergeStart].pairs
        guard source.count <= 64 else { return nil }
        // A merged anchor merged again: flatten it once, here, rather than chaining shared mappings.
        let inherited = source.inherited.isEmpty ? source.written : Array(source)
        let written = pairs.slice(from: start)
        var hidden: UInt64 = 0
        inherited.withUnsafeBufferPointer { inheritedPairs in
            for index in inheritedPairs.indices
            where written.contains(where: { sameKey($0.key, inheritedPairs[index].key) }) {
                hidden |= 1 << UInt64(index)
            }
        }
        return YAMLMapping(inherited: inherited, hidden: hidden, written: pairs.popArray(from: start))
    }

    /// Applies the merges of the mapping being closed (any shape `sharedMerge` does not take): written keys
    /// win, then earlier sources over later ones; inherited pairs go where their `<<` was written.
    private func resolve(written start: Int, merges mergeStart: Int) -> [YAMLPair] {
        let written = pairs.slice(from: start)
        let sourceCount = merges.count - mergeStart
        var inheritedCount = 0
        for index in mergeStart..<merges.count { inheritedCount += merges[index].pairs.count }
        // Big merges look keys up in a set; gallery-sized ones (a dozen keys) compare directly, which is cheaper.
        var takenSet: Set<String>?
        if written.count * inheritedCount > 1_024 {
            takenSet = Set(written.lazy.map(\.key))
        }
        var result: [YAMLPair] = []
        result.reserveCapacity(written.count + inheritedCount)
        var next = mergeStart
        for index in 0...written.count {
            while next < merges.count, merges[next].position == index {
                for pair in merges[next].pairs {
                    let key = pair.key
                    if takenSet != nil {
                        guard takenSet!.insert(key).inserted else { continue }
                    } else {
                        if written.contains(where: { sameKey($0.key, key) }) { continue }
                        // Several sources: the first one to bring a key wins. With one source, its own
                        // repeated keys stay repeated, as in any mapping.
                        if sourceCount > 1, result.contains(where: { sameKey($0.key, key) }) { continue }
                    }
                    result.append(pair)
                }
                next += 1
            }
            if index < written.count { result.append(written[index]) }
        }
        return result
    }
}

/// Key equality with the length compared first: unequal keys of different length are the common case and
/// skip the out-of-line string comparison.
@inline(__always)
private func sameKey(_ a: String, _ b: String) -> Bool {
    a.utf8.count == b.utf8.count && a == b
}

/// A stack of values in one manually managed buffer, so a finished collection's children can be moved
/// (not copied, no retain/release) into their final array.
private final class ScratchStack<Element> {
    private var base: UnsafeMutablePointer<Element>
    private var capacity: Int
    private(set) var count = 0

    init(capacity: Int = 64) {
        base = .allocate(capacity: capacity)
        self.capacity = capacity
    }

    deinit {
        base.deinitialize(count: count)
        base.deallocate()
    }

    func append(_ element: consuming Element) {
        if count == capacity { grow() }
        (base + count).initialize(to: element)
        count += 1
    }

    private func grow() {
        let newCapacity = capacity * 2
        let newBase = UnsafeMutablePointer<Element>.allocate(capacity: newCapacity)
        newBase.moveInitialize(from: base, count: count)
        base.deallocate()
        base = newBase
        capacity = newCapacity
    }

    /// The top element, in place; valid until the stack next grows or shrinks.
    var last: UnsafeMutablePointer<Element> { base + (count - 1) }

    /// Moves the top element out.
    func popLast() -> Element {
        count -= 1
        return (base + count).move()
    }

    /// Moves the elements from `start` to the top into a new, exactly sized array.
    func popArray(from start: Int) -> [Element] {
        let n = count - start
        guard n > 0 else { return [] }
        let result = [Element](unsafeUninitializedCapacity: n) { buffer, initialized in
            buffer.baseAddress!.moveInitialize(from: base + start, count: n)
            initialized = n
        }
        count = start
        return result
    }

    /// The elements from `start` to the top, valid until the stack next changes.
    func slice(from start: Int) -> UnsafeBufferPointer<Element> {
        UnsafeBufferPointer(start: base + start, count: count - start)
    }

    /// Destroys the elements from `start` to the top.
    func drop(from start: Int) {
        (base + start).deinitialize(count: count - start)
        count = start
    }
}
