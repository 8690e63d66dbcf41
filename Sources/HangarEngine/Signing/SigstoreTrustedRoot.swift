import Foundation

/// A sigstore `trusted_root.json` (spec §2): the Rekor logs, Fulcio CAs and CT logs signatures are checked against.
public struct SigstoreTrustedRoot: Sendable {
    /// A Rekor or CT log key with the closed interval of time it may be used for.
    struct LogKey: Sendable {
        let baseURL: String
        let keyID: [UInt8]
        let publicKey: [UInt8]
        let validFrom: Double
        let validUntil: Double?
        func isValid(at time: Double) -> Bool { time >= validFrom && (validUntil.map { time <= $0 } ?? true) }
    }

    /// A Fulcio CA: its chain (issuing CA first, anchor last) and when it may have issued.
    struct CertificateAuthority: Sendable {
        let uri: String
        let chain: [[UInt8]]
        let validFrom: Double?
        let validUntil: Double?
        func isValid(at time: Double) -> Bool {
            (validFrom.map { time >= $0 } ?? true) && (validUntil.map { time <= $0 } ?? true)
        }
    }

    let tlogs: [LogKey]
    let ctlogs: [LogKey]
    let certificateAuthorities: [CertificateAuthority]

    static let mediaType = "application/vnd.dev.sigstore.trustedroot+json;version=0.1"

    /// Parses a trusted root; every failure names the field (sigstore-go's rules: SHA2_256 logs with a start time).
    public init(json bytes: [UInt8]) throws(SigstoreError) {
        let document: JSONValue
        do { document = try JSONValue.parse(bytes, maxDepth: 16, maxBytes: 4 << 20) } catch {
            throw SigstoreError("trusted root: \(error)")
        }
        guard document["mediaType"]?.stringValue == Self.mediaType else {
            throw SigstoreError("trusted root: mediaType is not \(Self.mediaType)")
        }
        tlogs = try Self.logs(document["tlogs"], field: "tlogs")
        ctlogs = try Self.logs(document["ctlogs"], field: "ctlogs")
        var authorities: [CertificateAuthority] = []
        for (i, ca) in (document["certificateAuthorities"]?.arrayValue ?? []).prefix(64).enumerated() {
            var chain: [[UInt8]] = []
            for cert in (ca["certChain"]?["certificates"]?.arrayValue ?? []).prefix(16) {
                guard let raw = cert["rawBytes"]?.stringValue, let der = SigstoreBytes.base64(raw) else {
                    throw SigstoreError("trusted root: certificateAuthorities[\(i)] has a certificate that is not base64")
                }
                chain.append(der)
            }
            guard !chain.isEmpty else { throw SigstoreError("trusted root: certificateAuthorities[\(i)] has no certificates") }
            let (start, end) = try Self.validity(ca["validFor"], field: "certificateAuthorities[\(i)]")
            authorities.append(CertificateAuthority(uri: ca["uri"]?.stringValue ?? "", chain: chain, validFrom: start,
                                                    validUntil: end))
        }
        certificateAuthorities = authorities
    }

    /// Reads and parses a trusted root file.
    public init(path: String) throws(SigstoreError) {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw SigstoreError("cannot read the sigstore trusted root \(path): pass an existing file with --trusted-root")
        }
        do { try self.init(json: [UInt8](data)) } catch {
            throw SigstoreError("\(path): \(error.message)")
        }
    }

    private static func logs(_ value: JSONValue?, field: String) throws(SigstoreError) -> [LogKey] {
        var keys: [LogKey] = []
        for (i, log) in (value?.arrayValue ?? []).prefix(64).enumerated() {
            let name = "\(field)[\(i)]"
            guard log["hashAlgorithm"]?.stringValue == "SHA2_256" else {
                throw SigstoreError("trusted root: \(name) hashAlgorithm is not SHA2_256")
            }
            guard let raw = log["publicKey"]?["rawBytes"]?.stringValue, let key = SigstoreBytes.base64(raw) else {
                throw SigstoreError("trusted root: \(name) has no base64 publicKey.rawBytes")
            }
            guard let id = log["logId"]?["keyId"]?.stringValue, let keyID = SigstoreBytes.base64(id), !keyID.isEmpty else {
                throw SigstoreError("trusted root: \(name) has no base64 logId.keyId")
            }
            let (start, end) = try validity(log["publicKey"]?["validFor"], field: name)
            guard let start else { throw SigstoreError("trusted root: \(name) has no validFor.start") }
            keys.append(LogKey(baseURL: log["baseUrl"]?.stringValue ?? "", keyID: keyID, publicKey: key,
                               validFrom: start, validUntil: end))
        }
        return keys
    }

    private static func validity(_ value: JSONValue?, field: String) throws(SigstoreError) -> (Double?, Double?) {
        func time(_ key: String) throws(SigstoreError) -> Double? {
            guard let text = value?[key]?.stringValue else { return nil }
            guard let seconds = SigstoreBytes.rfc3339(text) else {
                throw SigstoreError("trusted root: \(field) validFor.\(key) \"\(text)\" is not RFC 3339")
            }
            return seconds
        }
        return (try time("start"), try time("end"))
    }
}
