import Foundation

/// A parsed sigstore bundle v0.1–v0.3 (spec §3), with the structural checks done and hostile sizes refused.
struct SigstoreBundle {
    /// The signed content: a signature over the artifact digest, or a DSSE envelope over an in-toto statement.
    enum Content {
        case message(digest: [UInt8], signature: [UInt8])
        case dsse(payloadType: String, payload: [UInt8], signature: [UInt8])

        var signature: [UInt8] {
            switch self {
            case .message(_, let signature), .dsse(_, _, let signature): return signature
            }
        }
    }

    /// An RFC 6962 inclusion proof with its signed checkpoint.
    struct InclusionProof {
        let logIndex: Int64
        let rootHash: [UInt8]
        let treeSize: Int64
        let hashes: [[UInt8]]
        let checkpoint: String
    }

    /// A Rekor v1 entry; `body` is `canonicalizedBody` as opaque bytes (hashed, parsed only for consistency).
    struct LogEntry {
        let logIndex: Int64
        let keyID: [UInt8]
        let kind: String
        let version: String
        let integratedTime: Int64
        let signedEntryTimestamp: [UInt8]?
        let proof: InclusionProof?
        let body: [UInt8]
    }

    let minorVersion: Int
    let leaf: [UInt8]
    let entries: [LogEntry]
    let content: Content

    /// Limits that keep hostile bundles cheap: real bundles are a few KiB with one entry and one certificate.
    static let maxBytes = 1 << 20
    static let maxEntries = 32
    static let maxProofHashes = 64
    static let maxChain = 10

    init(minorVersion: Int, leaf: [UInt8], entries: [LogEntry], content: Content) {
        self.minorVersion = minorVersion
        self.leaf = leaf
        self.entries = entries
        self.content = content
    }

    init(json bytes: [UInt8]) throws(SigstoreError) {
        let document: JSONValue
        do { document = try JSONValue.parse(bytes, maxDepth: 12, maxBytes: Self.maxBytes) } catch {
            throw SigstoreError("bundle is not valid JSON: \(error)")
        }
        guard document.objectValue != nil else { throw SigstoreError("bundle is not a JSON object") }
        let mediaType = document["mediaType"]?.stringValue ?? ""
        switch mediaType {
        case "application/vnd.dev.sigstore.bundle+json;version=0.1": minorVersion = 1
        case "application/vnd.dev.sigstore.bundle+json;version=0.2": minorVersion = 2
        case "application/vnd.dev.sigstore.bundle+json;version=0.3", "application/vnd.dev.sigstore.bundle.v0.3+json":
            minorVersion = 3
        default: throw SigstoreError("bundle media type \"\(mediaType)\" is not a supported sigstore bundle (v0.1–v0.3)")
        }
        guard let material = document["verificationMaterial"], material.objectValue != nil else {
            throw SigstoreError("bundle has no verificationMaterial")
        }
        if let chain = material["x509CertificateChain"] {
            guard minorVersion < 3 else { throw SigstoreError("bundle v0.3 must carry a certificate, not x509CertificateChain") }
            let certificates = chain["certificates"]?.arrayValue ?? []
            guard !certificates.isEmpty else { throw SigstoreError("bundle certificate chain is empty") }
            guard certificates.count <= Self.maxChain else {
                throw SigstoreError("bundle certificate chain has \(certificates.count) certificates (at most \(Self.maxChain))")
            }
            var ders: [[UInt8]] = []
            for cert in certificates {
                guard let raw = cert["rawBytes"]?.stringValue, let der = SigstoreBytes.base64(raw), !der.isEmpty else {
                    throw SigstoreError("bundle certificate is not base64")
                }
                ders.append(der)
            }
            // Only the leaf is used; the chain is rebuilt from the trusted root. A CA in the bundle is refused
            // (conformance: bundle-with-root-cert_fail) because a verifier trusting it would be fooled.
            for der in ders.dropFirst() where try SigstoreCertificate(der: der, what: "bundle chain certificate").isCA {
                throw SigstoreError("bundle certificate chain carries a CA certificate; only the leaf may be sent")
            }
            leaf = ders[0]
        } else if let cert = material["certificate"] {
            guard let raw = cert["rawBytes"]?.stringValue, let der = SigstoreBytes.base64(raw), !der.isEmpty else {
                throw SigstoreError("bundle certificate is missing or not base64")
            }
            leaf = der
        } else if material["publicKey"] != nil {
            throw SigstoreError("bundle is signed with a public key, not a Fulcio certificate: key-based signatures are not supported")
        } else {
            throw SigstoreError("bundle has no signing certificate")
        }

        let rawEntries = material["tlogEntries"]?.arrayValue ?? []
        guard rawEntries.count <= Self.maxEntries else {
            throw SigstoreError("bundle has \(rawEntries.count) transparency log entries (at most \(Self.maxEntries))")
        }
        var entries: [LogEntry] = []
        for raw in rawEntries { entries.append(try Self.entry(raw)) }
        self.entries = entries

        let hasMessage = document["messageSignature"] != nil, hasDSSE = document["dsseEnvelope"] != nil
        guard hasMessage != hasDSSE else { throw SigstoreError("bundle must have exactly one of messageSignature and dsseEnvelope") }
        if let message = document["messageSignature"] {
            guard let digestText = message["messageDigest"]?["digest"]?.stringValue,
                  let digest = SigstoreBytes.base64(digestText) else {
                throw SigstoreError("bundle messageDigest is missing or not base64")
            }
            guard let signatureText = message["signature"]?.stringValue, let signature = SigstoreBytes.base64(signatureText),
                  !signature.isEmpty else {
                throw SigstoreError("bundle signature is missing or not base64")
            }
            content = .message(digest: digest, signature: signature)
        } else {
            let envelope = document["dsseEnvelope"]
            guard let payloadText = envelope?["payload"]?.stringValue, let payload = SigstoreBytes.base64(payloadText) else {
                throw SigstoreError("bundle DSSE payload is missing or not base64")
            }
            let signatures = envelope?["signatures"]?.arrayValue ?? []
            guard signatures.count == 1 else {
                throw SigstoreError("bundle DSSE envelope has \(signatures.count) signatures (exactly 1 is required)")
            }
            guard let sigText = signatures[0]["sig"]?.stringValue, let signature = SigstoreBytes.base64(sigText),
                  !signature.isEmpty else {
                throw SigstoreError("bundle DSSE signature is missing or not base64")
            }
            content = .dsse(payloadType: envelope?["payloadType"]?.stringValue ?? "", payload: payload, signature: signature)
        }
    }

