import Foundation
import HangarFixtures
@testable import HangarEngine
import XCTest

/// Unit tests of the pieces under the registry client: reference parsing, challenges, logins, manifests, platforms.
final class OCIReferenceTests: XCTestCase {
    private func parse(_ text: String) throws -> ImageReference { try ImageReference.parse(text) }

    func testRegistryHostIsAFirstComponentWithDotColonOrLocalhost() throws {
        let quay = try parse("quay.io/go-skynet/local-ai-backends:latest-cpu-llama-cpp")
        XCTAssertEqual(quay.registry, "quay.io")
        XCTAssertEqual(quay.repository, "go-skynet/local-ai-backends")
        XCTAssertEqual(quay.tag, "latest-cpu-llama-cpp")
        XCTAssertEqual(quay.apiHost, "quay.io")

        let local = try parse("localhost/x/y")
        XCTAssertEqual(local.registry, "localhost")
        XCTAssertEqual(local.repository, "x/y")
        XCTAssertEqual(local.tag, "latest")

        let port = try parse("127.0.0.1:5000/localai/llama-cpp:v1.2")
        XCTAssertEqual(port.registry, "127.0.0.1:5000")
        XCTAssertEqual(port.hostName, "127.0.0.1")
        XCTAssertEqual(port.tag, "v1.2")

        let v6 = try parse("[::1]:5000/a:b")
        XCTAssertEqual(v6.registry, "[::1]:5000")
        XCTAssertTrue(v6.isLoopback)
    }

    func testDockerHubDefaults() throws {
        // The official gallery's mirrors are bare Docker Hub references.
        let mirror = try parse("localai/localai-backends:latest-cpu-whisper")
        XCTAssertEqual(mirror.registry, "docker.io")
        XCTAssertEqual(mirror.apiHost, "registry-1.docker.io")
        XCTAssertEqual(mirror.repository, "localai/localai-backends")
        XCTAssertEqual(mirror.tag, "latest-cpu-whisper")

        let single = try parse("ubuntu")
        XCTAssertEqual(single.repository, "library/ubuntu")
        XCTAssertEqual(single.tag, "latest")
        XCTAssertEqual(try parse("docker.io/ubuntu:22.04").description, "docker.io/library/ubuntu:22.04")
        XCTAssertEqual(try parse("index.docker.io/library/ubuntu").registry, "docker.io")
        // A first component without dot/colon is a namespace, not a host.
        XCTAssertEqual(try parse("myhost/app").registry, "docker.io")
        XCTAssertEqual(try parse("myhost/app").repository, "myhost/app")
    }

    func testDigestsTagsAndTheOCIPrefix() throws {
        let hex = String(repeating: "ab", count: 32)
        let pinned = try parse("oci://quay.io/a/b@sha256:\(hex)")
        XCTAssertEqual(pinned.digest, "sha256:\(hex)")
        XCTAssertNil(pinned.tag)
        XCTAssertEqual(pinned.manifestReference, "sha256:\(hex)")
        let both = try parse("quay.io/a/b:v1@sha256:\(hex)")
        XCTAssertEqual(both.tag, "v1")
        XCTAssertEqual(both.manifestReference, "sha256:\(hex)", "the digest wins when both are given")
        XCTAssertEqual(try parse("oci://127.0.0.1:5000/x:y").registry, "127.0.0.1:5000")
    }

    func testInvalidReferencesAreRefusedWithTheReason() {
        for (text, reason) in [
            ("", "empty"), ("quay.io/A/b", "lower-case"), ("quay.io/a//b", "empty path component"),
            ("a:b:c", "lower-case"), ("quay.io/a@sha256:xyz", "digest"), ("https://quay.io/a", "URL scheme"),
            ("quay.io/a:-x", "not a valid tag"), ("host:port/a", "malformed"),
        ] {
            XCTAssertThrowsError(try parse(text), text) { error in
                let message = (error as? HangarError)?.message ?? ""
                XCTAssertTrue(message.contains(reason) && message.contains("[registry/]repository"), "\(text): \(message)")
            }
        }
    }

    func testWhatCountsAsPullable() {
        XCTAssertTrue(ImageReference.isPullable("localai/localai-backends:master-cpu-piper"))
        XCTAssertTrue(ImageReference.isPullable("oci://quay.io/x/y:z"))
        XCTAssertTrue(ImageReference.isPullable("quay.io/go-skynet/local-ai-backends:latest-cpu-llama-cpp"))
        for uri in ["/srv/backend", "./dir", "https://example.com/a.tar.gz", "ocifile:///tmp/x.tar", "github:a/b",
                    "Not A Ref", "file:///x", "backends/foo", "foo", "ubuntu:22.04"] {
            XCTAssertFalse(ImageReference.isPullable(uri), uri)
        }
    }

