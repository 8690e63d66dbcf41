import CCurl
import CLazyLibraries
import Dispatch
import Foundation
import Synchronization

/// The one HTTP client of hangar (galleries, registries, tarballs), over libcurl. Transfers run on the calling
/// thread; TLS is verified, proxies come from the usual environment variables, HTTP/2 is used where offered.
/// Redirects are followed here rather than by libcurl, so that credentials provably never leave their origin.
public final class HTTPClient: Sendable {
    public let options: HTTPClientOptions
    /// Idle handles, each with its own connection cache, so consecutive requests to a host reuse the connection.
    private let idle = Mutex<[CurlSession]>([])
    private let noProxy: String
    /// The proxy for each scheme, from the `environment` given to `init` ("" = none): libcurl would read the real
    /// process environment instead, and for https only the lower-case variables.
    private let proxies: [String: String]
    /// A CA bundle replacing the system trust store, from `SSL_CERT_FILE` or `CURL_CA_BUNDLE` (libcurl itself
    /// reads neither: it always passes the distribution's bundle to OpenSSL).
    private let caBundle: String?
    private static let maxIdleSessions = 8
    /// How often a running transfer looks at cancellation and the stall clock.
    private static let pollMilliseconds: Int32 = 50

    /// A client with `options`; proxies (`https_proxy`, `http_proxy`, `all_proxy`, `no_proxy` and their upper-case
    /// forms except `HTTP_PROXY`) and the CA bundle (`SSL_CERT_FILE`, `CURL_CA_BUNDLE`) are read from `environment`.
    public init(options: HTTPClientOptions = .init(),
                environment: [String: String] = ProcessInfo.processInfo.environment) {
        self.options = options
        self.proxies = ["http": Self.proxy(for: "http", environment: environment),
                        "https": Self.proxy(for: "https", environment: environment)]
        // Setting CURLOPT_NOPROXY replaces libcurl's own reading of no_proxy, so the user's list is kept and
        // loopback is added: a local registry or test server is never reached through a proxy.
        let user = environment["no_proxy"] ?? environment["NO_PROXY"] ?? ""
        self.noProxy = user == "*" ? "*" : ([user, "localhost", "127.0.0.1", "::1"].filter { !$0.isEmpty })
            .joined(separator: ",")
        self.caBundle = [environment["SSL_CERT_FILE"], environment["CURL_CA_BUNDLE"]].compactMap { $0 }
            .first { !$0.isEmpty }
    }

    /// Whole body in memory (galleries, manifests, tokens). Returns any status; does not throw for >= 400.
    public func send(_ request: HTTPRequest,
                     isCancelled: @escaping @Sendable () -> Bool = { false }) throws -> HTTPResponse {
        try perform(request, isCancelled: isCancelled, sink: nil)
    }

    /// Streams a 2xx body to `sink` as it arrives; a non-2xx response is returned with its (capped) body and sink
    /// is not called. With `resumeFrom`, only a `206` whose `Content-Range` starts at that byte reaches the sink:
    /// any other answer is returned the same way, so the caller restarts instead of splicing byte 0 onto its file.
    /// `onResponse` sees the final response's status and headers before its first body byte (throwing aborts).
    /// sink throwing aborts. Stops within ~100 ms once isCancelled() is true, even while stalled.
    public func stream(_ request: HTTPRequest, isCancelled: @escaping @Sendable () -> Bool,
                       onResponse: ((_ status: Int, _ headers: [String: String]) throws -> Void)? = nil,
                       sink: (UnsafeRawBufferPointer) throws -> Void) throws -> HTTPResponse {
        try withoutActuallyEscaping(sink) { sink in
            try perform(request, isCancelled: isCancelled, sink: sink, onResponse: onResponse)
        }
    }

