/// Why a JSON document was rejected, with the 1-based position of the offending character.
public struct JSONError: Error, CustomStringConvertible, Sendable, Equatable {
    /// 1-based line (lines end at `\n`).
    public let line: Int
    /// 1-based column, counted in Unicode scalars so it matches what an editor shows.
    public let column: Int
    /// What was wrong, without the position (e.g. `expected ',' or '}'`).
    public let reason: String

    public init(line: Int, column: Int, reason: String) {
        self.line = line
        self.column = column
        self.reason = reason
    }

    public var description: String { "invalid JSON at line \(line), column \(column): \(reason)" }
}

extension JSONValue {
    /// Parses one strict RFC 8259 document (a leading UTF-8 BOM is skipped).
    /// Unpaired `\u` surrogates decode to U+FFFD as Go's encoding/json does, so every file LocalAI
    /// accepts is accepted here; raw invalid UTF-8 is rejected.
    public static func parse(_ bytes: [UInt8], maxDepth: Int = 64, maxBytes: Int = 16 << 20) throws(JSONError) -> JSONValue {
        if bytes.count > maxBytes {
            throw JSONError(line: 1, column: 1,
                            reason: "document is \(bytes.count) bytes, larger than the \(maxBytes)-byte limit")
        }
        let result: Result<JSONValue, JSONError> = bytes.withUnsafeBufferPointer { buffer in
            var parser = JSONByteParser(buffer: buffer, maxDepth: maxDepth)
            do throws(JSONError) {
                return .success(try parser.parseDocument())
            } catch {
                return .failure(error)
            }
        }
        return try result.get()
    }

    /// Parses `text`'s UTF-8 bytes; see ``parse(_:maxDepth:maxBytes:)-([UInt8],_,_)``.
    public static func parse(_ text: String, maxDepth: Int = 64, maxBytes: Int = 16 << 20) throws(JSONError) -> JSONValue {
        try parse(Array(text.utf8), maxDepth: maxDepth, maxBytes: maxBytes)
    }

    /// Parses one document that must be an object and hands each member to `visit` in order, without building the
    /// object: the fast path for reading many small records (100,000 history lines). Same strictness as `parse`.
    static func visitObject(_ bytes: UnsafeBufferPointer<UInt8>, maxDepth: Int = 64,
                            _ visit: (String, JSONValue) -> Void) throws(JSONError) {
        var parser = JSONByteParser(buffer: bytes, maxDepth: maxDepth)
        try parser.visitTopLevelObject(visit)
    }
}

private enum ASCII {
    static let quote: UInt8 = 0x22
    static let backslash: UInt8 = 0x5C
    static let slash: UInt8 = 0x2F
    static let comma: UInt8 = 0x2C
    static let colon: UInt8 = 0x3A
    static let openBrace: UInt8 = 0x7B
    static let closeBrace: UInt8 = 0x7D
    static let openBracket: UInt8 = 0x5B
    static let closeBracket: UInt8 = 0x5D
    static let minus: UInt8 = 0x2D
    static let plus: UInt8 = 0x2B
    static let dot: UInt8 = 0x2E
    static let zero: UInt8 = 0x30
    static let nine: UInt8 = 0x39
    static let newline: UInt8 = 0x0A
}

/// Recursive descent over raw bytes: strings are sliced straight out of the buffer and only copied
/// into a scratch array when they contain escapes, which keeps listing 1,000 metadata files cheap.
private struct JSONByteParser {
    let buffer: UnsafeBufferPointer<UInt8>
    let end: Int
    let maxDepth: Int
    var index = 0
    var depth = 0
    var scratch: [UInt8] = []

    init(buffer: UnsafeBufferPointer<UInt8>, maxDepth: Int) {
        self.buffer = buffer
        self.end = buffer.count
        self.maxDepth = maxDepth
    }

    mutating func parseDocument() throws(JSONError) -> JSONValue {
        if end >= 3, buffer[0] == 0xEF, buffer[1] == 0xBB, buffer[2] == 0xBF { index = 3 }
        skipWhitespace()
        let value = try parseValue()
        skipWhitespace()
        if index < end {
            throw error(at: index, "unexpected \(describe(index)) after the top-level value")
        }
        return value
    }

    // MARK: Values

