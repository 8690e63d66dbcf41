import Foundation

/// What a verified signature proved: who signed, which issuer vouched, and where and when Rekor logged it.
public struct SigstoreVerification: Sendable, Equatable, Codable {
    public let identity: String
    public let issuer: String
    public let logIndex: Int64
    /// Unix seconds: the earliest verified signing time (a Rekor SET-backed integratedTime).
    public let signedAt: Int64

    public init(identity: String, issuer: String, logIndex: Int64, signedAt: Int64) {
        self.identity = identity
        self.issuer = issuer
        self.logIndex = logIndex
        self.signedAt = signedAt
    }
}

/// Verifies sigstore bundles against a trusted root and a policy (spec §4): Rekor v1 entries (body, SET, inclusion
/// proof, checkpoint), the Fulcio chain at signing time, EKU, SCT, the signature and the identity policy.
/// Installs and the conformance test call the same entry point, ``verify(bundle:digest:policy:)``.
public struct SigstoreVerifier: Sendable {
    public let root: SigstoreTrustedRoot

    public init(root: SigstoreTrustedRoot) { self.root = root }

    static let sctOID = "1.3.6.1.4.1.11129.2.4.2"
    static let issuerV1OID = "1.3.6.1.4.1.57264.1.1"
    static let issuerV2OID = "1.3.6.1.4.1.57264.1.8"
    static let otherNameSANOID = "1.3.6.1.4.1.57264.1.7"

    /// Verifies the bundle JSON for the artifact whose SHA-256 is `digest` (an OCI manifest digest, or a file's).
    public func verify(bundle json: [UInt8], digest: [UInt8], policy: SigstorePolicy) throws(SigstoreError) -> SigstoreVerification {
        let bundle = try SigstoreBundle(json: json)
        return try verify(bundle, digest: digest, policy: policy)
    }

    func verify(_ bundle: SigstoreBundle, digest: [UInt8], policy: SigstorePolicy,
                requireProof: Bool = true) throws(SigstoreError) -> SigstoreVerification {
        let leaf = try SigstoreCertificate(der: bundle.leaf, what: "signing certificate")
        guard let leafKey = leaf.publicKey else { throw SigstoreError("signing certificate has no usable public key") }

        // 1. Transparency log entries.
        var seen = Set<String>()
        var verifiedLogs = Set<[UInt8]>()
        var trustedTimes: [(time: Int64, logIndex: Int64)] = []
        var firstLogIndex: Int64?
        for entry in bundle.entries {
            let key = SigstoreBytes.hex(entry.keyID) + "/\(entry.logIndex)"
            guard seen.insert(key).inserted else { throw SigstoreError("bundle has the same log entry twice") }
            guard let log = root.tlogs.first(where: { $0.keyID == entry.keyID }) else { continue }
            if requireProof && entry.proof == nil {
                throw SigstoreError("transparency log entry has no inclusion proof (bundle v\(bundle.minorVersion) needs one)")
            }
            try checkBody(entry, bundle: bundle, leaf: leaf)
            if let proof = entry.proof { try checkInclusion(entry, proof: proof, log: log) }
            if let set = entry.signedEntryTimestamp {
                try checkSET(entry, set: set, log: log)
                trustedTimes.append((entry.integratedTime, entry.logIndex))
            }
            guard entry.integratedTime >= leaf.notBefore && entry.integratedTime <= leaf.notAfter else {
                throw SigstoreError("certificate expired at signing time: logged at \(Self.format(entry.integratedTime)), certificate valid \(Self.format(leaf.notBefore))–\(Self.format(leaf.notAfter))")
            }
            verifiedLogs.insert(entry.keyID)
            if firstLogIndex == nil { firstLogIndex = entry.logIndex }
        }
        guard !verifiedLogs.isEmpty else {
            throw SigstoreError("no transparency log entry from a Rekor log in the trusted root (signed by another sigstore instance?)")
        }
        guard let earliest = trustedTimes.min(by: { $0.time < $1.time }) else {
            throw SigstoreError("signature has no verified timestamp (no signed entry timestamp from Rekor)")
        }

        // 2. The certificate chains to a Fulcio CA at every verified time; the issuing CA serves the SCT check.
        var issuingCA: SigstoreCertificate?
        for (time, _) in trustedTimes {
            issuingCA = try chainedIssuer(leaf, at: time)
        }
        guard leaf.hasCodeSigningEKU else { throw SigstoreError("signing certificate lacks the code-signing extended key usage") }
        guard let issuingCA else { throw SigstoreError("certificate does not chain to the trusted root") }
        try checkSCT(leaf, issuer: issuingCA)

        // 3. The signature covers this artifact.
        try checkSignature(bundle.content, key: leafKey, digest: digest)

        // 4. Identity, issuer and not_before.
        let identity = leaf.subjectAlternativeName(kind: 0) ?? leaf.subjectAlternativeName(kind: 1)
            ?? leaf.subjectAlternativeName(kind: 2, otherOID: Self.otherNameSANOID)
        guard let identity else { throw SigstoreError("signing certificate has no identity (URI, email or Fulcio SAN)") }
        // Fulcio writes .1.1 (raw) before .1.8 (DER UTF8String) and sigstore-go keeps the last: .1.8 when present.
        let issuer = leaf.extensionValue(Self.issuerV2OID).flatMap(SigstoreBytes.derUTF8String)
            ?? leaf.extensionValue(Self.issuerV1OID).map { String(decoding: $0, as: UTF8.self) }
        guard let issuer else { throw SigstoreError("signing certificate has no Fulcio issuer extension") }
        try policy.check(identity: identity, issuer: issuer)
        if let cutoff = policy.notBefore, Double(earliest.time) < cutoff {
            throw SigstoreError("signature integrated time \(Self.format(earliest.time)) is before not_before cutoff \(policy.notBeforeText ?? "")")
        }
        return SigstoreVerification(identity: identity, issuer: issuer, logIndex: earliest.logIndex, signedAt: earliest.time)
    }

