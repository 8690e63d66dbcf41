/// The `metadata.json` LocalAI writes into every installed backend directory (spec §3.2).
/// Field order here is the order LocalAI writes; every field is omitted when empty.
public struct BackendMetadata: Sendable, Equatable {
    public var alias: String = ""
    public var metaBackendFor: String = ""
    public var name: String = ""
    public var galleryURL: String = ""
    public var installedAt: String = ""
    public var version: String = ""
    public var uri: String = ""
    public var digest: String = ""

    public init(alias: String = "", metaBackendFor: String = "", name: String = "", galleryURL: String = "",
                installedAt: String = "", version: String = "", uri: String = "", digest: String = "") {
        self.alias = alias
        self.metaBackendFor = metaBackendFor
        self.name = name
        self.galleryURL = galleryURL
        self.installedAt = installedAt
        self.version = version
        self.uri = uri
        self.digest = digest
    }
}

extension BackendMetadata {
    /// Go field tags in LocalAI's declaration order, which is the order `json.MarshalIndent` writes them.
    private static var fieldOrder: [(key: String, path: WritableKeyPath<BackendMetadata, String>)] { [
        ("alias", \.alias), ("meta_backend_for", \.metaBackendFor), ("name", \.name),
        ("gallery_url", \.galleryURL), ("installed_at", \.installedAt), ("version", \.version),
        ("uri", \.uri), ("digest", \.digest),
    ] }

    /// The file's bytes exactly as LocalAI writes them (two-space indent, omitempty, no trailing newline).
    public func encoded() -> String {
        var object = JSONObject()
        for field in Self.fieldOrder where !self[keyPath: field.path].isEmpty {
            object[field.key] = .string(self[keyPath: field.path])
        }
        return JSONValue.object(object).goIndented()
    }

    /// The JSON object form, used for `--json` output.
    public var jsonObject: JSONObject {
        var object = JSONObject()
        for field in Self.fieldOrder where !self[keyPath: field.path].isEmpty {
            object[field.key] = .string(self[keyPath: field.path])
        }
        return object
    }

    /// Decodes a `metadata.json` body. Like Go, unknown keys are ignored and a key that is not a string is an error.
    public static func decode(_ bytes: [UInt8]) throws -> BackendMetadata {
        let value: JSONValue
        do {
            value = try JSONValue.parse(bytes, maxDepth: 16, maxBytes: 1 << 20)
        } catch {
            throw HangarError.operation("\(error)")
        }
        guard case .object(let object) = value else {
            throw HangarError.operation("expected a JSON object")
        }
        var metadata = BackendMetadata()
        for field in fieldOrder {
            switch object[field.key] {
            case nil, .null?: continue
            case .string(let s)?: metadata[keyPath: field.path] = s
            default: throw HangarError.operation("\"\(field.key)\" must be a string")
            }
        }
        return metadata
    }
}

/// RFC 3339 timestamps in local time, as Go's `time.Now().Format(time.RFC3339)` prints them.
public enum RFC3339 {
    /// `2026-08-22T22:44:03+02:00`, or `...Z` when the local zone is UTC.
    public static func localNow() -> String { format(Int(time(nil))) }

    /// Formats `seconds` since the epoch in the process's local time zone.
    public static func format(_ seconds: Int) -> String {
        var t = time_t(seconds)
        var tm = tm()
        localtime_r(&t, &tm)
        func pad(_ n: Int, _ width: Int = 2) -> String {
            let digits = String(n)
            return String(repeating: "0", count: max(0, width - digits.count)) + digits
        }
        let date = "\(pad(Int(tm.tm_year) + 1900, 4))-\(pad(Int(tm.tm_mon) + 1))-\(pad(Int(tm.tm_mday)))"
            + "T\(pad(Int(tm.tm_hour))):\(pad(Int(tm.tm_min))):\(pad(Int(tm.tm_sec)))"
        let offset = Int(tm.tm_gmtoff)
        if offset == 0 { return date + "Z" }
        let minutes = abs(offset) / 60
        return date + (offset < 0 ? "-" : "+") + "\(pad(minutes / 60)):\(pad(minutes % 60))"
    }
}