    mutating func parseValue() throws(JSONError) -> JSONValue {
        guard index < end else { throw error(at: index, "unexpected end of input, expected a value") }
        switch buffer[index] {
        case ASCII.openBrace: return try parseObject()
        case ASCII.openBracket: return try parseArray()
        case ASCII.quote: return .string(try parseString())
        case UInt8(ascii: "t"): try expectLiteral("true"); return .bool(true)
        case UInt8(ascii: "f"): try expectLiteral("false"); return .bool(false)
        case UInt8(ascii: "n"): try expectLiteral("null"); return .null
        case ASCII.minus, ASCII.zero...ASCII.nine: return .number(try parseNumber())
        default: throw error(at: index, "unexpected \(describe(index)), expected a value")
        }
    }

    mutating func enterContainer() throws(JSONError) {
        depth += 1
        if depth > maxDepth {
            throw error(at: index, "nesting deeper than \(maxDepth) levels")
        }
    }

    /// The top-level object's members, one at a time (see `JSONValue.visitObject`).
    mutating func visitTopLevelObject(_ visit: (String, JSONValue) -> Void) throws(JSONError) {
        skipWhitespace()
        guard index < end, buffer[index] == ASCII.openBrace else { throw unexpected("expected an object") }
        try enterContainer()
        index += 1
        skipWhitespace()
        if index < end, buffer[index] == ASCII.closeBrace {
            index += 1
        } else {
            while true {
                guard index < end, buffer[index] == ASCII.quote else { throw unexpected("expected a string key") }
                let key = try parseString()
                skipWhitespace()
                guard index < end, buffer[index] == ASCII.colon else { throw unexpected("expected ':' after object key") }
                index += 1
                skipWhitespace()
                visit(key, try parseValue())
                skipWhitespace()
                guard index < end else { throw unexpected("expected ',' or '}'") }
                if buffer[index] == ASCII.comma {
                    index += 1
                    skipWhitespace()
                    continue
                }
                guard buffer[index] == ASCII.closeBrace else { throw unexpected("expected ',' or '}'") }
                index += 1
                break
            }
        }
        depth -= 1
        skipWhitespace()
        if index < end { throw error(at: index, "unexpected \(describe(index)) after the top-level value") }
    }

    mutating func parseObject() throws(JSONError) -> JSONValue {
        try enterContainer()
        index += 1
        var members: [JSONObject.Member] = []
        skipWhitespace()
        if index < end, buffer[index] == ASCII.closeBrace {
            index += 1
            depth -= 1
            return .object(JSONObject(members))
        }
        while true {
            guard index < end, buffer[index] == ASCII.quote else {
                if index < end, buffer[index] == ASCII.closeBrace, !members.isEmpty {
                    throw error(at: index, "trailing comma before '}'")
                }
                throw unexpected("expected a string key")
            }
            let key = try parseString()
            skipWhitespace()
            guard index < end, buffer[index] == ASCII.colon else { throw unexpected("expected ':' after object key") }
            index += 1
            skipWhitespace()
            let value = try parseValue()
            members.append(JSONObject.Member(key: key, value: value))
            skipWhitespace()
            guard index < end else { throw unexpected("expected ',' or '}'") }
            if buffer[index] == ASCII.comma {
                index += 1
                skipWhitespace()
            } else if buffer[index] == ASCII.closeBrace {
                index += 1
                depth -= 1
                return .object(JSONObject(members))
            } else {
                throw unexpected("expected ',' or '}'")
            }
        }
    }

    mutating func parseArray() throws(JSONError) -> JSONValue {
        try enterContainer()
        index += 1
        var elements: [JSONValue] = []
        skipWhitespace()
        if index < end, buffer[index] == ASCII.closeBracket {
            index += 1
            depth -= 1
            return .array(elements)
        }
        while true {
            if index < end, buffer[index] == ASCII.closeBracket {
                throw error(at: index, "trailing comma before ']'")
            }
            elements.append(try parseValue())
            skipWhitespace()
            guard index < end else { throw unexpected("expected ',' or ']'") }
            if buffer[index] == ASCII.comma {
                index += 1
                skipWhitespace()
            } else if buffer[index] == ASCII.closeBracket {
                index += 1
                depth -= 1
                return .array(elements)
            } else {
                throw unexpected("expected ',' or ']'")
            }
        }
    }

    mutating func expectLiteral(_ literal: StaticString) throws(JSONError) {
        let start = index
        let count = literal.utf8CodeUnitCount
        let text = literal.utf8Start
        for offset in 0..<count {
            guard start + offset < end, buffer[start + offset] == text[offset] else {
                throw error(at: start, "invalid literal, expected '\(literal)'")
            }
        }
        index = start + count
    }

