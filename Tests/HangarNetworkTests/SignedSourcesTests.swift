import Foundation
import HangarEngine
import HangarFixtures
import XCTest

/// Where signatures are found and which candidates are verified: a registry that has the OCI 1.1 referrers API
/// (a stand-in: `RegistryReplica` on a loopback server serving a real registry's image, plus the referrers answer
/// docker-registry 2.8 cannot give), and mirrors each verified under the gallery's policy.
final class SignedSourcesTests: RegistryTestCase {
    var pki: SigstoreTestPKI!

    override func setUpWithError() throws {
        try super.setUpWithError()
        guard SigstoreTestPKI.isAvailable else { throw XCTSkip("python3 with cryptography is needed to make the test PKI") }
        pki = try SigstoreTestPKI(directory: site.root + "/pki")
    }

    func environment(_ galleries: String? = nil) -> [String: String] {
        let policy = #""issuer":"https://token.actions.githubusercontent.com","identity_regex":"^https://github\\.com/mudler/LocalAI/""#
        return [
            "LOCALAI_BACKEND_GALLERIES": #"[{"name":"t","url":"file://\#(site.galleryPath)","verification":{\#(policy)}}]"#,
            "HANGAR_SIGSTORE_TRUSTED_ROOT": pki.trustedRoot, "LOCALAI_REQUIRE_BACKEND_INTEGRITY": "true",
        ]
    }

    func get(_ path: String) throws -> HTTPResponse {
        try HTTPClient(options: HTTPClientOptions()).send(HTTPRequest(url: "\(try registry.baseURL)\(path)", method: "GET",
                                                                      headers: ["Accept": OCIMediaType.manifestAccept], resumeFrom: nil))
    }

    func pushSigned(_ label: String, repository: String, signed: Bool = true) throws -> (digest: String, referrer: String?) {
        let pushed = try pusher.push(directory: try site.source(label), repository: repository, tag: "latest")
        guard signed else { return (pushed.manifestDigest, nil) }
        let size = try get("/v2/\(repository)/manifests/\(pushed.manifestDigest)").body.count
        let listed = try SigstoreTestPKI.attach(bundle: try pki.sign(digest: pushed.manifestDigest),
                                                to: (pushed.manifestDigest, OCIMediaType.ociManifest, Int64(size)),
                                                repository: repository, pusher: pusher)
        let referrer = try XCTUnwrap(listed.first.flatMap { $0.range(of: "sha256:[0-9a-f]{64}", options: .regularExpression).map { String(listed.first![$0]) } })
        return (pushed.manifestDigest, referrer)
    }

    func testReferrersAPIAnswerIsUsedPageByPageWithoutTheTagFallback() throws {
        let repository = "signed/api"
        let image = try pushSigned("api-1", repository: repository)
        let referrer = try XCTUnwrap(image.referrer)
        let replica = try RegistryReplica(of: try registry, repository: repository, tag: "latest")
        defer { replica.stop() }
        // The referrer manifest and its bundle blob, and the API's answer listing it (OCI index media type).
        let manifest = try get("/v2/\(repository)/manifests/\(referrer)")
        replica.server.route("/v2/\(repository)/manifests/\(referrer)", LoopbackHTTPServer.Reply(
            headers: ["Content-Type": OCIMediaType.ociManifest, "Docker-Content-Digest": referrer], body: manifest.body))
        let layer = try XCTUnwrap(try OCIManifest.parse(manifest.body, contentType: OCIMediaType.ociManifest, source: "referrer")
            .layersForTest.first)
        replica.server.route("/v2/\(repository)/blobs/\(layer)", LoopbackHTTPServer.Reply(
            headers: ["Content-Type": "application/octet-stream"], body: try get("/v2/\(repository)/blobs/\(layer)").body))
        let index = try get("/v2/\(repository)/manifests/sha256-\(image.digest.dropFirst(7))")
        // Two pages: the first lists only an SBOM-like artifact and links to the second, which holds the signature.
        let referrersPath = "/v2/\(repository)/referrers/\(image.digest)"
        let firstPage = #"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:\#(String(repeating: "0", count: 64))","size":2,"artifactType":"application/spdx+json"}]}"#
        replica.server.route(referrersPath) { request in
            if request.target.contains("last=") {
                return LoopbackHTTPServer.Reply(headers: ["Content-Type": OCIMediaType.ociIndex], body: index.body)
            }
            return LoopbackHTTPServer.Reply(headers: ["Content-Type": OCIMediaType.ociIndex,
                                                      "Link": "<\(referrersPath)?n=1&last=a>; rel=\"next\""], text: firstPage)
        }
        try site.writeGallery([("piper", replica.uri, [])])

        let install = try site.hangar(["install", "piper"], env: environment())
        XCTAssertEqual(install.status, 0, install.transcript)
        XCTAssertEqual(site.read("piper/VERSION"), "api-1\n")
        XCTAssertEqual(replica.server.requests(to: referrersPath).count, 2, "both pages were read")
        XCTAssertEqual(replica.server.requests(to: "/v2/\(repository)/manifests/sha256-\(image.digest.dropFirst(7))").count, 0,
                       "a 200 from the referrers API is the answer; the tag schema is not consulted")
    }

