import Foundation
import HangarEngine
import HangarFixtures
import XCTest

/// Install, check and upgrade against a real docker-registry on 127.0.0.1, through the real `hangar` binary.
final class RegistryInstallTests: RegistryTestCase {
    func testInstallFromIndexThenCheckPushUpgrade() throws {
        let registry = try self.registry
        let repo = "localai/llama-cpp"
        let v1 = try pusher.push(directory: try site.source("v1"), repository: repo, tag: "latest", index: true)
        try site.writeGallery([("llama-cpp", "oci://\(registry.address)/\(repo):latest", [])])

        let install = try site.hangar(["install", "llama-cpp"])
        XCTAssertEqual(install.status, 0, install.transcript)
        XCTAssertEqual(site.read("llama-cpp/run.sh"), "#!/bin/sh\necho v1\n")
        XCTAssertTrue(FileManager.default.isExecutableFile(atPath: site.backends + "/llama-cpp/run.sh"))
        let digest = try headDigest(registry, repo, "latest")
        XCTAssertEqual(digest, v1.digest, "the tag's digest is the index's")
        XCTAssertEqual(try site.metadata("llama-cpp")["digest"] as? String, digest)

        let quiet = try site.hangar(["check", "--json"])
        XCTAssertEqual(quiet.status, 0, quiet.transcript)
        XCTAssertEqual(quiet.stdout.trimmingCharacters(in: .whitespacesAndNewlines), "{}")

        let v2 = try pusher.push(directory: try site.source("v2"), repository: repo, tag: "latest", index: true)
        XCTAssertNotEqual(v2.digest, v1.digest)
        let check = try site.hangar(["check", "--json"])
        XCTAssertEqual(check.status, 0, check.transcript)
        let report = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(check.stdout.utf8)) as? [String: Any])
        let info = try XCTUnwrap(report["llama-cpp"] as? [String: Any], check.stdout)
        XCTAssertEqual(info["backend_name"] as? String, "llama-cpp")
        XCTAssertEqual(info["installed_digest"] as? String, v1.digest)
        XCTAssertEqual(info["available_digest"] as? String, v2.digest)
        XCTAssertEqual(info["installed_version"] as? String, "")
        XCTAssertEqual(info["available_version"] as? String, "")

        let upgrade = try site.hangar(["upgrade", "llama-cpp"])
        XCTAssertEqual(upgrade.status, 0, upgrade.transcript)
        XCTAssertEqual(site.read("llama-cpp/run.sh"), "#!/bin/sh\necho v2\n")
        XCTAssertEqual(try site.metadata("llama-cpp")["digest"] as? String, v2.digest)
        XCTAssertEqual(try site.hangar(["check", "--json"]).stdout.trimmingCharacters(in: .whitespacesAndNewlines), "{}")
    }

    func testInstallFromSingleDockerManifest() throws {
        let registry = try self.registry
        let repo = "localai/whisper"
        let pushed = try pusher.push(directory: try site.source("whisper-1"), repository: repo, tag: "latest-cpu-whisper",
                                     format: .docker, index: false)
        try site.writeGallery([("whisper", "oci://\(registry.address)/\(repo):latest-cpu-whisper", [])])
        let install = try site.hangar(["install", "whisper"])
        XCTAssertEqual(install.status, 0, install.transcript)
        XCTAssertEqual(site.read("whisper/VERSION"), "whisper-1\n")
        XCTAssertEqual(try site.metadata("whisper")["digest"] as? String, pushed.digest)
        XCTAssertEqual(try headDigest(registry, repo, "latest-cpu-whisper"), pushed.digest)
    }

    func testMirrorIsUsedWhenThePrimaryRepositoryIsMissing() throws {
        let registry = try self.registry
        let pushed = try pusher.push(directory: try site.source("mirrored"), repository: "mirror/kokoro", tag: "latest-kokoro",
                                     index: true)
        // The mirror is a bare reference, as the official gallery's Docker Hub mirrors are (no oci:// prefix).
        try site.writeGallery([("kokoro", "oci://\(registry.address)/missing/kokoro:latest-kokoro",
                                ["\(registry.address)/mirror/kokoro:latest-kokoro"])])
        let install = try site.hangar(["install", "kokoro"])
        XCTAssertEqual(install.status, 0, install.transcript)
        XCTAssertEqual(site.read("kokoro/VERSION"), "mirrored\n")
        XCTAssertEqual(try site.metadata("kokoro")["digest"] as? String, pushed.digest, "the digest actually pulled")
        XCTAssertTrue(install.stderr.contains("missing/kokoro"), "the failed primary is reported: \(install.stderr)")
    }

    func testUpgradeFallsBackToAMirrorWhenThePrimaryFailsMidPull() throws {
        let registry = try self.registry
        let repo = "localai/piper"
        try pusher.push(directory: try site.source("piper-v1"), repository: repo, tag: "latest", index: true)
        try site.writeGallery([("piper", "oci://\(registry.address)/\(repo):latest", [])])
        XCTAssertEqual(try site.hangar(["install", "piper"]).status, 0)

        let v2 = try pusher.push(directory: try site.source("piper-v2"), repository: repo, tag: "latest", index: true)
        // The primary answers manifests but every blob request fails; the mirror (a bare reference) has the same image.
        let primary = try RegistryReplica(of: registry, repository: repo, tag: "latest")
        defer { primary.stop() }
        primary.server.addFaults(primary.blobPath(primary.layerDigests[0]), Array(repeating: .status(503), count: 10))
        try site.writeGallery([("piper", primary.uri, ["\(registry.address)/\(repo):latest"])])

        let upgrade = try site.hangar(["upgrade", "piper"])
        XCTAssertEqual(upgrade.status, 0, upgrade.transcript)
        XCTAssertTrue(upgrade.stderr.contains("HTTP 503") && upgrade.stderr.contains("trying the next source"), upgrade.transcript)
        XCTAssertEqual(site.read("piper/VERSION"), "piper-v2\n")
        XCTAssertEqual(try site.metadata("piper")["digest"] as? String, v2.digest)
        XCTAssertEqual(try site.metadata("piper")["uri"] as? String, primary.uri, "the gallery URI is recorded, as LocalAI does")
    }

    func testTagFallbacksReachTheRegistry() throws {
        let registry = try self.registry
        // Only the branch build exists for one entry, only its development build for the other (§4.2 b and c).
        let master = try pusher.push(directory: try site.source("master-build"), repository: "tags/x", tag: "master-cpu-x")
        let dev = try pusher.push(directory: try site.source("dev-build"), repository: "tags/y", tag: "master-cpu-y-development")
        try site.writeGallery([("x", "oci://\(registry.address)/tags/x:latest-cpu-x", []),
                               ("y", "oci://\(registry.address)/tags/y:latest-cpu-y", [])])
        for (name, label, pushed) in [("x", "master-build", master), ("y", "dev-build", dev)] {
            let install = try site.hangar(["install", name])
            XCTAssertEqual(install.status, 0, install.transcript)
            XCTAssertEqual(site.read("\(name)/VERSION"), "\(label)\n")
            XCTAssertEqual(try site.metadata(name)["digest"] as? String, pushed.digest, "the digest of what was pulled")
        }
    }
}
