import Foundation
import HangarEngine

/// One image copied from a real registry onto a `LoopbackHTTPServer` that speaks the same read API (`/v2/`,
/// manifests by tag and digest with their `Content-Type` and `Docker-Content-Digest`, blobs with `Range`),
/// so tests can script faults (500s, cut connections, stalls) on exactly the requests they care about.
public final class RegistryReplica: Sendable {
    public let server: LoopbackHTTPServer
    public let repository: String
    public let tag: String
    /// Digests of the layer blobs, in manifest order.
    public let layerDigests: [String]

    /// `127.0.0.1:<port>`.
    public var address: String { "127.0.0.1:\(server.port)" }

    /// Copies `repository:tag` (an index and its children, or one manifest) and every blob they name.
    public init(of registry: RegistryProcess, repository: String, tag: String) throws {
        self.repository = repository
        self.tag = tag
        server = try LoopbackHTTPServer()
        let http = HTTPClient()
        let base = "\(registry.baseURL)/v2/\(repository)"
        server.route("/v2/", LoopbackHTTPServer.Reply(headers: ["Content-Type": "application/json"], text: "{}"))
        var layers: [String] = []
        var pending = [tag]
        while let reference = pending.popLast() {
            let response = try http.send(HTTPRequest(url: "\(base)/manifests/\(reference)",
                                                     headers: ["Accept": OCIMediaType.manifestAccept]))
            guard response.status == 200, let digest = response.header("docker-content-digest") else {
                throw FixtureError("replica: \(repository):\(reference) answered \(response.status)")
            }
            let reply = LoopbackHTTPServer.Reply(headers: ["Content-Type": response.header("content-type") ?? "",
                                                           "Docker-Content-Digest": digest], body: response.body)
            server.route("/v2/\(repository)/manifests/\(reference)", reply)
            server.route("/v2/\(repository)/manifests/\(digest)", reply)
            let manifest = try OCIManifest.parse(response.body, contentType: response.header("content-type") ?? "",
                                                 source: repository)
            switch manifest {
            case .index(let entries):
                pending += entries.map(\.digest)
            case .image(let config, let imageLayers):
                for blob in [config] + imageLayers {
                    let body = try http.send(HTTPRequest(url: "\(base)/blobs/\(blob.digest)"))
                    guard body.status == 200 else { throw FixtureError("replica: blob \(blob.digest) answered \(body.status)") }
                    server.route("/v2/\(repository)/blobs/\(blob.digest)",
                                 LoopbackHTTPServer.Reply(headers: ["Content-Type": "application/octet-stream",
                                                                    "Docker-Content-Digest": blob.digest], body: body.body))
                }
                layers += imageLayers.map(\.digest)
            }
        }
        layerDigests = layers
    }

    /// The path of a blob's route, for `addFaults` and `requests(to:)`.
    public func blobPath(_ digest: String) -> String { "/v2/\(repository)/blobs/\(digest)" }

    /// `oci://127.0.0.1:<port>/<repository>:<tag>`.
    public var uri: String { "oci://\(address)/\(repository):\(tag)" }

    public func stop() { server.stop() }
}
