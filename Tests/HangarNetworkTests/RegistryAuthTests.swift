import Foundation
import HangarEngine
import HangarFixtures
import XCTest

/// Bearer-token auth against a real docker-registry configured with the recipe's token server.
final class RegistryAuthTests: XCTestCase {
    func testAnonymousBearerTokenFlowInstallsAndChecks() throws {
        _ = try HangarExecutable.path()
        let tokens = try TokenServer()
        defer { tokens.stop() }
        let registry = try RegistryProcess(tokenAuth: tokens.registryAuth)
        defer { registry.stop() }
        let site = try RegistrySite()
        defer { site.remove() }
        let repo = "private/piper"
        let pusher = ImagePusher(registry: registry.address, authorization: "Bearer " + (try tokens.pushToken(repository: repo)),
                                 workDirectory: site.root + "/push")
        let pushed = try pusher.push(directory: try site.source("piper-1"), repository: repo, tag: "latest", index: true)

        // Without a token the registry refuses: the test would pass for the wrong reason otherwise.
        let bare = try HTTPClient().send(HTTPRequest(url: "\(registry.baseURL)/v2/\(repo)/manifests/latest", method: "HEAD",
                                                     headers: ["Accept": OCIMediaType.manifestAccept]))
        XCTAssertEqual(bare.status, 401)
        XCTAssertTrue(bare.header("www-authenticate")?.hasPrefix("Bearer realm=\"\(tokens.realm)\"") == true)

        try site.writeGallery([("piper", "oci://\(registry.address)/\(repo):latest", [])])
        let issuedBefore = tokens.issuedCount
        let install = try site.hangar(["install", "piper"])
        XCTAssertEqual(install.status, 0, install.transcript)
        XCTAssertEqual(site.read("piper/VERSION"), "piper-1\n")
        XCTAssertEqual(try site.metadata("piper")["digest"] as? String, pushed.digest)
        // One token for the repository's pull scope serves the manifest, the child manifest and the blob.
        XCTAssertEqual(tokens.issuedCount - issuedBefore, 1)

        let check = try site.hangar(["check", "--json"])
        XCTAssertEqual(check.status, 0, check.transcript)
        XCTAssertEqual(check.stdout.trimmingCharacters(in: .whitespacesAndNewlines), "{}", check.transcript)
        XCTAssertFalse(check.stderr.contains("digest check skipped"), check.stderr)
    }

    func testRefusedTokenIsAClearError() throws {
        _ = try HangarExecutable.path()
        let tokens = try TokenServer()
        defer { tokens.stop() }
        let registry = try RegistryProcess(tokenAuth: tokens.registryAuth)
        defer { registry.stop() }
        let site = try RegistrySite()
        defer { site.remove() }
        // A wrong login in the Docker config: the token server answers 401 and hangar says what to fix.
        let config = site.root + "/docker"
        try FileManager.default.createDirectory(atPath: config, withIntermediateDirectories: true)
        let auth = Data("alice:wrong".utf8).base64EncodedString()
        try #"{"auths":{"\#(registry.address)":{"auth":"\#(auth)"}}}"#.write(toFile: config + "/config.json", atomically: true,
                                                                           encoding: .utf8)
        try site.writeGallery([("piper", "oci://\(registry.address)/private/piper:latest", [])])
        let install = try site.hangar(["install", "piper"], env: ["DOCKER_CONFIG": config])
        XCTAssertEqual(install.status, 1, install.transcript)
        XCTAssertTrue(install.stderr.contains("token server \(tokens.realm) refused (HTTP 401)"), install.transcript)
        XCTAssertTrue(install.stderr.contains("check the login in ~/.docker/config.json"), install.transcript)
        XCTAssertFalse(FileManager.default.fileExists(atPath: site.backends + "/piper"))
    }

    func testBasicAuthUsesTheDockerConfigLogin() throws {
        _ = try HangarExecutable.path()
        let registry = try RegistryProcess(basicAuth: ("alice", "secret"))
        defer { registry.stop() }
        let site = try RegistrySite()
        defer { site.remove() }
        let login = Data("alice:secret".utf8).base64EncodedString()
        let pusher = ImagePusher(registry: registry.address, authorization: "Basic " + login, workDirectory: site.root + "/push")
        let pushed = try pusher.push(directory: try site.source("basic-1"), repository: "private/basic", tag: "latest")
        try site.writeGallery([("basic", "oci://\(registry.address)/private/basic:latest", [])])

        let anonymous = try site.hangar(["install", "basic"])
        XCTAssertEqual(anonymous.status, 1, anonymous.transcript)
        XCTAssertTrue(anonymous.stderr.contains("needs a login: run docker login \(registry.address)"), anonymous.transcript)

        // The username/password form of an auths entry, under $DOCKER_CONFIG.
        let config = site.root + "/docker"
        try FileManager.default.createDirectory(atPath: config, withIntermediateDirectories: true)
        try #"{"auths":{"\#(registry.address)":{"username":"alice","password":"secret"}}}"#
            .write(toFile: config + "/config.json", atomically: true, encoding: .utf8)
        let install = try site.hangar(["install", "basic"], env: ["DOCKER_CONFIG": config])
        XCTAssertEqual(install.status, 0, install.transcript)
        XCTAssertEqual(site.read("basic/VERSION"), "basic-1\n")
        XCTAssertEqual(try site.metadata("basic")["digest"] as? String, pushed.digest)
    }
}
