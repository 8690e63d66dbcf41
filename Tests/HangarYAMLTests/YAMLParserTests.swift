import HangarYAML
import XCTest

final class YAMLParserTests: XCTestCase {
    private func parse(_ text: String, limits: YAMLLimits = .default,
                       file: StaticString = #filePath, line: UInt = #line) throws -> YAMLNode {
        let node = try YAMLParser.parse(text, limits: limits)
        return try XCTUnwrap(node, "no document", file: file, line: line)
    }

    /// The error `text` fails with; fails the test when it parses.
    private func error(_ text: String, limits: YAMLLimits = .default,
                       file: StaticString = #filePath, line: UInt = #line) -> YAMLError? {
        do {
            _ = try YAMLParser.parse(text, limits: limits)
            XCTFail("expected a YAML error", file: file, line: line)
            return nil
        } catch {
            return error
        }
    }

    // MARK: scalars

    func testScalarsKeepStyleTagAndNullness() throws {
        let doc = try parse("""
            a: plain
            b: "double"
            c: 'single'
            n1: null
            n2: ~
            n3:
            n4: NULL
            s1: "null"
            s2: '~'
            t: !!str null
            z: !!null ""
            num: 1.0
            yes: true
            """)
        XCTAssertEqual(doc["a"]?.scalar, YAMLScalar("plain"))
        XCTAssertEqual(doc["b"]?.scalar?.style, .doubleQuoted)
        XCTAssertEqual(doc["c"]?.scalar?.style, .singleQuoted)
        XCTAssertEqual(doc["c"]?.string, "single")
        for key in ["n1", "n2", "n3", "n4", "z"] {
            XCTAssertEqual(doc[key]?.isNull, true, key)
            XCTAssertNil(doc[key]?.string, key)
        }
        XCTAssertEqual(doc["s1"]?.string, "null")
        XCTAssertEqual(doc["s2"]?.string, "~")
        XCTAssertEqual(doc["t"]?.scalar?.tag, "tag:yaml.org,2002:str")
        XCTAssertEqual(doc["t"]?.string, "null")
        XCTAssertEqual(doc["num"]?.string, "1.0")
        XCTAssertEqual(doc["yes"]?.string, "true")
        XCTAssertNil(doc["missing"])
    }

    func testBlockScalarsAndComments() throws {
        let doc = try parse("""
            --- # document start with a comment
            ## section header
            lit: |
              line one
              line two
            fold: >
              folded
              text
            keep: |+
              kept

            strip: |-
              stripped
            unicode: "caf\\u00e9 ✓"
            """)
        XCTAssertEqual(doc["lit"]?.string, "line one\nline two\n")
        XCTAssertEqual(doc["lit"]?.scalar?.style, .literal)
        XCTAssertEqual(doc["fold"]?.string, "folded text\n")
        XCTAssertEqual(doc["fold"]?.scalar?.style, .folded)
        XCTAssertEqual(doc["keep"]?.string, "kept\n\n")
        XCTAssertEqual(doc["strip"]?.string, "stripped")
        XCTAssertEqual(doc["unicode"]?.string, "café ✓")
    }

    func testEmptyInputHasNoDocumentAndBareSeparatorIsNull() throws {
        XCTAssertNil(try YAMLParser.parse(""))
        XCTAssertNil(try YAMLParser.parse("# only a comment\n"))
        XCTAssertEqual(try YAMLParser.parse("---\n")?.isNull, true)
    }

    func testOnlyTheFirstDocumentIsRead() throws {
        XCTAssertEqual(try parse("a: 1\n---\nb: [unclosed\n"), .map(["a": .plain("1")]))
    }

    func testByteCollectionsOtherThanArrays() throws {
        let bytes = Array("- x\n".utf8)
        XCTAssertEqual(try YAMLParser.parse(bytes[...]), .list([.plain("x")]))
        XCTAssertEqual(try YAMLParser.parse(bytes.reversed().reversed()), .list([.plain("x")]))
    }

    // MARK: collections

