import Foundation

/// LocalAI's API answers as hangar's types (spec §5). Every field is type-checked: a wrong type is one error naming
/// the endpoint and the field, never a crash or a silently empty listing.
enum LocalAIDecoding {
    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    static func fail(_ endpoint: String, _ what: String) -> Failure {
        Failure(description: "\(endpoint) answered an unexpected shape: \(what)")
    }

    static func string(_ o: JSONObject, _ key: String, _ endpoint: String, required: Bool = false) throws -> String {
        switch o[key] {
        case nil, .null?:
            if required { throw fail(endpoint, "\"\(key)\" is missing") }
            return ""
        case .string(let s)?: return s
        default: throw fail(endpoint, "\"\(key)\" is not a string")
        }
    }

    static func bool(_ o: JSONObject, _ key: String, _ endpoint: String) throws -> Bool {
        switch o[key] {
        case nil, .null?: return false
        case .bool(let b)?: return b
        default: throw fail(endpoint, "\"\(key)\" is not true or false")
        }
    }

    static func number(_ o: JSONObject, _ key: String, _ endpoint: String) throws -> Double? {
        switch o[key] {
        case nil, .null?: return nil
        case .number(let text)?:
            guard let value = Double(text), value.isFinite else { throw fail(endpoint, "\"\(key)\" is not a usable number") }
            return value
        default: throw fail(endpoint, "\"\(key)\" is not a number")
        }
    }

    /// `GET /backends` (§5.1): `SystemBackend` rows with Go's capitalised keys, in random order.
    static func installed(_ value: JSONValue, server: String) throws -> InstalledBackends {
        let endpoint = "GET /backends"
        guard case .array(let items) = value else { throw fail(endpoint, "not a JSON array") }
        var rows: [String: InstalledBackend] = [:]
        for item in items {
            guard case .object(let o) = item else { throw fail(endpoint, "a row is not an object") }
            let name = try string(o, "Name", endpoint, required: true)
            guard (try? BackendName.validate(name)) != nil else { throw fail(endpoint, "row name \(name.debugDescription) is not a backend name") }
            let runFile = try string(o, "RunFile", endpoint)
            var metadata: BackendMetadata?
            switch o["Metadata"] {
            case nil, .null?: metadata = nil
            case .object(let m)?:
                do {
                    metadata = try BackendMetadata.decode(Array(JSONValue.object(m).compact().utf8))
                } catch {
                    throw fail(endpoint, "Metadata of \(name): \(error)")
                }
            default: throw fail(endpoint, "Metadata of \(name) is not an object")
            }
            let directory = runFile.hasSuffix("/run.sh") ? String(runFile.dropLast("/run.sh".count)) : server + "/" + name
            var row = InstalledBackend(name: name, runFile: runFile, isMeta: try bool(o, "IsMeta", endpoint),
                                       isSystem: try bool(o, "IsSystem", endpoint), metadata: metadata, broken: nil,
                                       directory: directory)
            row.nodes = try rowNodes(o["nodes"], of: name)
            rows[name] = row
        }
        return InstalledBackends(rows)
    }

    /// `GET /backends/available` (§5.2): the gallery entries the server can install.
    static func gallery(_ value: JSONValue) throws -> [GalleryEntry] {
        let endpoint = "GET /backends/available"
        guard case .array(let items) = value else { throw fail(endpoint, "not a JSON array") }
        return try items.map { item in
            guard case .object(let o) = item else { throw fail(endpoint, "an entry is not an object") }
            var galleryConfig = GalleryConfig(name: "", url: "")
            if case .object(let g)? = o["gallery"] {
                galleryConfig = GalleryConfig(name: try string(g, "name", endpoint), url: try string(g, "url", endpoint))
            }
            var entry = GalleryEntry(name: try string(o, "name", endpoint, required: true), gallery: galleryConfig)
            entry.description = try string(o, "description", endpoint)
            entry.license = try string(o, "license", endpoint)
            entry.icon = try string(o, "icon", endpoint)
            entry.uri = try string(o, "uri", endpoint)
            entry.version = try string(o, "version", endpoint)
            entry.alias = try string(o, "alias", endpoint)
            entry.sha256 = try string(o, "sha256", endpoint)
            entry.tags = try strings(o, "tags", endpoint)
            entry.urls = try strings(o, "urls", endpoint)
            entry.mirrors = try strings(o, "mirrors", endpoint)
            switch o["capabilities"] {
            case nil, .null?: break
            case .object(let map)?:
                entry.capabilities = try map.members.map { member in
                    guard let concrete = member.value.stringValue else { throw fail(endpoint, "capabilities of \(entry.name) are not strings") }
                    return CapabilityMapping(capability: member.key, concrete: concrete)
                }
            default: throw fail(endpoint, "capabilities of \(entry.name) is not an object")
            }
            return entry
        }
    }

