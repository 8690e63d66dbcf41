extension GalleryConfig {
    /// Shown in every gallery-list error so the user sees the expected shape.
    static let listExample = #"[{"name":"localai","url":"https://index.localai.io/backends"}]"#

    /// Parses a JSON gallery list (`LOCALAI_BACKEND_GALLERIES`, `--backend-galleries`) the way LocalAI
    /// does: an empty string is an empty list; field names match case-insensitively as in Go.
    /// `source` names where the text came from in errors (e.g. the variable name).
    public static func parseList(_ json: String, source: String = "backend gallery list") throws -> [GalleryConfig] {
        if json.allSatisfy({ $0 == " " || $0 == "\t" || $0 == "\n" || $0 == "\r" }) { return [] }
        let value: JSONValue
        do throws(JSONError) {
            value = try JSONValue.parse(json)
        } catch {
            throw HangarError.configuration(
                "\(source) is not valid JSON (line \(error.line), column \(error.column): \(error.reason)); "
                    + "expected a list like \(listExample)")
        }
        return try parseList(value, source: source)
    }

    /// Decodes an already-parsed gallery list (e.g. `backend_galleries` from runtime_settings.json).
    public static func parseList(_ value: JSONValue, source: String) throws -> [GalleryConfig] {
        func fail(_ problem: String) -> HangarError {
            .configuration("\(source): \(problem); expected a list like \(listExample)")
        }
        switch value {
        case .null:
            return []
        case .array(let elements):
            var galleries: [GalleryConfig] = []
            for (position, element) in elements.enumerated() {
                guard case .object(let object) = element else {
                    throw fail("element \(position + 1) is \(element.typeNameForErrors), not an object")
                }
                galleries.append(try decodeGallery(object, fail: { fail("element \(position + 1): \($0)") }))
            }
            return galleries
        default:
            throw fail("found \(value.typeNameForErrors), not a list")
        }
    }

    /// The list as Go marshals `[]config.Gallery`: `url`, `name` always; `mirrors`, `verification` only when set.
    public static func listJSON(_ list: [GalleryConfig]) -> JSONValue {
        .array(list.map(\.json))
    }

    /// One gallery object in Go's field order.
    public var json: JSONValue {
        var object = JSONObject()
        object["url"] = .string(url)
        object["name"] = .string(name)
        if !mirrors.isEmpty { object["mirrors"] = .array(mirrors.map(JSONValue.string)) }
        if let verification {
            // A non-nil Go pointer is emitted even when every field inside is empty.
            var policy = JSONObject()
            let fields: [(String, String?)] = [
                ("issuer", verification.issuer), ("issuer_regex", verification.issuerRegex),
                ("identity", verification.identity), ("identity_regex", verification.identityRegex),
                ("not_before", verification.notBefore),
            ]
            for (key, field) in fields {
                if let field, !field.isEmpty { policy[key] = .string(field) }
            }
            object["verification"] = .object(policy)
        }
        return .object(object)
    }

    private static func decodeGallery(_ object: JSONObject, fail: (String) -> HangarError) throws -> GalleryConfig {
        var gallery = GalleryConfig(name: "", url: "")
        for member in object.members {
            switch member.key.lowercased() {
            case "url": gallery.url = try goString(member, fail: fail)
            case "name": gallery.name = try goString(member, fail: fail)
            case "mirrors":
                switch member.value {
                case .null: gallery.mirrors = []
                case .array(let items):
                    gallery.mirrors = try items.map { item in
                        guard case .string(let text) = item else { throw fail("\"mirrors\" must be a list of strings") }
                        return text
                    }
                default: throw fail("\"mirrors\" must be a list of strings")
                }
            case "verification":
                switch member.value {
                case .null: gallery.verification = nil
                case .object(let policy): gallery.verification = try decodeVerification(policy, fail: fail)
                default: throw fail("\"verification\" must be an object")
                }
            default:
                continue
            }
        }
        return gallery
    }

    private static func decodeVerification(_ object: JSONObject, fail: (String) -> HangarError) throws -> GalleryVerification {
        var policy = GalleryVerification()
        // Empty strings become nil so a policy read back compares equal to the one written.
        func text(_ member: JSONObject.Member) throws -> String? {
            let value = try goString(member, fail: fail)
            return value.isEmpty ? nil : value
        }
        for member in object.members {
            switch member.key.lowercased() {
            case "issuer": policy.issuer = try text(member)
            case "issuer_regex": policy.issuerRegex = try text(member)
            case "identity": policy.identity = try text(member)
            case "identity_regex": policy.identityRegex = try text(member)
            case "not_before": policy.notBefore = try text(member)
            default: continue
            }
        }
        return policy
    }

    /// A Go string field: `null` leaves it empty, anything but a string is an error.
    private static func goString(_ member: JSONObject.Member, fail: (String) -> HangarError) throws -> String {
        switch member.value {
        case .null: return ""
        case .string(let text): return text
        default: throw fail("\"\(member.key)\" must be a string, found \(member.value.typeNameForErrors)")
        }
    }
}

extension JSONValue {
    /// `a string`, `a number`, ... for error messages.
    var typeNameForErrors: String {
        switch self {
        case .null: return "null"
        case .bool: return "a boolean"
        case .number: return "a number"
        case .string: return "a string"
        case .array: return "a list"
        case .object: return "an object"
        }
    }
}
