import Foundation

/// Finds an image manifest's sigstore signatures on its registry and verifies them (spec §7): the OCI 1.1
/// referrers API, else the referrers tag `sha256-<hex>`, then the legacy cosign `sha256-<hex>.sig` tag that LocalAI's
/// CI publishes today. Every candidate is tried (cosign v3's rule, not LocalAI's first-that-parses), so one broken
/// signature ahead of a good one cannot block an install; any single one that verifies is enough.
public struct ImageSignatureVerifier: Sendable {
    public let client: RegistryClient
    public let verifier: SigstoreVerifier

    /// Bounds against a hostile registry: index size, entries, signatures tried, and bytes per signature blob.
    static let maxIndexEntries = 1000
    static let maxCandidates = 32
    static let maxBlobBytes = 1 << 20
    static let maxReferrerPages = 10

    public init(client: RegistryClient, verifier: SigstoreVerifier) {
        self.client = client
        self.verifier = verifier
    }

    /// One signature found on the registry, not yet verified.
    enum Candidate {
        /// A sigstore bundle referrer manifest (digest of the referrer manifest).
        case bundle(String)
        /// A legacy cosign signature manifest (tag `.sig`, or an OCI 1.1 simple-signing referrer).
        case legacy(reference: ImageReference)
    }

    /// Verifies that `digest` (the manifest being installed, `sha256:<hex>`) in `reference`'s repository carries a
    /// signature that satisfies `policy`. The error names the failed check (e.g. "no signature found").
    public func verify(_ reference: ImageReference, digest: String, policy: SigstorePolicy,
                       isCancelled: @escaping @Sendable () -> Bool = { false }) throws -> SigstoreVerification {
        guard digest.hasPrefix("sha256:"), let digestBytes = SigstoreBytes.fromHex(String(digest.dropFirst(7))),
              digestBytes.count == 32 else {
            throw SigstoreError("cannot verify \(digest): only sha256 manifest digests are signed")
        }
        let repository = ImageReference(registry: reference.registry, repository: reference.repository, tag: nil, digest: nil)
        let pinned = "\(repository.registry)/\(repository.repository)@\(digest)"
        // The `.sig` tag is always tried, after at most `maxCandidates - 1` referrers.
        var candidates = Array(try referrers(repository, digest: digest, isCancelled: isCancelled).prefix(Self.maxCandidates - 1))
        let sigTag = "sha256-" + digest.dropFirst(7) + ".sig"
        candidates.append(.legacy(reference: repository.withTag(String(sigTag))))
        var failures: [String] = []
        for candidate in candidates {
            if isCancelled() { throw CancelledError() }
            do {
                switch candidate {
                case .bundle(let referrer):
                    let blob = try firstLayer(repository, manifest: referrer, isCancelled: isCancelled)
                    return try verifier.verify(bundle: blob, digest: digestBytes, policy: policy)
                case .legacy(let tagged):
                    guard let manifest = try optionalManifest(tagged, isCancelled: isCancelled) else { continue }
                    return try verifyLegacy(repository, manifest: manifest, digest: digest, policy: policy, isCancelled: isCancelled)
                }
            } catch let error as SigstoreError {
                failures.append(error.message)
            } catch let error as CancelledError {
                throw error
            } catch {
                failures.append("\(error)")
            }
        }
        guard let first = failures.first else {
            throw SigstoreError("no signature found for \(pinned) (no sigstore bundle referrer, no referrers tag, no .sig tag): sign it with cosign or use a gallery without verification")
        }
        let others = failures.count > 1 ? " (and \(failures.count - 1) other signature\(failures.count == 2 ? "" : "s") refused)" : ""
        throw SigstoreError("signature of \(pinned) refused: \(first)\(others)")
    }

    // MARK: Discovery

