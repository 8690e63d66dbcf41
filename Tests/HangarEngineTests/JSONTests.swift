import XCTest
@testable import HangarEngine

final class JSONTests: XCTestCase {
    private func parse(_ text: String, maxDepth: Int = 64) throws -> JSONValue {
        try JSONValue.parse(text, maxDepth: maxDepth)
    }

    private func parseError(_ text: String, file: StaticString = #filePath, line: UInt = #line) -> JSONError? {
        do {
            _ = try JSONValue.parse(text)
            XCTFail("expected a parse error for \(text.debugDescription)", file: file, line: line)
            return nil
        } catch {
            return error
        }
    }

    // MARK: Round trips and layout

    func testMetadataFileRoundTripsByteForByte() throws {
        // Exactly what LocalAI's json.MarshalIndent writes for a BackendMetadata.
        let text = """
        {
          "alias": "llama-cpp",
          "name": "cpu-llama-cpp",
          "gallery_url": "https://index.localai.io/backends",
          "installed_at": "2026-08-22T22:44:03+02:00",
          "uri": "quay.io/go-skynet/local-ai-backends:latest-cpu-llama-cpp",
          "digest": "sha256:0123abcd"
        }
        """
        let value = try parse(text)
        XCTAssertEqual(value.goIndented(), text)
        XCTAssertEqual(value.objectValue?.keys, ["alias", "name", "gallery_url", "installed_at", "uri", "digest"])
        XCTAssertEqual(try parse(value.compact()), value)
    }