    static func strings(_ o: JSONObject, _ key: String, _ endpoint: String) throws -> [String] {
        switch o[key] {
        case nil, .null?: return []
        case .array(let items)?:
            return try items.map { item in
                guard let s = item.stringValue else { throw fail(endpoint, "\"\(key)\" holds a non-string") }
                return s
            }
        default: throw fail(endpoint, "\"\(key)\" is not a list")
        }
    }

    /// `GET /backends/upgrades` (§5.6): an object keyed by backend name.
    static func upgrades(_ value: JSONValue) throws -> [String: UpgradeInfo] {
        let endpoint = "GET /backends/upgrades"
        guard case .object(let map) = value else { throw fail(endpoint, "not a JSON object") }
        var result: [String: UpgradeInfo] = [:]
        for member in map.members {
            guard case .object(let o) = member.value else { throw fail(endpoint, "the entry of \(member.key) is not an object") }
            var info = UpgradeInfo(backendName: try string(o, "backend_name", endpoint).isEmpty ? member.key : try string(o, "backend_name", endpoint),
                                   installedVersion: try string(o, "installed_version", endpoint),
                                   availableVersion: try string(o, "available_version", endpoint),
                                   installedDigest: try string(o, "installed_digest", endpoint),
                                   availableDigest: try string(o, "available_digest", endpoint))
            // Distributed mode (§5.6): checked, then kept exactly as the server sent it.
            if let drift = o["node_drift"], drift != .null {
                _ = try nodeDrift(drift, of: member.key)
                info.nodeDrift = drift
            }
            result[member.key] = info
        }
        return result
    }

    /// `BackendResponse` (§5.4): the job id (the poll URL is built from it, never taken from `status_url`, §2.1).
    static func jobID(_ value: JSONValue, endpoint: String) throws -> String {
        guard case .object(let o) = value else { throw fail(endpoint, "not a JSON object") }
        let id = try string(o, "id", endpoint, required: true)
        // Used in a URL path: a UUID's characters only.
        guard !id.isEmpty, id.count <= 64, id.allSatisfy({ $0.isASCII && ($0.isHexDigit || $0 == "-") }) else {
            throw fail(endpoint, "job id \(id.prefix(70).debugDescription) is not a UUID")
        }
        return id
    }

    /// `OpStatus` (§5.5) as far as hangar needs it.
    struct JobStatus: Equatable {
        var processed: Bool
        var cancelled: Bool
        var message: String
        var error: String?
        var queued: Bool
        var progress: Double
        var fileName: String
        var currentBytes: Int64?
        var totalBytes: Int64?
        /// Distributed jobs' per-node breakdown (§5.5 `nodes[]`).
        var nodes: [NodeProgress] = []
    }

    static func jobStatus(_ value: JSONValue) throws -> JobStatus {
        let endpoint = "GET /backends/jobs"
        guard case .object(let o) = value else { throw fail(endpoint, "not a JSON object") }
        let error = try string(o, "error", endpoint)
        let message = try string(o, "message", endpoint)
        var status = JobStatus(processed: try bool(o, "processed", endpoint), cancelled: try bool(o, "cancelled", endpoint),
                               message: message, error: error.isEmpty ? nil : error,
                               queued: try string(o, "phase", endpoint) == "queued" || message == "queued",
                               progress: min(100, max(0, try number(o, "progress", endpoint) ?? 0)),
                               fileName: try string(o, "file_name", endpoint))
        func bytes(_ key: String, _ human: String) throws -> Int64? {
            if let n = try number(o, key, endpoint), n >= 0, n < 1e18 { return Int64(n) }
            return TextFormat.parseBytes(try string(o, human, endpoint).replacingOccurrences(of: " ", with: ""))
        }
        status.currentBytes = try bytes("current_bytes", "downloaded_size")
        status.totalBytes = try bytes("total_bytes", "file_size")
        status.nodes = try nodeProgress(o["nodes"])
        return status
    }
}