    /// Signature candidates among the referrers of `digest`: the referrers API when the registry has it (a 200 with
    /// the index media type, as go-containerregistry requires), else the `sha256-<hex>` referrers tag.
    func referrers(_ repository: ImageReference, digest: String, isCancelled: @escaping @Sendable () -> Bool) throws -> [Candidate] {
        var entries: [JSONValue] = []
        func page(_ path: String) throws -> HTTPResponse {
            try HTTPRetry.run(backoff: client.retryBackoff, isCancelled: isCancelled) { attempt in
                let response = try client.send(repository, path: path, method: "GET",
                                               headers: ["Accept": OCIMediaType.ociIndex], isRetry: attempt > 0, isCancelled: isCancelled)
                if response.status == 429 || response.status >= 500 { _ = try client.checked(response, repository, what: "referrers") }
                return response
            }
        }
        func isIndex(_ response: HTTPResponse) -> Bool {
            let contentType = response.header("content-type")?.split(separator: ";").first.map {
                $0.trimmingCharacters(in: .whitespaces)
            } ?? ""
            return response.status == 200 && contentType == OCIMediaType.ociIndex
        }
        var response = try page("/referrers/\(digest)")
        if isIndex(response) {
            entries = try Self.indexEntries(response.body, what: "referrers of \(digest)")
            // `Link: <…>; rel="next"` pages (go-containerregistry does not follow them), bounded like the list.
            var pages = 1
            while let next = response.header("link").flatMap(Self.nextReferrersPage), pages < Self.maxReferrerPages {
                response = try page(next)
                guard isIndex(response) else { break }
                entries += try Self.indexEntries(response.body, what: "referrers of \(digest)")
                pages += 1
                guard entries.count <= Self.maxIndexEntries else {
                    throw SigstoreError("referrers of \(digest) list more than \(Self.maxIndexEntries) entries: refused")
                }
            }
        } else {
            let tag = repository.withTag("sha256-" + digest.dropFirst(7))
            if let index = try optionalManifest(tag, isCancelled: isCancelled) {
                entries = try Self.indexEntries(index.bytes, what: "referrers tag \(tag)")
            }
        }
        var candidates: [Candidate] = []
        for entry in entries {
            guard let child = entry["digest"]?.stringValue, ImageReference.isDigest(child) else { continue }
            let type = entry["artifactType"]?.stringValue ?? ""
            if type.hasPrefix("application/vnd.dev.sigstore.bundle.") && type.hasSuffix("+json") {
                candidates.append(.bundle(child))
            } else if type == "application/vnd.dev.cosign.artifact.sig.v1+json" {
                candidates.append(.legacy(reference: ImageReference(registry: repository.registry, repository: repository.repository,
                                                                    tag: nil, digest: child)))
            }
        }
        return candidates
    }

    /// The `rel="next"` target of a referrers `Link` header, as a path below the repository, or nil.
    static func nextReferrersPage(_ link: String) -> String? {
        for part in link.split(separator: ",") where part.contains("rel=\"next\"") {
            guard let open = part.firstIndex(of: "<"), let close = part.firstIndex(of: ">"), open < close else { continue }
            let target = String(part[part.index(after: open)..<close])
            guard let range = target.range(of: "/referrers/") else { continue }
            return String(target[range.lowerBound...])
        }
        return nil
    }

    static func indexEntries(_ bytes: [UInt8], what: String) throws -> [JSONValue] {
        let index: JSONValue
        do { index = try JSONValue.parse(bytes, maxDepth: 16, maxBytes: 4 << 20) } catch {
            throw SigstoreError("\(what) is not a JSON index: \(error)")
        }
        let manifests = index["manifests"]?.arrayValue ?? []
        guard manifests.count <= maxIndexEntries else {
            throw SigstoreError("\(what) lists \(manifests.count) referrers (at most \(maxIndexEntries)): refused")
        }
        return manifests
    }

    /// A manifest by tag or digest, or nil when the registry has none (404).
    func optionalManifest(_ reference: ImageReference, isCancelled: @escaping @Sendable () -> Bool) throws -> RegistryClient.FetchedManifest? {
        do {
            return try client.manifest(reference, isCancelled: isCancelled)
        } catch let error as HangarError where error.message.contains("not found") {
            return nil
        }
    }

    /// Layer 0 of the manifest `digest` (a referrer), digest-checked and size-capped.
    func firstLayer(_ repository: ImageReference, manifest digest: String,
                    isCancelled: @escaping @Sendable () -> Bool) throws -> [UInt8] {
        let fetched = try client.manifest(repository, override: digest, isCancelled: isCancelled)
        let manifest: JSONValue
        do { manifest = try JSONValue.parse(fetched.bytes, maxDepth: 16, maxBytes: 1 << 20) } catch {
            throw SigstoreError("signature manifest \(digest) is not JSON")
        }
        guard let layer = manifest["layers"]?.arrayValue?.first, let blob = layer["digest"]?.stringValue else {
            throw SigstoreError("signature manifest \(digest) has no layer")
        }
        return try self.blob(repository, digest: blob, isCancelled: isCancelled)
    }

    /// A small blob, refused beyond `maxBlobBytes` and checked against its digest.
    func blob(_ repository: ImageReference, digest: String, isCancelled: @escaping @Sendable () -> Bool) throws -> [UInt8] {
        guard ImageReference.isDigest(digest) else { throw SigstoreError("signature blob digest \(digest) is not sha256") }
        var bytes: [UInt8] = []
        let response = try HTTPRetry.run(backoff: client.retryBackoff, isCancelled: isCancelled) { _ in
            bytes.removeAll()
            return try client.streamBlob(repository, digest: digest, from: 0, isCancelled: isCancelled) { chunk in
                guard bytes.count + chunk.count <= Self.maxBlobBytes else {
                    throw SigstoreError("signature blob \(digest) is larger than \(Self.maxBlobBytes) bytes: refused")
                }
                bytes.append(contentsOf: chunk.bindMemory(to: UInt8.self))
            }
        }
        _ = try client.checked(response, repository, what: "signature blob")
        guard "sha256:" + SigstoreBytes.hex(SigstoreBytes.sha256(bytes)) == digest else {
            throw SigstoreError("signature blob \(digest) arrived with other bytes")
        }
        return bytes
    }