    static func format(_ time: Int64) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        return formatter.string(from: Date(timeIntervalSince1970: TimeInterval(time)))
    }

    // MARK: Rekor

    /// The body is what Rekor logged: its signature, certificate and hash must be this bundle's (spliced entries).
    private func checkBody(_ entry: SigstoreBundle.LogEntry, bundle: SigstoreBundle, leaf: SigstoreCertificate) throws(SigstoreError) {
        let body: JSONValue
        do { body = try JSONValue.parse(entry.body, maxDepth: 10, maxBytes: 256 << 10) } catch {
            throw SigstoreError("transparency log entry body is not JSON")
        }
        guard body["kind"]?.stringValue == entry.kind, body["apiVersion"]?.stringValue == entry.version else {
            throw SigstoreError("transparency log entry body is not the \(entry.kind) \(entry.version) its kindVersion says")
        }
        func sameCertificate(_ b64PEM: String?) -> Bool {
            guard let pem = b64PEM.flatMap(SigstoreBytes.base64), let der = SigstoreBytes.pemBlock(pem) else { return false }
            return der == leaf.der
        }
        let spec = body["spec"]
        switch (entry.kind, entry.version, bundle.content) {
        case ("hashedrekord", "0.0.1", .message(let digest, let signature)):
            guard spec?["signature"]?["content"]?.stringValue.flatMap(SigstoreBytes.base64) == signature else {
                throw SigstoreError("transparency log entry does not hold this bundle's signature")
            }
            guard sameCertificate(spec?["signature"]?["publicKey"]?["content"]?.stringValue) else {
                throw SigstoreError("transparency log entry does not hold this bundle's certificate")
            }
            guard spec?["data"]?["hash"]?["algorithm"]?.stringValue == "sha256",
                  spec?["data"]?["hash"]?["value"]?.stringValue.flatMap(SigstoreBytes.fromHex) == digest else {
                throw SigstoreError("transparency log entry hash does not match the bundle's message digest")
            }
        case ("dsse", "0.0.1", .dsse(_, let payload, let signature)):
            guard spec?["payloadHash"]?["algorithm"]?.stringValue == "sha256",
                  spec?["payloadHash"]?["value"]?.stringValue.flatMap(SigstoreBytes.fromHex) == SigstoreBytes.sha256(payload) else {
                throw SigstoreError("transparency log entry payload hash does not match the DSSE payload")
            }
            let signatures = spec?["signatures"]?.arrayValue ?? []
            guard signatures.contains(where: {
                $0["signature"]?.stringValue.flatMap(SigstoreBytes.base64) == signature && sameCertificate($0["verifier"]?.stringValue)
            }) else {
                throw SigstoreError("transparency log entry does not hold this bundle's DSSE signature and certificate")
            }
        case ("intoto", "0.0.2", .dsse(_, let payload, let signature)):
            // Legacy entries: the envelope is inside the body, its signatures base64-encoded once more.
            let content = spec?["content"]
            guard content?["payloadHash"]?["algorithm"]?.stringValue == "sha256",
                  content?["payloadHash"]?["value"]?.stringValue.flatMap(SigstoreBytes.fromHex) == SigstoreBytes.sha256(payload) else {
                throw SigstoreError("transparency log entry payload hash does not match the DSSE payload")
            }
            let signatures = content?["envelope"]?["signatures"]?.arrayValue ?? []
            guard signatures.contains(where: {
                $0["sig"]?.stringValue.flatMap(SigstoreBytes.base64).map { String(decoding: $0, as: UTF8.self) }
                    .flatMap(SigstoreBytes.base64) == signature && sameCertificate($0["publicKey"]?.stringValue)
            }) else {
                throw SigstoreError("transparency log entry does not hold this bundle's DSSE signature and certificate")
            }
        default:
            throw SigstoreError("transparency log entry kind \(entry.kind) \(entry.version) does not fit the bundle content (hashedrekord or dsse 0.0.1, intoto 0.0.2 expected)")
        }
    }

    /// The signed entry timestamp: Rekor's promise, over the JCS-canonical entry (spec §4 step 2.2).
    private func checkSET(_ entry: SigstoreBundle.LogEntry, set: [UInt8], log: SigstoreTrustedRoot.LogKey) throws(SigstoreError) {
        guard log.isValid(at: Double(entry.integratedTime)) else {
            throw SigstoreError("Rekor key was not valid at the entry's integrated time \(Self.format(entry.integratedTime))")
        }
        // Keys in JCS order; base64 and lowercase hex need no escaping.
        let payload = "{\"body\":\"\(SigstoreBytes.base64String(entry.body))\",\"integratedTime\":\(entry.integratedTime),"
            + "\"logID\":\"\(SigstoreBytes.hex(entry.keyID))\",\"logIndex\":\(entry.logIndex)}"
        guard SigstoreBytes.verify(key: log.publicKey, signature: set, message: Array(payload.utf8)) == 1 else {
            throw SigstoreError("signed entry timestamp (SET) invalid")
        }
    }

    /// RFC 6962 / RFC 9162 §2.1.3.2 inclusion proof, then the signed checkpoint that commits to its root.
    private func checkInclusion(_ entry: SigstoreBundle.LogEntry, proof: SigstoreBundle.InclusionProof,
                                log: SigstoreTrustedRoot.LogKey) throws(SigstoreError) {
        guard proof.logIndex < proof.treeSize else { throw SigstoreError("inclusion proof invalid: index beyond the tree size") }
        var fn = UInt64(proof.logIndex), sn = UInt64(proof.treeSize - 1)
        var hash = SigstoreBytes.sha256([0] + entry.body)
        for sibling in proof.hashes {
            guard sn != 0 else { throw SigstoreError("inclusion proof invalid: too many hashes") }
            if fn & 1 == 1 || fn == sn {
                hash = SigstoreBytes.sha256([1] + sibling + hash)
                while fn & 1 == 0 && fn != 0 { fn >>= 1; sn >>= 1 }
            } else {
                hash = SigstoreBytes.sha256([1] + hash + sibling)
            }
            fn >>= 1
            sn >>= 1
        }
        guard sn == 0, hash == proof.rootHash else { throw SigstoreError("inclusion proof invalid: the path does not lead to the root hash") }
        try checkCheckpoint(proof, log: log)
    }

    /// A Rekor v1 signed note: origin `<host> - <tree>`, size and root must be the proof's, and every signature
    /// line must carry the log's key hint and verify (rekor's pkg/util/signed_note.go).
    private func checkCheckpoint(_ proof: SigstoreBundle.InclusionProof, log: SigstoreTrustedRoot.LogKey) throws(SigstoreError) {
        let envelope = Array(proof.checkpoint.utf8)
        var split: Int?
        if envelope.count >= 2 {
            for i in stride(from: envelope.count - 2, through: 0, by: -1) where envelope[i] == 10 && envelope[i + 1] == 10 {
                split = i
                break
            }
        }
        guard let split, split > 0 else { throw SigstoreError("checkpoint invalid: not a signed note") }
        let text = Array(envelope[...split])
        let lines = String(decoding: text, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false)
        guard lines.count >= 4 else { throw SigstoreError("checkpoint invalid: too few lines") }
        let origin = lines[0]
        guard let dash = origin.range(of: " - ", options: .backwards), !origin[dash.upperBound...].isEmpty,
              origin[dash.upperBound...].allSatisfy(\.isASCII), origin[dash.upperBound...].allSatisfy(\.isNumber) else {
            throw SigstoreError("checkpoint origin \"\(origin)\" is not a Rekor v1 log (Rekor v2 is not supported yet)")
        }
        guard Int64(lines[1]) == proof.treeSize, SigstoreBytes.base64(String(lines[2])) == proof.rootHash else {
            throw SigstoreError("checkpoint does not commit to the inclusion proof's tree size and root hash")
        }
        let signatureLines = String(decoding: envelope[(split + 2)...], as: UTF8.self).split(separator: "\n")
        guard !signatureLines.isEmpty else { throw SigstoreError("checkpoint has no signature") }
        for line in signatureLines {
            guard line.hasPrefix("\u{2014} "), let space = line.lastIndex(of: " "),
                  let blob = SigstoreBytes.base64(String(line[line.index(after: space)...])), blob.count > 4 else {
                throw SigstoreError("checkpoint signature line is malformed")
            }
            guard Array(blob.prefix(4)) == Array(log.keyID.prefix(4)) else {
                throw SigstoreError("checkpoint signature key hint is not the Rekor log's")
            }
            guard SigstoreBytes.verify(key: log.publicKey, signature: Array(blob.dropFirst(4)), message: text) == 1 else {
                throw SigstoreError("checkpoint signature invalid")
            }
        }
    }

    // MARK: Certificate

    /// The issuing CA certificate of the first trusted-root CA valid at `time` that the leaf chains to.
    private func chainedIssuer(_ leaf: SigstoreCertificate, at time: Int64) throws(SigstoreError) -> SigstoreCertificate {
        var reasons: [String] = []
        for ca in root.certificateAuthorities where ca.isValid(at: Double(time)) {
            var chain: [SigstoreCertificate] = []
            for der in ca.chain { chain.append(try SigstoreCertificate(der: der, what: "trusted root CA certificate")) }
            if let reason = leaf.chains(to: chain, at: time) { reasons.append(reason) } else { return chain[0] }
        }
        if reasons.isEmpty { throw SigstoreError("no Fulcio CA in the trusted root was valid at signing time \(Self.format(time))") }
        if reasons.contains(where: { $0.contains("expired") || $0.contains("not yet valid") }) {
            throw SigstoreError("certificate expired at signing time \(Self.format(time)) (\(reasons.joined(separator: "; ")))")
        }
        throw SigstoreError("certificate does not chain to the trusted root's Fulcio CA at signing time (\(reasons.joined(separator: "; ")))")
    }

    /// At least one embedded SCT verifies against a CT log of the trusted root valid at the SCT's time (spec §5.4 B).
    private func checkSCT(_ leaf: SigstoreCertificate, issuer: SigstoreCertificate) throws(SigstoreError) {
        guard let value = leaf.extensionValue(Self.sctOID), let list = SigstoreBytes.derOctetString(value) else {
            throw SigstoreError("signing certificate has no embedded SCT (certificate transparency)")
        }
        guard let tbs = leaf.precertificateTBS, let issuerKey = issuer.publicKey else {
            throw SigstoreError("cannot rebuild the precertificate for the SCT check")
        }
        let issuerKeyHash = SigstoreBytes.sha256(issuerKey)
        var reader = ByteReader(list)
        guard let total = reader.uint(2), Int(total) == reader.remaining else { throw SigstoreError("SCT list is malformed") }
        var count = 0
        while reader.remaining > 0 && count < 16 {
            count += 1
            guard let length = reader.uint(2), var sct = reader.take(Int(length)).map(ByteReader.init),
                  let version = sct.uint(1), version == 0, let logID = sct.take(32), let timestamp = sct.uint(8),
                  let extLength = sct.uint(2), let extensions = sct.take(Int(extLength)),
                  sct.uint(2) != nil, let sigLength = sct.uint(2), let signature = sct.take(Int(sigLength)), sct.remaining == 0 else {
                throw SigstoreError("SCT list is malformed")
            }
            guard let log = root.ctlogs.first(where: { $0.keyID == logID }), log.isValid(at: Double(timestamp) / 1000) else {
                continue
            }
            var signed: [UInt8] = [0, 0]
            signed += ByteReader.bigEndian(timestamp, bytes: 8)
            signed += [0, 1] + issuerKeyHash
            signed += ByteReader.bigEndian(UInt64(tbs.count), bytes: 3) + tbs
            signed += ByteReader.bigEndian(extLength, bytes: 2) + extensions
            if SigstoreBytes.verify(key: log.publicKey, signature: signature, message: signed) == 1 { return }
        }
        throw SigstoreError("no SCT verifies against a CT log of the trusted root (signed certificate timestamp invalid)")
    }

    // MARK: Signature

    private func checkSignature(_ content: SigstoreBundle.Content, key: [UInt8], digest: [UInt8]) throws(SigstoreError) {
        switch content {
        case .message(let signedDigest, let signature):
            guard signedDigest == digest else {
                throw SigstoreError("signature is for sha256:\(SigstoreBytes.hex(signedDigest)), not sha256:\(SigstoreBytes.hex(digest))")
            }
            guard SigstoreBytes.verify(key: key, signature: signature, message: digest, prehashed: true) == 1 else {
                throw SigstoreError("signature invalid: it was not made by the certificate's key over this digest")
            }
        case .dsse(let payloadType, let payload, let signature):
            let pae = Array("DSSEv1 \(payloadType.utf8.count) \(payloadType) \(payload.count) ".utf8) + payload
            guard SigstoreBytes.verify(key: key, signature: signature, message: pae) == 1 else {
                throw SigstoreError("DSSE signature invalid: it was not made by the certificate's key over this envelope")
            }
            let statement: JSONValue
            do { statement = try JSONValue.parse(payload, maxDepth: 16, maxBytes: 1 << 20) } catch {
                throw SigstoreError("DSSE payload is not an in-toto statement")
            }
            let subjects = statement["subject"]?.arrayValue ?? []
            guard subjects.count <= 1024 else { throw SigstoreError("in-toto statement has more than 1024 subjects") }
            let wanted = SigstoreBytes.hex(digest)
            guard subjects.contains(where: { $0["digest"]?["sha256"]?.stringValue?.lowercased() == wanted }) else {
                throw SigstoreError("in-toto statement's subjects do not include sha256:\(wanted)")
            }
        }
    }
}

/// Reads a TLS-encoded byte structure (the SCT list) with bounds checks.
struct ByteReader {
    private let bytes: [UInt8]
    private var offset = 0
    init(_ bytes: [UInt8]) { self.bytes = bytes }
    var remaining: Int { bytes.count - offset }
    mutating func take(_ count: Int) -> [UInt8]? {
        guard count >= 0, count <= remaining else { return nil }
        defer { offset += count }
        return Array(bytes[offset..<(offset + count)])
    }
    mutating func uint(_ count: Int) -> UInt64? {
        take(count).map { $0.reduce(0) { $0 << 8 | UInt64($1) } }
    }
    static func bigEndian(_ value: UInt64, bytes: Int) -> [UInt8] {
        (0..<bytes).reversed().map { UInt8(truncatingIfNeeded: value >> (8 * UInt64($0))) }
    }
}
