import Foundation
import HangarEngine
import HangarFixtures
import XCTest

/// `--require-backend-integrity` (§4.8): without a gallery policy OCI sources are refused before any request or disk
/// write; with one, an image without a valid signature is refused before anything is extracted; without the flag the
/// install goes on and says it is unverified. (Signed images: SignedBackendTests.)
final class RegistryIntegrityTests: RegistryTestCase {
    func testStrictModeRefusesOCIBeforeContactingTheRegistry() throws {
        let repo = "strict/piper"
        try pusher.push(directory: try site.source("strict-1"), repository: repo, tag: "latest", index: true)
        let replica = try RegistryReplica(of: try registry, repository: repo, tag: "latest")
        defer { replica.stop() }
        try site.writeGallery([("piper", replica.uri, [])])
        let galleryURL = "file://" + site.galleryPath

        let noPolicy = try site.hangar(["install", "piper", "--require-backend-integrity"])
        XCTAssertEqual(noPolicy.status, 1, noPolicy.transcript)
        XCTAssertTrue(noPolicy.stderr.contains("strict integrity: gallery \"t\" has no verification policy for OCI backend \"piper\""),
                      noPolicy.transcript)

        // A gallery with a cosign policy: the unsigned image is refused, and nothing is written.
        let withPolicy = try site.hangar(["install", "piper"], env: [
            "LOCALAI_REQUIRE_BACKEND_INTEGRITY": "true",
            "LOCALAI_BACKEND_GALLERIES": #"[{"name":"t","url":"\#(galleryURL)","verification":{"issuer":"https://token.actions.githubusercontent.com","identity_regex":".*"}}]"#,
        ])
        XCTAssertEqual(withPolicy.status, 1, withPolicy.transcript)
        XCTAssertTrue(withPolicy.stderr.contains("image verification failed for \"\(replica.uri)\": no signature found"), withPolicy.transcript)
        XCTAssertFalse(FileManager.default.fileExists(atPath: site.backends + "/piper"))
        XCTAssertEqual(site.stagingLeftovers(), [])

        let lenient = try site.hangar(["install", "piper"])
        XCTAssertEqual(lenient.status, 0, lenient.transcript)
        XCTAssertTrue(lenient.stderr.contains("without signature verification"), lenient.transcript)
    }
}
