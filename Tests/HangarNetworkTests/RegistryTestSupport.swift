import Foundation
import HangarEngine
import HangarFixtures
import Synchronization
import XCTest

/// The network tests' view of a `LocalAISite`: one gallery of OCI entries, source trees to push as images, and
/// the real `hangar` binary run on the site.
struct RegistrySite: LocalAISiteVeneer {
    let site: LocalAISite

    init() throws { site = try LocalAISite("oci") }

    var galleryPath: String { site.galleries + "/index.yaml" }
    var sources: String { site.sources }

    func remove() { site.remove() }

    /// Writes the gallery: `(name, uri, mirrors)` entries without versions, as the official index has.
    func writeGallery(_ entries: [(name: String, uri: String, mirrors: [String])]) throws {
        try site.gallery(entries.map { GalleryItem(name: $0.name, uri: $0.uri, mirrors: $0.mirrors) })
    }

    /// A backend tree: run.sh printing `label`, a VERSION file, a library and `extra` files.
    @discardableResult
    func source(_ label: String, extra: [String: String] = [:]) throws -> String {
        var tree = BackendTree.runScript("echo \(label)\n").file("VERSION", "\(label)\n")
            .file("lib/libbackend.so", "library \(label)\n")
        for (path, text) in extra { tree = tree.file(path, text) }
        return try site.source("\(label)-\(UUID().uuidString.prefix(4))", tree)
    }

    /// An installed backend `<backends>/<name>`: a plain (0644) run.sh and metadata.json with exactly `metadataJSON`.
    func install(_ name: String, metadataJSON: String) throws {
        try site.install(name, BackendTree().file("run.sh", "#!/bin/sh\n"), metadataJSON: metadataJSON)
    }

    /// The complete environment of a hangar process (nothing inherited): fast retries for the fault tests.
    func environment(_ extra: [String: String] = [:]) -> [String: String] {
        var env = site.environment(galleries: [GalleryFile(path: galleryPath, name: "t")], ["HANGAR_RETRY_BACKOFF": "0.05,0.1"])
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

    func read(_ relative: String) -> String? { readText(backends + "/" + relative) }

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
