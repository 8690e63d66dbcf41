import Foundation
import HangarEngine
import HangarFixtures
import XCTest

/// A signed upgrade through the real UI under tmux: the registry (real docker-registry) gets a newer signed build,
/// the UI's check offers it, `u` upgrades it under the gallery's policy, and Backends and Detail then say it was
/// verified and by whom.
final class SignedUpgradeUITests: RegistryTestCase {
    private func waitFor(_ what: String, _ session: TmuxSession, timeout: Double = 30, _ condition: () -> Bool) {
        let end = Date().addingTimeInterval(timeout)
        while Date() < end {
            if condition() { return }
            usleep(50_000)
        }
        XCTFail("timed out waiting for \(what)\n\(session.screen())")
    }

    func testASignedUpgradeShowsVerifiedOnBackendsAndDetail() throws {
        guard SigstoreTestPKI.isAvailable else { throw XCTSkip("python3 with cryptography is needed to make the test PKI") }
        let pki = try SigstoreTestPKI(directory: site.root + "/pki")
        let repository = "signed/ui"
        try site.writeGallery([("piper", "oci://\(try registry.address)/\(repository):latest", [])])
        func pushSigned(_ label: String) throws -> String {
            let pushed = try pusher.push(directory: try site.source(label), repository: repository, tag: "latest")
            let size = try HTTPClient(options: HTTPClientOptions()).send(HTTPRequest(
                url: "\(try registry.baseURL)/v2/\(repository)/manifests/\(pushed.manifestDigest)", method: "GET",
                headers: ["Accept": OCIMediaType.manifestAccept], resumeFrom: nil)).body.count
            try SigstoreTestPKI.attach(bundle: try pki.sign(digest: pushed.manifestDigest),
                                       to: (pushed.manifestDigest, OCIMediaType.ociManifest, Int64(size)), repository: repository, pusher: pusher)
            return pushed.manifestDigest
        }
        let policy = #""issuer":"https://token.actions.githubusercontent.com","identity_regex":"^https://github\\.com/mudler/LocalAI/""#
        let extra = [
            "LOCALAI_BACKEND_GALLERIES": #"[{"name":"t","url":"file://\#(site.galleryPath)","verification":{\#(policy)}}]"#,
            "HANGAR_SIGSTORE_TRUSTED_ROOT": pki.trustedRoot, "LOCALAI_REQUIRE_BACKEND_INTEGRITY": "true",
        ]
        _ = try pushSigned("ui-1")
        let install = try site.hangar(["install", "piper"], env: extra)
        XCTAssertEqual(install.status, 0, install.transcript)
        let second = try pushSigned("ui-2")

        var environment = site.environment(extra)
        environment["TERM"] = "xterm-256color"
        environment["LC_ALL"] = "C.UTF-8"
        let command = "cd \(shellQuote(site.root)) && " + envCommand(environment, [try HangarExecutable.path()])
        let ui = try TmuxSession(command: command, width: 160, height: 35, scratch: site.root)
        waitFor("the upgrade offer", ui) { ui.lines.contains { $0.contains("piper") && $0.contains("verified") && $0.contains("↑") } }
        try ui.send("u")
        waitFor("the upgrade to finish", ui, timeout: 60) { site.read("piper/VERSION") == "ui-2\n" }
        waitFor("the verified row", ui) { ui.lines.contains { $0.contains("piper") && $0.contains("verified") && !$0.contains("↑") } }
        try ui.send("Enter")
        waitFor("Detail's signature line", ui) {
            ui.lines.contains { $0.contains("signature") && $0.contains("signed by https://github.com/mudler/LocalAI/") }
        }
        let records = try String(contentsOfFile: site.backends + "/.hangar/signatures.json", encoding: .utf8)
        XCTAssertTrue(records.contains(second), records)
        try ui.send("q")
    }
}
