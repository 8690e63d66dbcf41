import Foundation
import HangarEngine
import HangarFixtures
import XCTest

/// Signed backends end to end: a private sigstore (CA, CT log and Rekor keys made by the test, in a custom
/// trusted root), images on the real docker-registry (no referrers API, so the `sha256-<hex>` referrers tag and the
/// legacy `.sig` tag are what is found), and the real `hangar` binary in strict mode with a gallery policy.
final class SignedBackendTests: RegistryTestCase {
    let repository = "signed/piper"
    let identityRegex = #"^https://github\.com/mudler/LocalAI/\.github/workflows/backend_merge\.yml@refs/(heads/master|tags/.+)$"#
    var pki: SigstoreTestPKI!

    override func setUpWithError() throws {
        try super.setUpWithError()
        guard SigstoreTestPKI.isAvailable else { throw XCTSkip("python3 with cryptography is needed to make the test PKI") }
        pki = try SigstoreTestPKI(directory: site.root + "/pki")
    }

    /// The gallery list with a `verification:` block, and the test trusted root.
    func environment(notBefore: String? = nil, strict: Bool = true) -> [String: String] {
        var policy = #""issuer":"https://token.actions.githubusercontent.com","identity_regex":"\#(identityRegex.replacingOccurrences(of: "\\", with: "\\\\"))""#
        if let notBefore { policy += #","not_before":"\#(notBefore)""# }
        var env = [
            "LOCALAI_BACKEND_GALLERIES": #"[{"name":"t","url":"file://\#(site.galleryPath)","verification":{\#(policy)}}]"#,
            "HANGAR_SIGSTORE_TRUSTED_ROOT": pki.trustedRoot,
        ]
        if strict { env["LOCALAI_REQUIRE_BACKEND_INTEGRITY"] = "true" }
        return env
    }

    /// Pushes a new build under `latest` and returns its manifest as a referrer subject.
    func pushBuild(_ label: String) throws -> (digest: String, mediaType: String, size: Int64) {
        let pushed = try pusher.push(directory: try site.source(label), repository: repository, tag: "latest")
        let manifest = try HTTPClient(options: HTTPClientOptions()).send(HTTPRequest(
            url: "\(try registry.baseURL)/v2/\(repository)/manifests/\(pushed.manifestDigest)", method: "GET",
            headers: ["Accept": OCIMediaType.manifestAccept], resumeFrom: nil))
        return (pushed.manifestDigest, OCIMediaType.ociManifest, Int64(manifest.body.count))
    }

    func signatureRecord(_ name: String) throws -> [String: Any]? {
        guard let data = FileManager.default.contents(atPath: site.backends + "/.hangar/signatures.json") else { return nil }
        let object = try XCTUnwrap(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        return (object["backends"] as? [String: Any])?[name] as? [String: Any]
    }

    func testSignedImageInstallsInStrictModeAndEveryBadSignatureIsRefusedWithTheOldBuildIntact() throws {
        try site.writeGallery([("piper", "oci://\(try registry.address)/\(repository):latest", [])])
        let first = try pushBuild("signed-1")
        try SigstoreTestPKI.attach(bundle: try pki.sign(digest: first.digest), to: first, repository: repository, pusher: pusher)

        let install = try site.hangar(["install", "piper"], env: environment())
        XCTAssertEqual(install.status, 0, install.transcript)
        XCTAssertEqual(site.read("piper/VERSION"), "signed-1\n")
        let record = try XCTUnwrap(try signatureRecord("piper"), "the verification is recorded")
        XCTAssertEqual(record["digest"] as? String, first.digest)
        XCTAssertEqual(record["identity"] as? String, "https://github.com/mudler/LocalAI/.github/workflows/backend_merge.yml@refs/heads/master")
        XCTAssertEqual(record["issuer"] as? String, "https://token.actions.githubusercontent.com")
        let installed = site.snapshot("piper")

        // Each refusal: a new build under the same tag, signed wrongly (or not at all); reinstall must refuse it.
        func refused(_ label: String, _ expected: String, env: [String: String]? = nil,
                     sign: ((digest: String, mediaType: String, size: Int64)) throws -> Void) throws {
            let build = try pushBuild(label)
            try sign(build)
            let run = try site.hangar(["reinstall", "piper"], env: env ?? environment())
            XCTAssertEqual(run.status, 1, "\(label): \(run.transcript)")
            XCTAssertTrue(run.stderr.contains("image verification failed for"), "\(label): \(run.transcript)")
            XCTAssertTrue(run.stderr.contains(expected), "\(label) should say \(expected): \(run.transcript)")
            XCTAssertEqual(site.snapshot("piper"), installed, "\(label): the installed build is untouched")
            XCTAssertEqual(site.stagingLeftovers(), [], label)
        }
        try refused("unsigned", "no signature found") { _ in }
        try refused("wrong-identity", "does not match identity_regex") { build in
            var signing = SigstoreTestPKI.Signing()
            signing.identity = "https://github.com/evil/LocalAI/.github/workflows/backend_merge.yml@refs/heads/master"
            try SigstoreTestPKI.attach(bundle: try pki.sign(digest: build.digest, signing), to: build, repository: repository, pusher: pusher)
        }
        try refused("wrong-issuer", "issuer \"https://accounts.google.com\" does not match") { build in
            var signing = SigstoreTestPKI.Signing()
            signing.issuer = "https://accounts.google.com"
            try SigstoreTestPKI.attach(bundle: try pki.sign(digest: build.digest, signing), to: build, repository: repository, pusher: pusher)
        }
        try refused("expired", "certificate expired at signing time") { build in
            var signing = SigstoreTestPKI.Signing()
            signing.loggedAfter = 700  // the leaf lived from -30 s to +570 s
            try SigstoreTestPKI.attach(bundle: try pki.sign(digest: build.digest, signing), to: build, repository: repository, pusher: pusher)
        }
        let tomorrow = ISO8601DateFormatter().string(from: Date().addingTimeInterval(86400))
        try refused("not-before", "before not_before cutoff", env: environment(notBefore: tomorrow)) { build in
            try SigstoreTestPKI.attach(bundle: try pki.sign(digest: build.digest), to: build, repository: repository, pusher: pusher)
        }
        // Signed, then the tag is moved to another build: what is pulled now has no signature.
        try refused("repushed", "no signature found") { build in
            try SigstoreTestPKI.attach(bundle: try pki.sign(digest: build.digest), to: build, repository: repository, pusher: pusher)
            _ = try self.pushBuild("repushed-after-signing")
        }
        let record2 = try XCTUnwrap(try signatureRecord("piper"))
        XCTAssertEqual(record2["digest"] as? String, first.digest, "a refusal leaves the record alone")

        // `hangar verify` re-checks the installed digest on the registry, under the policy as it is now.
        let verify = try site.hangar(["verify", "--json"], env: environment())
        XCTAssertEqual(verify.status, 0, verify.transcript)
        let checks = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(verify.stdout.utf8)) as? [[String: Any]])
        XCTAssertEqual(checks.first?["backend"] as? String, "piper", verify.transcript)
        XCTAssertEqual(checks.first?["status"] as? String, "verified", verify.transcript)
        XCTAssertEqual(checks.first?["digest"] as? String, first.digest, verify.transcript)
        let later = try site.hangar(["verify", "piper"], env: environment(notBefore: tomorrow))
        XCTAssertEqual(later.status, 1, later.transcript)
        XCTAssertTrue(later.stdout.contains("before not_before cutoff"), later.transcript)
    }

