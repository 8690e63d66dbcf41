import Foundation
import Synchronization

/// The distribution API as hangar uses it: `/v2/` ping, anonymous or logged-in Bearer tokens (cached per
/// registry and scope), Basic auth, manifest HEAD/GET with the full Accept list, and blob streams.
/// HTTPS except for loopback registries and the ones configured as insecure.
public final class RegistryClient: Sendable {
    /// What a registry's 401 asks for.
    struct Challenge: Sendable, Equatable {
        var scheme: String
        var parameters: [String: String]
    }

    private struct AuthState {
        /// The `/v2/` ping's answer per registry (nil challenge: no auth needed).
        var pings: [String: Challenge?] = [:]
        /// `Authorization` values by `registry|scope` ("" = anonymous works).
        var authorizations: [String: String] = [:]
    }

    let http: HTTPClient
    let credentials: RegistryCredentials
    let insecureRegistries: [String]
    let retryBackoff: [Double]
    private let auth = Mutex(AuthState())

    public init(http: HTTPClient, credentials: RegistryCredentials, insecureRegistries: [String] = [],
                retryBackoff: [Double] = [1, 3, 9]) {
        self.http = http
        self.credentials = credentials
        self.insecureRegistries = insecureRegistries
        self.retryBackoff = retryBackoff
    }

    /// A fetched manifest: its exact bytes, the response's content type, and its digest (sha256 of the bytes).
    public struct FetchedManifest: Sendable {
        public var bytes: [UInt8]
        public var contentType: String
        public var digest: String
    }

    /// `scheme://host/v2/<repository>`.
    func repositoryURL(_ reference: ImageReference) -> String {
        "\(reference.scheme(insecureRegistries: insecureRegistries))://\(reference.apiHost)/v2/\(reference.repository)"
    }

    /// The tag's top-level digest from a HEAD (`Docker-Content-Digest`), as LocalAI's `GetImageDigest` (§5.3).
    public func headDigest(_ reference: ImageReference, isCancelled: @Sendable () -> Bool = { false }) throws -> String {
        let response = try withHTTPRetries(backoff: retryBackoff, isCancelled: isCancelled) { _ in
            try checked(try send(reference, path: "/manifests/\(reference.manifestReference)", method: "HEAD",
                                 headers: ["Accept": OCIMediaType.manifestAccept]), reference, what: "manifest")
        }
        if let digest = response.header("docker-content-digest"), ImageReference.isDigest(digest) { return digest }
        // Some registries omit the header on HEAD; the digest of the manifest bytes is the same value.
        return try manifest(reference, isCancelled: isCancelled).digest
    }

    /// GETs the manifest `reference` names (or `override`: a child digest) and checks a pinned digest.
    public func manifest(_ reference: ImageReference, override: String? = nil,
                         isCancelled: @Sendable () -> Bool = { false }) throws -> FetchedManifest {
        let target = override ?? reference.manifestReference
        let response = try withHTTPRetries(backoff: retryBackoff, isCancelled: isCancelled) { _ in
            try checked(try send(reference, path: "/manifests/\(target)", method: "GET",
                                 headers: ["Accept": OCIMediaType.manifestAccept]), reference, what: "manifest")
        }
        var hasher = SHA256()
        hasher.update(response.body)
        let digest = "sha256:" + hasher.finalizeHex()
        if ImageReference.isDigest(target), digest != target {
            throw HangarError.operation("manifest \(target) of \(reference) arrived with digest \(digest): the registry served other bytes")
        }
        return FetchedManifest(bytes: response.body, contentType: response.header("content-type") ?? "", digest: digest)
    }

    /// Streams blob `digest` from `offset` into `sink`; returns the final response (the caller checks 2xx/206).
    /// Auth is handled here; retries are the caller's, so it can resume at the right offset.
    public func streamBlob(_ reference: ImageReference, digest: String, from offset: Int64,
                           isCancelled: @escaping @Sendable () -> Bool,
                           sink: @escaping (UnsafeRawBufferPointer) throws -> Void) throws -> HTTPResponse {
        try send(reference, path: "/blobs/\(digest)", method: "GET", headers: [:], resumeFrom: offset > 0 ? offset : nil,
                 stream: (isCancelled, sink))
    }

