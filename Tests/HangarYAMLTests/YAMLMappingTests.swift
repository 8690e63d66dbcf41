import HangarYAML
import XCTest

/// Merged mappings that share their anchor's pairs must behave exactly like plain ones.
final class YAMLMappingTests: XCTestCase {
    private func parse(_ text: String) throws -> YAMLNode {
        try XCTUnwrap(try YAMLParser.parse(text))
    }

    func testSharedMergeIndexesLikeAnArray() throws {
        let doc = try parse("""
            - &base {a: 1, b: 2, c: 3, d: 4}
            - <<: *base
              b: written-b
              d: written-d
              e: 5
            """)
        let merged = try XCTUnwrap(doc.sequence?[1].mapping)
        let expected = ["a", "c", "b", "d", "e"]
        XCTAssertEqual(merged.count, expected.count)
        XCTAssertEqual(merged.indices.map { merged[$0].key }, expected)
        XCTAssertEqual(merged.map(\.key), expected)
        XCTAssertEqual(Array(merged.reversed()).map(\.key), expected.reversed())
        XCTAssertEqual(merged.first(key: "b")?.string, "written-b")
        XCTAssertEqual(merged.first(key: "c")?.string, "3")
        XCTAssertNil(merged.first(key: "zzz"))
        // Equal to the same pairs written out by hand.
        let flat = try parse("{a: 1, c: 3, b: written-b, d: written-d, e: 5}")
        XCTAssertEqual(doc.sequence?[1], flat)
    }

    func testUnsafeRunsSkipHiddenPairs() throws {
        let doc = try parse("- &base {a: 1, b: 2}\n- {<<: *base, a: x}\n")
        let merged = try XCTUnwrap(doc.sequence?[1].mapping)
        let keys = merged.withUnsafeRuns { inherited, hidden, written in
            inherited.indices.filter { hidden & (1 << UInt64($0)) == 0 }.map { inherited[$0].key } + written.map(\.key)
        }
        XCTAssertEqual(keys, ["b", "a"])
    }

    func testMergeOfAMergedAnchor() throws {
        let doc = try parse("""
            - &a {x: 1, y: 1}
            - &b
              <<: *a
              y: 2
            - <<: *b
              z: 3
            """)
        XCTAssertEqual(doc.sequence?[2].mapping?.map(\.key), ["x", "y", "z"])
        XCTAssertEqual(doc.sequence?[2]["y"]?.string, "2")
    }

    func testMergeWrittenAfterOtherKeysKeepsItsPlace() throws {
        let doc = try parse("- &base {a: 1, b: 2}\n- {first: 0, <<: *base, b: 3}\n")
        XCTAssertEqual(doc.sequence?[1].mapping?.map(\.key), ["first", "a", "b"])
        XCTAssertEqual(doc.sequence?[1]["b"]?.string, "3")
    }

    func testLargeMergeSourceFallsBackToPlainPairs() throws {
        let keys = (0..<100).map { "k\($0)" }
        let base = keys.map { "\($0): v" }.joined(separator: ", ")
        let doc = try parse("- &base {\(base)}\n- {<<: *base, k50: written}\n")
        let merged = try XCTUnwrap(doc.sequence?[1].mapping)
        XCTAssertEqual(merged.count, 100)
        XCTAssertEqual(merged.first(key: "k50")?.string, "written")
        XCTAssertEqual(merged.filter { $0.key == "k50" }.count, 1)
    }

    func testArrayLiteralAndEquality() {
        let mapping: YAMLMapping = [YAMLPair("a", .plain("1")), YAMLPair("b", .plain("2"))]
        XCTAssertEqual(mapping, YAMLMapping([YAMLPair("a", .plain("1")), YAMLPair("b", .plain("2"))]))
        XCTAssertNotEqual(mapping, YAMLMapping([YAMLPair("b", .plain("2")), YAMLPair("a", .plain("1"))]))
        XCTAssertEqual(YAMLNode.mapping(mapping, mark: YAMLMark(line: 1, column: 1)), .map(["a": .plain("1"), "b": .plain("2")]))
    }
}
