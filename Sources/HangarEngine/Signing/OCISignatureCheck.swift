import Foundation

extension OCISource {
    /// Verifies the signature of the image manifest `digest` under the gallery's policy, as LocalAI does before
    /// extracting: one line naming the failed check, `image verification failed for "<uri>": …`, on refusal.
    func verifySignature(_ reference: ImageReference, digest: String, verification: GalleryVerification, gallery: String,
                         uri: String, context: JobContext) throws -> SigstoreVerification {
        let policy: SigstorePolicy
        do { policy = try SigstorePolicy(verification, gallery: gallery) } catch {
            throw HangarError.configuration("\(error.message): fix the gallery's verification: block")
        }
        context.phase(.verifying, "signature of \(reference.registry)/\(reference.repository)@\(digest)")
        do {
            let verifier = ImageSignatureVerifier(client: client, verifier: try trust.verifier())
            let result = try verifier.verify(reference, digest: digest, policy: policy, isCancelled: { context.isCancelled })
            context.phase(.verifying, "signed by \(result.identity) (\(result.issuer)), Rekor log index \(result.logIndex)")
            return result
        } catch let error as SigstoreError {
            throw HangarError.operation("image verification failed for \"\(uri)\": \(error.message)")
        }
    }
}