    func testLegacyCosignSignatureAndABrokenReferrerAheadOfAGoodOne() throws {
        try site.writeGallery([("piper", "oci://\(try registry.address)/\(repository):latest", [])])
        // What LocalAI's CI publishes today: cosign v2 without --new-bundle-format, the `.sig` tag.
        let legacy = try pushBuild("legacy-1")
        try SigstoreTestPKI.attachLegacy(try pki.sign(digest: legacy.digest, { var s = SigstoreTestPKI.Signing(); s.format = .legacy; return s }()),
                                         to: legacy.digest, repository: repository, pusher: pusher)
        let install = try site.hangar(["install", "piper"], env: environment())
        XCTAssertEqual(install.status, 0, install.transcript)
        XCTAssertEqual(site.read("piper/VERSION"), "legacy-1\n")
        XCTAssertEqual(try signatureRecord("piper")?["digest"] as? String, legacy.digest)

        // A bundle whose signature was made for another digest ahead of a good message-signature bundle: LocalAI
        // would stop at the first; hangar tries each and installs.
        let second = try pushBuild("two-referrers")
        let other = try pushBuild("decoy")
        let listed = try SigstoreTestPKI.attach(bundle: try pki.sign(digest: other.digest), to: second, repository: repository, pusher: pusher)
        var message = SigstoreTestPKI.Signing()
        message.format = .message
        try SigstoreTestPKI.attach(bundle: try pki.sign(digest: second.digest, message), to: second, repository: repository,
                                   pusher: pusher, existing: listed)
        try pusher.putManifest(try pusher.blob(bytes: Array(try HTTPClient(options: HTTPClientOptions()).send(HTTPRequest(
            url: "\(try registry.baseURL)/v2/\(repository)/manifests/\(second.digest)", method: "GET",
            headers: ["Accept": OCIMediaType.manifestAccept], resumeFrom: nil)).body), name: "retag"),
            mediaType: OCIMediaType.ociManifest, repository: repository, reference: "latest")
        let reinstall = try site.hangar(["reinstall", "piper"], env: environment())
        XCTAssertEqual(reinstall.status, 0, reinstall.transcript)
        XCTAssertEqual(site.read("piper/VERSION"), "two-referrers\n")
        XCTAssertEqual(try signatureRecord("piper")?["digest"] as? String, second.digest)
    }

    func testWithoutPolicyStrictRefusesAndLenientWarnsOnce() throws {
        try site.writeGallery([("piper", "oci://\(try registry.address)/\(repository):latest", [])])
        _ = try pushBuild("plain")
        let strict = try site.hangar(["install", "piper", "--require-backend-integrity"])
        XCTAssertEqual(strict.status, 1, strict.transcript)
        XCTAssertTrue(strict.stderr.contains("has no verification policy for OCI backend \"piper\""), strict.transcript)
        let lenient = try site.hangar(["install", "piper"])
        XCTAssertEqual(lenient.status, 0, lenient.transcript)
        XCTAssertEqual(lenient.stderr.components(separatedBy: "without signature verification").count - 1, 1, lenient.transcript)
        XCTAssertNil(try signatureRecord("piper"), "nothing verified, nothing recorded")
    }
}
