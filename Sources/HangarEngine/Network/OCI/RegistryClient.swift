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
        /// Registries whose `/v2/` ping failed, with the error and when: for `failedPingMemory` seconds (one
        /// operation's candidate URIs) later requests fail at once instead of waiting out the network again; the
        /// client lives as long as the engine, so the memory must expire.
        var failedPings: [String: (error: HTTPFailure, at: Double)] = [:]
        /// `Authorization` values by `registry|scope` ("" = anonymous works).
        var authorizations: [String: String] = [:]
    }

    let http: HTTPClient
    let credentials: RegistryCredentials
    let insecureRegistries: [String]
    let retryBackoff: [Double]
    private let auth = Mutex(AuthState())
    /// Seconds a failed ping is remembered.
    static let failedPingMemory = 30.0

    /// `retryBackoff` paces the manifest retries (blob retries are the caller's); `insecureRegistries` may use http://.
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
    /// A header that is present but not `sha256:<64 hex>` is returned verbatim, as LocalAI stores it, never recomputed.
    public func headDigest(_ reference: ImageReference, isCancelled: @escaping @Sendable () -> Bool = { false }) throws -> String {
        let response = try HTTPRetry.run(backoff: retryBackoff, isCancelled: isCancelled) { attempt in
            try checked(try send(reference, path: "/manifests/\(reference.manifestReference)", method: "HEAD",
                                 headers: ["Accept": OCIMediaType.manifestAccept], isRetry: attempt > 0, isCancelled: isCancelled),
                        reference, what: "manifest")
        }
        if let digest = response.header("docker-content-digest")?.trimmingCharacters(in: .whitespaces), !digest.isEmpty {
            return digest
        }
        // Some registries omit the header on HEAD; the digest of the manifest bytes is the same value.
        return try manifest(reference, isCancelled: isCancelled).digest
    }

    /// GETs the manifest `reference` names (or `override`: a child digest) and checks a pinned digest.
    public func manifest(_ reference: ImageReference, override: String? = nil,
                         isCancelled: @escaping @Sendable () -> Bool = { false }) throws -> FetchedManifest {
        let target = override ?? reference.manifestReference
        let response = try HTTPRetry.run(backoff: retryBackoff, isCancelled: isCancelled) { attempt in
            try checked(try send(reference, path: "/manifests/\(target)", method: "GET",
                                 headers: ["Accept": OCIMediaType.manifestAccept], isRetry: attempt > 0, isCancelled: isCancelled),
                        reference, what: "manifest")
        }
        var hasher = SHA256()
        hasher.update(response.body)
        let digest = "sha256:" + hasher.finalizeHex()
        if ImageReference.isDigest(target), digest != target {
            throw HangarError.operation("manifest \(target) of \(reference) arrived with digest \(digest): the registry served other bytes")
        }
        return FetchedManifest(bytes: response.body, contentType: response.header("content-type") ?? "", digest: digest)
    }

    /// Every tag of `reference`'s repository (the registry's tags list, page by page through its `Link` header).
    /// Bounded against a hostile registry: at most `maxPages` pages of 4 MiB each and `maxTags` tags.
    public func tags(_ reference: ImageReference, pageSize: Int = 1000, maxPages: Int = 200, maxTags: Int = 100_000,
                     isCancelled: @escaping @Sendable () -> Bool = { false }) throws -> [String] {
        var tags: [String] = []
        var path = "/tags/list?n=\(pageSize)"
        for _ in 0..<maxPages {
            let pagePath = path
            let response = try HTTPRetry.run(backoff: retryBackoff, isCancelled: isCancelled) { attempt in
                try checked(try send(reference, path: pagePath, method: "GET", headers: ["Accept": "application/json"],
                                     isRetry: attempt > 0, isCancelled: isCancelled), reference, what: "repository")
            }
            let value: JSONValue
            do {
                value = try JSONValue.parse(response.body, maxBytes: 4 << 20)
            } catch {
                throw HangarError.operation("\(reference.registry) answered the tags list of \(reference.repository) with something that is not JSON: \(error)")
            }
            // `"tags": null` is what a repository with no tags returns.
            let page = value["tags"]?.arrayValue ?? []
            for tag in page { if let text = tag.stringValue { tags.append(text) } }
            if tags.count > maxTags {
                throw HangarError.operation("\(reference.registry) lists more than \(maxTags) tags for \(reference.repository): refused")
            }
            guard let next = response.header("link").flatMap(Self.nextPage), !page.isEmpty else { return tags }
            path = next
        }
        throw HangarError.operation("\(reference.registry) kept paging the tags of \(reference.repository) past \(maxPages) pages: refused")
    }

    /// The `rel="next"` target of a tags-list `Link` header, as a path below the repository (`/tags/list?n=…&last=…`).
    static func nextPage(_ link: String) -> String? {
        for part in link.split(separator: ",") where part.contains("rel=\"next\"") {
            guard let open = part.firstIndex(of: "<"), let close = part.firstIndex(of: ">"), open < close else { continue }
            let target = String(part[part.index(after: open)..<close])
            guard let range = target.range(of: "/tags/list") else { continue }
            return String(target[range.lowerBound...])
        }
        return nil
    }

    /// Streams blob `digest` from `offset` into `sink`; returns the final response (the caller checks 2xx/206).
    /// Auth is handled here; retries are the caller's, so it can resume at the right offset.
    public func streamBlob(_ reference: ImageReference, digest: String, from offset: Int64,
                           isCancelled: @escaping @Sendable () -> Bool,
                           sink: @escaping (UnsafeRawBufferPointer) throws -> Void) throws -> HTTPResponse {
        try send(reference, path: "/blobs/\(digest)", method: "GET", headers: [:], resumeFrom: offset > 0 ? offset : nil,
                 isRetry: true, isCancelled: isCancelled, sink: sink)
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
            throw HangarError.operation(
                "\(reference): \(what) not found in \(reference.registry)\(Self.registryError(response.body)): check the repository and tag in the gallery entry's uri")
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
    /// challenge asks and sends it once more. No retries here: the caller's `withHTTPRetries` is the only loop,
    /// so a dead registry costs one backoff series, not one per nested step.
    func send(_ reference: ImageReference, path: String, method: String, headers: [String: String],
              resumeFrom: Int64? = nil, isRetry: Bool, isCancelled: @escaping @Sendable () -> Bool,
              sink: ((UnsafeRawBufferPointer) throws -> Void)? = nil) throws -> HTTPResponse {
        let scope = "repository:\(reference.repository):pull"
        let key = reference.registry + "|" + scope
        func perform(_ authorization: String) throws -> HTTPResponse {
            var all = headers
            if !authorization.isEmpty { all["Authorization"] = authorization }
            let request = HTTPRequest(url: repositoryURL(reference) + path, method: method, headers: all, resumeFrom: resumeFrom)
            if let sink { return try http.stream(request, isCancelled: isCancelled, sink: sink) }
            return try http.send(request, isCancelled: isCancelled)
        }
        let cached = auth.withLock { $0.authorizations[key] }
        let first = try perform(try cached ?? authorize(
            reference, scope: scope, challenge: try ping(reference, isRetry: isRetry, isCancelled: isCancelled), isCancelled: isCancelled))
        guard first.status == 401, let header = first.header("www-authenticate"), let challenge = Self.parseChallenge(header) else {
            return first
        }
        // Expired token, or a repository needing more than the ping said: ask again with this challenge.
        auth.withLock { _ = $0.authorizations.removeValue(forKey: key) }
        return try perform(try authorize(reference, scope: challenge.parameters["scope"] ?? scope, challenge: challenge,
                                         cacheKey: key, isCancelled: isCancelled))
    }

    /// The registry's `/v2/` answer, once per registry: nil when no auth is needed, else its challenge.
    /// A failure is remembered too: a first attempt (`isRetry` false) of a later request fails with it at once,
    /// while the retries of the request that met it really ping again.
    private func ping(_ reference: ImageReference, isRetry: Bool, isCancelled: @escaping @Sendable () -> Bool) throws -> Challenge? {
        let (known, failed) = auth.withLock { ($0.pings[reference.registry], $0.failedPings[reference.registry]) }
        if let known { return known }
        if let failed, !isRetry, MonotonicClock.now() - failed.at < Self.failedPingMemory { throw failed.error }
        let url = "\(reference.scheme(insecureRegistries: insecureRegistries))://\(reference.apiHost)/v2/"
        let response: HTTPResponse
        do {
            response = try http.send(HTTPRequest(url: url, method: "GET", headers: [:], resumeFrom: nil), isCancelled: isCancelled)
            if response.status >= 500 || response.status == 429 {
                throw HTTPFailure(message: "\(reference.registry): /v2/ answered HTTP \(response.status)", status: response.status,
                                  isTransient: true)
            }
        } catch let failure as HTTPFailure {
            // Remembered without the transient flag, so a later request does not start its own retry series.
            var final = failure
            final.isTransient = false
            final.message += " (a moment ago; not asked again for \(Int(Self.failedPingMemory)) s)"
            auth.withLock { $0.failedPings[reference.registry] = (final, MonotonicClock.now()) }
            throw failure
        }
        auth.withLock { _ = $0.failedPings.removeValue(forKey: reference.registry) }
        var challenge: Challenge?
        if response.status == 401, let header = response.header("www-authenticate") { challenge = Self.parseChallenge(header) }
        auth.withLock { $0.pings[reference.registry] = .some(challenge) }
        return challenge
    }

    /// The `Authorization` value for `scope` under `challenge` ("" for none), cached under `cacheKey`.
    private func authorize(_ reference: ImageReference, scope: String, challenge: Challenge?, cacheKey: String? = nil,
                           isCancelled: @escaping @Sendable () -> Bool) throws -> String {
        let key = cacheKey ?? reference.registry + "|" + scope
        let login = credentials.login(for: reference.registry)
        var value = ""
        switch challenge?.scheme.lowercased() {
        case "bearer":
            value = "Bearer " + (try token(reference, scope: scope, challenge: challenge!, login: login, isCancelled: isCancelled))
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
                       login: RegistryCredentials.Login?, isCancelled: @escaping @Sendable () -> Bool) throws -> String {
        guard let realm = challenge.parameters["realm"], realm.hasPrefix("http://") || realm.hasPrefix("https://") else {
            throw HangarError.operation("\(reference): \(reference.registry) sent a Bearer challenge without a usable realm")
        }
        var query: [String] = []
        if let service = challenge.parameters["service"] { query.append("service=" + Self.percentEncode(service)) }
        query.append("scope=" + Self.percentEncode(scope))
        let url = realm + (realm.contains("?") ? "&" : "?") + query.joined(separator: "&")
        var headers: [String: String] = [:]
        if let login {
            // A password in clear text only to a realm on this machine or one the user listed as insecure.
            if realm.hasPrefix("http://"), !isPlainHTTPAllowed(realm: realm) {
                throw HangarError.operation(
                    "\(reference): \(reference.registry) asks for the login to be sent to \(realm) over plain http; refused (add the realm's host to the insecure registries only if you trust the network)")
            }
            headers["Authorization"] = login.basicAuthorization
        }
        let response = try http.send(HTTPRequest(url: url, method: "GET", headers: headers, resumeFrom: nil), isCancelled: isCancelled)
        if response.status >= 500 {
            throw HTTPFailure(message: "token server \(realm) answered HTTP \(response.status)", status: response.status, isTransient: true)
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

    /// Whether an `http://` token realm may receive a login: loopback hosts and the configured insecure registries.
    private func isPlainHTTPAllowed(realm: String) -> Bool {
        var host = Substring(realm.dropFirst("http://".count))
        if let end = host.firstIndex(where: { $0 == "/" || $0 == "?" }) { host = host[..<end] }
        return ImageReference(registry: String(host), repository: "token", tag: nil, digest: nil)
            .scheme(insecureRegistries: insecureRegistries) == "http"
    }

    /// The challenge to answer from a `WWW-Authenticate` header: Bearer when several are offered, else the first.
    static func parseChallenge(_ header: String) -> Challenge? {
        let all = parseChallenges(header)
        return all.first { $0.scheme.lowercased() == "bearer" } ?? all.first
    }

    /// Parses `Bearer realm="…",service="…",scope="…"`, possibly several challenges in one header
    /// (`Basic realm="a", Bearer realm="b"`); quoted values may hold commas.
    static func parseChallenges(_ header: String) -> [Challenge] {
        var challenges: [Challenge] = []
        var rest = Substring(header)
        while true {
            rest = rest.drop { $0 == " " || $0 == "," }
            guard !rest.isEmpty else { break }
            let tokenEnd = rest.firstIndex { $0 == " " || $0 == "," || $0 == "=" } ?? rest.endIndex
            let token = String(rest[..<tokenEnd])
            let after = rest[tokenEnd...].drop { $0 == " " }
            if after.first == "=", !challenges.isEmpty {
                // `name=value` of the current challenge.
                var value = ""
                rest = after.dropFirst().drop { $0 == " " }
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
                challenges[challenges.count - 1].parameters[token.lowercased()] = value
            } else if after.first == "=" {
                break  // parameters before any scheme: not a challenge
            } else {
                challenges.append(Challenge(scheme: token, parameters: [:]))
                rest = rest[tokenEnd...]
            }
        }
        return challenges
    }

    private static func percentEncode(_ value: String) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        return value.addingPercentEncoding(withAllowedCharacters: allowed) ?? value
    }
}