    /// protojson int64: a JSON string or number of decimal digits.
    static func int64(_ value: JSONValue?) -> Int64? {
        switch value {
        case .string(let text)?, .number(let text)?: return Int64(text)
        default: return nil
        }
    }

    private static func entry(_ raw: JSONValue) throws(SigstoreError) -> LogEntry {
        guard let bodyText = raw["canonicalizedBody"]?.stringValue, let body = SigstoreBytes.base64(bodyText), !body.isEmpty else {
            throw SigstoreError("transparency log entry has no base64 canonicalizedBody")
        }
        guard let idText = raw["logId"]?["keyId"]?.stringValue, let keyID = SigstoreBytes.base64(idText), !keyID.isEmpty else {
            throw SigstoreError("transparency log entry has no logId.keyId")
        }
        guard let kind = raw["kindVersion"]?["kind"]?.stringValue, let version = raw["kindVersion"]?["version"]?.stringValue else {
            throw SigstoreError("transparency log entry has no kindVersion")
        }
        guard let logIndex = int64(raw["logIndex"]), logIndex >= 0 else {
            throw SigstoreError("transparency log entry has a missing or negative logIndex")
        }
        let integratedTime = int64(raw["integratedTime"]) ?? 0
        var set: [UInt8]? = nil
        if let promise = raw["inclusionPromise"] {
            guard let text = promise["signedEntryTimestamp"]?.stringValue, let bytes = SigstoreBytes.base64(text), !bytes.isEmpty else {
                throw SigstoreError("transparency log entry has an inclusionPromise without a base64 signedEntryTimestamp")
            }
            set = bytes
        }
        var proof: InclusionProof? = nil
        if let rawProof = raw["inclusionProof"] {
            guard let index = int64(rawProof["logIndex"]), index >= 0, let size = int64(rawProof["treeSize"]), size > 0,
                  let rootText = rawProof["rootHash"]?.stringValue, let root = SigstoreBytes.base64(rootText), root.count == 32 else {
                throw SigstoreError("inclusion proof has a bad logIndex, treeSize or rootHash")
            }
            let rawHashes = rawProof["hashes"]?.arrayValue ?? []
            guard rawHashes.count <= maxProofHashes else { throw SigstoreError("inclusion proof has \(rawHashes.count) hashes") }
            var hashes: [[UInt8]] = []
            for hash in rawHashes {
                guard let text = hash.stringValue, let bytes = SigstoreBytes.base64(text), bytes.count == 32 else {
                    throw SigstoreError("inclusion proof has a hash that is not 32 base64 bytes")
                }
                hashes.append(bytes)
            }
            guard let checkpoint = rawProof["checkpoint"]?["envelope"]?.stringValue, !checkpoint.isEmpty else {
                throw SigstoreError("inclusion proof has no checkpoint")
            }
            proof = InclusionProof(logIndex: index, rootHash: root, treeSize: size, hashes: hashes, checkpoint: checkpoint)
        }
        guard set != nil || proof != nil else {
            throw SigstoreError("transparency log entry has neither an inclusion proof nor an inclusion promise")
        }
        return LogEntry(logIndex: logIndex, keyID: keyID, kind: kind, version: version, integratedTime: integratedTime,
                        signedEntryTimestamp: set, proof: proof, body: body)
    }
}