    func testPlainHTTPOnlyForLoopbackOrListedRegistries() throws {
        XCTAssertEqual(try parse("127.0.0.1:5000/a").scheme(insecureRegistries: []), "http")
        XCTAssertEqual(try parse("127.8.9.10:5000/a").scheme(insecureRegistries: []), "http")
        XCTAssertEqual(try parse("localhost:5000/a").scheme(insecureRegistries: []), "http")
        XCTAssertEqual(try parse("quay.io/a/b").scheme(insecureRegistries: []), "https")
        XCTAssertEqual(try parse("128.0.0.1:5000/a").scheme(insecureRegistries: []), "https")
        XCTAssertEqual(try parse("127.0.0.1.example.com/a").scheme(insecureRegistries: []), "https")
        XCTAssertEqual(try parse("reg.lan:5000/a").scheme(insecureRegistries: ["reg.lan:5000"]), "http")
        XCTAssertEqual(try parse("reg.lan:5000/a").scheme(insecureRegistries: ["reg.lan"]), "http")
        XCTAssertEqual(try parse("reg.lan:5000/a").scheme(insecureRegistries: ["other.lan"]), "https")
    }

    func testBearerChallengeParsing() throws {
        let challenge = try XCTUnwrap(RegistryClient.parseChallenge(
            #"Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:a/b:pull,push""#))
        XCTAssertEqual(challenge.scheme, "Bearer")
        XCTAssertEqual(challenge.parameters["realm"], "https://auth.docker.io/token")
        XCTAssertEqual(challenge.parameters["service"], "registry.docker.io")
        XCTAssertEqual(challenge.parameters["scope"], "repository:a/b:pull,push", "commas inside quotes stay")
        let basic = try XCTUnwrap(RegistryClient.parseChallenge(#"Basic realm="test-realm""#))
        XCTAssertEqual(basic.scheme, "Basic")
        XCTAssertEqual(basic.parameters["realm"], "test-realm")
        XCTAssertNil(RegistryClient.parseChallenge(""))

        let several = try XCTUnwrap(RegistryClient.parseChallenge(#"Basic realm="a", Bearer realm="https://b/token",service="s""#))
        XCTAssertEqual(several.scheme, "Bearer", "Bearer is preferred when offered")
        XCTAssertEqual(several.parameters, ["realm": "https://b/token", "service": "s"])
        XCTAssertEqual(RegistryClient.parseChallenges(#"Basic realm="a", Bearer realm="b""#).map(\.parameters), [["realm": "a"], ["realm": "b"]])
    }

    func testIdentityTokenLoginsAreReportedAsUnsupported() {
        let config = #"{"auths":{"reg.io":{"auth":"","identitytoken":"refresh-me"}}}"#
        let credentials = RegistryCredentials.parse(Array(config.utf8), path: "/c.json")
        XCTAssertNil(credentials.login(for: "reg.io"))
        XCTAssertTrue(credentials.warnings.contains { $0.contains("identitytoken") && $0.contains("not supported") }, "\(credentials.warnings)")
    }

    func testAHostileDescriptorSizeIsRefusedNotSummed() {
        let d = "sha256:" + String(repeating: "a", count: 64)
        let manifest = #"{"schemaVersion":2,"config":{"digest":"\#(d)","size":2},"layers":[{"digest":"\#(d)","size":9223372036854775807},{"digest":"\#(d)","size":9223372036854775807}]}"#
        XCTAssertThrowsError(try OCIManifest.parse(Array(manifest.utf8), contentType: "", source: "evil")) {
            XCTAssertTrue("\($0)".contains("claims \(d) is 9223372036854775807 bytes"), "\($0)")
        }
        // The largest sizes accepted, times a factor that overflows Int64: refused as too big, never a trap.
        let source = OCISource(client: RegistryClient(http: HTTPClient(), credentials: RegistryCredentials()),
                               spaceFactor: .max, fakeFreeBytes: 1 << 50)
        let huge = OCIDescriptor(mediaType: "", digest: d, size: OCIDescriptor.maxSize)
        XCTAssertThrowsError(try source.checkFreeSpace([huge, huge], staging: "/", reference: try parse("r.io/a/b:c"))) {
            XCTAssertTrue("\($0)".contains("not enough disk space"), "\($0)")
        }
    }

    func testEveryPulledImageIsJudgedAsAnImage() throws {
        let gallery = GalleryConfig(name: "g", url: "file:///g.yaml")
        var entry = GalleryEntry(name: "img", gallery: gallery)
        entry.uri = "registry.example.com/team/img:v1"
        entry.sha256 = String(repeating: "a", count: 64)
        XCTAssertTrue(BackendURI.isRegistryImage(entry.uri))
        XCTAssertTrue(BackendURI.isRegistryImage("quay.io/a/b:c"))
        XCTAssertFalse(BackendURI.isRegistryImage("ocifile:///tmp/a.tar"), "a tarball has no registry digest")
        XCTAssertTrue(BackendURI.isOCIImage("ocifile:///tmp/a.tar"))
        XCTAssertFalse(BackendURI.isOCIImage("https://example.com/a.tar.gz"))
        XCTAssertThrowsError(try IntegrityPolicy.check(entry, strict: true)) {
            XCTAssertTrue("\($0)".contains("sha256 for OCI backend \"img\" is not checked"), "\($0)")
        }
        XCTAssertEqual(try IntegrityPolicy.check(entry, strict: false).count, 1)
        entry.sha256 = ""
        XCTAssertThrowsError(try IntegrityPolicy.check(entry, strict: true)) { XCTAssertTrue("\($0)".contains("OCI backend"), "\($0)") }
        XCTAssertEqual(try IntegrityPolicy.check(entry, strict: false), [])
    }

    func testDockerConfigLogins() {
        let auth = Data("bob:pa:ss".utf8).base64EncodedString()
        let config = """
            {"auths":{"https://index.docker.io/v1/":{"auth":"\(auth)"},
                      "quay.io":{"username":"carol","password":"pw"},
                      "bad.example":{"auth":"!!!"}},
             "credsStore":"desktop"}
            """
        let credentials = RegistryCredentials.parse(Array(config.utf8), path: "/h/.docker/config.json")
        XCTAssertEqual(credentials.login(for: "docker.io"), .init(username: "bob", password: "pa:ss"))
        XCTAssertEqual(credentials.login(for: "quay.io"), .init(username: "carol", password: "pw"))
        XCTAssertNil(credentials.login(for: "bad.example"))
        XCTAssertNil(credentials.login(for: "ghcr.io"))
        XCTAssertTrue(credentials.warnings.contains { $0.contains("credsStore/credHelpers are not supported") }, "\(credentials.warnings)")
        XCTAssertTrue(credentials.warnings.contains { $0.contains("bad.example") }, "\(credentials.warnings)")
        XCTAssertEqual(credentials.login(for: "quay.io")?.basicAuthorization, "Basic " + Data("carol:pw".utf8).base64EncodedString())

        let broken = RegistryCredentials.parse(Array("{".utf8), path: "/x/config.json")
        XCTAssertTrue(broken.logins.isEmpty)
        XCTAssertTrue(broken.warnings.first?.hasPrefix("/x/config.json: invalid JSON") == true, "\(broken.warnings)")
    }

    func testDockerConfigLocation() throws {
        let dir = try makeTemporaryDirectory("dockercfg")
        try FileManager.default.createDirectory(atPath: dir + "/.docker", withIntermediateDirectories: true)
        defer { removeTree(dir) }
        try #"{"auths":{"a.io":{"username":"u","password":"p"}}}"#.write(toFile: dir + "/.docker/config.json", atomically: true, encoding: .utf8)
        XCTAssertNotNil(RegistryCredentials.load(environment: ["HOME": dir]).login(for: "a.io"))
        XCTAssertNil(RegistryCredentials.load(environment: ["HOME": dir, "DOCKER_CONFIG": dir + "/nowhere"]).login(for: "a.io"))
        XCTAssertNotNil(RegistryCredentials.load(environment: ["HOME": "/nonexistent", "DOCKER_CONFIG": dir + "/.docker"]).login(for: "a.io"))
    }

    func testIndexAndPlatformChoice() throws {
        let d = { (c: Character) in "sha256:" + String(repeating: c, count: 64) }
        let index = """
            {"schemaVersion":2,"mediaType":"\(OCIMediaType.ociIndex)","manifests":[
              {"mediaType":"\(OCIMediaType.ociManifest)","digest":"\(d("a"))","size":10,"platform":{"os":"linux","architecture":"arm","variant":"v6"}},
              {"mediaType":"\(OCIMediaType.ociManifest)","digest":"\(d("b"))","size":10,"platform":{"os":"linux","architecture":"arm","variant":"v7"}},
              {"mediaType":"\(OCIMediaType.ociManifest)","digest":"\(d("c"))","size":10,"platform":{"os":"windows","architecture":"amd64"}},
              {"mediaType":"\(OCIMediaType.ociManifest)","digest":"\(d("e"))","size":10,"platform":{"os":"linux","architecture":"amd64"}},
              {"mediaType":"\(OCIMediaType.ociManifest)","digest":"\(d("f"))","size":10,"platform":{"os":"linux","architecture":"arm64"}}]}
            """
        guard case .index(let entries) = try OCIManifest.parse(Array(index.utf8), contentType: "", source: "t") else {
            return XCTFail("not an index")
        }
        XCTAssertEqual(OCIPlatform(architecture: "amd64").pick(from: entries)?.digest, d("e"))
        XCTAssertEqual(OCIPlatform(architecture: "arm", variant: "v7").pick(from: entries)?.digest, d("b"))
        XCTAssertEqual(OCIPlatform(architecture: "arm64", variant: "v8").pick(from: entries)?.digest, d("f"))
        XCTAssertNil(OCIPlatform(architecture: "riscv64").pick(from: entries))
        XCTAssertNil(OCIPlatform(os: "linux", architecture: "arm", variant: "v5").pick(from: entries))

        let manifest = #"{"schemaVersion":2,"config":{"digest":"\#(d("1"))","size":2},"layers":[{"mediaType":"application/vnd.docker.image.rootfs.diff.tar.gzip","digest":"\#(d("2"))","size":99}]}"#
        guard case .image(_, let layers) = try OCIManifest.parse(Array(manifest.utf8), contentType: OCIMediaType.dockerManifest,
                                                                 source: "t") else { return XCTFail("not an image") }
        XCTAssertEqual(layers.map(\.size), [99])
        XCTAssertThrowsError(try OCIManifest.parse(Array(#"{"schemaVersion":1}"#.utf8), contentType: "", source: "t")) {
            XCTAssertTrue("\($0)".contains("only schema 2"), "\($0)")
        }
        XCTAssertThrowsError(try OCIManifest.parse(Array(#"{"schemaVersion":2,"layers":[{"digest":"x","size":1}],"config":{}}"#.utf8),
                                                   contentType: "", source: "t"))
    }

    func testAnOCILayoutWithSeveralImagesIsPickedByPlatformOrRefusedNamingTheChoices() throws {
        let d = { (c: Character) in "sha256:" + String(repeating: c, count: 64) }
        let manifest = Array(#"{"schemaVersion":2,"config":{"digest":"\#(d("c"))","size":2},"layers":[{"digest":"\#(d("1"))","size":5}]}"#.utf8)
        var hasher = SHA256()
        hasher.update(manifest)
        let digest = "sha256:" + hasher.finalizeHex()
        let source = OCIFileSource(platform: OCIPlatform(architecture: "amd64"))
        func index(_ entries: [(digest: String, platform: String)]) -> [UInt8] {
            let items = entries.map { #"{"mediaType":"\#(OCIMediaType.ociManifest)","digest":"\#($0.digest)","size":10\#($0.platform)}"# }
            return Array(#"{"schemaVersion":2,"manifests":[\#(items.joined(separator: ","))]}"#.utf8)
        }
        let amd64 = #","platform":{"os":"linux","architecture":"amd64"}"#
        let arm64 = #","platform":{"os":"linux","architecture":"arm64"}"#
        let byPlatform = ["index.json": index([(d("e"), arm64), (digest, amd64)]), "blobs/sha256/" + digest.dropFirst(7): manifest]
        XCTAssertEqual(try source.layerEntries(byPlatform, path: "t.tar").map(\.digest), [d("1")])

        let single = ["index.json": index([(digest, "")]), "blobs/sha256/" + digest.dropFirst(7): manifest]
        XCTAssertEqual(try source.layerEntries(single, path: "t.tar").map(\.digest), [d("1")], "the only entry, naming no platform")

        let ambiguous = ["index.json": index([(d("a"), ""), (d("b"), "")])]
        XCTAssertThrowsError(try source.layerEntries(ambiguous, path: "t.tar")) {
            XCTAssertTrue("\($0)".contains("no image for linux/amd64 (it offers sha256:aaaaaaaaaaaa… (no platform), sha256:bbbbbbbbbbbb… (no platform))"), "\($0)")
        }
        let otherArch = ["index.json": index([(d("a"), arm64)])]
        XCTAssertThrowsError(try source.layerEntries(otherArch, path: "t.tar")) { XCTAssertTrue("\($0)".contains("it offers linux/arm64"), "\($0)") }
    }
}