    func testFlowAndBlockCollectionsAreEqual() throws {
        let block = try parse("""
            - name: a
              tags:
                - x
                - y
            - plain
            - []
            - {}
            """)
        let flow = try parse(#"[{name: a, tags: [x, "y"]}, plain, [], {}]"#)
        XCTAssertNotEqual(block, flow, "quoted y differs in style")
        let expected = YAMLNode.list([
            .map(["name": .plain("a"), "tags": .list([.plain("x"), .plain("y")])]),
            .plain("plain"), .list([]), .map([:]),
        ])
        XCTAssertEqual(block, expected)
        XCTAssertEqual(flow.sequence?.count, 4)
        XCTAssertEqual(flow.sequence?.first?["tags"]?.sequence?.map(\.string), ["x", "y"])
    }

    func testMappingKeepsOrderAndDuplicatesFirstWins() throws {
        let doc = try parse("b: 1\na: 2\nb: 3\n")
        XCTAssertEqual(doc.mapping?.map(\.key), ["b", "a", "b"])
        XCTAssertEqual(doc["b"]?.string, "1")
    }

    func testMarksAreOneBased() throws {
        let doc = try parse("top:\n  - first\n  - key: value\n")
        let list = try XCTUnwrap(doc["top"]?.sequence)
        XCTAssertEqual(list[0].mark, YAMLMark(line: 2, column: 5))
        XCTAssertEqual(list[1].mark, YAMLMark(line: 3, column: 5))
        XCTAssertEqual(list[1].mapping?.first?.keyMark, YAMLMark(line: 3, column: 5))
        XCTAssertEqual(list[1]["key"]?.mark, YAMLMark(line: 3, column: 10))
    }

    // MARK: anchors, aliases, merges

    func testAnchorsAndAliases() throws {
        let doc = try parse("""
            base: &b {x: 1, y: [a, b]}
            copy: *b
            name: &n hello
            again: *n
            """)
        XCTAssertEqual(doc["copy"], doc["base"])
        XCTAssertEqual(doc["again"]?.string, "hello")
    }

    func testMergeKeyBothSpellings() throws {
        let doc = try parse("""
            - &base
              name: base
              alias: shared
              tags: [t]
            - <<: *base
              name: plain-merge
            - !!merge <<: *base
              name: tagged-merge
            """)
        let items = try XCTUnwrap(doc.sequence)
        for (item, name) in zip(items.dropFirst(), ["plain-merge", "tagged-merge"]) {
            XCTAssertEqual(item["name"]?.string, name)
            XCTAssertEqual(item["alias"]?.string, "shared")
            XCTAssertEqual(item["tags"], .list([.plain("t")]))
            XCTAssertNil(item["<<"])
            XCTAssertEqual(item.mapping?.count, 3)
        }
        // Inherited pairs take the place of `<<`, in their source order, minus overridden keys.
        XCTAssertEqual(items[1].mapping?.map(\.key), ["alias", "tags", "name"])
    }

    func testQuotedMergeKeyIsAnOrdinaryKey() throws {
        let doc = try parse("- &a {x: 1}\n- {\"<<\": *a}\n")
        XCTAssertEqual(doc.sequence?[1].mapping?.map(\.key), ["<<"])
    }

    func testListOfMapsMergeEarlierWins() throws {
        let doc = try parse("""
            - &a {x: from-a, only-a: 1}
            - &b {x: from-b, y: from-b, only-b: 2}
            - &c {y: from-c, z: from-c}
            - <<: [*a, *b, *c]
              z: written
            """)
        let merged = try XCTUnwrap(doc.sequence?[3])
        XCTAssertEqual(merged["x"]?.string, "from-a")
        XCTAssertEqual(merged["y"]?.string, "from-b")
        XCTAssertEqual(merged["z"]?.string, "written")
        XCTAssertEqual(merged.mapping?.map(\.key), ["x", "only-a", "y", "only-b", "z"])
    }

    func testShallowOverrideReplacesWholeCapabilitiesMap() throws {
        // Spec §1.3: a development meta replaces the inherited capabilities map instead of merging into it.
        let doc = try parse("""
            - &llamacpp
              name: "llama-cpp"
              alias: "llama-cpp"
              capabilities:
                default: "cpu-llama-cpp"
                nvidia: "cuda12-llama-cpp"
                metal: "metal-llama-cpp"
            - !!merge <<: *llamacpp
              name: "cpu-llama-cpp"
              uri: "quay.io/go-skynet/local-ai-backends:latest-cpu-llama-cpp"
            - !!merge <<: *llamacpp
              name: "llama-cpp-development"
              capabilities:
                default: "cpu-llama-cpp-development"
                nvidia: "cuda12-llama-cpp-development"
            """)
        let items = try XCTUnwrap(doc.sequence)
        XCTAssertEqual(items[1]["capabilities"], items[0]["capabilities"])
        XCTAssertEqual(items[1]["alias"]?.string, "llama-cpp")
        XCTAssertEqual(items[2]["capabilities"], .map([
            "default": .scalar(YAMLScalar("cpu-llama-cpp-development", style: .doubleQuoted)),
            "nvidia": .scalar(YAMLScalar("cuda12-llama-cpp-development", style: .doubleQuoted)),
        ]))
        XCTAssertNil(items[2]["capabilities"]?["metal"])
        XCTAssertEqual(items[2].mapping?.filter { $0.key == "capabilities" }.count, 1)
    }

    func testMergeChainsThroughMergedAnchors() throws {
        let doc = try parse("""
            - &a {x: 1}
            - &b
              <<: *a
              y: 2
            - <<: *b
              z: 3
            """)
        XCTAssertEqual(doc.sequence?[2], .map(["x": .plain("1"), "y": .plain("2"), "z": .plain("3")]))
    }

    // MARK: errors

    func testMalformedInputNamesLineAndColumn() {
        let err = error("- a\n- [b\n")
        XCTAssertEqual(err?.kind, .syntax)
        XCTAssertEqual(err?.line, 3)
        XCTAssertEqual(err?.column, 1)
        XCTAssertTrue(err?.description.hasPrefix("YAML error at line 3, column 1: did not find expected ',' or ']'") ?? false,
                      err?.description ?? "")
    }

    func testBadIndentationNamesLine() {
        let err = error("a: 1\n b: 2\nc: 3\n")
        XCTAssertEqual(err?.kind, .syntax)
        XCTAssertEqual(err?.line, 2)
    }

    func testTabIndentationIsRejected() {
        let err = error("key:\n\tvalue: 1\n")
        XCTAssertEqual(err?.kind, .syntax)
        XCTAssertEqual(err?.line, 2)
        XCTAssertEqual(err?.column, 1)
        XCTAssertTrue(err?.message.contains("cannot start any token") ?? false, err?.description ?? "")
    }

    func testInvalidUTF8NamesLine() {
        let bytes: [UInt8] = Array("a: 1\nb: ".utf8) + [0xFF, 0x0A]
        do {
            _ = try YAMLParser.parse(bytes)
            XCTFail("expected an error")
        } catch {
            XCTAssertEqual(error.kind, .syntax)
            XCTAssertEqual(error.line, 2)
            XCTAssertEqual(error.column, 4)
        }
    }

    func testUnknownAliasNamesAliasAndLine() {
        let err = error("a: 1\nb: *missing\n")
        XCTAssertEqual(err?.kind, .unknownAlias)
        XCTAssertEqual(err?.line, 2)
        XCTAssertEqual(err?.column, 4)
        XCTAssertTrue(err?.description.contains("*missing") ?? false, err?.description ?? "")
    }

    func testNonScalarKeysAreRejected() {
        let complex = error("? [a, b]\n: value\n")
        XCTAssertEqual(complex?.kind, .nonScalarKey)
        XCTAssertEqual(complex?.line, 1)
        XCTAssertEqual(complex?.column, 3)
        let flow = error("x: 1\n{a: 1}: value\n")
        XCTAssertEqual(flow?.kind, .nonScalarKey)
        XCTAssertEqual(flow?.line, 2)
        let alias = error("- &m {a: 1}\n- {*m : v}\n")
        XCTAssertEqual(alias?.kind, .nonScalarKey)
        XCTAssertEqual(alias?.line, 2)
    }

    func testMergeOfNonMappingIsRejected() {
        let scalar = error("a: &s text\nb:\n  <<: *s\n")
        XCTAssertEqual(scalar?.kind, .invalidMerge)
        XCTAssertEqual(scalar?.line, 3)
        XCTAssertEqual(scalar?.column, 3)
        let list = error("- &m {a: 1}\n- <<: [*m, plain]\n")
        XCTAssertEqual(list?.kind, .invalidMerge)
        XCTAssertEqual(list?.line, 2)
        XCTAssertTrue(list?.message.contains("item 2") ?? false, list?.description ?? "")
    }

    // MARK: guards

    func testBillionLaughsFailsFast() {
        var text = "a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]\n"
        for level in 1...9 {
            let refs = Array(repeating: "*a\(level - 1)", count: 10).joined(separator: ", ")
            text += "a\(level): &a\(level) [\(refs)]\n"
        }
        let clock = ContinuousClock()
        var err: YAMLError?
        let elapsed = clock.measure { err = error(text) }
        XCTAssertEqual(err?.kind, .limitExceeded)
        XCTAssertTrue(err?.message.contains("alias") ?? false, err?.description ?? "")
        XCTAssertLessThan(elapsed, .milliseconds(500))
    }

    func testNodeLimitCountsAliasesAsCopies() throws {
        let text = "a: &a [1, 2, 3]\nb: [*a, *a, *a]\n"
        XCTAssertNoThrow(try YAMLParser.parse(text, limits: YAMLLimits(maxNodes: 20)))
        XCTAssertEqual(error(text, limits: YAMLLimits(maxNodes: 19))?.kind, .limitExceeded)
    }

    func testDeepNestingIsRejected() {
        let deep = String(repeating: "[", count: 300) + String(repeating: "]", count: 300)
        let err = error(deep)
        XCTAssertEqual(err?.kind, .limitExceeded)
        XCTAssertEqual(err?.line, 1)
        XCTAssertEqual(err?.column, 257)
        XCTAssertTrue(err?.message.contains("256") ?? false, err?.description ?? "")
        let ok = String(repeating: "[", count: 256) + String(repeating: "]", count: 256)
        XCTAssertNoThrow(try YAMLParser.parse(ok))
    }

    func testInputSizeCap() {
        let text = "key: " + String(repeating: "x", count: 100) + "\n"
        let err = error(text, limits: YAMLLimits(maxInputBytes: 64))
        XCTAssertEqual(err?.kind, .limitExceeded)
        XCTAssertTrue(err?.description.contains("64 bytes") ?? false, err?.description ?? "")
        XCTAssertNoThrow(try YAMLParser.parse(text, limits: YAMLLimits(maxInputBytes: text.utf8.count)))
    }
}
