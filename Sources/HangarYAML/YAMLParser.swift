import CLibYAML

/// Parses YAML text with libyaml's event API into a `YAMLNode` tree, resolving anchors, aliases and `<<` merge keys.
///
/// Merge semantics (YAML merge-key spec, as gopkg.in/yaml.v3 applies them): keys written in the mapping
/// win over merged keys and replace them whole (shallow); with `<<: [*a, *b]` earlier maps win over later
/// ones. Order of the result: the inherited pairs are inserted where the `<<` key was written, in the
/// order of their source mapping, skipping keys already taken; the written pairs keep their positions.
/// Only the first document is read.
public enum YAMLParser {
    /// Parses the first document of `text`; nil when the input holds no document at all.
    public static func parse(_ text: String, limits: YAMLLimits = .default) throws(YAMLError) -> YAMLNode? {
        try parse(text.utf8, limits: limits)
    }

    /// Parses the first document of UTF-8 (or BOM-marked UTF-16) bytes; nil when the input holds no document at all.
    public static func parse<Bytes: Collection<UInt8>>(_ bytes: Bytes, limits: YAMLLimits = .default) throws(YAMLError) -> YAMLNode? {
        let count = bytes.count
        guard count <= limits.maxInputBytes else {
            throw YAMLError(.limitExceeded, line: 0, column: 0,
                            message: "input is \(count) bytes, more than the limit of \(limits.maxInputBytes) bytes")
        }
        guard count > 0 else { return nil }
        // Result instead of throwing through the closures: they are `rethrows`, which would erase the error type.
        if let result = bytes.withContiguousStorageIfAvailable({ parseBuffer($0, limits: limits) }) {
            return try result.get()
        }
        return try Array(bytes).withUnsafeBufferPointer { parseBuffer($0, limits: limits) }.get()
    }

    /// Runs libyaml over `buffer`, which must stay alive (and unmoved) for the whole parse.
    private static func parseBuffer(_ buffer: UnsafeBufferPointer<UInt8>, limits: YAMLLimits) -> Result<YAMLNode?, YAMLError> {
        guard let base = buffer.baseAddress else { return .success(nil) }
        // Heap-allocated: libyaml keeps pointers into the parser between calls, and Swift does not
        // promise a stable address for `&local` across separate calls.
        let parser = UnsafeMutablePointer<yaml_parser_t>.allocate(capacity: 1)
        let event = UnsafeMutablePointer<yaml_event_t>.allocate(capacity: 1)
        defer {
            event.deallocate()
            parser.deallocate()
        }
        guard yaml_parser_initialize(parser) == 1 else {
            return .failure(YAMLError(.syntax, line: 0, column: 0, message: "libyaml could not allocate a parser"))
        }
        defer { yaml_parser_delete(parser) }
        yaml_parser_set_input_string(parser, base, buffer.count)

        var builder = TreeBuilder(limits: limits)
        while true {
            guard yaml_parser_parse(parser, event) == 1 else {
                return .failure(syntaxError(parser, buffer: buffer))
            }
            let done: Bool
            do throws(YAMLError) {
                done = try builder.handle(event)
            } catch {
                yaml_event_delete(event)
                return .failure(error)
            }
            yaml_event_delete(event)
            if done { break }
        }
        return .success(builder.root)
    }

    /// Turns libyaml's error state into a `YAMLError` with a 1-based position and its context, if any.
    private static func syntaxError(_ parser: UnsafeMutablePointer<yaml_parser_t>, buffer: UnsafeBufferPointer<UInt8>) -> YAMLError {
        let p = parser.pointee
        var message = p.problem.map { String(cString: $0) } ?? "libyaml failed without a message"
        if p.error == YAML_READER_ERROR {
            // Reader errors (bad encoding) carry a byte offset instead of a mark.
            if p.problem_value != -1 {
                message += " (byte 0x\(String(UInt8(truncatingIfNeeded: p.problem_value), radix: 16, uppercase: true)))"
            }
            let (line, column) = position(ofByte: p.problem_offset, in: buffer)
            return YAMLError(.syntax, line: line, column: column, message: message)
        }
        if p.error == YAML_MEMORY_ERROR {
            return YAMLError(.syntax, line: 0, column: 0, message: "libyaml ran out of memory")
        }
        if let context = p.context {
            message += " (\(String(cString: context)) at line \(p.context_mark.line + 1), column \(p.context_mark.column + 1))"
        }
        return YAMLError(.syntax, line: Int(p.problem_mark.line) + 1, column: Int(p.problem_mark.column) + 1, message: message)
    }

    private static func position(ofByte offset: Int, in buffer: UnsafeBufferPointer<UInt8>) -> (line: Int, column: Int) {
        var line = 1
        var lineStart = 0
        for i in 0..<min(offset, buffer.count) where buffer[i] == UInt8(ascii: "\n") {
            line += 1
            lineStart = i + 1
        }
        return (line, offset - lineStart + 1)
    }
}