    /// Turns a non-2xx answer into an error: 5xx/429 transient (retried), 401/403/404 with what to do.
    func checked(_ response: HTTPResponse, _ reference: ImageReference, what: String) throws -> HTTPResponse {
        switch response.status {
        case 200..<300:
            return response
        case 401, 403:
            throw HangarError.operation(
                "\(reference): access denied (HTTP \(response.status)) by \(reference.registry): log in (docker login \(reference.registry)) or check the repository name")
        case 404:
            throw HangarError.operation("\(reference): \(what) not found in \(reference.registry)\(Self.registryError(response.body))")
        case 429, 500...:
            throw HTTPFailure(message: "\(reference): \(reference.registry) answered HTTP \(response.status)\(Self.registryError(response.body))",
                              status: response.status, isTransient: true)
        default:
            throw HangarError.operation("\(reference): \(reference.registry) answered HTTP \(response.status)\(Self.registryError(response.body))")
        }
    }

    /// ` (CODE: message)` from a distribution error body, or "".
    static func registryError(_ body: [UInt8]) -> String {
        guard !body.isEmpty, let value = try? JSONValue.parse(body, maxBytes: 1 << 20),
              let first = value["errors"]?.arrayValue?.first else { return "" }
        let code = first["code"]?.stringValue ?? ""
        let message = first["message"]?.stringValue ?? ""
        return code.isEmpty && message.isEmpty ? "" : " (\(code)\(code.isEmpty || message.isEmpty ? "" : ": ")\(message))"
    }

    // MARK: - Authenticated requests

    /// Sends one request with the cached authorization for the repository; on a 401, authenticates as the
    /// challenge asks and sends it once more.
    func send(_ reference: ImageReference, path: String, method: String, headers: [String: String],
              resumeFrom: Int64? = nil,
              stream: (isCancelled: @Sendable () -> Bool, sink: (UnsafeRawBufferPointer) throws -> Void)? = nil) throws -> HTTPResponse {
        let scope = "repository:\(reference.repository):pull"
        let key = reference.registry + "|" + scope
        func perform(_ authorization: String) throws -> HTTPResponse {
            var all = headers
            if !authorization.isEmpty { all["Authorization"] = authorization }
            let request = HTTPRequest(url: repositoryURL(reference) + path, method: method, headers: all, resumeFrom: resumeFrom)
            if let stream { return try http.stream(request, isCancelled: stream.isCancelled, sink: stream.sink) }
            return try http.send(request)
        }
        let cached = auth.withLock { $0.authorizations[key] }
        let first = try perform(try cached ?? authorize(reference, scope: scope, challenge: try ping(reference)))
        guard first.status == 401, let header = first.header("www-authenticate"), let challenge = Self.parseChallenge(header) else {
            return first
        }
        // Expired token, or a repository needing more than the ping said: ask again with this challenge.
        auth.withLock { _ = $0.authorizations.removeValue(forKey: key) }
        return try perform(try authorize(reference, scope: challenge.parameters["scope"] ?? scope, challenge: challenge,
                                         cacheKey: key))
    }

    /// The registry's `/v2/` answer, once per registry: nil when no auth is needed, else its challenge.
    private func ping(_ reference: ImageReference) throws -> Challenge? {
        if let known = auth.withLock({ $0.pings[reference.registry] }) { return known }
        let url = "\(reference.scheme(insecureRegistries: insecureRegistries))://\(reference.apiHost)/v2/"
        let response = try withHTTPRetries(backoff: retryBackoff, isCancelled: { false }) { _ in
            let response = try http.send(HTTPRequest(url: url, method: "GET", headers: [:], resumeFrom: nil))
            if response.status >= 500 || response.status == 429 {
                throw HTTPFailure(message: "\(reference.registry): /v2/ answered HTTP \(response.status)", status: response.status,
                                  isTransient: true)
            }
            return response
        }
        var challenge: Challenge?
        if response.status == 401, let header = response.header("www-authenticate") { challenge = Self.parseChallenge(header) }
        auth.withLock { $0.pings[reference.registry] = .some(challenge) }
        return challenge
    }