    /// Keeps the literal text (RFC grammar enforced) so `1.50` is written back as `1.50`.
    mutating func parseNumber() throws(JSONError) -> String {
        let start = index
        if buffer[index] == ASCII.minus { index += 1 }
        guard index < end, isDigit(buffer[index]) else { throw unexpected("expected a digit") }
        if buffer[index] == ASCII.zero {
            index += 1
        } else {
            while index < end, isDigit(buffer[index]) { index += 1 }
        }
        if index < end, buffer[index] == ASCII.dot {
            index += 1
            guard index < end, isDigit(buffer[index]) else { throw unexpected("expected a digit after '.'") }
            while index < end, isDigit(buffer[index]) { index += 1 }
        }
        if index < end, buffer[index] == UInt8(ascii: "e") || buffer[index] == UInt8(ascii: "E") {
            index += 1
            if index < end, buffer[index] == ASCII.plus || buffer[index] == ASCII.minus { index += 1 }
            guard index < end, isDigit(buffer[index]) else { throw unexpected("expected a digit in the exponent") }
            while index < end, isDigit(buffer[index]) { index += 1 }
        }
        return String(decoding: UnsafeBufferPointer(rebasing: buffer[start..<index]), as: UTF8.self)
    }

    // MARK: Strings

    mutating func parseString() throws(JSONError) -> String {
        let open = index
        var cursor = index + 1
        var segmentStart = cursor
        var escaped = false
        while true {
            guard cursor < end else { throw error(at: open, "unterminated string") }
            let byte = buffer[cursor]
            if byte == ASCII.quote { break }
            if byte == ASCII.backslash {
                if !escaped {
                    escaped = true
                    scratch.removeAll(keepingCapacity: true)
                }
                scratch.append(contentsOf: UnsafeBufferPointer(rebasing: buffer[segmentStart..<cursor]))
                cursor = try decodeEscape(at: cursor)
                segmentStart = cursor
            } else if byte < 0x20 {
                throw error(at: cursor, "control character \(hexByte(byte)) must be escaped in a string")
            } else if byte < 0x80 {
                cursor += 1
            } else {
                cursor = try validateUTF8Sequence(at: cursor)
            }
        }
        index = cursor + 1
        let tail = UnsafeBufferPointer(rebasing: buffer[segmentStart..<cursor])
        if !escaped { return String(decoding: tail, as: UTF8.self) }
        scratch.append(contentsOf: tail)
        return String(decoding: scratch, as: UTF8.self)
    }

