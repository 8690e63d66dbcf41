import Foundation

/// Why a call to a LocalAI server failed: one line naming the server and the fix, never the key.
struct LocalAIFailure: Error, Sendable, CustomStringConvertible {
    var message: String
    /// The HTTP status when the server answered one.
    var status: Int?
    /// The server's own error message (any of the spec's error shapes, §2.2), when it sent one.
    var serverMessage: String?
    /// A retry may fix it (connection refused or broken, timeouts, 5xx other than a lost job).
    var isTransient: Bool
    /// 401/403: the key is missing, wrong or not an admin's.
    var isAuthentication = false

    var description: String { message }

    /// As the engine reports it: an authentication problem is the user's to fix (exit 2), the rest failed operations.
    var hangarError: HangarError { isAuthentication ? .configuration(message) : .operation(message) }
}

/// The HTTP side of remote mode: JSON requests to one LocalAI server with its API key as `Authorization: Bearer`
/// (spec §3.2), answers decoded with hangar's bounded JSON parser, every error shape of §2.2 read.
/// Redirects are never followed: the key must not travel to another origin, and the API has no reason to redirect.
final class LocalAIClient: Sendable {
    let config: LocalAIServerConfig
    private let http: HTTPClient
    /// Largest answer taken: the real gallery listing is a few MiB; more is a misconfigured or hostile server.
    static let maxBodyBytes = 16 << 20
    /// Deepest JSON nesting taken (the API's shapes are 4 deep).
    static let maxDepth = 32
    /// What the last request found (the UI's header).
    let connection: ServerConnectionRecord

    init(config: LocalAIServerConfig, environment: [String: String]) {
        self.config = config
        connection = ServerConnectionRecord(url: config.url)
        http = HTTPClient(options: HTTPClientOptions(connectTimeout: min(10, config.requestTimeout),
                                                     stallTimeout: config.requestTimeout,
                                                     totalTimeout: config.requestTimeout,
                                                     maxBodyBytes: Self.maxBodyBytes, maxRedirects: 0),
                          environment: environment)
    }

    /// `GET path`, decoded.
    func get(_ path: String, isCancelled: @escaping @Sendable () -> Bool = { false }) throws(LocalAIFailure) -> JSONValue {
        try call("GET", path, body: nil, isCancelled: isCancelled)
    }

    /// `POST path` with a JSON body (`{}` when none, as the spec recommends, §2.1), decoded.
    func post(_ path: String, _ body: JSONValue = .object(JSONObject()),
              isCancelled: @escaping @Sendable () -> Bool = { false }) throws(LocalAIFailure) -> JSONValue {
        try call("POST", path, body: body, isCancelled: isCancelled)
    }

    private func call(_ method: String, _ path: String, body: JSONValue?,
                      isCancelled: @escaping @Sendable () -> Bool) throws(LocalAIFailure) -> JSONValue {
        let started = MonotonicClock.now()
        do {
            let value = try exchange(method, path, body: body, isCancelled: isCancelled)
            connection.answered(after: MonotonicClock.now() - started)
            return value
        } catch {
            // A refused key or no answer at all changes the connection; any other HTTP answer shows it works.
            if error.isAuthentication || error.status == nil {
                connection.failed(error)
            } else {
                connection.answered(after: MonotonicClock.now() - started)
            }
            throw error
        }
    }