    /// What LocalAI's CI publishes today (cosign v2.4.1, `--registry-referrers-mode=oci-1-1`): a simple-signing
    /// signature as an OCI 1.1 referrer. LocalAI's own verifier skips it; hangar verifies it.
    func testCosignV2SimpleSigningReferrerAsLocalAIsCIPublishesIt() throws {
        let repository = "signed/ci"
        let pushed = try pusher.push(directory: try site.source("ci-1"), repository: repository, tag: "latest")
        let size = try get("/v2/\(repository)/manifests/\(pushed.manifestDigest)").body.count
        var legacy = SigstoreTestPKI.Signing()
        legacy.format = .legacy
        try SigstoreTestPKI.attachLegacyReferrer(try pki.sign(digest: pushed.manifestDigest, legacy),
                                                 to: (pushed.manifestDigest, OCIMediaType.ociManifest, Int64(size)),
                                                 repository: repository, pusher: pusher)
        try site.writeGallery([("piper", "oci://\(try registry.address)/\(repository):latest", [])])
        let install = try site.hangar(["install", "piper"], env: environment())
        XCTAssertEqual(install.status, 0, install.transcript)
        XCTAssertEqual(site.read("piper/VERSION"), "ci-1\n")
        let records = try String(contentsOfFile: site.backends + "/.hangar/signatures.json", encoding: .utf8)
        XCTAssertTrue(records.contains(pushed.manifestDigest), records)
    }

    /// A multi-platform image: the platform manifest whose layers are extracted is what must be signed (cosign
    /// `--recursive`, as LocalAI verifies it); a signature on the index alone is not enough.
    func testTheVerifiedDigestIsThePlatformManifestOfAnIndex() throws {
        let repository = "signed/index"
        let pushed = try pusher.push(directory: try site.source("index-1"), repository: repository, tag: "latest", index: true)
        XCTAssertNotEqual(pushed.digest, pushed.manifestDigest)
        let indexSize = try get("/v2/\(repository)/manifests/\(pushed.digest)").body.count
        try SigstoreTestPKI.attach(bundle: try pki.sign(digest: pushed.digest), to: (pushed.digest, OCIMediaType.ociIndex, Int64(indexSize)),
                                   repository: repository, pusher: pusher)
        try site.writeGallery([("piper", "oci://\(try registry.address)/\(repository):latest", [])])
        let indexOnly = try site.hangar(["install", "piper"], env: environment())
        XCTAssertEqual(indexOnly.status, 1, indexOnly.transcript)
        XCTAssertTrue(indexOnly.stderr.contains("no signature found for \(try registry.address)/\(repository)@\(pushed.manifestDigest)"),
                      indexOnly.transcript)

        let size = try get("/v2/\(repository)/manifests/\(pushed.manifestDigest)").body.count
        try SigstoreTestPKI.attach(bundle: try pki.sign(digest: pushed.manifestDigest),
                                   to: (pushed.manifestDigest, OCIMediaType.ociManifest, Int64(size)), repository: repository, pusher: pusher)
        let install = try site.hangar(["install", "piper"], env: environment())
        XCTAssertEqual(install.status, 0, install.transcript)
        let records = try String(contentsOfFile: site.backends + "/.hangar/signatures.json", encoding: .utf8)
        XCTAssertTrue(records.contains(pushed.manifestDigest), "the platform digest is recorded: \(records)")
        XCTAssertEqual(try site.metadata("piper")["digest"] as? String, pushed.digest, "metadata.json keeps LocalAI's top-level digest")
    }

