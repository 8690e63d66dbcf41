/// A 1-based position in the YAML input, kept on nodes so later decoding errors can name a line.
public struct YAMLMark: Sendable, Equatable, Hashable, CustomStringConvertible {
    // UInt32 keeps nodes small; a 64 MiB input cannot exceed it.
    private let storedLine: UInt32
    private let storedColumn: UInt32

    /// 1-based line.
    public var line: Int { Int(storedLine) }
    /// 1-based column (counted in characters by libyaml).
    public var column: Int { Int(storedColumn) }

    public init(line: Int, column: Int) {
        storedLine = UInt32(clamping: line)
        storedColumn = UInt32(clamping: column)
    }

    public var description: String { "line \(line), column \(column)" }
}

/// How a scalar was written; a plain `null` is a null, a quoted `"null"` is the string.
public enum YAMLScalarStyle: Sendable, Equatable, Hashable {
    case plain
    case singleQuoted
    case doubleQuoted
    /// `|` block scalar.
    case literal
    /// `>` block scalar.
    case folded
}

/// A scalar exactly as libyaml reported it: text, explicit tag (resolved, e.g. `tag:yaml.org,2002:str`) and style.
public struct YAMLScalar: Sendable, Equatable, Hashable {
    public var value: String
    public var tag: String?
    public var style: YAMLScalarStyle
    /// Where the scalar starts; ignored by `==`.
    public var mark: YAMLMark

    public init(_ value: String, tag: String? = nil, style: YAMLScalarStyle = .plain,
                mark: YAMLMark = YAMLMark(line: 0, column: 0)) {
        self.value = value
        self.tag = tag
        self.style = style
        self.mark = mark
    }

    public static let nullTag = "tag:yaml.org,2002:null"
    public static let mergeTag = "tag:yaml.org,2002:merge"
    public static let strTag = "tag:yaml.org,2002:str"

    /// YAML 1.2 core-schema null: an untagged plain `~`, `null`, `Null`, `NULL` or empty scalar, or an explicit `!!null`.
    @inlinable
    public var isNull: Bool {
        if let tag { return tag == Self.nullTag }
        guard style == .plain else { return false }
        // By length first: decoders ask this of every scalar, and most are neither 0, 1 nor 4 bytes long.
        switch value.utf8.count {
        case 0: return true
        case 1: return value == "~"
        case 4: return value == "null" || value == "Null" || value == "NULL"
        default: return false
        }
    }

    // Structural equality: the same text, tag and style wherever it was written.
    public static func == (lhs: YAMLScalar, rhs: YAMLScalar) -> Bool {
        lhs.value == rhs.value && lhs.tag == rhs.tag && lhs.style == rhs.style
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(value)
        hasher.combine(tag)
        hasher.combine(style)
    }
}

/// One `key: value` entry of a mapping. Keys are always scalars (the parser rejects others).
public struct YAMLPair: Sendable, Equatable {
    public var key: String
    public var value: YAMLNode
    /// Where the key was written (for merged pairs: where it was written in the merged-in mapping); ignored by `==`.
    public var keyMark: YAMLMark

    public init(_ key: String, _ value: YAMLNode, keyMark: YAMLMark = YAMLMark(line: 0, column: 0)) {
        self.key = key
        self.value = value
        self.keyMark = keyMark
    }

    public static func == (lhs: YAMLPair, rhs: YAMLPair) -> Bool {
        lhs.key == rhs.key && lhs.value == rhs.value
    }
}

/// A parsed YAML node with anchors, aliases and merge keys already resolved.
///
/// Not `indirect`: the recursion goes through arrays, so a boxed payload would only add one
/// heap allocation per node. `==` compares structure and ignores marks.
public enum YAMLNode: Sendable, Equatable {
    case scalar(YAMLScalar)
    case sequence([YAMLNode], mark: YAMLMark)
    /// Ordered pairs, duplicates kept as written.
    case mapping(YAMLMapping, mark: YAMLMark)

    /// Where the node starts in the input (for an alias: where its anchored node was written).
    public var mark: YAMLMark {
        switch self {
        case .scalar(let s): return s.mark
        case .sequence(_, let mark), .mapping(_, let mark): return mark
        }
    }

    /// The value of the first pair with this key, if this is a mapping.
    public subscript(key: String) -> YAMLNode? {
        guard case .mapping(let pairs, _) = self else { return nil }
        return pairs.first(key: key)
    }

    /// Scalar text; nil for a null scalar, a sequence or a mapping.
    public var string: String? {
        guard case .scalar(let s) = self, !s.isNull else { return nil }
        return s.value
    }

    /// The scalar itself (including nulls), nil for collections.
    public var scalar: YAMLScalar? {
        guard case .scalar(let s) = self else { return nil }
        return s
    }

    public var sequence: [YAMLNode]? {
        guard case .sequence(let items, _) = self else { return nil }
        return items
    }

    public var mapping: YAMLMapping? {
        guard case .mapping(let pairs, _) = self else { return nil }
        return pairs
    }

    public var isNull: Bool {
        guard case .scalar(let s) = self else { return false }
        return s.isNull
    }

    /// "a scalar", "a list" or "a mapping", for error messages.
    public var kindDescription: String {
        switch self {
        case .scalar(let s): return s.isNull ? "null" : "a scalar"
        case .sequence: return "a list"
        case .mapping: return "a mapping"
        }
    }

    public static func == (lhs: YAMLNode, rhs: YAMLNode) -> Bool {
        switch (lhs, rhs) {
        case (.scalar(let a), .scalar(let b)): return a == b
        case (.sequence(let a, _), .sequence(let b, _)): return a == b
        case (.mapping(let a, _), .mapping(let b, _)): return a == b
        default: return false
        }
    }
}

extension YAMLNode {
    /// A plain scalar, for building expected trees in tests and callers.
    public static func plain(_ value: String) -> YAMLNode { .scalar(YAMLScalar(value)) }
    /// A sequence without a meaningful mark.
    public static func list(_ items: [YAMLNode]) -> YAMLNode { .sequence(items, mark: YAMLMark(line: 0, column: 0)) }
    /// A mapping without meaningful marks.
    public static func map(_ pairs: KeyValuePairs<String, YAMLNode>) -> YAMLNode {
        .mapping(YAMLMapping(pairs.map { YAMLPair($0.key, $0.value) }), mark: YAMLMark(line: 0, column: 0))
    }
}
