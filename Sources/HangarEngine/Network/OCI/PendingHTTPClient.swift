// TEMPORARY: a minimal stand-in with net-http's announced API so the OCI code builds and runs before that branch
// lands. Deleted when net-http is merged; nothing here is meant to stay.
import CCurl
import Foundation

public struct HTTPRequest: Sendable {
    public var url: String
    public var method: String
    public var headers: [String: String]
    public var resumeFrom: Int64?
    public init(url: String, method: String = "GET", headers: [String: String] = [:], resumeFrom: Int64? = nil) {
        self.url = url; self.method = method; self.headers = headers; self.resumeFrom = resumeFrom
    }
}

public struct HTTPResponse: Sendable {
    public var status: Int
    public var headers: [String: String]
    public var body: [UInt8]
    public var effectiveURL: String
    public func header(_ name: String) -> String? { headers[name.lowercased()] }
}

public struct HTTPFailure: Error, Sendable, CustomStringConvertible {
    public var message: String
    public var status: Int?
    public var isTransient: Bool
    public init(message: String, status: Int? = nil, isTransient: Bool) {
        self.message = message; self.status = status; self.isTransient = isTransient
    }
    public var description: String { message }
}

public struct HTTPClientOptions: Sendable {
    public var userAgent = "hangar/dev"
    public var connectTimeout: Double = 30
    public var stallTimeout: Double = 60
    public var maxBodyBytes = 32 << 20
    public var retryBackoff: [Double] = [1, 3, 9]
    public init() {}
}

private final class Transfer {
    var headers: [String: String] = [:]
    var body: [UInt8] = []
    var sink: ((UnsafeRawBufferPointer) throws -> Void)?
    var sinkError: (any Error)?
    var isCancelled: () -> Bool = { false }
    var status = 0
}

public final class HTTPClient: Sendable {
    let options: HTTPClientOptions
    public init(options: HTTPClientOptions = HTTPClientOptions()) {
        self.options = options
        curl_global_init(Int(CURL_GLOBAL_DEFAULT))
    }

    public func send(_ request: HTTPRequest) throws -> HTTPResponse {
        try perform(request, isCancelled: { false }, sink: nil)
    }

    public func stream(_ request: HTTPRequest, isCancelled: @escaping () -> Bool,
                       sink: @escaping (UnsafeRawBufferPointer) throws -> Void) throws -> HTTPResponse {
        try perform(request, isCancelled: isCancelled, sink: sink)
    }

