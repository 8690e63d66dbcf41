import Foundation
import HangarEngine
import HangarFixtures
import XCTest

/// TLS verification against a real TLS server on 127.0.0.1 (python3's ssl module) with a self-signed certificate.
final class HTTPTLSTests: XCTestCase {
    private var directory: String!
    private var process: Process?
    private var port = 0

    /// Self-signed for CN=localhost, SAN localhost and 127.0.0.1, valid until 2126.
    static let certificate = """
        -----BEGIN CERTIFICATE-----
        MIIBmjCCAUGgAwIBAgIUEVUgBHtfGTN8nm7+rJZmN2GkyXkwCgYIKoZIzj0EAwIw
        FDESMBAGA1UEAwwJbG9jYWxob3N0MCAXDTI2MTIwMjAyMzMyMloYDzIxMjYxMTA4
        MDIzMzIyWjAUMRIwEAYDVQQDDAlsb2NhbGhvc3QwWTATBgcqhkjOPQIBBggqhkjO
        PQMBBwNCAATMFoXCob5PEIwxXDJhPs+n0kRxp9q6CUzV4YGiYt34HOpkdeW4CdY1
        H0hBmj0cpZnF35gvbvsU4FXgitjiZo4Vo28wbTAdBgNVHQ4EFgQUnzgG6RumIxPM
        EIikIGbB6PDmSKYwHwYDVR0jBBgwFoAUnzgG6RumIxPMEIikIGbB6PDmSKYwDwYD
        VR0TAQH/BAUwAwEB/zAaBgNVHREEEzARgglsb2NhbGhvc3SHBH8AAAEwCgYIKoZI
        zj0EAwIDRwAwRAIgYruDxX4DuHmekupdY8IEeJ3xbi3jRwSxKatbM0E93iUCIDtL
        DReyjQdOT5So+UYMC8CZUF8xJATB4txzYN7e9Pk2
        -----END CERTIFICATE-----

        """
    static let key = """
        -----BEGIN PRIVATE KEY-----
        MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg7o3WRy8qniwrL8v+
        LCfR13FUZLKnq08CCSmMB/ChFQKhRANCAATMFoXCob5PEIwxXDJhPs+n0kRxp9q6
        CUzV4YGiYt34HOpkdeW4CdY1H0hBmj0cpZnF35gvbvsU4FXgitjiZo4V
        -----END PRIVATE KEY-----

        """
    private static let script = #"""
        import http.server, os, ssl, sys, urllib.parse
        class H(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                if self.path.startswith("/redirect?to="):
                    self.send_response(302)
                    self.send_header("Location", urllib.parse.unquote(self.path[len("/redirect?to="):]))
                    self.send_header("Content-Length", "0"); self.end_headers()
                    return
                body = b"- name: over-tls\n  uri: /x\n"
                self.send_response(200); self.send_header("Content-Length", str(len(body))); self.end_headers()
                self.wfile.write(body)
            def log_message(self, *a): pass
        server = http.server.HTTPServer(("127.0.0.1", 0), H)
        """#

    override func setUpWithError() throws {
        directory = try makeTemporaryDirectory("tls")
        let (process, port) = try Self.startTLSServer(script: Self.script, in: directory)
        self.process = process
        self.port = port
    }

    /// What every TLS test server's script ends with: `server` wrapped in TLS with the test certificate, its port
    /// written (atomically) to the port file, then served.
    private static let serveOverTLS = """
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(sys.argv[1], sys.argv[2])
        server.socket = context.wrap_socket(server.socket, server_side=True)
        with open(sys.argv[3] + ".tmp", "w") as f: f.write(str(server.server_address[1]))
        os.rename(sys.argv[3] + ".tmp", sys.argv[3])
        server.serve_forever()
        """

    /// Runs `script` (which defines `server`) with python3 as `script cert.pem key.pem portfile [extra…]` in
    /// `directory` (the test certificate and key written there), serving over TLS, and returns the process and the
    /// port it wrote once listening.
    static func startTLSServer(script: String, in directory: String, extra: [String] = []) throws -> (Process, Int) {
        try certificate.write(toFile: directory + "/cert.pem", atomically: true, encoding: .utf8)
        try key.write(toFile: directory + "/key.pem", atomically: true, encoding: .utf8)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", script + "\n" + serveOverTLS, directory + "/cert.pem", directory + "/key.pem", directory + "/port"] + extra
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let deadline = Date().addingTimeInterval(10)
        while Date() < deadline {
            if let text = try? String(contentsOfFile: directory + "/port", encoding: .utf8), let value = Int(text) {
                return (process, value)
            }
            guard process.isRunning else { break }
            usleep(20_000)
        }
        process.terminate()
        throw HangarError.operation("the python3 TLS server did not start within 10 s")
    }

    override func tearDown() {
        if let process, process.isRunning {
            process.terminate()
            process.waitUntilExit()
        }
        removeTree(directory)
    }

    func testSelfSignedCertificateIsRefusedWithTheFix() throws {
        let url = "https://127.0.0.1:\(port)/index.yaml"
        XCTAssertThrowsError(try HTTPClient(environment: [:]).send(HTTPRequest(url: url))) { error in
            let failure = error as? HTTPFailure
            XCTAssertEqual(failure?.isTransient, false, "a certificate problem is not retried")
            let text = "\(error)"
            XCTAssertTrue(text.hasPrefix("TLS certificate of 127.0.0.1:\(port) could not be verified (GET \(url))"), text)
            XCTAssertTrue(text.contains("update-ca-certificates"), text)
        }
    }

    func testRedirectFromHTTPSToPlainHTTPIsRefusedUnlessLoopback() throws {
        let client = HTTPClient(environment: ["SSL_CERT_FILE": directory + "/cert.pem"])
        // Refused before any connection to the target: the .invalid host is never even resolved.
        let target = "http://downgrade.invalid/index.yaml"
        let start = "https://localhost:\(port)/redirect?to=\(target)"
        XCTAssertThrowsError(try client.send(HTTPRequest(url: start, headers: ["Authorization": "Bearer secret"]))) { error in
            XCTAssertEqual("\(error)", "GET \(start) redirected to \(target), from https to plain http: refusing the TLS downgrade; use an https URL that does not redirect to http")
            XCTAssertEqual((error as? HTTPFailure)?.isTransient, false)
        }
        // A loopback target cannot be read on the way, so a local mirror over http stays usable.
        let local = try LoopbackHTTPServer()
        defer { local.stop() }
        local.route("/index.yaml", .init(text: "- name: local\n"))
        let response = try client.send(HTTPRequest(url: "https://localhost:\(port)/redirect?to=\(local.url("/index.yaml"))"))
        XCTAssertEqual(String(decoding: response.body, as: UTF8.self), "- name: local\n")
        XCTAssertEqual(local.requests(to: "/index.yaml").count, 1)
    }

    func testACABundleFromSSLCertFileIsTrusted() throws {
        let client = HTTPClient(environment: ["SSL_CERT_FILE": directory + "/cert.pem"])
        for host in ["127.0.0.1", "localhost"] {
            let response = try client.send(HTTPRequest(url: "https://\(host):\(port)/index.yaml"))
            XCTAssertEqual(response.status, 200)
            XCTAssertEqual(String(decoding: response.body, as: UTF8.self), "- name: over-tls\n  uri: /x\n")
        }
    }
}