    /// Follows redirects itself, dropping credentials as soon as the chain leaves the request's origin.
    private func perform(_ request: HTTPRequest, isCancelled: () -> Bool,
                         sink: ((UnsafeRawBufferPointer) throws -> Void)?,
                         onResponse: ((Int, [String: String]) throws -> Void)? = nil) throws -> HTTPResponse {
        // libcurl is loaded on first use (it parses the URL below): a missing one is this request's error, not an exit.
        if let missing = hangar_lazy_library_error(HANGAR_LIB_CURL) {
            throw HTTPFailure(message: String(cString: missing), isTransient: false)
        }
        guard var origin = HTTPOrigin(request.url) else {
            throw HTTPFailure(message: "invalid URL \"\(request.url)\": use an http:// or https:// URL", isTransient: false)
        }
        // A line break in a header would let a value (e.g. a token from a server) smuggle in headers of its own.
        if let bad = request.headers.first(where: { ($0.key + $0.value).contains(where: \.isNewline) }) {
            throw HTTPFailure(message: "\(request.method) \(request.url): header \(bad.key.debugDescription) contains a line break; refusing to send it",
                              isTransient: false)
        }
        let deadline = options.totalTimeout.map { MonotonicClock.now() + $0 }
        var current = request
        let maxRedirects = max(0, options.maxRedirects)
        for hop in 0...maxRedirects {
            let (response, location) = try transfer(current, origin: origin, isCancelled: isCancelled,
                                                    sink: sink, onResponse: onResponse, deadline: deadline)
            guard HTTPOrigin.redirectStatuses.contains(response.status), let location else { return response }
            guard hop < maxRedirects else {
                throw HTTPFailure(message: "\(request.method) \(request.url) redirected more than \(maxRedirects) times (last to \(location)): check the URL",
                                  isTransient: false)
            }
            guard let next = HTTPOrigin(location) else {
                throw HTTPFailure(message: "\(request.method) \(current.url) redirected to \"\(location)\", which is not an http(s) URL",
                                  isTransient: false)
            }
            if let refusal = Self.redirectRefusal(from: current.url, origin, to: location, next) {
                throw HTTPFailure(message: "\(request.method) \(refusal)", isTransient: false)
            }
            if next != origin {
                // Once stripped, credentials stay stripped, even if a later hop comes back to the first host.
                current.headers = current.headers.filter { key, _ in
                    !["authorization", "cookie"].contains(key.lowercased())
                }
            }
            if response.status == 303 || (response.status != 307 && response.status != 308
                                          && current.method != "GET" && current.method != "HEAD") {
                if current.method != "HEAD" { current.method = "GET" }
                current.body = nil
            }
            current.url = location
            origin = next
        }
        fatalError("unreachable: the loop returns or throws on its last hop")
    }

