/// hangar's own version: `hangar --version` and the `User-Agent` every request sends.
public enum HangarVersion {
    public static let current = "0.2.0"
}

/// One HTTP request. Only `url` is required; `resumeFrom` asks for the body from that byte on.
public struct HTTPRequest: Sendable {
    public var url: String
    /// `GET` or `HEAD`; `PUT`, `POST`, `PATCH` and `DELETE` (with `body`) are for test harnesses pushing to a registry.
    public var method: String
    /// Sent as given. An `Authorization` header is dropped when a redirect leaves the request's origin.
    public var headers: [String: String]
    /// Sends `Range: bytes=N-`. A 206 answer continues at N; a 200 answer restarts at byte 0, so check `status`.
    public var resumeFrom: Int64?
    /// The request body, sent with `Content-Length` (default content type `application/octet-stream`).
    public var body: [UInt8]?

    public init(url: String, method: String = "GET", headers: [String: String] = [:], resumeFrom: Int64? = nil,
                body: [UInt8]? = nil) {
        self.url = url
        self.method = method
        self.headers = headers
        self.resumeFrom = resumeFrom
        self.body = body
    }
}

/// What the server answered, after redirects.
public struct HTTPResponse: Sendable {
    public var status: Int
    /// Header names lower-cased; repeated headers joined with ", ".
    public var headers: [String: String]
    /// The body (`send`), or the capped body of a non-2xx answer (`stream`); empty for HEAD and streamed 2xx bodies.
    public var body: [UInt8]
    /// The URL that answered, after redirects.
    public var effectiveURL: String

    public init(status: Int, headers: [String: String], body: [UInt8], effectiveURL: String) {
        self.status = status
        self.headers = headers
        self.body = body
        self.effectiveURL = effectiveURL
    }

    /// The value of a header, by case-insensitive name.
    public func header(_ name: String) -> String? { headers[name.lowercased()] }

    /// Whether the status is 2xx.
    public var isSuccess: Bool { (200..<300).contains(status) }

    /// Returns the response when it is 2xx, otherwise throws the `HTTPFailure` naming the status and the URL.
    @discardableResult
    public func requireSuccess(method: String = "GET") throws -> HTTPResponse {
        guard isSuccess else { throw HTTPFailure(status: status, method: method, url: effectiveURL) }
        return self
    }
}

/// A transfer failure; `isTransient` marks what a retry may fix (connect refused/reset, timeouts, stalls, 5xx, 429).
public struct HTTPFailure: Error, Sendable, CustomStringConvertible {
    /// One line naming the URL and, where there is one, the fix.
    public var message: String
    /// The HTTP status when the server answered with an error status; nil for transport failures.
    public var status: Int?
    public var isTransient: Bool

    public init(message: String, status: Int? = nil, isTransient: Bool) {
        self.message = message
        self.status = status
        self.isTransient = isTransient
    }

    /// The failure for an error status, with the usual fix for it.
    public init(status: Int, method: String = "GET", url: String) {
        let hint: String
        switch status {
        case 401: hint = ": the server wants credentials; check them (e.g. docker login for a registry)"
        case 403: hint = ": access denied; check the credentials and that they may read this resource"
        case 404: hint = ": not found; check the URL, repository or tag"
        case 429: hint = ": rate limited; try again later"
        case 500...599: hint = ": the server failed; try again later"
        default: hint = ""
        }
        self.init(message: "\(method) \(url) returned HTTP \(status)\(hint)", status: status,
                  isTransient: HTTPFailure.isTransientStatus(status))
    }

    /// 5xx and 429 are worth a retry; every other status is an answer.
    public static func isTransientStatus(_ status: Int) -> Bool { status == 429 || (500...599).contains(status) }

    public var description: String { message }
}

/// Limits and identity of an `HTTPClient`.
public struct HTTPClientOptions: Sendable {
    public var userAgent: String
    /// Seconds to establish the TCP (and TLS) connection.
    public var connectTimeout: Double
    /// Seconds without a byte received or sent before the transfer fails as stalled.
    public var stallTimeout: Double
    /// Seconds for a whole transfer, redirects included; nil for no limit (streams of large blobs).
    public var totalTimeout: Double?
    /// Largest body `send` keeps in memory; a larger one fails instead of exhausting memory.
    public var maxBodyBytes: Int
    /// Sleeps between attempts of `withHTTPRetries`, in seconds.
    public var retryBackoff: [Double]
    /// Redirects followed before the request fails.
    public var maxRedirects: Int

    public init(userAgent: String = "hangar/\(HangarVersion.current)", connectTimeout: Double = 15,
                stallTimeout: Double = 60, totalTimeout: Double? = nil, maxBodyBytes: Int = 32 << 20,
                retryBackoff: [Double] = [1, 3, 9], maxRedirects: Int = 10) {
        self.userAgent = userAgent
        self.connectTimeout = connectTimeout
        self.stallTimeout = stallTimeout
        self.totalTimeout = totalTimeout
        self.maxBodyBytes = maxBodyBytes
        self.retryBackoff = retryBackoff
        self.maxRedirects = maxRedirects
    }
}
