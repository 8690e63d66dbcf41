import Foundation
import Synchronization

extension SigstoreTrustedRoot {
    /// The public-good trusted root compiled into hangar (see scripts/update-trusted-root.sh).
    public static func publicGood() throws(SigstoreError) -> SigstoreTrustedRoot {
        guard let bytes = SigstoreBytes.base64(publicGoodBase64.filter { !$0.isNewline }) else {
            throw SigstoreError("the embedded sigstore trusted root is corrupt: rebuild hangar")
        }
        return try SigstoreTrustedRoot(json: bytes)
    }
}

/// Where signatures are checked against: the trusted root file the configuration names
/// (`HANGAR_SIGSTORE_TRUSTED_ROOT`, `--trusted-root`), else the public-good root hangar ships. Loaded on the first
/// verification only, so commands that verify nothing never parse it (nor load libcrypto). A root that fails to
/// load is not remembered: a long-running UI or daemon picks up the fixed file at its next verification (LocalAI
/// caches the failure for the whole process).
public final class SigstoreTrust: Sendable {
    public let trustedRootPath: String?
    private let loaded = Mutex<SigstoreVerifier?>(nil)

    public init(trustedRootPath: String?) {
        self.trustedRootPath = trustedRootPath.flatMap { $0.isEmpty ? nil : $0 }
    }

    /// The verifier for the configured root; a root that does not load fails every verification with the reason.
    public func verifier() throws(SigstoreError) -> SigstoreVerifier {
        let result = loaded.withLock { cached -> Result<SigstoreVerifier, SigstoreError> in
            if let cached { return .success(cached) }
            do throws(SigstoreError) {
                let root: SigstoreTrustedRoot
                if let trustedRootPath { root = try SigstoreTrustedRoot(path: trustedRootPath) } else { root = try .publicGood() }
                let verifier = SigstoreVerifier(root: root)
                cached = verifier
                return .success(verifier)
            } catch {
                return .failure(error)
            }
        }
        return try result.get()
    }
}

/// Receives the verification of the candidate that was installed (set by the source, read by the operation).
public final class SignatureSink: Sendable, Equatable {
    private let value = Mutex<(verification: SigstoreVerification, uri: String, digest: String)?>(nil)
    public init() {}
    public var verification: SigstoreVerification? { value.withLock { $0?.verification } }
    /// The candidate URI whose image was verified (the entry's, a mirror's or a fallback tag's).
    public var uri: String? { value.withLock { $0?.uri } }
    /// The image manifest digest that was verified (the platform manifest whose layers were pulled).
    public var digest: String? { value.withLock { $0?.digest } }
    func record(_ verification: SigstoreVerification, uri: String, digest: String) {
        value.withLock { $0 = (verification, uri, digest) }
    }
    public static func == (lhs: SignatureSink, rhs: SignatureSink) -> Bool { lhs === rhs }
}
