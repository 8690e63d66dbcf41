import Foundation
@testable import HangarEngine
import HangarFixtures
import Synchronization
import XCTest

/// The registry client against loopback servers that misbehave on purpose: dead registries, stalls, odd headers.
final class RegistryClientTests: XCTestCase {
    private func client(_ server: LoopbackHTTPServer, backoff: [Double] = [0.01, 0.01],
                        credentials: RegistryCredentials = RegistryCredentials()) -> RegistryClient {
        RegistryClient(http: HTTPClient(), credentials: credentials, retryBackoff: backoff)
    }

    private func reference(_ server: LoopbackHTTPServer, _ path: String = "team/app:latest") throws -> ImageReference {
        try ImageReference.parse("127.0.0.1:\(server.port)/\(path)")
    }

    func testADeadRegistryIsPingedOncePerAttemptAndNotAgainByTheNextCandidate() throws {
        let server = try LoopbackHTTPServer()
        defer { server.stop() }
        server.route("/v2/", .init(status: 503, text: "down"))
        let client = client(server)
        XCTAssertThrowsError(try client.manifest(try reference(server))) {
            XCTAssertTrue("\($0)".contains("HTTP 503"), "\($0)")
            XCTAssertTrue("\($0)".contains("gave up after 3 attempts"), "\($0)")
        }
        // Two backoff delays: three attempts, each one ping; the token and ping steps no longer retry on their own.
        XCTAssertEqual(server.requests(to: "/v2/").count, 3)
        XCTAssertEqual(server.requests.count, 3, "no manifest request without a ping answer")

        // The next candidate on the same registry fails at once with the remembered error.
        XCTAssertThrowsError(try client.headDigest(try reference(server, "team/other:v1"))) {
            XCTAssertTrue("\($0)".contains("a moment ago; not asked again for 30 s"), "\($0)")
        }
        XCTAssertEqual(server.requests(to: "/v2/").count, 3)
    }

    func testCancelStopsARequestWhileTheRegistryHangs() throws {
        let server = try LoopbackHTTPServer()
        defer { server.stop() }
        server.route("/v2/", .init(status: 200), faults: [.delay(seconds: 20)])
        let client = client(server)
        let cancelled = Atomic<Bool>(false)
        let reference = try reference(server)
        DispatchQueue.global().asyncAfter(deadline: .now() + 0.3) { cancelled.store(true, ordering: .relaxed) }
        let started = Date()
        XCTAssertThrowsError(try client.manifest(reference, isCancelled: { cancelled.load(ordering: .relaxed) })) {
            XCTAssertTrue($0 is CancelledError, "\($0)")
        }
        XCTAssertLessThan(Date().timeIntervalSince(started), 3, "the hanging ping is abandoned once cancelled")
    }

    func testSchemaOneManifestIsAskedForAndRefusedByName() throws {
        let server = try LoopbackHTTPServer()
        defer { server.stop() }
        server.route("/v2/", .init(status: 200))
        server.route("/v2/team/app/manifests/latest", .init(status: 200, headers: ["Content-Type": OCIMediaType.dockerSchema1Signed],
                                                             text: #"{"schemaVersion":1,"name":"team/app","fsLayers":[]}"#))
        let reference = try reference(server)
        let fetched = try client(server).manifest(reference)
        XCTAssertThrowsError(try OCIManifest.parse(fetched.bytes, contentType: fetched.contentType, source: reference.description)) {
            XCTAssertTrue("\($0)".contains("only schema 2"), "\($0)")
        }
        let accept = try XCTUnwrap(server.requests(to: "/v2/team/app/manifests/latest").first?.header("accept"))
        XCTAssertTrue(accept.contains(OCIMediaType.dockerSchema1) && accept.contains(OCIMediaType.dockerSchema1Signed), accept)
    }

    func testADigestHeaderThatIsNotSHA256IsReturnedVerbatim() throws {
        let server = try LoopbackHTTPServer()
        defer { server.stop() }
        server.route("/v2/", .init(status: 200))
        server.route("/v2/team/app/manifests/latest", .init(status: 200, headers: ["Docker-Content-Digest": "sha512:abc"], text: "{}"))
        XCTAssertEqual(try client(server).headDigest(try reference(server)), "sha512:abc", "stored as LocalAI stores it, never recomputed")
    }

    func testALoginIsNeverSentToAPlainHTTPRealmOnAnotherHost() throws {
        let server = try LoopbackHTTPServer()
        defer { server.stop() }
        // The realm is never contacted: the refusal comes before any request to it.
        server.route("/v2/", .init(status: 401, headers: ["WWW-Authenticate": #"Bearer realm="http://auth.example.com/token",service="s""#]))
        let registry = "127.0.0.1:\(server.port)"
        let credentials = RegistryCredentials(logins: [registry: .init(username: "u", password: "secret")])
        XCTAssertThrowsError(try client(server, credentials: credentials).manifest(try reference(server))) {
            XCTAssertTrue("\($0)".contains("over plain http; refused"), "\($0)")
        }
        XCTAssertEqual(server.requests.map(\.path), ["/v2/"])
    }
}
