import Foundation
import HangarEngine
import Synchronization

/// A real `docker-registry` (CNCF distribution 2.8) serving on 127.0.0.1 from its own temp dir, for tests and the
/// benchmark. The kernel picks the port (`127.0.0.1:0`); it is read back from the "listening on" log line.
public final class RegistryProcess: Sendable {
    /// Bearer-token auth: the registry trusts tokens signed by `certificatePath`'s key, issued by `issuer` for `service`.
    public struct TokenAuth: Sendable {
        public var realm: String
        public var service: String
        public var issuer: String
        public var certificatePath: String
        public init(realm: String, service: String, issuer: String, certificatePath: String) {
            self.realm = realm
            self.service = service
            self.issuer = issuer
            self.certificatePath = certificatePath
        }
    }

    /// The temp dir holding config, log and storage (removed by `stop`).
    public let root: String
    /// The listening address and the child; guarded because tests kill, restart and read from several threads.
    private let state = Mutex<(address: String, process: Process?)>(("", nil))

    /// `127.0.0.1:<port>`.
    public var address: String { state.withLock { $0.address } }
    private let tokenAuth: TokenAuth?
    private let basicAuth: (user: String, password: String)?

    /// The binary the Debian package installs.
    public static let executable = "/usr/bin/docker-registry"

    /// Starts a registry and waits until `/v2/` answers. `basicAuth` protects it with an htpasswd login (bcrypt,
    /// made with Debian's Python, so apache2-utils is not needed).
    public init(tokenAuth: TokenAuth? = nil, basicAuth: (user: String, password: String)? = nil) throws {
        self.tokenAuth = tokenAuth
        self.basicAuth = basicAuth
        root = try makeTemporaryDirectory("registry")
        if let basicAuth {
            let hash = try runTool("/usr/bin/python3", ["-W", "ignore", "-c",
                "import crypt,sys;print(crypt.crypt(sys.argv[1],crypt.mksalt(crypt.METHOD_BLOWFISH,rounds=16)))", basicAuth.password])
            try "\(basicAuth.user):\(hash.trimmingCharacters(in: .whitespacesAndNewlines))\n"
                .write(toFile: root + "/htpasswd", atomically: true, encoding: .utf8)
        }
        try start()
    }

    deinit { stop() }

    /// The storage dir the registry keeps blobs in.
    public var storageDirectory: String { root + "/data" }

    /// `http://127.0.0.1:<port>`.
    public var baseURL: String { "http://" + address }

    /// Where the registry stores the bytes of `digest` (to corrupt them in fault tests).
    public func blobDataPath(_ digest: String) -> String {
        let hex = digest.hasPrefix("sha256:") ? String(digest.dropFirst(7)) : digest
        return storageDirectory + "/docker/registry/v2/blobs/sha256/\(hex.prefix(2))/\(hex)/data"
    }

    private func writeConfig(port: Int) throws -> String {
        var yaml = """
            version: 0.1
            log:
              level: info
              accesslog:
                disabled: true
            storage:
              filesystem:
                rootdirectory: \(storageDirectory)
              delete:
                enabled: true
            http:
              addr: 127.0.0.1:\(port)
              secret: test-only-secret

            """
        if let tokenAuth {
            yaml += """
                auth:
                  token:
                    realm: \(tokenAuth.realm)
                    service: \(tokenAuth.service)
                    issuer: \(tokenAuth.issuer)
                    rootcertbundle: \(tokenAuth.certificatePath)

                """
        }
        if basicAuth != nil {
            yaml += """
                auth:
                  htpasswd:
                    realm: test-realm
                    path: \(root)/htpasswd

                """
        }
        let path = root + "/config.yml"
        try yaml.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    /// Starts the process (again, after `kill`: on the same port, so references stay valid).
    public func start() throws {
        let known = address
        let port = known.isEmpty ? 0 : Int(known.split(separator: ":").last ?? "0") ?? 0
        let config = try writeConfig(port: port)
        let logPath = root + "/registry-\(UUID().uuidString.prefix(4)).log"
        _ = FileManager.default.createFile(atPath: logPath, contents: nil)
        let log = try FileHandle(forWritingTo: URL(fileURLWithPath: logPath))
        defer { try? log.close() }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Self.executable)
        process.arguments = ["serve", config]
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = FileHandle.nullDevice
        process.standardError = log
        try process.run()
        state.withLock { $0.process = process }
        var address = ""
        let deadline = Date().addingTimeInterval(10)
        while Date() < deadline {
            let text = (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? ""
            if let range = text.range(of: "listening on ") {
                let rest = text[range.upperBound...]
                address = String(rest.prefix { $0.isNumber || $0 == "." || $0 == ":" })
                break
            }
            if !process.isRunning { break }
            usleep(20_000)
        }
        guard !address.isEmpty, process.isRunning else {
            let text = (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? ""
            stop()
            throw FixtureError("docker-registry did not start: \(text.suffix(500))")
        }
        state.withLock { $0.address = address }
        // The log line comes when the socket listens; one real request proves the API is up. If it does not,
        // the child must not outlive the throw.
        do {
            let ping = try HTTPClient(options: HTTPClientOptions()).send(
                HTTPRequest(url: baseURL + "/v2/", method: "GET", headers: [:], resumeFrom: nil))
            guard ping.status == 200 || ping.status == 401 else { throw FixtureError("registry /v2/ answered \(ping.status)") }
        } catch {
            stop()
            throw error
        }
    }

    /// SIGKILL, as a crash would (the storage stays; `start` brings it back on the same port).
    public func kill() {
        guard let process = state.withLock({ $0.process }), process.isRunning else { return }
        Glibc.kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }

    /// Stops the process and removes its directory.
    public func stop() {
        terminateChild(state.withLock { state in defer { state.process = nil }; return state.process }, removing: root)
    }
}

/// SIGTERM and reap a fixture's child process (if still running), then remove its temp dir.
func terminateChild(_ process: Process?, removing directory: String) {
    if let process, process.isRunning {
        process.terminate()
        process.waitUntilExit()
    }
    removeTree(directory)
}

/// Runs a helper program to completion and returns its stdout; non-zero exit is an error with its stderr.
@discardableResult
func runTool(_ executable: String, _ arguments: [String], directory: String? = nil) throws -> String {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    if let directory { process.currentDirectoryURL = URL(fileURLWithPath: directory) }
    // stderr goes to a file so a chatty tool cannot block on a full pipe while stdout is read.
    let errPath = FileManager.default.temporaryDirectory.path + "/hangar-tool-\(UUID().uuidString.prefix(8)).err"
    _ = FileManager.default.createFile(atPath: errPath, contents: nil)
    defer { try? FileManager.default.removeItem(atPath: errPath) }
    let errHandle = try FileHandle(forWritingTo: URL(fileURLWithPath: errPath))
    let out = Pipe()
    process.standardOutput = out
    process.standardError = errHandle
    process.standardInput = FileHandle.nullDevice
    try process.run()
    try? errHandle.close()
    let output = out.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    guard process.terminationStatus == 0 else {
        let errors = (try? String(contentsOfFile: errPath, encoding: .utf8)) ?? ""
        throw FixtureError("\(executable) \(arguments.joined(separator: " ")) exited \(process.terminationStatus): \(errors.suffix(400))")
    }
    return String(decoding: output, as: UTF8.self)
}