    /// The `Authorization` value for `scope` under `challenge` ("" for none), cached under `cacheKey`.
    private func authorize(_ reference: ImageReference, scope: String, challenge: Challenge?, cacheKey: String? = nil) throws -> String {
        let key = cacheKey ?? reference.registry + "|" + scope
        let login = credentials.login(for: reference.registry)
        var value = ""
        switch challenge?.scheme.lowercased() {
        case "bearer":
            value = "Bearer " + (try token(reference, scope: scope, challenge: challenge!, login: login))
        case "basic":
            guard let login else {
                throw HangarError.operation(
                    "\(reference): \(reference.registry) needs a login: run docker login \(reference.registry) or add it to the auths of ~/.docker/config.json")
            }
            value = login.basicAuthorization
        default:
            value = ""
        }
        auth.withLock { $0.authorizations[key] = value }
        return value
    }

    /// GETs a token from the challenge's realm (Basic with the login when there is one, anonymous otherwise).
    private func token(_ reference: ImageReference, scope: String, challenge: Challenge,
                       login: RegistryCredentials.Login?) throws -> String {
        guard let realm = challenge.parameters["realm"], realm.hasPrefix("http://") || realm.hasPrefix("https://") else {
            throw HangarError.operation("\(reference): \(reference.registry) sent a Bearer challenge without a usable realm")
        }
        var query: [String] = []
        if let service = challenge.parameters["service"] { query.append("service=" + Self.percentEncode(service)) }
        query.append("scope=" + Self.percentEncode(scope))
        let url = realm + (realm.contains("?") ? "&" : "?") + query.joined(separator: "&")
        var headers: [String: String] = [:]
        if let login { headers["Authorization"] = login.basicAuthorization }
        let response = try withHTTPRetries(backoff: retryBackoff, isCancelled: { false }) { _ in
            let response = try http.send(HTTPRequest(url: url, method: "GET", headers: headers, resumeFrom: nil))
            if response.status >= 500 {
                throw HTTPFailure(message: "token server \(realm) answered HTTP \(response.status)", status: response.status, isTransient: true)
            }
            return response
        }
        guard response.status == 200 else {
            throw HangarError.operation(
                "\(reference): token server \(realm) refused (HTTP \(response.status))\(login == nil ? ": log in with docker login \(reference.registry)" : ": check the login in ~/.docker/config.json")")
        }
        guard let body = try? JSONValue.parse(response.body, maxBytes: 1 << 20),
              let token = body["token"]?.stringValue ?? body["access_token"]?.stringValue, !token.isEmpty else {
            throw HangarError.operation("\(reference): token server \(realm) answered without a token")
        }
        return token
    }

    /// Parses `Bearer realm="…",service="…",scope="…"` (quoted values may hold commas).
    static func parseChallenge(_ header: String) -> Challenge? {
        let trimmed = header.trimmingCharacters(in: .whitespaces)
        guard let space = trimmed.firstIndex(of: " ") else {
            return trimmed.isEmpty ? nil : Challenge(scheme: trimmed, parameters: [:])
        }
        var parameters: [String: String] = [:]
        var rest = trimmed[trimmed.index(after: space)...]
        while !rest.isEmpty {
            rest = rest.drop { $0 == " " || $0 == "," }
            guard let equals = rest.firstIndex(of: "=") else { break }
            let name = rest[..<equals].trimmingCharacters(in: .whitespaces).lowercased()
            rest = rest[rest.index(after: equals)...]
            var value = ""
            if rest.first == "\"" {
                rest = rest.dropFirst()
                var escaped = false
                while let c = rest.first {
                    rest = rest.dropFirst()
                    if escaped { value.append(c); escaped = false } else if c == "\\" { escaped = true } else if c == "\"" { break } else { value.append(c) }
                }
            } else {
                let end = rest.firstIndex(of: ",") ?? rest.endIndex
                value = String(rest[..<end]).trimmingCharacters(in: .whitespaces)
                rest = rest[end...]
            }
            parameters[name] = value
        }
        return Challenge(scheme: String(trimmed[..<space]), parameters: parameters)
    }

    private static func percentEncode(_ value: String) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        return value.addingPercentEncoding(withAllowedCharacters: allowed) ?? value
    }
}