    /// One request/response on a pooled handle, driven through a multi handle so cancellation and stalls are
    /// noticed within a poll interval.
    private func transfer(_ request: HTTPRequest, origin: HTTPOrigin, isCancelled: () -> Bool,
                          sink: ((UnsafeRawBufferPointer) throws -> Void)?,
                          onResponse: ((Int, [String: String]) throws -> Void)?,
                          deadline: Double?) throws -> (HTTPResponse, String?) {
        let session = try checkout()
        defer { checkin(session) }
        let h = session.easy
        curl_easy_reset(h)
        session.errorBuffer[0] = 0

        let context = TransferContext(sink: sink, onResponse: onResponse, resumeFrom: request.resumeFrom,
                                      cap: sink == nil ? options.maxBodyBytes : Self.errorBodyCap)
        let contextPointer = Unmanaged.passUnretained(context).toOpaque()

        var list: UnsafeMutablePointer<curl_slist>?
        defer { curl_slist_free_all(list) }
        // On failure libcurl returns NULL and leaves the list as it was: sending without a header would be wrong.
        func add(_ line: String) throws {
            guard let longer = curl_slist_append(list, line) else {
                throw HTTPFailure(message: "\(request.method) \(request.url): libcurl could not add a request header (out of memory?)",
                                  isTransient: false)
            }
            list = longer
        }
        for (name, value) in request.headers {
            // "Name;" is libcurl's spelling of a header with an empty value ("Name:" would remove it).
            try add(value.isEmpty ? "\(name);" : "\(name): \(value)")
        }
        if let from = request.resumeFrom { try add("Range: bytes=\(from)-") }
        if request.body != nil {
            try add("Expect:")
            if !request.headers.keys.contains(where: { $0.lowercased() == "content-type" }) {
                try add("Content-Type: application/octet-stream")
            }
        }

        _ = hangar_curl_setopt_string(h, CURLOPT_URL, request.url)
        _ = hangar_curl_setopt_long(h, CURLOPT_NOSIGNAL, 1)
        _ = hangar_curl_setopt_string(h, CURLOPT_PROTOCOLS_STR, "http,https")
        _ = hangar_curl_setopt_long(h, CURLOPT_FOLLOWLOCATION, 0)
        _ = hangar_curl_setopt_long(h, CURLOPT_SSL_VERIFYPEER, 1)
        _ = hangar_curl_setopt_long(h, CURLOPT_SSL_VERIFYHOST, 2)
        if let caBundle { _ = hangar_curl_setopt_string(h, CURLOPT_CAINFO, caBundle) }
        _ = hangar_curl_setopt_long(h, CURLOPT_HTTP_VERSION, Int(CURL_HTTP_VERSION_2TLS))
        _ = hangar_curl_setopt_long(h, CURLOPT_CONNECTTIMEOUT_MS, Int(options.connectTimeout * 1000))
        _ = hangar_curl_setopt_long(h, CURLOPT_TCP_KEEPALIVE, 1)
        // Always set: an empty proxy makes libcurl ignore the process environment, which `environment` replaces.
        _ = hangar_curl_setopt_string(h, CURLOPT_PROXY, proxies[origin.scheme] ?? "")
        _ = hangar_curl_setopt_string(h, CURLOPT_NOPROXY, noProxy)
        _ = hangar_curl_setopt_string(h, CURLOPT_USERAGENT, options.userAgent)
        _ = hangar_curl_setopt_pointer(h, CURLOPT_ERRORBUFFER, session.errorBuffer)
        _ = hangar_curl_setopt_slist(h, CURLOPT_HTTPHEADER, list)
        if sink != nil {
            // Fewer, larger callbacks for multi-gigabyte blobs.
            _ = hangar_curl_setopt_long(h, CURLOPT_BUFFERSIZE, 256 << 10)
        } else {
            // In-memory bodies (indexes, manifests) compress well; streamed blobs must arrive byte for byte.
            _ = hangar_curl_setopt_string(h, CURLOPT_ACCEPT_ENCODING, "")
        }
        switch request.method {
        case "GET": _ = hangar_curl_setopt_long(h, CURLOPT_HTTPGET, 1)
        case "HEAD": _ = hangar_curl_setopt_long(h, CURLOPT_NOBODY, 1)
        default:
            _ = hangar_curl_setopt_string(h, CURLOPT_CUSTOMREQUEST, request.method)
            // POST/PUT/PATCH always carry a Content-Length (0 without a body), as registries expect.
            if request.body != nil || ["POST", "PUT", "PATCH"].contains(request.method) {
                let body = request.body ?? []
                _ = hangar_curl_setopt_off(h, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(body.count))
                if body.isEmpty {
                    _ = hangar_curl_setopt_string(h, CURLOPT_COPYPOSTFIELDS, "")
                } else {
                    _ = body.withUnsafeBytes { bytes in
                        hangar_curl_setopt_pointer(h, CURLOPT_COPYPOSTFIELDS, UnsafeMutableRawPointer(mutating: bytes.baseAddress))
                    }
                }
            }
        }
        _ = hangar_curl_setopt_write_cb(h, CURLOPT_HEADERFUNCTION) { buffer, size, count, user in
            let n = size * count
            let context = Unmanaged<TransferContext>.fromOpaque(user!).takeUnretainedValue()
            return context.header(UnsafeRawBufferPointer(start: buffer, count: n)) ? n : 0
        }
        _ = hangar_curl_setopt_pointer(h, CURLOPT_HEADERDATA, contextPointer)
        _ = hangar_curl_setopt_write_cb(h, CURLOPT_WRITEFUNCTION) { buffer, size, count, user in
            let context = Unmanaged<TransferContext>.fromOpaque(user!).takeUnretainedValue()
            return context.write(UnsafeRawBufferPointer(start: buffer, count: size * count))
        }
        _ = hangar_curl_setopt_pointer(h, CURLOPT_WRITEDATA, contextPointer)
        _ = hangar_curl_setopt_long(h, CURLOPT_NOPROGRESS, 0)
        _ = hangar_curl_setopt_xferinfo_cb(h) { user, _, _, _, uploaded in
            let context = Unmanaged<TransferContext>.fromOpaque(user!).takeUnretainedValue()
            if uploaded > context.uploaded { context.uploaded = uploaded; context.touch() }
            return 0
        }
        _ = hangar_curl_setopt_pointer(h, CURLOPT_XFERINFODATA, contextPointer)

        let code = try withExtendedLifetime(context) {
            try run(session, request: request, context: context, isCancelled: isCancelled, deadline: deadline)
        }

        if let error = context.sinkError { throw error }
        if context.headersOverCap {
            throw HTTPFailure(message: "\(request.method) \(request.url): the response headers are larger than \(TextFormat.bytes(Int64(TransferContext.maxHeaderBytes))); refusing them (a broken or hostile server)",
                              isTransient: false)
        }
        if context.overCap {
            throw HTTPFailure(message: "\(request.method) \(request.url): the response is larger than \(TextFormat.bytes(Int64(options.maxBodyBytes))), more than hangar reads into memory; check the URL",
                              isTransient: false)
        }
        // A capped error body ends the transfer early on purpose; what was read is the answer.
        guard code == CURLE_OK || (code == CURLE_WRITE_ERROR && context.truncated) else {
            throw failure(code, request: request, origin: origin, context: context,
                          detail: String(cString: session.errorBuffer))
        }
        var status = 0
        _ = hangar_curl_getinfo_long(h, CURLINFO_RESPONSE_CODE, &status)
        var effective: UnsafeMutablePointer<CChar>?
        _ = hangar_curl_getinfo_string(h, CURLINFO_EFFECTIVE_URL, &effective)
        var redirect: UnsafeMutablePointer<CChar>?
        _ = hangar_curl_getinfo_string(h, CURLINFO_REDIRECT_URL, &redirect)
        let response = HTTPResponse(status: status, headers: context.headers, body: context.body,
                                    effectiveURL: effective.map { String(cString: $0) } ?? request.url)
        let location = redirect.map { String(cString: $0) }
        // A body-less final answer (HEAD, 204, empty 200) never reached `write`, which calls the hook otherwise.
        if location == nil || !HTTPOrigin.redirectStatuses.contains(status) { context.respond() }
        if let error = context.sinkError { throw error }
        return (response, location)
    }

