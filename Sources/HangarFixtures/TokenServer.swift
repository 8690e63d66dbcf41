import Foundation
import Synchronization

/// A small Docker-registry token server on 127.0.0.1 (Python's standard library and the `openssl` CLI, from the
/// test-registry recipe): RS256 JWTs with an `x5c` header. Anonymous requests get pull-only tokens; Basic
/// `user:password` gets what it asks for. Counts the tokens it issued, so tests can see that tokens are reused.
public final class TokenServer: Sendable {
    public let root: String
    public let issuer = "test-issuer"
    public let service = "test-registry"
    public let login: (user: String, password: String)
    public let port: Int
    /// The Python child; guarded because `stop` may come from any thread (and from `deinit`).
    private let process = Mutex<Process?>(nil)

    public var realm: String { "http://127.0.0.1:\(port)/token" }
    public var certificatePath: String { root + "/cert.pem" }

    /// What a registry needs to trust this server's tokens.
    public var registryAuth: RegistryProcess.TokenAuth {
        RegistryProcess.TokenAuth(realm: realm, service: service, issuer: issuer, certificatePath: certificatePath)
    }

    public init(user: String = "alice", password: String = "secret") throws {
        login = (user, password)
        root = try makeTemporaryDirectory("tokens")
        let certificate = root + "/cert.pem"
        try runTool("/usr/bin/openssl", ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", root + "/key.pem",
                                         "-out", certificate, "-days", "3650", "-subj", "/CN=test-token-issuer"])
        try Self.script.write(toFile: root + "/token_server.py", atomically: true, encoding: .utf8)
        let portFile = root + "/port"
        let process = Process()
        // Debian's interpreter: the script needs nothing beyond the standard library.
        let python = FileManager.default.isExecutableFile(atPath: "/usr/bin/python3") ? "/usr/bin/python3" : "/usr/bin/env"
        process.executableURL = URL(fileURLWithPath: python)
        process.arguments = (python == "/usr/bin/env" ? ["python3"] : [])
            + [root + "/token_server.py", portFile, root + "/key.pem", certificate, issuer, service, "\(user):\(password)",
               root + "/issued"]
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        var port = 0
        let deadline = Date().addingTimeInterval(10)
        while Date() < deadline, port == 0 {
            if let text = try? String(contentsOfFile: portFile, encoding: .utf8), let value = Int(text.trimmingCharacters(in: .whitespacesAndNewlines)) {
                port = value
            } else {
                usleep(20_000)
            }
        }
        self.port = port
        self.process.withLock { $0 = process }
        if port == 0 {
            stop()
            throw FixtureError("token server did not start")
        }
    }

    deinit { stop() }

    /// How many tokens were issued so far.
    public var issuedCount: Int {
        ((try? String(contentsOfFile: root + "/issued", encoding: .utf8)) ?? "").split(separator: "\n").count
    }

    /// A token for `scope` (e.g. `repository:x:pull,push`) with the login: for pushing to the registry.
    public func pushToken(repository: String) throws -> String {
        let json = try runTool("/usr/bin/curl", ["-fsS", "-u", "\(login.user):\(login.password)",
                                                 "\(realm)?service=\(service)&scope=repository:\(repository):pull,push"])
        guard let start = json.range(of: "\"token\": \"")?.upperBound ?? json.range(of: "\"token\":\"")?.upperBound,
              let end = json[start...].firstIndex(of: "\"") else {
            throw FixtureError("token server answered \(json)")
        }
        return String(json[start..<end])
    }

    /// Stops the server and removes its directory.
    public func stop() {
        terminateChild(process.withLock { process in defer { process = nil }; return process }, removing: root)
    }

    static let script = #"""
        import base64, json, socket, subprocess, sys, time, uuid
        from http.server import BaseHTTPRequestHandler, HTTPServer
        from urllib.parse import urlparse, parse_qs

        port_file, key, cert, issuer, service, creds, issued = sys.argv[1:8]
        der = subprocess.run(["openssl", "x509", "-in", cert, "-outform", "DER"], capture_output=True, check=True).stdout
        b64u = lambda b: base64.urlsafe_b64encode(b).rstrip(b"=").decode()

        def jwt(claims):
            head = {"typ": "JWT", "alg": "RS256", "x5c": [base64.b64encode(der).decode()]}
            signing_input = b64u(json.dumps(head).encode()) + "." + b64u(json.dumps(claims).encode())
            sig = subprocess.run(["openssl", "dgst", "-sha256", "-sign", key], input=signing_input.encode(),
                                 capture_output=True, check=True).stdout
            return signing_input + "." + b64u(sig)

        class H(BaseHTTPRequestHandler):
            def do_GET(self):
                u = urlparse(self.path)
                if u.path != "/token":
                    self.send_error(404); return
                q = parse_qs(u.query)
                authed = False
                auth = self.headers.get("Authorization", "")
                if auth.startswith("Basic "):
                    if base64.b64decode(auth[6:]).decode() == creds:
                        authed = True
                    else:
                        self.send_error(401); return
                access = []
                for s in q.get("scope", []):
                    typ, name, actions = s.split(":")[0], ":".join(s.split(":")[1:-1]), s.split(":")[-1]
                    acts = actions.split(",") if authed else [a for a in actions.split(",") if a == "pull"]
                    access.append({"type": typ, "name": name, "actions": acts})
                now = int(time.time())
                tok = jwt({"iss": issuer, "sub": "alice" if authed else "", "aud": q.get("service", [service])[0],
                           "exp": now + 300, "nbf": now - 10, "iat": now, "jti": uuid.uuid4().hex, "access": access})
                with open(issued, "a") as f:
                    f.write(" ".join(q.get("scope", [])) + "\n")
                body = json.dumps({"token": tok, "access_token": tok, "expires_in": 300}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers(); self.wfile.write(body)
            def log_message(self, *a): pass

        server = HTTPServer(("127.0.0.1", 0), H)
        with open(port_file + ".tmp", "w") as f:
            f.write(str(server.server_address[1]))
        import os; os.rename(port_file + ".tmp", port_file)
        server.serve_forever()
        """#
}
