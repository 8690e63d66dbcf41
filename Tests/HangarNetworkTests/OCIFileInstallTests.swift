import Foundation
import HangarEngine
import HangarFixtures
import XCTest

/// `ocifile://` installs from tarballs built the way `docker save` and OCI layouts lay them out.
final class OCIFileInstallTests: XCTestCase {
    var site: RegistrySite!

    override func setUpWithError() throws {
        _ = try HangarExecutable.path()
        site = try RegistrySite()
    }

    override func tearDown() {
        site?.remove()
    }

    private func sh(_ script: String) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/bash")
        process.arguments = ["-c", "set -eo pipefail; " + script]
        try process.run()
        process.waitUntilExit()
        XCTAssertEqual(process.terminationStatus, 0, script)
    }

    private func sha256(_ path: String) throws -> String {
        var hasher = SHA256()
        hasher.update([UInt8](try Data(contentsOf: URL(fileURLWithPath: path))))
        return "sha256:" + hasher.finalizeHex()
    }

    /// `docker save` layout: manifest.json, a config whose diff_ids are the sha256 of each uncompressed layer.tar.
    /// The second layer deletes a file of the first with a whiteout.
    private func dockerSave(diffIDOverride: String? = nil) throws -> String {
        let dir = site.root + "/save"
        let base = try site.source("saved-base", extra: ["old.txt": "from the base layer\n"])
        let top = site.root + "/top"
        try FileManager.default.createDirectory(atPath: top, withIntermediateDirectories: true)
        try "saved-top\n".write(toFile: top + "/VERSION", atomically: true, encoding: .utf8)
        _ = FileManager.default.createFile(atPath: top + "/.wh.old.txt", contents: Data())
        try FileManager.default.createDirectory(atPath: dir + "/aaa", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: dir + "/bbb", withIntermediateDirectories: true)
        try sh("tar -C '\(base)' -cf '\(dir)/aaa/layer.tar' . && tar -C '\(top)' -cf '\(dir)/bbb/layer.tar' .")
        let ids = [try diffIDOverride ?? sha256(dir + "/aaa/layer.tar"), try sha256(dir + "/bbb/layer.tar")]
        try #"{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":["\#(ids[0])","\#(ids[1])"]}}"#
            .write(toFile: dir + "/cfg.json", atomically: true, encoding: .utf8)
        try #"[{"Config":"cfg.json","RepoTags":["localai/saved:latest"],"Layers":["aaa/layer.tar","bbb/layer.tar"]}]"#
            .write(toFile: dir + "/manifest.json", atomically: true, encoding: .utf8)
        let tarball = site.root + "/saved.tar"
        try sh("tar -C '\(dir)' -cf '\(tarball)' manifest.json cfg.json aaa bbb")
        return tarball
    }

    func testInstallFromADockerSaveTarball() throws {
        try site.writeGallery([("saved", "ocifile://" + (try dockerSave()), [])])
        let install = try site.hangar(["install", "saved"])
        XCTAssertEqual(install.status, 0, install.transcript)
        XCTAssertEqual(site.read("saved/VERSION"), "saved-top\n", "the later layer wins")
        XCTAssertNil(site.read("saved/old.txt"), "the whiteout removed the base layer's file")
        XCTAssertNil(site.read("saved/.wh.old.txt"))
        XCTAssertTrue(FileManager.default.isExecutableFile(atPath: site.backends + "/saved/run.sh"))
        XCTAssertEqual(try site.metadata("saved")["uri"] as? String, "ocifile://" + site.root + "/saved.tar")
    }

    func testDockerSaveLayerNotMatchingItsDiffIDIsRefused() throws {
        let wrong = "sha256:" + String(repeating: "0", count: 64)
        try site.writeGallery([("saved", "ocifile://" + (try dockerSave(diffIDOverride: wrong)), [])])
        let install = try site.hangar(["install", "saved"])
        XCTAssertEqual(install.status, 1, install.transcript)
        XCTAssertTrue(install.stderr.contains("not \(wrong): the tarball is corrupt"), install.transcript)
        XCTAssertFalse(FileManager.default.fileExists(atPath: site.backends + "/saved"))
        XCTAssertEqual(site.stagingLeftovers(), [])
    }

    func testInstallFromAnOCILayoutTarball() throws {
        let dir = site.root + "/layout"
        try FileManager.default.createDirectory(atPath: dir + "/blobs/sha256", withIntermediateDirectories: true)
        let pusher = ImagePusher(registry: "unused", workDirectory: site.root + "/build")
        let layer = try pusher.layer(of: try site.source("layout-1"))
        func store(_ path: String) throws -> (digest: String, size: Int) {
            let digest = try sha256(path)
            let size = try Data(contentsOf: URL(fileURLWithPath: path)).count
            try FileManager.default.copyItem(atPath: path, toPath: dir + "/blobs/sha256/" + digest.dropFirst(7))
            return (digest, size)
        }
        let stored = try store(layer.path)
        let config = site.root + "/config.json"
        try #"{"architecture":"amd64","os":"linux"}"#.write(toFile: config, atomically: true, encoding: .utf8)
        let storedConfig = try store(config)
        let manifest = site.root + "/manifest.json"
        try #"{"schemaVersion":2,"mediaType":"\#(OCIMediaType.ociManifest)","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"\#(storedConfig.digest)","size":\#(storedConfig.size)},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":"\#(stored.digest)","size":\#(stored.size)}]}"#
            .write(toFile: manifest, atomically: true, encoding: .utf8)
        let storedManifest = try store(manifest)
        try #"{"schemaVersion":2,"manifests":[{"mediaType":"\#(OCIMediaType.ociManifest)","digest":"\#(storedManifest.digest)","size":\#(storedManifest.size),"annotations":{"org.opencontainers.image.ref.name":"latest"}}]}"#
            .write(toFile: dir + "/index.json", atomically: true, encoding: .utf8)
        try #"{"imageLayoutVersion":"1.0.0"}"#.write(toFile: dir + "/oci-layout", atomically: true, encoding: .utf8)
        try sh("tar -C '\(dir)' -czf '\(site.root)/layout.tar.gz' oci-layout index.json blobs")

        try site.writeGallery([("layout", "ocifile://\(site.root)/layout.tar.gz", [])])
        let install = try site.hangar(["install", "layout"])
        XCTAssertEqual(install.status, 0, install.transcript)
        XCTAssertEqual(site.read("layout/VERSION"), "layout-1\n")
    }
}