    /// Why following a redirect from `from` to `to` is refused, or nil when it may be followed: https must not
    /// become plain http (a TLS downgrade anyone on the path could read or rewrite), except to a loopback host.
    static func redirectRefusal(from: String, _ fromOrigin: HTTPOrigin, to: String, _ toOrigin: HTTPOrigin) -> String? {
        guard fromOrigin.scheme == "https", toOrigin.scheme == "http", !toOrigin.isLoopback else { return nil }
        return "\(from) redirected to \(to), from https to plain http: refusing the TLS downgrade; use an https URL that does not redirect to http"
    }

    /// The proxy libcurl would pick for `scheme` from `environment`: `https_proxy`/`HTTPS_PROXY` for https,
    /// `http_proxy` for http (never `HTTP_PROXY`, which a CGI request can set through its `Proxy:` header), then
    /// `all_proxy`/`ALL_PROXY`; "" for none.
    static func proxy(for scheme: String, environment: [String: String]) -> String {
        let names = (scheme == "https" ? ["https_proxy", "HTTPS_PROXY"] : ["http_proxy"]) + ["all_proxy", "ALL_PROXY"]
        return names.lazy.compactMap { environment[$0] }.first { !$0.isEmpty } ?? ""
    }

    /// Drives the transfer to completion and returns libcurl's result; throws on cancel, stall and deadline.
    private func run(_ session: CurlSession, request: HTTPRequest, context: TransferContext,
                     isCancelled: () -> Bool, deadline: Double?) throws -> CURLcode {
        let multi = session.multi
        guard curl_multi_add_handle(multi, session.easy) == CURLM_OK else {
            throw HTTPFailure(message: "\(request.method) \(request.url): libcurl could not start the transfer", isTransient: false)
        }
        defer { curl_multi_remove_handle(multi, session.easy) }
        context.touch()
        while true {
            var running: Int32 = 0
            let rc = curl_multi_perform(multi, &running)
            guard rc == CURLM_OK else {
                throw HTTPFailure(message: "\(request.method) \(request.url): libcurl failed: \(String(cString: curl_multi_strerror(rc)))",
                                  isTransient: false)
            }
            var queued: Int32 = 0
            while let message = curl_multi_info_read(multi, &queued) {
                if message.pointee.msg == CURLMSG_DONE { return message.pointee.data.result }
            }
            if isCancelled() { throw CancelledError() }
            let now = MonotonicClock.now()
            if now - context.lastActivity > options.stallTimeout {
                throw HTTPFailure(message: "\(request.method) \(request.url) stalled: no data for \(seconds(options.stallTimeout)) after \(TextFormat.bytes(context.received)); the server or network stopped responding, try again",
                                  isTransient: true)
            }
            if let deadline, now > deadline {
                throw HTTPFailure(message: "\(request.method) \(request.url) timed out after \(seconds(options.totalTimeout ?? 0)); try again or check the network",
                                  isTransient: true)
            }
            _ = curl_multi_poll(multi, nil, 0, Self.pollMilliseconds, nil)
        }
    }

