/// A YAML failure with a 1-based position: `YAML error at line 3, column 1: did not find expected ',' or ']'`.
public struct YAMLError: Error, CustomStringConvertible, Sendable, Equatable {
    /// What went wrong, so callers and tests can tell syntax from structure from guard failures.
    public enum Kind: Sendable, Equatable {
        /// libyaml rejected the text.
        case syntax
        /// `*name` without a preceding `&name`.
        case unknownAlias
        /// A sequence or mapping used as a mapping key.
        case nonScalarKey
        /// `<<` merging something other than a mapping or a list of mappings.
        case invalidMerge
        /// A `YAMLLimits` guard tripped.
        case limitExceeded
    }

    public let kind: Kind
    /// 1-based; 0 when the error has no position (e.g. input too large).
    public let line: Int
    /// 1-based; 0 when the error has no position.
    public let column: Int
    /// The problem alone, without the position prefix.
    public let message: String

    public init(_ kind: Kind, line: Int, column: Int, message: String) {
        self.kind = kind
        self.line = line
        self.column = column
        self.message = message
    }

    init(_ kind: Kind, at mark: YAMLMark, _ message: String) {
        self.init(kind, line: mark.line, column: mark.column, message: message)
    }

    public var description: String {
        line > 0 ? "YAML error at line \(line), column \(column): \(message)" : "YAML error: \(message)"
    }
}

/// Guards against hostile or broken input; the defaults are far above any real gallery.
public struct YAMLLimits: Sendable, Equatable {
    /// Nodes counted as if every alias were copied out ("billion laughs" trips this without any copying).
    public var maxNodes: Int
    /// Nesting of sequences/mappings; also keeps the recursive `==` and deinit of the tree off the stack limit.
    public var maxDepth: Int
    public var maxInputBytes: Int

    public init(maxNodes: Int = 5_000_000, maxDepth: Int = 256, maxInputBytes: Int = 64 << 20) {
        self.maxNodes = maxNodes
        self.maxDepth = maxDepth
        self.maxInputBytes = maxInputBytes
    }

    public static let `default` = YAMLLimits()
}