    private func perform(_ request: HTTPRequest, isCancelled: @escaping () -> Bool,
                         sink: ((UnsafeRawBufferPointer) throws -> Void)?) throws -> HTTPResponse {
        guard let h = curl_easy_init() else { throw HTTPFailure(message: "curl init failed", isTransient: false) }
        defer { curl_easy_cleanup(h) }
        let t = Transfer()
        t.sink = sink
        t.isCancelled = isCancelled
        let box = Unmanaged.passRetained(t)
        defer { box.release() }
        _ = hangar_curl_setopt_string(h, CURLOPT_URL, request.url)
        _ = hangar_curl_setopt_string(h, CURLOPT_USERAGENT, options.userAgent)
        _ = hangar_curl_setopt_long(h, CURLOPT_FOLLOWLOCATION, 1)
        _ = hangar_curl_setopt_long(h, CURLOPT_NOSIGNAL, 1)
        _ = hangar_curl_setopt_long(h, CURLOPT_CONNECTTIMEOUT, Int(options.connectTimeout))
        _ = hangar_curl_setopt_long(h, CURLOPT_LOW_SPEED_LIMIT, 1)
        _ = hangar_curl_setopt_long(h, CURLOPT_LOW_SPEED_TIME, Int(options.stallTimeout))
        if request.method == "HEAD" { _ = hangar_curl_setopt_long(h, CURLOPT_NOBODY, 1) }
        if let from = request.resumeFrom, from > 0 { _ = hangar_curl_setopt_string(h, CURLOPT_RANGE, "\(from)-") }
        var list: UnsafeMutablePointer<curl_slist>?
        for (k, v) in request.headers { list = curl_slist_append(list, "\(k): \(v)") }
        defer { curl_slist_free_all(list) }
        _ = hangar_curl_setopt_slist(h, CURLOPT_HTTPHEADER, list)
        let raw = box.toOpaque()
        _ = hangar_curl_setopt_pointer(h, CURLOPT_HEADERDATA, raw)
        _ = hangar_curl_setopt_pointer(h, CURLOPT_WRITEDATA, raw)
        _ = hangar_curl_setopt_pointer(h, CURLOPT_XFERINFODATA, raw)
        _ = hangar_curl_setopt_long(h, CURLOPT_NOPROGRESS, 0)
        _ = hangar_curl_setopt_write_cb(h, CURLOPT_HEADERFUNCTION) { ptr, size, n, user in
            let t = Unmanaged<Transfer>.fromOpaque(user!).takeUnretainedValue()
            let line = String(decoding: UnsafeRawBufferPointer(start: ptr, count: size * n), as: UTF8.self)
            if line.hasPrefix("HTTP/") { t.headers = [:] }
            if let colon = line.firstIndex(of: ":") {
                t.headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespacesAndNewlines)
            }
            return size * n
        }
        _ = hangar_curl_setopt_write_cb(h, CURLOPT_WRITEFUNCTION) { ptr, size, n, user in
            let t = Unmanaged<Transfer>.fromOpaque(user!).takeUnretainedValue()
            let buffer = UnsafeRawBufferPointer(start: ptr, count: size * n)
            var code = 0
            hangar_curl_getinfo_long_for_transfer(t, &code)
            if let sink = t.sink, t.status / 100 == 2 {
                do { try sink(buffer) } catch { t.sinkError = error; return 0 }
            } else if t.body.count < 1 << 20 {
                t.body.append(contentsOf: buffer)
            }
            return size * n
        }
        _ = hangar_curl_setopt_xferinfo_cb(h) { user, _, _, _, _ in
            let t = Unmanaged<Transfer>.fromOpaque(user!).takeUnretainedValue()
            return t.isCancelled() ? 1 : 0
        }
        // The status is known once headers are in; the write callback needs it to route 2xx bodies to the sink.
        statusProbe.set(h)
        let code = curl_easy_perform(h)
        if let e = t.sinkError { throw e }
        if code != CURLE_OK {
            let message = String(cString: curl_easy_strerror(code))
            throw HTTPFailure(message: "\(request.url): \(message)", isTransient: code != CURLE_ABORTED_BY_CALLBACK)
        }
        var status = 0
        _ = hangar_curl_getinfo_long(h, CURLINFO_RESPONSE_CODE, &status)
        var effective: UnsafeMutablePointer<CChar>?
        _ = hangar_curl_getinfo_string(h, CURLINFO_EFFECTIVE_URL, &effective)
        return HTTPResponse(status: status, headers: t.headers, body: t.body,
                            effectiveURL: effective.map { String(cString: $0) } ?? request.url)
    }
}

private func hangar_curl_getinfo_long_for_transfer(_ t: Transfer, _ code: inout Int) {
    if let h = statusProbe.get() {
        var status = 0
        _ = hangar_curl_getinfo_long(h, CURLINFO_RESPONSE_CODE, &status)
        t.status = status
    }
}

private final class StatusProbe: @unchecked Sendable {
    private let key: pthread_key_t = {
        var k = pthread_key_t()
        pthread_key_create(&k, nil)
        return k
    }()
    func set(_ h: UnsafeMutableRawPointer) { pthread_setspecific(key, h) }
    func get() -> UnsafeMutableRawPointer? { pthread_getspecific(key) }
}
private let statusProbe = StatusProbe()

/// Runs `body` until it succeeds, retrying transient `HTTPFailure`s after each backoff delay.
public func withHTTPRetries<T>(backoff: [Double], isCancelled: @Sendable () -> Bool, _ body: (_ attempt: Int) throws -> T) throws -> T {
    var attempt = 0
    while true {
        do { return try body(attempt) } catch let failure as HTTPFailure where failure.isTransient && attempt < backoff.count {
            let until = Date().addingTimeInterval(backoff[attempt])
            while Date() < until { if isCancelled() { throw failure }; usleep(20_000) }
            attempt += 1
        }
    }
}