    /// The one-line failure for a libcurl result, naming the URL and the likely fix.
    private func failure(_ code: CURLcode, request: HTTPRequest, origin: HTTPOrigin, context: TransferContext,
                         detail: String) -> HTTPFailure {
        let what = "\(request.method) \(request.url)"
        let why = (detail.isEmpty ? String(cString: curl_easy_strerror(code)) : detail)
            .split(whereSeparator: \.isNewline).joined(separator: " ")
        switch code {
        case CURLE_COULDNT_CONNECT:
            return HTTPFailure(message: "cannot connect to \(origin.hostPort) (\(what)): \(why); check that the server is running and the URL's host and port, or the proxy settings (https_proxy, no_proxy)",
                               isTransient: true)
        case CURLE_COULDNT_RESOLVE_HOST:
            return HTTPFailure(message: "cannot resolve host \(origin.host) (\(what)): check the host name and the network/DNS settings",
                               isTransient: false)
        case CURLE_COULDNT_RESOLVE_PROXY:
            return HTTPFailure(message: "cannot resolve the proxy for \(what): \(why); check https_proxy/http_proxy",
                               isTransient: false)
        case CURLE_OPERATION_TIMEDOUT:
            return HTTPFailure(message: "\(what) timed out: \(why); check the network or try again", isTransient: true)
        case CURLE_PEER_FAILED_VERIFICATION, CURLE_SSL_CACERT_BADFILE, CURLE_SSL_CERTPROBLEM:
            return HTTPFailure(message: "TLS certificate of \(origin.hostPort) could not be verified (\(what)): \(why); install the issuing CA in the system trust store (update-ca-certificates) or point SSL_CERT_FILE at a bundle that has it",
                               isTransient: false)
        case CURLE_SSL_CONNECT_ERROR:
            return HTTPFailure(message: "TLS handshake with \(origin.hostPort) failed (\(what)): \(why); check that the URL should use https",
                               isTransient: true)
        case CURLE_RECV_ERROR, CURLE_SEND_ERROR, CURLE_PARTIAL_FILE, CURLE_GOT_NOTHING, CURLE_HTTP2, CURLE_HTTP2_STREAM:
            return HTTPFailure(message: "connection to \(origin.hostPort) broke after \(TextFormat.bytes(context.received)) (\(what)): \(why); try again",
                               isTransient: true)
        default:
            return HTTPFailure(message: "\(what) failed: \(why)", isTransient: false)
        }
    }

    /// Largest body kept from a non-2xx answer to `stream` (error documents are small).
    private static let errorBodyCap = 64 << 10

