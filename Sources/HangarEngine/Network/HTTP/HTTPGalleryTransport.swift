/// Fetches gallery indexes (and `.ref` files) over http(s) with the shared `HTTPClient`.
/// A 200 that is an HTML page (captive portal, login wall) or an empty body is a failure, so the loader moves on
/// to the next mirror or the last-known-good copy instead of taking it for an (empty) index.
public struct HTTPGalleryTransport: GalleryTransport {
    private let client: HTTPClient

    /// The default client gets LocalAI's whole-transfer limit for gallery fetches (120 s).
    public init(client: HTTPClient = HTTPClient(options: HTTPClientOptions(totalTimeout: 120))) {
        self.client = client
    }

    public func get(url: String) throws -> [UInt8] {
        let response = try client.send(HTTPRequest(url: url, headers: ["Accept": "application/yaml, text/yaml, text/plain, */*"]))
        try response.requireSuccess()
        let body = response.body
        guard let first = body.first(where: { ![0x20, 0x09, 0x0A, 0x0D].contains($0) }) else {
            throw HangarError.operation("gallery \(url) returned an empty body: check the URL")
        }
        let contentType = response.header("content-type")?.lowercased() ?? ""
        if contentType.contains("text/html") || first == UInt8(ascii: "<") {
            throw HangarError.operation(
                "gallery \(url) returned an HTML page, not a YAML index (a captive portal or login page?): check the URL and the network")
        }
        return body
    }
}