    /// Appends the decoded escape at `position` (a backslash) to `scratch`; returns the index after it.
    mutating func decodeEscape(at position: Int) throws(JSONError) -> Int {
        guard position + 1 < end else { throw error(at: position, "unterminated string") }
        let code = buffer[position + 1]
        switch code {
        case ASCII.quote, ASCII.backslash, ASCII.slash: scratch.append(code)
        case UInt8(ascii: "b"): scratch.append(0x08)
        case UInt8(ascii: "f"): scratch.append(0x0C)
        case UInt8(ascii: "n"): scratch.append(0x0A)
        case UInt8(ascii: "r"): scratch.append(0x0D)
        case UInt8(ascii: "t"): scratch.append(0x09)
        case UInt8(ascii: "u"):
            let unit = try hex4(at: position + 2)
            var next = position + 6
            var scalar: UInt32
            if (0xD800...0xDBFF).contains(unit) {
                if next + 1 < end, buffer[next] == ASCII.backslash, buffer[next + 1] == UInt8(ascii: "u"),
                   case let low = try hex4(at: next + 2), (0xDC00...0xDFFF).contains(low) {
                    scalar = 0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00)
                    next += 6
                } else {
                    scalar = 0xFFFD
                }
            } else if (0xDC00...0xDFFF).contains(unit) {
                scalar = 0xFFFD
            } else {
                scalar = unit
            }
            appendUTF8(scalar)
            return next
        default:
            throw error(at: position, "invalid escape '\\\(describeByte(code))'")
        }
        return position + 2
    }

    func hex4(at position: Int) throws(JSONError) -> UInt32 {
        guard position + 4 <= end else { throw error(at: position - 2, "incomplete \\u escape") }
        var value: UInt32 = 0
        for offset in 0..<4 {
            let byte = buffer[position + offset]
            let digit: UInt8
            switch byte {
            case ASCII.zero...ASCII.nine: digit = byte - ASCII.zero
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
            default: throw error(at: position + offset, "invalid hex digit in \\u escape")
            }
            value = value << 4 | UInt32(digit)
        }
        return value
    }

    mutating func appendUTF8(_ scalar: UInt32) {
        switch scalar {
        case 0..<0x80:
            scratch.append(UInt8(scalar))
        case 0x80..<0x800:
            scratch.append(UInt8(0xC0 | scalar >> 6))
            scratch.append(UInt8(0x80 | scalar & 0x3F))
        case 0x800..<0x10000:
            scratch.append(UInt8(0xE0 | scalar >> 12))
            scratch.append(UInt8(0x80 | scalar >> 6 & 0x3F))
            scratch.append(UInt8(0x80 | scalar & 0x3F))
        default:
            scratch.append(UInt8(0xF0 | scalar >> 18))
            scratch.append(UInt8(0x80 | scalar >> 12 & 0x3F))
            scratch.append(UInt8(0x80 | scalar >> 6 & 0x3F))
            scratch.append(UInt8(0x80 | scalar & 0x3F))
        }
    }

    /// Checks one multi-byte sequence per the Unicode well-formed table (no overlongs, no surrogates,
    /// nothing above U+10FFFF) and returns the index after it.
    func validateUTF8Sequence(at position: Int) throws(JSONError) -> Int {
        let lead = buffer[position]
        let length: Int
        var secondRange: ClosedRange<UInt8> = 0x80...0xBF
        switch lead {
        case 0xC2...0xDF: length = 2
        case 0xE0: length = 3; secondRange = 0xA0...0xBF
        case 0xE1...0xEC, 0xEE...0xEF: length = 3
        case 0xED: length = 3; secondRange = 0x80...0x9F
        case 0xF0: length = 4; secondRange = 0x90...0xBF
        case 0xF1...0xF3: length = 4
        case 0xF4: length = 4; secondRange = 0x80...0x8F
        default: throw error(at: position, "invalid UTF-8 byte \(hexByte(lead))")
        }
        guard position + 1 < end, secondRange.contains(buffer[position + 1]) else {
            throw error(at: position, "invalid UTF-8 sequence starting with \(hexByte(lead))")
        }
        for offset in 2..<length {
            guard position + offset < end, buffer[position + offset] & 0xC0 == 0x80 else {
                throw error(at: position, "invalid UTF-8 sequence starting with \(hexByte(lead))")
            }
        }
        return position + length
    }

    // MARK: Helpers

    mutating func skipWhitespace() {
        while index < end {
            switch buffer[index] {
            case 0x20, 0x09, 0x0A, 0x0D: index += 1
            default: return
            }
        }
    }

    func isDigit(_ byte: UInt8) -> Bool { byte >= ASCII.zero && byte <= ASCII.nine }

    func unexpected(_ expectation: String) -> JSONError {
        if index >= end { return error(at: index, "unexpected end of input, \(expectation)") }
        return error(at: index, expectation)
    }

    func describe(_ position: Int) -> String {
        guard position < end else { return "end of input" }
        let byte = buffer[position]
        if byte >= 0x20 && byte < 0x7F { return "'\(describeByte(byte))'" }
        return "byte \(hexByte(byte))"
    }

    func describeByte(_ byte: UInt8) -> String {
        byte >= 0x20 && byte < 0x7F ? String(UnicodeScalar(byte)) : hexByte(byte)
    }

    func hexByte(_ byte: UInt8) -> String {
        let digits = Array("0123456789ABCDEF")
        return "0x\(digits[Int(byte >> 4)])\(digits[Int(byte & 0xF)])"
    }

    /// Line and column are only computed on failure, so the happy path never tracks them.
    func error(at position: Int, _ reason: String) -> JSONError {
        let target = min(position, end)
        var line = 1
        var column = 1
        // A BOM is invisible in editors, so it does not count as a column.
        var cursor = end >= 3 && buffer[0] == 0xEF && buffer[1] == 0xBB && buffer[2] == 0xBF ? min(3, target) : 0
        while cursor < target {
            let byte = buffer[cursor]
            if byte == ASCII.newline {
                line += 1
                column = 1
            } else if byte & 0xC0 != 0x80 {
                column += 1
            }
            cursor += 1
        }
        return JSONError(line: line, column: column, reason: reason)
    }
}