    private func checkout() throws -> CurlSession {
        guard curlGlobalInit == CURLE_OK else {
            throw HTTPFailure(message: "libcurl could not initialise (\(String(cString: curl_easy_strerror(curlGlobalInit)))): check the libcurl and OpenSSL installation",
                              isTransient: false)
        }
        if let session = idle.withLock({ $0.popLast() }) { return session }
        guard let session = CurlSession() else {
            throw HTTPFailure(message: "libcurl could not create a transfer handle (out of memory?)", isTransient: false)
        }
        return session
    }

    /// Returns a session to the pool; a surplus one is freed after the lock is released (curl cleanup can block
    /// on closing connections, which would stall every other transfer waiting for the pool).
    private func checkin(_ session: CurlSession) {
        let surplus: CurlSession? = idle.withLock { sessions in
            guard sessions.count < Self.maxIdleSessions else { return session }
            sessions.append(session)
            return nil
        }
        withExtendedLifetime(surplus) {}
    }
}

/// libcurl's process-wide initialisation, run once (Swift globals initialise exactly once, thread-safely) and only
/// at the first transfer: it loads OpenSSL and its configuration, which commands that never touch the network
/// (`list`, `settings`, a UI without registry backends) should not pay for.
private let curlGlobalInit: CURLcode = curl_global_init(Int(CURL_GLOBAL_DEFAULT))

/// An easy handle with the multi handle that drives it (which owns the connection cache) and its error buffer.
private final class CurlSession: @unchecked Sendable {
    // @unchecked: a session is used by one thread at a time, handed over through the pool's Mutex.
    let easy: UnsafeMutableRawPointer
    let multi: UnsafeMutableRawPointer
    let errorBuffer: UnsafeMutablePointer<CChar>

    init?() {
        guard let easy = curl_easy_init() else { return nil }
        guard let multi = curl_multi_init() else { curl_easy_cleanup(easy); return nil }
        self.easy = easy
        self.multi = multi
        self.errorBuffer = .allocate(capacity: Int(CURL_ERROR_SIZE))
        errorBuffer.initialize(repeating: 0, count: Int(CURL_ERROR_SIZE))
    }

    deinit {
        curl_multi_cleanup(multi)
        curl_easy_cleanup(easy)
        errorBuffer.deallocate()
    }
}

/// What libcurl's callbacks collect during one transfer; used only on the transferring thread.
private final class TransferContext {
    let sink: ((UnsafeRawBufferPointer) throws -> Void)?
    let onResponse: ((Int, [String: String]) throws -> Void)?
    let resumeFrom: Int64?
    let cap: Int
    /// Most header bytes one transfer takes (all blocks, interim 1xx included): enough for any real server.
    static let maxHeaderBytes = 256 << 10
    private var headerBytes = 0
    /// The header cap was hit: the transfer fails.
    var headersOverCap = false
    /// `onResponse` ran (it runs once, for the final response).
    private var responded = false
    /// Whether this response's body goes to the sink, decided at its first byte.
    private var deliversToSink = false
    var status = 0
    var headers: [String: String] = [:]
    var body: [UInt8] = []
    var received: Int64 = 0
    var uploaded: curl_off_t = 0
    var lastActivity: Double = 0
    var sinkError: (any Error)?
    /// `send` met a body over the cap: the transfer fails.
    var overCap = false
    /// `stream` kept the first `cap` bytes of an error body and stopped reading.
    var truncated = false

    init(sink: ((UnsafeRawBufferPointer) throws -> Void)?, onResponse: ((Int, [String: String]) throws -> Void)?,
         resumeFrom: Int64?, cap: Int) {
        self.sink = sink
        self.onResponse = onResponse
        self.resumeFrom = resumeFrom
        self.cap = cap
    }

    /// Calls `onResponse` once; false (with `sinkError` set) when it threw.
    @discardableResult
    func respond() -> Bool {
        guard !responded else { return sinkError == nil }
        responded = true
        do { try onResponse?(status, headers) } catch { sinkError = error; return false }
        return true
    }

    func touch() { lastActivity = MonotonicClock.now() }

