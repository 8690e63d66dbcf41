import Foundation

/// The result of re-checking one installed backend's signature (`hangar verify`).
public struct InstalledSignatureCheck: Sendable, Equatable {
    public enum Status: String, Sendable { case verified, failed, unverifiable }
    /// The backend directory.
    public var name: String
    public var status: Status
    /// The record on success; what failed or why nothing could be checked otherwise.
    public var record: SignatureRecord?
    public var reason: String
}

extension Engine {
    /// Re-verifies the recorded digest of each installed registry backend (or only `name`) against the registry's
    /// signatures now, under its gallery's `verification:` policy; a success refreshes the record.
    public func verifyInstalled(_ name: String? = nil, isCancelled: @escaping @Sendable () -> Bool = { false }) throws -> [InstalledSignatureCheck] {
        guard let local = store as? LocalDirectoryStore,
              let source = local.sources.first(where: { $0 is OCISource }) as? OCISource else {
            throw HangarError.configuration("this hangar cannot reach registries, so it cannot verify signatures")
        }
        let rows = try installed()
        let records = (try? signatureRecords()) ?? [:]
        var targets: [InstalledBackend] = []
        if let name {
            guard let row = rows.get(name) else {
                throw HangarError.notFound("backend \"\(name)\": backend not found (hangar list shows what is installed)")
            }
            targets = [row]
        } else {
            targets = rows.rows.filter { !$0.isSystem && !$0.isAlias && !$0.isMeta }
        }
        return targets.map { row in
            let directory = String(row.directory.split(separator: "/").last ?? Substring(row.name))
            func result(_ status: InstalledSignatureCheck.Status, _ reason: String, _ record: SignatureRecord? = nil) -> InstalledSignatureCheck {
                InstalledSignatureCheck(name: directory, status: status, record: record, reason: reason)
            }
            guard let metadata = row.metadata, BackendURI.isRegistryImage(metadata.uri) else {
                return result(.unverifiable, "not installed from a registry image: nothing to verify")
            }
            guard let gallery = configuration.galleries.first(where: { $0.url == metadata.galleryURL }),
                  let verification = gallery.verification else {
                return result(.unverifiable, "its gallery has no verification: policy")
            }
            do {
                let policy = try SigstorePolicy(verification, gallery: gallery.name)
                // The image that was verified at install: a mirror or tag fallback when the entry's uri failed.
                let recordedURI = records[directory].map(\.uri).flatMap { $0.isEmpty ? nil : $0 } ?? metadata.uri
                let reference = try ImageReference.parse(recordedURI)
                let client = source.client
                // The platform manifest that was verified at install; else the recorded digest resolved to it.
                var digest = records[directory]?.digest ?? metadata.digest
                guard ImageReference.isDigest(digest) else { return result(.failed, "no digest was recorded at install") }
                if records[directory] == nil {
                    let top = try client.manifest(reference, override: digest, isCancelled: isCancelled)
                    _ = try source.resolveLayers(reference, top: top, isCancelled: isCancelled, imageDigest: &digest)
                }
                let verifier = ImageSignatureVerifier(client: client, verifier: try source.trust.verifier())
                let verified = try verifier.verify(reference, digest: digest, policy: policy, isCancelled: isCancelled)
                let record = SignatureRecord(digest: digest, uri: recordedURI, verification: verified, verifiedAt: RFC3339.localNow())
                try? SignatureRecordsFile(root: root).set(directory, record)
                return result(.verified, record.summary, record)
            } catch let error as SigstoreError {
                return result(.failed, error.message)
            } catch {
                return result(.failed, "\(error)")
            }
        }
    }
}
