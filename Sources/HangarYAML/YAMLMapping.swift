/// The ordered pairs of a mapping, duplicates kept as written.
///
/// A mapping made by a single `<<: *anchor` merge written as its first key shares the anchor's pairs
/// instead of copying them: it stores the merged-in pairs, a mask of those its own keys override, and
/// its own pairs. Order: the inherited pairs (minus overridden ones) in their source order, then the
/// written ones. In the real gallery, a thousand entries inherit a dozen pairs each; copying them cost
/// more than parsing the rest of the file. Any other merge is resolved into plain pairs.
public struct YAMLMapping: RandomAccessCollection, Sendable, Equatable, ExpressibleByArrayLiteral {
    public typealias Index = Int
    public typealias Element = YAMLPair

    @usableFromInline let inherited: [YAMLPair]
    /// Bit `i` set: `inherited[i]` is overridden by a written key. Only used with at most 64 inherited pairs.
    @usableFromInline let hidden: UInt64
    @usableFromInline let written: [YAMLPair]
    @usableFromInline let inheritedCount: Int

    public init(_ pairs: [YAMLPair]) {
        self.init(inherited: [], hidden: 0, written: pairs)
    }

    public init(arrayLiteral pairs: YAMLPair...) {
        self.init(pairs)
    }

    /// `inherited` must have at most 64 pairs.
    init(inherited: [YAMLPair], hidden: UInt64, written: [YAMLPair]) {
        self.inherited = inherited
        self.hidden = hidden
        self.written = written
        inheritedCount = inherited.count - hidden.nonzeroBitCount
    }

    @inlinable public var startIndex: Int { 0 }
    @inlinable public var endIndex: Int { inheritedCount + written.count }

    @inlinable
    public subscript(position: Int) -> YAMLPair {
        guard position < inheritedCount else { return written[position - inheritedCount] }
        // Step over the overridden pairs at or before the wanted one (there are few: the keys an entry rewrites).
        var index = position
        var mask = hidden
        while mask != 0 {
            let bit = mask.trailingZeroBitCount
            if bit > index { break }
            index += 1
            mask &= mask - 1
        }
        return inherited[index]
    }

    /// Calls `body` with the pairs in place, in order, without copying them: the inherited run with its
    /// `hidden` mask (bit `i` set: skip element `i`), then the written run. For hot loops over many
    /// mappings, where copying each pair out costs a retain and release per string.
    @inlinable
    public func withUnsafeRuns<R, E: Error>(
        _ body: (_ inherited: UnsafeBufferPointer<YAMLPair>, _ hidden: UInt64,
                 _ written: UnsafeBufferPointer<YAMLPair>) throws(E) -> R
    ) throws(E) -> R {
        let result: Result<R, E> = inherited.withUnsafeBufferPointer { inheritedBuffer in
            written.withUnsafeBufferPointer { writtenBuffer in
                do throws(E) {
                    return .success(try body(inheritedBuffer, hidden, writtenBuffer))
                } catch {
                    return .failure(error)
                }
            }
        }
        return try result.get()
    }

    /// The value of the first pair with this key.
    public func first(key: String) -> YAMLNode? {
        withUnsafeRuns { inherited, hidden, written in
            for index in inherited.indices where hidden & (1 << UInt64(index)) == 0 && inherited[index].key == key {
                return inherited[index].value
            }
            for index in written.indices where written[index].key == key {
                return written[index].value
            }
            return nil
        }
    }

    /// Identifies storage shared between mappings (the same anchored mapping reached through aliases):
    /// equal identities mean equal contents while both are alive. Nil when there is nothing to share.
    public var storageIdentity: UnsafeRawPointer? {
        guard inherited.isEmpty else { return nil }
        return written.withUnsafeBufferPointer { $0.baseAddress.map(UnsafeRawPointer.init) }
    }

    public static func == (lhs: YAMLMapping, rhs: YAMLMapping) -> Bool {
        lhs.elementsEqual(rhs)
    }
}