    /// Strict mode without a policy: an image mirror of a tarball entry is refused too (LocalAI decides by the
    /// entry's uri only, so it would pull the image unverified).
    func testStrictModeRefusesAnImageMirrorOfATarballEntryWithoutAPolicy() throws {
        _ = try pushSigned("plain-mirror", repository: "signed/plain", signed: false)
        let address = try registry.address
        try site.site.gallery(yaml: """
            - name: piper
              uri: file://\(site.root)/missing/piper.tar.gz
              sha256: \(String(repeating: "0", count: 64))
              mirrors:
                - oci://\(address)/signed/plain:latest
                - file://\(site.root)/missing/piper-2.tar.gz
            """)
        let run = try site.hangar(["install", "piper", "--require-backend-integrity"])
        XCTAssertEqual(run.status, 1, run.transcript)
        XCTAssertTrue(run.stderr.contains("strict integrity: gallery \"t\" has no verification policy for the image oci://\(address)/signed/plain:latest"),
                      run.transcript)
        XCTAssertNil(site.read("piper/run.sh"), "nothing was installed")
    }

    func testEveryCandidateIsVerifiedAMirrorWithASignatureInstalls() throws {
        _ = try pushSigned("primary-unsigned", repository: "signed/primary", signed: false)
        let mirror = try pushSigned("mirror-signed", repository: "signed/mirror")
        let address = try registry.address
        try site.writeGallery([("piper", "oci://\(address)/signed/primary:latest", ["oci://\(address)/signed/mirror:latest"])])
        let install = try site.hangar(["install", "piper"], env: environment())
        XCTAssertEqual(install.status, 0, install.transcript)
        XCTAssertTrue(install.stderr.contains("no signature found"), "the unsigned primary was refused: \(install.transcript)")
        XCTAssertEqual(site.read("piper/VERSION"), "mirror-signed\n")
        let records = try String(contentsOfFile: site.backends + "/.hangar/signatures.json", encoding: .utf8)
        XCTAssertTrue(records.contains(mirror.digest), records)
        XCTAssertTrue(records.contains("\"uri\": \"oci://\(address)/signed/mirror:latest\""), records)
        // `hangar verify` checks the image that was installed: the mirror's, not the unsigned primary.
        let verify = try site.hangar(["verify", "piper"], env: environment())
        XCTAssertEqual(verify.status, 0, verify.transcript)
        XCTAssertTrue(verify.stdout.contains("verified"), verify.transcript)

        // A mirror with nothing to verify (an ocifile:// tarball) is refused under the policy, not installed silently
        // (LocalAI skips verification for it); the signed mirror after it is what gets installed.
        try site.writeGallery([("piper", "oci://\(address)/signed/primary:latest",
                                ["ocifile://\(site.root)/image.tar", "oci://\(address)/signed/mirror:latest"])])
        let again = try site.hangar(["reinstall", "piper"], env: environment())
        XCTAssertEqual(again.status, 0, again.transcript)
        XCTAssertTrue(again.stderr.contains("ocifile://\(site.root)/image.tar carries no signatures to verify, but gallery \"t\" requires signed images"),
                      again.transcript)
        XCTAssertEqual(site.read("piper/VERSION"), "mirror-signed\n")
    }
}

private extension OCIManifest {
    /// The layer digests of an image manifest (empty for an index).
    var layersForTest: [String] {
        if case .image(_, let layers) = self { return layers.map(\.digest) }
        return []
    }
}
