import Foundation
import HangarEngine
import HangarFixtures
import Synchronization
import XCTest

/// `HTTPClient` against a real socket server on 127.0.0.1.
final class HTTPClientTests: LoopbackHTTPTestCase {
    func testGetReturnsBodyStatusAndLowerCasedHeaders() throws {
        server.route("/index.yaml", .init(headers: ["X-Custom-Header": "yes", "Content-Type": "text/yaml"], text: "- name: a\n"))
        let response = try client().send(HTTPRequest(url: server.url("/index.yaml")))
        XCTAssertEqual(response.status, 200)
        XCTAssertEqual(String(decoding: response.body, as: UTF8.self), "- name: a\n")
        XCTAssertEqual(response.headers["x-custom-header"], "yes")
        XCTAssertEqual(response.header("Content-Type"), "text/yaml")
        XCTAssertNil(response.headers["X-Custom-Header"], "names are stored lower-cased")
        XCTAssertEqual(response.effectiveURL, server.url("/index.yaml"))
    }

    func testRequestSendsUserAgentAndCustomHeaders() throws {
        server.route("/x", .init(text: "ok"))
        _ = try client().send(HTTPRequest(url: server.url("/x"), headers: ["Accept": "application/json"]))
        let logged = try XCTUnwrap(server.requests(to: "/x").first)
        XCTAssertEqual(logged.method, "GET")
        XCTAssertEqual(logged.header("user-agent"), "hangar/\(HangarVersion.current)")
        XCTAssertEqual(logged.header("accept"), "application/json")
    }

    func testHeadReturnsHeadersWithoutBody() throws {
        server.route("/blob", .init(headers: ["Docker-Content-Digest": "sha256:abc"], text: String(repeating: "x", count: 1000)))
        let response = try client().send(HTTPRequest(url: server.url("/blob"), method: "HEAD"))
        XCTAssertEqual(response.status, 200)
        XCTAssertEqual(response.header("docker-content-digest"), "sha256:abc")
        XCTAssertEqual(response.header("content-length"), "1000")
        XCTAssertTrue(response.body.isEmpty)
        XCTAssertEqual(server.requests(to: "/blob").first?.method, "HEAD")
    }

    func testErrorStatusIsReturnedNotThrownAndClassified() throws {
        server.route("/missing", .init(status: 404, text: "nope"))
        server.route("/busy", .init(status: 503, text: "later"))
        let missing = try client().send(HTTPRequest(url: server.url("/missing")))
        XCTAssertEqual(missing.status, 404)
        XCTAssertEqual(String(decoding: missing.body, as: UTF8.self), "nope")
        XCTAssertThrowsError(try missing.requireSuccess()) { error in
            let failure = error as? HTTPFailure
            XCTAssertEqual(failure?.status, 404)
            XCTAssertEqual(failure?.isTransient, false)
            XCTAssertTrue("\(error)".contains(self.server.url("/missing")), "\(error)")
        }
        let busy = try client().send(HTTPRequest(url: server.url("/busy")))
        XCTAssertThrowsError(try busy.requireSuccess()) { error in
            XCTAssertEqual((error as? HTTPFailure)?.isTransient, true)
        }
        XCTAssertTrue(HTTPFailure.isTransientStatus(429))
        XCTAssertTrue(HTTPFailure.isTransientStatus(500))
        XCTAssertFalse(HTTPFailure.isTransientStatus(403))
    }

    func testConnectToClosedPortIsATransientErrorNamingTheURL() throws {
        let closed = try LoopbackHTTPServer()
        let url = closed.url("/index.yaml")
        closed.stop()
        XCTAssertThrowsError(try client().send(HTTPRequest(url: url))) { error in
            let failure = error as? HTTPFailure
            XCTAssertEqual(failure?.isTransient, true)
            let text = "\(error)"
            XCTAssertTrue(text.contains(url), text)
            XCTAssertTrue(text.contains("cannot connect to 127.0.0.1:"), text)
            XCTAssertTrue(text.contains("check that the server is running"), text)
            XCTAssertFalse(text.contains("\n"), "one line: \(text)")
        }
    }

    func testInvalidURLIsAPermanentError() {
        XCTAssertThrowsError(try client().send(HTTPRequest(url: "ftp://127.0.0.1/x"))) { error in
            XCTAssertEqual((error as? HTTPFailure)?.isTransient, false)
            XCTAssertTrue("\(error)".contains("use an http:// or https:// URL"), "\(error)")
        }
    }

    func testHeaderWithALineBreakIsRefusedBeforeSending() throws {
        server.route("/x", .init(text: "ok"))
        XCTAssertThrowsError(try client().send(HTTPRequest(url: server.url("/x"),
                                                           headers: ["Authorization": "Bearer t\r\nX-Injected: 1"]))) { error in
            XCTAssertEqual((error as? HTTPFailure)?.isTransient, false)
            XCTAssertTrue("\(error)".contains("contains a line break"), "\(error)")
        }
        XCTAssertTrue(server.requests.isEmpty, "nothing was sent")
    }
}
