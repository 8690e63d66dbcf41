import Foundation
import HangarEngine
import HangarFixtures
import XCTest

/// Remote mode over TLS, verified as for registries: the real binary against the stand-in behind a TLS-terminating
/// reverse proxy on 127.0.0.1 (python3's ssl module, HTTPTLSTests' self-signed certificate). An untrusted
/// certificate is one line naming the server and the fix, with nothing sent; trusting the CA (SSL_CERT_FILE) works.
final class LocalAIServerTLSTests: LocalAIServerTestCase {
    private var proxy: Process?
    private var port = 0

    /// Forwards every request (method, path, headers, body) to the stand-in, as a reverse proxy in front of LocalAI.
    private static let script = #"""
        import http.client, http.server, os, ssl, sys
        upstream = int(sys.argv[4])
        class H(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            def forward(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else None
                headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "connection")}
                c = http.client.HTTPConnection("127.0.0.1", upstream, timeout=10)
                c.request(self.command, self.path, body=body, headers=headers)
                r = c.getresponse(); data = r.read()
                self.send_response(r.status)
                for k, v in r.getheaders():
                    if k.lower() not in ("content-length", "connection", "transfer-encoding"): self.send_header(k, v)
                self.send_header("Content-Length", str(len(data))); self.end_headers()
                self.wfile.write(data)
            do_GET = do_POST = do_DELETE = forward
            def log_message(self, *a): pass
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
        """#

    override func setUpWithError() throws {
        try super.setUpWithError()
        (proxy, port) = try HTTPTLSTests.startTLSServer(script: Self.script, in: directory, extra: [String(standIn.port)])
    }

    override func tearDown() {
        if let proxy, proxy.isRunning {
            proxy.terminate()
            proxy.waitUntilExit()
        }
        super.tearDown()
    }

    func testASelfSignedServerIsRefusedInOneLineAndNothingIsSent() throws {
        let server = "https://127.0.0.1:\(port)"
        let started = Date()
        let run = try hangar(["list"], server: server)
        XCTAssertLessThan(Date().timeIntervalSince(started), 10, "a certificate problem is not retried")
        XCTAssertNotEqual(run.status, 0, run.stdout)
        assertNoKey(run)
        let lines = run.stderr.split(separator: "\n")
        XCTAssertEqual(lines.count, 1, run.stderr)
        let line = String(lines.first ?? "")
        XCTAssertTrue(line.contains("TLS certificate of 127.0.0.1:\(port) could not be verified"), line)
        XCTAssertTrue(line.contains(server), "the line names the server: \(line)")
        XCTAssertTrue(line.contains("update-ca-certificates") || line.contains("SSL_CERT_FILE"), "the line names the fix: \(line)")
        XCTAssertTrue(standIn.requests.isEmpty, "nothing reached the server, the key included")
    }

    func testTheServerIsUsedWhenItsCAIsTrusted() throws {
        let run = try hangar(["list", "--json"], server: "https://127.0.0.1:\(port)", env: ["SSL_CERT_FILE": directory + "/cert.pem"])
        XCTAssertEqual(run.status, 0, run.stderr)
        assertNoKey(run)
        let rows = try XCTUnwrap(try document(run) as? [[String: Any]], run.stdout)
        XCTAssertEqual(rows.compactMap { $0["name"] as? String }.sorted(), ["kokoro", "piper"])
        XCTAssertTrue(standIn.requests.contains { $0.path == "/backends" && $0.header("Authorization") == "Bearer \(key)" },
                      "the key went over TLS to the server")
    }
}
