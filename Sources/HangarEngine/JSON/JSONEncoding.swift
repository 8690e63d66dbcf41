extension JSONValue {
    /// Byte-for-byte what Go's `json.MarshalIndent(v, "", "  ")` writes (no trailing newline), so files
    /// hangar writes for LocalAI look exactly like the ones LocalAI writes itself.
    public func goIndented() -> String {
        String(decoding: goIndentedBytes(), as: UTF8.self)
    }

    /// ``goIndented()`` as UTF-8 bytes, for output written straight to a file descriptor without a String copy.
    public func goIndentedBytes() -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(256)
        GoJSONWriter.write(self, indent: 0, pretty: true, into: &out)
        return out
    }

    /// Go's `json.Marshal` output: the same escaping as ``goIndented()`` without whitespace (one JSON Lines record).
    public func compact() -> String {
        var out: [UInt8] = []
        out.reserveCapacity(128)
        GoJSONWriter.write(self, indent: 0, pretty: false, into: &out)
        return String(decoding: out, as: UTF8.self)
    }
}

/// Mirrors encoding/json's encoder (Go ≥ 1.22, HTML escaping on) followed by `json.Indent`.
extension JSONValue {
    /// Appends `text` as a JSON string, escaped as Go's encoding/json escapes it (for writers that stream records
    /// without building a `JSONValue` first).
    static func appendString(_ text: String, to out: inout [UInt8]) { GoJSONWriter.writeString(text, into: &out) }
}

private enum GoJSONWriter {
    static func write(_ value: JSONValue, indent: Int, pretty: Bool, into out: inout [UInt8]) {
        switch value {
        case .null:
            out.append(contentsOf: "null".utf8)
        case .bool(let flag):
            out.append(contentsOf: (flag ? "true" : "false").utf8)
        case .number(let text):
            // json.Number("") marshals as 0; anything else is written as read.
            out.append(contentsOf: text.isEmpty ? "0".utf8 : text.utf8)
        case .string(let text):
            writeString(text, into: &out)
        case .array(let elements):
            if elements.isEmpty {
                out.append(contentsOf: "[]".utf8)
                return
            }
            out.append(UInt8(ascii: "["))
            for (position, element) in elements.enumerated() {
                if position > 0 { out.append(UInt8(ascii: ",")) }
                if pretty { newline(indent + 1, into: &out) }
                write(element, indent: indent + 1, pretty: pretty, into: &out)
            }
            if pretty { newline(indent, into: &out) }
            out.append(UInt8(ascii: "]"))
        case .object(let object):
            if object.isEmpty {
                out.append(contentsOf: "{}".utf8)
                return
            }
            out.append(UInt8(ascii: "{"))
            for (position, member) in object.members.enumerated() {
                if position > 0 { out.append(UInt8(ascii: ",")) }
                if pretty { newline(indent + 1, into: &out) }
                writeString(member.key, into: &out)
                out.append(UInt8(ascii: ":"))
                if pretty { out.append(UInt8(ascii: " ")) }
                write(member.value, indent: indent + 1, pretty: pretty, into: &out)
            }
            if pretty { newline(indent, into: &out) }
            out.append(UInt8(ascii: "}"))
        }
    }

    static func newline(_ level: Int, into out: inout [UInt8]) {
        out.append(0x0A)
        for _ in 0..<(level * 2) { out.append(0x20) }
    }

    static func writeString(_ text: String, into out: inout [UInt8]) {
        var text = text
        text.withUTF8 { bytes in escape(bytes, into: &out) }
    }

    static let hexDigits: [UInt8] = Array("0123456789abcdef".utf8)

    /// Copies runs of safe bytes in bulk and escapes the rest like Go's `appendString(…, escapeHTML: true)`.
    static func escape(_ bytes: UnsafeBufferPointer<UInt8>, into out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        var runStart = 0
        var index = 0
        let count = bytes.count
        while index < count {
            let byte = bytes[index]
            if byte < 0x80 {
                if byte >= 0x20 && byte != 0x22 && byte != 0x5C && byte != 0x3C && byte != 0x3E && byte != 0x26 {
                    index += 1
                    continue
                }
                out.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[runStart..<index]))
                out.append(UInt8(ascii: "\\"))
                switch byte {
                case 0x22, 0x5C: out.append(byte)
                case 0x08: out.append(UInt8(ascii: "b"))
                case 0x0C: out.append(UInt8(ascii: "f"))
                case 0x0A: out.append(UInt8(ascii: "n"))
                case 0x0D: out.append(UInt8(ascii: "r"))
                case 0x09: out.append(UInt8(ascii: "t"))
                default:
                    out.append(contentsOf: [UInt8(ascii: "u"), UInt8(ascii: "0"), UInt8(ascii: "0"),
                                            hexDigits[Int(byte >> 4)], hexDigits[Int(byte & 0xF)]])
                }
                index += 1
                runStart = index
            } else if byte == 0xE2, index + 2 < count, bytes[index + 1] == 0x80, bytes[index + 2] & 0xFE == 0xA8 {
                // U+2028 LINE SEPARATOR / U+2029 PARAGRAPH SEPARATOR break JavaScript string literals.
                out.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[runStart..<index]))
                out.append(contentsOf: "\\u202".utf8)
                out.append(bytes[index + 2] == 0xA8 ? UInt8(ascii: "8") : UInt8(ascii: "9"))
                index += 3
                runStart = index
            } else {
                index += 1
            }
        }
        out.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[runStart..<count]))
        out.append(UInt8(ascii: "\""))
    }
}
