/// The registry-backed `DigestResolver`: a HEAD of the tag, returning `Docker-Content-Digest` — the top-level
/// digest LocalAI stores and compares (§5.3). Unlike LocalAI it also accepts `oci://` URIs (prefix stripped).
public struct RegistryDigestResolver: DigestResolver {
    public let client: RegistryClient

    public init(client: RegistryClient) {
        self.client = client
    }

    public func digest(of reference: String) throws -> String {
        if BackendURI.looksLikeOCIFile(reference) {
            throw HangarError.operation("\(reference) is a local image tarball: it has no registry digest")
        }
        return try client.headDigest(try ImageReference.parse(reference))
    }

    public func tags(of reference: String) throws -> [String] {
        try client.tags(try ImageReference.parse(reference))
    }
}
