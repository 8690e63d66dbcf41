import Foundation
import HangarEngine
import HangarFixtures
import Synchronization
import XCTest

/// One LocalAI installation (backends, config, home) in a temp dir, with a gallery file, driven through the real
/// `hangar` binary.
struct RegistrySite {
    let root: String

    init() throws {
        root = FileManager.default.temporaryDirectory.path + "/hangar-oci-\(UUID().uuidString.prefix(8))"
        for dir in [backends, root + "/system", root + "/config", root + "/home", root + "/sources"] {
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        }
    }

    var backends: String { root + "/backends" }
    var galleryPath: String { root + "/gallery.yaml" }
    var sources: String { root + "/sources" }

    func remove() { try? FileManager.default.removeItem(atPath: root) }

    /// Writes the gallery: `(name, uri, mirrors)` entries without versions, as the official index has.
    func writeGallery(_ entries: [(name: String, uri: String, mirrors: [String])]) throws {
        var yaml = "---\n"
        for entry in entries {
            yaml += "- name: \"\(entry.name)\"\n  uri: \"\(entry.uri)\"\n"
            if !entry.mirrors.isEmpty {
                yaml += "  mirrors:\n" + entry.mirrors.map { "    - \"\($0)\"\n" }.joined()
            }
        }
        try yaml.write(toFile: galleryPath, atomically: true, encoding: .utf8)
    }

    /// A backend tree: run.sh printing `label`, a VERSION file, a library and `extra` files.
    @discardableResult
    func source(_ label: String, extra: [String: String] = [:]) throws -> String {
        let dir = sources + "/\(label)-\(UUID().uuidString.prefix(4))"
        try FileManager.default.createDirectory(atPath: dir + "/lib", withIntermediateDirectories: true)
        try "#!/bin/sh\necho \(label)\n".write(toFile: dir + "/run.sh", atomically: true, encoding: .utf8)
        chmod(dir + "/run.sh", 0o755)
        try "\(label)\n".write(toFile: dir + "/VERSION", atomically: true, encoding: .utf8)
        try "library \(label)\n".write(toFile: dir + "/lib/libbackend.so", atomically: true, encoding: .utf8)
        for (path, text) in extra {
            let full = dir + "/" + path
            try FileManager.default.createDirectory(atPath: (full as NSString).deletingLastPathComponent,
                                                    withIntermediateDirectories: true)
            try text.write(toFile: full, atomically: true, encoding: .utf8)
        }
        return dir
    }

    /// The complete environment of a hangar process (nothing inherited): fast retries for the fault tests.
    func environment(_ extra: [String: String] = [:]) -> [String: String] {
        var env = [
            "PATH": "/usr/local/bin:/usr/bin:/bin",
            "HOME": root + "/home",
            "LANG": "C.UTF-8",
            "LOCALAI_BACKENDS_PATH": backends,
            "LOCALAI_BACKENDS_SYSTEM_PATH": root + "/system",
            "LOCALAI_CONFIG_DIR": root + "/config",
            "LOCALAI_FORCE_META_BACKEND_CAPABILITY": "default",
            "LOCALAI_BACKEND_GALLERIES": "[{\"name\":\"t\",\"url\":\"file://\(galleryPath)\"}]",
            "HANGAR_RETRY_BACKOFF": "0.05,0.1",
        ]
        for (k, v) in extra { env[k] = v }
        return env
    }

    func hangar(_ arguments: [String], env: [String: String] = [:], timeout: Double = 60) throws -> HangarExecutable.Run {
        try HangarExecutable.run(arguments, environment: environment(env), directory: root, timeout: timeout)
    }

    /// `<backends>/<name>/metadata.json` as an object.
    func metadata(_ name: String) throws -> [String: Any] {
        let data = try Data(contentsOf: URL(fileURLWithPath: backends + "/\(name)/metadata.json"))
        return try XCTUnwrap(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    }

    func read(_ relative: String) -> String? {
        try? String(contentsOfFile: backends + "/" + relative, encoding: .utf8)
    }

    /// Every file below `<backends>/<name>` with its bytes (to prove a failed operation changed nothing).
    func snapshot(_ name: String) -> [String: Data] {
        var result: [String: Data] = [:]
        let base = backends + "/" + name
        guard let walker = FileManager.default.enumerator(atPath: base) else { return result }
        while let path = walker.nextObject() as? String {
            var isDir: ObjCBool = false
            if FileManager.default.fileExists(atPath: base + "/" + path, isDirectory: &isDir), !isDir.boolValue {
                result[path] = FileManager.default.contents(atPath: base + "/" + path) ?? Data()
            }
        }
        return result
    }

    /// Entries left in hangar's private staging area (empty means the failure cleaned up).
    func stagingLeftovers() -> [String] {
        (try? FileManager.default.contentsOfDirectory(atPath: backends + "/.hangar/staging")) ?? []
    }
}

/// `count` random bytes from the kernel (fast even in debug builds, and incompressible for gzip).
func randomBytes(_ count: Int) throws -> Data {
    try XCTUnwrap(FileHandle(forReadingAtPath: "/dev/urandom")?.readData(ofLength: count))
}

/// The tag's digest as a client sees it: HEAD with the full Accept list, `Docker-Content-Digest`.
func headDigest(_ registry: RegistryProcess, _ repository: String, _ tag: String) throws -> String {
    let response = try HTTPClient(options: HTTPClientOptions()).send(HTTPRequest(
        url: "\(registry.baseURL)/v2/\(repository)/manifests/\(tag)", method: "HEAD",
        headers: ["Accept": OCIMediaType.manifestAccept], resumeFrom: nil))
    XCTAssertEqual(response.status, 200)
    return try XCTUnwrap(response.header("docker-content-digest"))
}

/// Base class: one real registry for the whole class (started in `setUp` of the first test, stopped at the end).
class RegistryTestCase: XCTestCase {
    /// One registry per test class, by class name.
    static let shared = Mutex<[String: RegistryProcess]>([:])
    var site: RegistrySite!

    var registry: RegistryProcess {
        get throws {
            let key = String(describing: type(of: self))
            if let running = Self.shared.withLock({ $0[key] }) { return running }
            let started = try RegistryProcess()
            Self.shared.withLock { $0[key] = started }
            return started
        }
    }

    var pusher: ImagePusher {
        get throws { ImagePusher(registry: try registry.address, workDirectory: site.root + "/push") }
    }

    override func setUpWithError() throws {
        _ = try HangarExecutable.path()
        site = try RegistrySite()
    }

    override func tearDown() {
        site?.remove()
        site = nil
    }

    override class func tearDown() {
        shared.withLock { $0.removeValue(forKey: String(describing: self)) }?.stop()
        super.tearDown()
    }
}