    // MARK: Legacy cosign signatures

    /// A cosign simple-signing manifest: each layer is a payload naming the image digest, with the signature,
    /// certificate and Rekor SET in its annotations (spec §7.3). These carry no inclusion proof, only the SET.
    func verifyLegacy(_ repository: ImageReference, manifest: RegistryClient.FetchedManifest, digest: String,
                      policy: SigstorePolicy, isCancelled: @escaping @Sendable () -> Bool) throws -> SigstoreVerification {
        let document: JSONValue
        do { document = try JSONValue.parse(manifest.bytes, maxDepth: 16, maxBytes: 1 << 20) } catch {
            throw SigstoreError("cosign signature manifest is not JSON")
        }
        let layers = (document["layers"]?.arrayValue ?? []).filter {
            $0["mediaType"]?.stringValue == "application/vnd.dev.cosign.simplesigning.v1+json"
        }
        guard !layers.isEmpty else { throw SigstoreError("cosign signature manifest has no simple-signing layer") }
        var failures: [String] = []
        for layer in layers.prefix(Self.maxCandidates) {
            do {
                guard let blobDigest = layer["digest"]?.stringValue else { throw SigstoreError("cosign signature layer has no digest") }
                let payload = try blob(repository, digest: blobDigest, isCancelled: isCancelled)
                let bundle = try Self.legacyBundle(annotations: layer["annotations"], payload: payload)
                let claims: JSONValue
                do { claims = try JSONValue.parse(payload, maxDepth: 16, maxBytes: Self.maxBlobBytes) } catch {
                    throw SigstoreError("cosign signature payload is not JSON")
                }
                guard claims["critical"]?["image"]?["docker-manifest-digest"]?.stringValue == digest else {
                    throw SigstoreError("cosign signature payload is for another image digest")
                }
                return try verifier.verify(bundle, digest: SigstoreBytes.sha256(payload), policy: policy, requireProof: false)
            } catch let error as SigstoreError {
                failures.append(error.message)
            }
        }
        throw SigstoreError(failures.first ?? "cosign signature manifest has no usable signature")
    }

    /// The bundle a legacy signature layer amounts to: a message signature over the payload with a SET-only entry.
    static func legacyBundle(annotations: JSONValue?, payload: [UInt8]) throws(SigstoreError) -> SigstoreBundle {
        guard let signatureText = annotations?["dev.cosignproject.cosign/signature"]?.stringValue,
              let signature = SigstoreBytes.base64(signatureText), !signature.isEmpty else {
            throw SigstoreError("cosign signature has no base64 signature annotation")
        }
        guard let pem = annotations?["dev.sigstore.cosign/certificate"]?.stringValue,
              let leaf = SigstoreBytes.pemBlock(Array(pem.utf8)) else {
            throw SigstoreError("cosign signature has no certificate (keyless signatures only)")
        }
        guard let rekorText = annotations?["dev.sigstore.cosign/bundle"]?.stringValue else {
            throw SigstoreError("cosign signature has no Rekor bundle annotation (not in the transparency log)")
        }
        let rekor: JSONValue
        do { rekor = try JSONValue.parse(rekorText, maxDepth: 8, maxBytes: 256 << 10) } catch {
            throw SigstoreError("cosign signature's Rekor bundle is not JSON")
        }
        guard let setText = rekor["SignedEntryTimestamp"]?.stringValue, let set = SigstoreBytes.base64(setText),
              let bodyText = rekor["Payload"]?["body"]?.stringValue, let body = SigstoreBytes.base64(bodyText),
              let time = SigstoreBundle.int64(rekor["Payload"]?["integratedTime"]),
              let index = SigstoreBundle.int64(rekor["Payload"]?["logIndex"]), index >= 0,
              let logID = rekor["Payload"]?["logID"]?.stringValue.flatMap(SigstoreBytes.fromHex), !logID.isEmpty else {
            throw SigstoreError("cosign signature's Rekor bundle lacks its SET, body, time, index or log ID")
        }
        let entryBody = try? JSONValue.parse(body, maxDepth: 10, maxBytes: 256 << 10)
        let entry = SigstoreBundle.LogEntry(
            logIndex: index, keyID: logID, kind: entryBody?["kind"]?.stringValue ?? "", version: entryBody?["apiVersion"]?.stringValue ?? "",
            integratedTime: time, signedEntryTimestamp: set, proof: nil, body: body)
        return SigstoreBundle(minorVersion: 1, leaf: leaf, entries: [entry],
                              content: .message(digest: SigstoreBytes.sha256(payload), signature: signature))
    }
}