    /// One header line; a status line starts a new block (interim 1xx answers and redirects each have one).
    /// Returns false once the headers exceed `maxHeaderBytes`, which makes libcurl fail the transfer.
    func header(_ line: UnsafeRawBufferPointer) -> Bool {
        touch()
        headerBytes += line.count
        if headerBytes > Self.maxHeaderBytes { headersOverCap = true; return false }
        var text = Substring(String(decoding: line, as: UTF8.self))
        while let last = text.unicodeScalars.last, last == "\r" || last == "\n" { text.unicodeScalars.removeLast() }
        if text.hasPrefix("HTTP/") {
            headers = [:]
            let parts = text.split(separator: " ", maxSplits: 2)
            status = parts.count > 1 ? Int(parts[1]) ?? 0 : 0
            return true
        }
        guard let colon = text.firstIndex(of: ":") else { return true }
        let name = text[..<colon].trimmingCharacters(in: .whitespaces).lowercased()
        let value = text[text.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        guard !name.isEmpty else { return true }
        headers[name] = headers[name].map { "\($0), \(value)" } ?? value
        return true
    }

    /// Body bytes: to the sink for a streamed 2xx answer, otherwise into memory up to the cap.
    func write(_ bytes: UnsafeRawBufferPointer) -> Int {
        touch()
        received += Int64(bytes.count)
        if sink != nil && !responded {
            // Redirect bodies are kept like error bodies; the hook is for the answer the caller gets.
            let isRedirect = HTTPOrigin.redirectStatuses.contains(status) && headers["location"] != nil
            if !isRedirect {
                guard respond() else { return 0 }
                let response = HTTPResponse(status: status, headers: headers, body: [], effectiveURL: "")
                deliversToSink = response.isSuccess && (resumeFrom.map { response.resumes(from: $0) } ?? true)
            }
        }
        if let sink, deliversToSink {
            do { try sink(bytes) } catch { sinkError = error; return 0 }
            return bytes.count
        }
        if body.count + bytes.count > cap {
            if sink == nil { overCap = true; return 0 }
            body.append(contentsOf: bytes.prefix(cap - body.count))
            truncated = true
            return 0
        }
        body.append(contentsOf: bytes)
        return bytes.count
    }
}

/// Scheme, host and port as libcurl itself parses them: the unit credentials are scoped to.
struct HTTPOrigin: Equatable {
    var scheme: String
    var host: String
    var port: String

    init?(_ url: String) {
        guard let handle = curl_url() else { return nil }
        defer { curl_url_cleanup(handle) }
        guard curl_url_set(handle, CURLUPART_URL, url, 0) == CURLUE_OK else { return nil }
        func part(_ which: CURLUPart, _ flags: UInt32 = 0) -> String? {
            var out: UnsafeMutablePointer<CChar>?
            guard curl_url_get(handle, which, &out, flags) == CURLUE_OK, let out else { return nil }
            defer { curl_free(out) }
            return String(cString: out)
        }
        guard let scheme = part(CURLUPART_SCHEME)?.lowercased(), scheme == "http" || scheme == "https",
              let host = part(CURLUPART_HOST)?.lowercased(),
              let port = part(CURLUPART_PORT, UInt32(CURLU_DEFAULT_PORT)) else { return nil }
        self.scheme = scheme
        self.host = host
        self.port = port
    }

    var hostPort: String { "\(host):\(port)" }

    /// The statuses whose `Location` the client follows.
    static let redirectStatuses: Set<Int> = [301, 302, 303, 307, 308]

    /// `localhost`, 127.0.0.0/8 or ::1: traffic that never leaves the machine.
    var isLoopback: Bool {
        if host == "localhost" || host.hasSuffix(".localhost") || host == "[::1]" || host == "::1" { return true }
        let octets = host.split(separator: ".", omittingEmptySubsequences: false)
        return octets.count == 4 && octets[0] == "127" && octets.allSatisfy { UInt8($0) != nil }
    }
}

/// `1.5 s`, `60 s`.
private func seconds(_ value: Double) -> String {
    value == value.rounded() ? "\(Int(value)) s" : "\(value) s"
}