    func testIndentLayoutMatchesGo() throws {
        let value = try parse(#"{"b":[1,{"x":null,"y":[]},[]],"a":{},"c":true,"d":[{}]}"#)
        let expected = """
        {
          "b": [
            1,
            {
              "x": null,
              "y": []
            },
            []
          ],
          "a": {},
          "c": true,
          "d": [
            {}
          ]
        }
        """
        XCTAssertEqual(value.goIndented(), expected)
        XCTAssertFalse(value.goIndented().hasSuffix("\n"))
        XCTAssertEqual(value.compact(), #"{"b":[1,{"x":null,"y":[]},[]],"a":{},"c":true,"d":[{}]}"#)
        XCTAssertEqual(JSONValue.object(JSONObject()).goIndented(), "{}")
        XCTAssertEqual(JSONValue.array([]).goIndented(), "[]")
        XCTAssertEqual(JSONValue.string("x").goIndented(), #""x""#)
    }

    func testKeyOrderPreservedAndSettingKeepsPosition() throws {
        var object = try XCTUnwrap(parse(#"{"z":1,"a":2,"m":3}"#).objectValue)
        XCTAssertEqual(object.keys, ["z", "a", "m"])
        object["a"] = .bool(false)
        object["new"] = .null
        object["z"] = nil
        XCTAssertEqual(JSONValue.object(object).compact(), #"{"a":false,"m":3,"new":null}"#)
    }

    func testNumbersKeepTheirLiteralText() throws {
        let literals = ["1.50", "-0", "0", "1e10", "-2E-3", "2.5e+7", "12345678901234567890123", "0.000"]
        for literal in literals {
            let value = try parse("[\(literal)]")
            XCTAssertEqual(value, .array([.number(literal)]))
            XCTAssertEqual(value.compact(), "[\(literal)]")
        }
        XCTAssertEqual(JSONValue.number("").compact(), "0", "json.Number(\"\") marshals as 0")
    }

    func testDuplicateKeysLastWinsOnRead() throws {
        let value = try parse(#"{"a":1,"b":2,"a":3}"#)
        XCTAssertEqual(value["a"], .number("3"))
        XCTAssertEqual(value.objectValue?.members.count, 3)
    }

    // MARK: String escapes

    func testGoHTMLEscapingAndLineSeparators() throws {
        let value = try parse(#"{"a":"<x>&\u2028"}"#)
        XCTAssertEqual(value.goIndented(), "{\n  \"a\": \"\\u003cx\\u003e\\u0026\\u2028\"\n}")
        XCTAssertEqual(JSONValue.string("\u{2029}").compact(), #""\u2029""#)
    }

    func testGoControlCharacterEscapes() {
        // Go ≥ 1.22 writes \b and \f as short escapes; other controls as lower-case \u00XX.
        let text = "\u{00}\u{01}\u{08}\u{0C}\n\r\t\u{0B}\u{1F}\"\\/\u{7F}"
        XCTAssertEqual(JSONValue.string(text).compact(), #""\u0000\u0001\b\f\n\r\t\u000b\u001f\"\\/"# + "\u{7F}\"")
    }

    func testNonASCIIWrittenLiterally() throws {
        let text = "é 日本 🎉 \u{2027}"
        XCTAssertEqual(JSONValue.string(text).compact(), "\"\(text)\"")
        XCTAssertEqual(try parse(JSONValue.string(text).compact()), .string(text))
    }

    func testEscapesDecode() throws {
        let value = try parse(#"["\"\\\/\b\f\n\r\t", "\u00e9\u65E5", "\ud83d\ude00", "a\ud800b", "\udc00"]"#)
        XCTAssertEqual(value, .array([
            .string("\"\\/\u{08}\u{0C}\n\r\t"), .string("é日"), .string("😀"),
            .string("a\u{FFFD}b"), .string("\u{FFFD}"),
        ]))
    }

    func testEscapedStringsRoundTrip() throws {
        let original = JSONValue.object(JSONObject([
            "k<\"ey\">": .string("line\nbreak\ttab\u{01} & \u{2028} 😀"),
        ]))
        XCTAssertEqual(try parse(original.goIndented()), original)
        XCTAssertEqual(try parse(original.compact()), original)
    }

    func testByteOrderMarkSkipped() throws {
        let bytes: [UInt8] = [0xEF, 0xBB, 0xBF] + Array(#"{"a":1}"#.utf8)
        XCTAssertEqual(try JSONValue.parse(bytes)["a"], .number("1"))
    }

    // MARK: Errors

    func testErrorReportsLineAndColumn() {
        let error = parseError("{\n  \"a\": 1,\n  \"b\" 2\n}")
        XCTAssertEqual(error?.line, 3)
        XCTAssertEqual(error?.column, 7)
        XCTAssertEqual(error?.description, "invalid JSON at line 3, column 7: expected ':' after object key")

        let missingComma = parseError("{\n  \"a\": 1\n  \"b\": 2\n}")
        XCTAssertEqual(missingComma?.description, "invalid JSON at line 3, column 3: expected ',' or '}'")
    }

    func testColumnsCountCharactersNotBytes() {
        let error = parseError(#"{"é日": x}"#)
        XCTAssertEqual(error?.line, 1)
        XCTAssertEqual(error?.column, 8)
    }

    func testStrictGrammarRejections() {
        let cases: [(String, String)] = [
            ("", "unexpected end of input, expected a value"),
            ("   ", "unexpected end of input, expected a value"),
            (#"{"a":1,}"#, "trailing comma before '}'"),
            ("[1,2,]", "trailing comma before ']'"),
            ("[1 2]", "expected ',' or ']'"),
            ("{\"a\":1} // c", "unexpected '/' after the top-level value"),
            ("/* c */ {}", "unexpected '/', expected a value"),
            ("{} {}", "unexpected '{' after the top-level value"),
            ("01", "unexpected '1' after the top-level value"),
            ("1.", "unexpected end of input, expected a digit after '.'"),
            ("-", "unexpected end of input, expected a digit"),
            ("1e", "unexpected end of input, expected a digit in the exponent"),
            (".5", "unexpected '.', expected a value"),
            ("+1", "unexpected '+', expected a value"),
            ("NaN", "unexpected 'N', expected a value"),
            ("tru", "invalid literal, expected 'true'"),
            ("nul", "invalid literal, expected 'null'"),
            ("{a:1}", "expected a string key"),
            ("['a']", "unexpected ''', expected a value"),
            (#"["abc"#, "unterminated string"),
            (#"["\x"]"#, #"invalid escape '\x'"#),
            (#"["\u12"]"#, "invalid hex digit in \\u escape"),
            ("[\"a\tb\"]", "control character 0x09 must be escaped in a string"),
            ("{\"a\":1", "unexpected end of input, expected ',' or '}'"),
        ]
        for (text, reason) in cases {
            XCTAssertEqual(parseError(text)?.reason, reason, "for \(text.debugDescription)")
        }
    }

    func testInvalidUTF8Rejected() {
        let documents: [[UInt8]] = [
            [0x22, 0xC3, 0x28, 0x22],             // truncated 2-byte sequence
            [0x22, 0xC0, 0xAF, 0x22],             // overlong '/'
            [0x22, 0xED, 0xA0, 0x80, 0x22],       // UTF-8-encoded surrogate
            [0x22, 0xF4, 0x90, 0x80, 0x80, 0x22], // above U+10FFFF
            [0x22, 0xFF, 0x22],
            [0x22, 0xE6, 0x97, 0x22],             // cut short by the closing quote
        ]
        for bytes in documents {
            XCTAssertThrowsError(try JSONValue.parse(bytes), "\(bytes)") { error in
                XCTAssertTrue((error as? JSONError)?.reason.contains("invalid UTF-8") == true, "\(error)")
            }
        }
        XCTAssertEqual(try JSONValue.parse([0x22, 0xE6, 0x97, 0xA5, 0x22]), .string("日"))
    }

    func testDepthCap() throws {
        let depth64 = String(repeating: "[", count: 64) + String(repeating: "]", count: 64)
        XCTAssertNoThrow(try parse(depth64))
        let depth65 = String(repeating: "[", count: 65) + String(repeating: "]", count: 65)
        XCTAssertEqual(parseError(depth65)?.reason, "nesting deeper than 64 levels")
        XCTAssertThrowsError(try parse(#"{"a":{"b":{}}}"#, maxDepth: 2))
        XCTAssertNoThrow(try parse(#"{"a":{"b":1}}"#, maxDepth: 2))
    }

    func testSizeCap() {
        XCTAssertThrowsError(try JSONValue.parse(Array("[1,2,3]".utf8), maxBytes: 4)) { error in
            XCTAssertTrue((error as? JSONError)?.reason.contains("4-byte limit") == true)
        }
    }

    func testParsesAThousandMetadataFilesQuickly() throws {
        let document = Array("""
        {
          "alias": "llama-cpp",
          "name": "cuda13-llama-cpp",
          "gallery_url": "https://index.localai.io/backends",
          "installed_at": "2026-08-22T22:44:03+02:00",
          "uri": "quay.io/go-skynet/local-ai-backends:latest-gpu-nvidia-cuda-13-llama-cpp",
          "digest": "sha256:9f2c1e0b3d4a5f60718293a4b5c6d7e8f9012345678901234567890abcdef12"
        }
        """.utf8)
        let start = ContinuousClock.now
        for _ in 0..<1_000 {
            _ = try JSONValue.parse(document)
        }
        XCTAssertLessThan(ContinuousClock.now - start, .seconds(2))
    }
}