    private func exchange(_ method: String, _ path: String, body: JSONValue?,
                          isCancelled: @escaping @Sendable () -> Bool) throws(LocalAIFailure) -> JSONValue {
        let what = "\(method) \(config.url)\(path)"
        var headers = ["Accept": "application/json"]
        if body != nil { headers["Content-Type"] = "application/json" }
        if let key = config.apiKey { headers["Authorization"] = "Bearer " + key.value }
        let response: HTTPResponse
        do {
            response = try http.send(HTTPRequest(url: config.url + path, method: method, headers: headers,
                                                 body: body.map { Array($0.compact().utf8) }), isCancelled: isCancelled)
        } catch let failure as HTTPFailure {
            // With no redirects allowed the client reports the first one's target; no request went there.
            if let range = failure.message.range(of: "redirected more than 0 times (last to ") {
                let location = failure.message[range.upperBound...].prefix { $0 != ")" }
                throw LocalAIFailure(message: redact("\(what) was redirected to \(location): hangar follows no redirects with the API key; give that server's root URL as --server if it is the right one"),
                                     isTransient: false)
            }
            let lead = failure.isTransient ? " did not answer: " : ": "
            throw LocalAIFailure(message: redact("LocalAI server \(config.url)\(lead)\(failure.message)"),
                                 isTransient: failure.isTransient)
        } catch {
            throw LocalAIFailure(message: redact("LocalAI server \(config.url) did not answer \(what): \(error)"), isTransient: false)
        }
        if (300..<400).contains(response.status) {
            // A 3xx without a Location (the client follows none): not an answer of LocalAI's API.
            throw LocalAIFailure(message: "\(what) returned HTTP \(response.status): is \(config.url) LocalAI's API root?",
                                 status: response.status, isTransient: false)
        }
        let looksHTML = (response.header("content-type") ?? "").lowercased().contains("html")
            || response.body.first(where: { ![0x20, 0x09, 0x0A, 0x0D].contains($0) }) == UInt8(ascii: "<")
        let value: JSONValue?
        if looksHTML || response.body.isEmpty {
            value = nil
        } else {
            do {
                // Redacted before parsing, so no text of the answer (a job's error, a message) can carry the key on.
                value = try JSONValue.parse(redact(response.body), maxDepth: Self.maxDepth, maxBytes: Self.maxBodyBytes)
            } catch {
                if response.isSuccess {
                    throw LocalAIFailure(message: redact("\(what) answered malformed JSON (\(error)): is \(config.url) a LocalAI server?"),
                                         status: response.status, isTransient: false)
                }
                value = nil
            }
        }
        let serverMessage = value.flatMap(Self.errorMessage)
        if response.status == 401 || response.status == 403 {
            let who = config.apiKey.map { "the API key from \($0.source)" } ?? "no API key"
            let fix = config.apiKey == nil
                ? "set LOCALAI_API_KEY or give --api-key-file FILE"
                : (response.status == 403 ? "use an admin's key" : "check the key in \(config.apiKey!.source)")
            throw LocalAIFailure(message: redact("LocalAI server \(config.url) refused \(who) (HTTP \(response.status)\(serverMessage.map { ": " + $0 } ?? "")): \(fix)"),
                                 status: response.status, serverMessage: serverMessage, isTransient: false, isAuthentication: true)
        }
        guard response.isSuccess else {
            var detail = serverMessage.map { ": " + Self.oneLine($0) } ?? (looksHTML ? " with an HTML page" : "")
            if response.status == 404 {
                detail += "; is \(config.url) LocalAI's API root, with its gallery endpoints on (LOCALAI_DISABLE_GALLERY_ENDPOINT unset)?"
            }
            throw LocalAIFailure(message: redact("\(what) returned HTTP \(response.status)\(detail)"), status: response.status,
                                 serverMessage: serverMessage, isTransient: HTTPFailure.isTransientStatus(response.status))
        }
        if looksHTML {
            throw LocalAIFailure(message: "\(what) answered an HTML page, not JSON: give LocalAI's API root as --server (e.g. http://host:8080), not a web page or proxy login",
                                 status: response.status, isTransient: false)
        }
        guard let value else {
            throw LocalAIFailure(message: "\(what) answered an empty body where JSON was expected: is \(config.url) a LocalAI server?",
                                 status: response.status, isTransient: false)
        }
        return value
    }

    /// The message of any of LocalAI's error shapes: `{"error":{"message":…}}`, `{"error":"…"}`,
    /// `{"success":false,"error":"…"}`, `{"message":…}` (§2.2, §10).
    static func errorMessage(_ value: JSONValue) -> String? {
        if let text = value["error"]?.stringValue { return oneLine(text) }
        if let text = value["error"]?["message"]?.stringValue { return oneLine(text) }
        return nil
    }

    /// Server text in a one-line error: line breaks flattened, bounded in length.
    static func oneLine(_ text: String) -> String {
        let flat = text.split(whereSeparator: \.isNewline).joined(separator: " ")
        return flat.count > 300 ? String(flat.prefix(300)) + "…" : flat
    }

    /// A server's answer with every copy of the key replaced by `<API key>` (JSON-safe: no quote or backslash).
    func redact(_ body: [UInt8]) -> [UInt8] {
        guard let key = config.apiKey?.value, key.count >= 4 else { return body }
        let needle = Array(key.utf8), mask = Array("<API key>".utf8)
        guard let first = needle.first, body.count >= needle.count else { return body }
        var out: [UInt8] = []
        var i = 0, changed = false
        while i < body.count {
            if body[i] == first, i + needle.count <= body.count, body[i..<(i + needle.count)].elementsEqual(needle) {
                if !changed { out.reserveCapacity(body.count); out.append(contentsOf: body[0..<i]); changed = true }
                out.append(contentsOf: mask)
                i += needle.count
                continue
            }
            if changed { out.append(body[i]) }
            i += 1
        }
        return changed ? out : body
    }

    /// The key never appears in an error, even when a server echoes it back.
    func redact(_ text: String) -> String {
        guard let key = config.apiKey?.value, key.count >= 4 else { return text }
        return text.replacingOccurrences(of: key, with: "<API key>")
    }
}
