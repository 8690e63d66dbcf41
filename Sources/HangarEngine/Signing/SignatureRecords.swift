import Foundation
import Synchronization

/// A verified signature as hangar recorded it when it installed a backend's build.
public struct SignatureRecord: Sendable, Equatable {
    /// The image manifest digest that was verified (the platform manifest whose layers were extracted).
    public var digest: String
    /// The image reference it was pulled from (the entry's uri, a mirror or a tag fallback).
    public var uri: String
    public var identity: String
    public var issuer: String
    public var logIndex: Int64
    /// Unix seconds: when Rekor logged the signature.
    public var signedAt: Int64
    /// RFC 3339: when hangar verified it.
    public var verifiedAt: String

    public init(digest: String, uri: String, verification: SigstoreVerification, verifiedAt: String) {
        self.digest = digest
        self.uri = uri
        identity = verification.identity
        issuer = verification.issuer
        logIndex = verification.logIndex
        signedAt = verification.signedAt
        self.verifiedAt = verifiedAt
    }

    init?(_ value: JSONValue) {
        guard let digest = value["digest"]?.stringValue, let identity = value["identity"]?.stringValue,
              let issuer = value["issuer"]?.stringValue, let verifiedAt = value["verified_at"]?.stringValue,
              let logIndex = SigstoreBundle.int64(value["log_index"]), let signedAt = SigstoreBundle.int64(value["signed_at"]) else {
            return nil
        }
        (self.digest, self.identity, self.issuer, self.logIndex, self.signedAt, self.verifiedAt) =
            (digest, identity, issuer, logIndex, signedAt, verifiedAt)
        uri = value["uri"]?.stringValue ?? ""
    }

    var jsonValue: JSONValue {
        .object(JSONObject([
            "digest": .string(digest), "uri": .string(uri), "identity": .string(identity), "issuer": .string(issuer),
            "log_index": .number(String(logIndex)), "signed_at": .number(String(signedAt)), "verified_at": .string(verifiedAt),
        ]))
    }

    /// "signed by X (issuer), verified <time>" for the UI and `hangar verify`.
    public var summary: String { "signed by \(identity) (\(issuer)), verified \(verifiedAt)" }
}

/// hangar's own record of verified signatures, `<backends>/.hangar/signatures.json` (LocalAI's metadata.json stays
/// LocalAI's), keyed by backend directory. A build installed without verification has no record.
struct SignatureRecordsFile: Sendable {
    static let fileName = "signatures.json"
    let root: BackendsRoot

    var path: String { root.privatePath + "/" + Self.fileName }

    func read() throws -> [String: SignatureRecord] {
        let object = try SettingsFileIO.readObject(path, named: "hangar's signatures file \(path)")
        var result: [String: SignatureRecord] = [:]
        for member in object["backends"]?.objectValue?.members ?? [] {
            if let record = SignatureRecord(member.value) { result[member.key] = record }
        }
        return result
    }

    /// Sets (or with nil removes) `name`'s record under the file's lock.
    func set(_ name: String, _ record: SignatureRecord?) throws {
        try root.withStateLock("signatures") {
            var records = try read()
            if records[name] == record { return }
            records[name] = record
            try BackendsRoot.writeStateFile(path, key: "backends", entries: records.mapValues(\.jsonValue))
        }
    }
}

extension Engine {
    /// Every recorded signature verification, by backend directory.
    public func signatureRecords() throws -> [String: SignatureRecord] { try SignatureRecordsFile(root: root).read() }
}

extension LocalDirectoryStore {
    /// Records (or clears) what was verified for the build just committed; a failure only warns, the install stands.
    func recordSignature(_ name: String, sink: SignatureSink, context: JobContext) {
        let record = sink.verification.map {
            SignatureRecord(digest: sink.digest ?? "", uri: sink.uri ?? "", verification: $0, verifiedAt: RFC3339.localNow())
        }
        do { try SignatureRecordsFile(root: root).set(name, record) } catch {
            context.warning("signature verification of \(name) not recorded: \(error)")
        }
    }
}

/// The signature records as the UI reads them on every frame: re-read only when the file changed.
public enum SignatureRecordCache {
    private static let cache = Mutex<[String: (stamp: String, records: [String: SignatureRecord])]>([:])

    /// The records of the backends directory `backendsPath`, by backend directory name (empty when none).
    public static func records(backendsPath: String) -> [String: SignatureRecord] {
        let file = SignatureRecordsFile(root: BackendsRoot(backendsPath))
        var info = stat()
        guard stat(file.path, &info) == 0 else { return [:] }
        let stamp = "\(info.st_mtim.tv_sec).\(info.st_mtim.tv_nsec).\(info.st_size).\(info.st_ino)"
        if let hit = cache.withLock({ $0[backendsPath] }), hit.stamp == stamp { return hit.records }
        let records = (try? file.read()) ?? [:]
        cache.withLock { $0[backendsPath] = (stamp, records) }
        return records
    }
}
