import Foundation
import HangarEngine
import HangarFixtures
import Synchronization

/// The UI benchmark's LocalAI installation: the real gallery plus a one-entry local gallery, 50 backends installed
/// from the real one, and one local backend with an upgrade whose throttled copy shows progress.
struct TUIBenchSite {
    static let payloadBackend = "bench-payload"
    /// Bytes per second for local copies, and the size of the new build: a two-second copy in 1 MiB steps (the
    /// copier's chunk), so the engine reports progress 16 times a second.
    static let copyLimit = 16 << 20
    static let payloadBytes = 32 << 20
    static let installedCount = 50

    let site: LocalAISite
    var root: String { site.root }
    let hangar: String
    let installedNames: [String]
    let environment: [String: String]

    init(gallery: String, hangar: String) throws {
        self.hangar = hangar
        guard FileManager.default.fileExists(atPath: gallery) else {
            throw TUIBenchError("gallery \(gallery) not found: pass --gallery PATH")
        }
        site = try LocalAISite("bench-tui")
        let source = try site.source("\(Self.payloadBackend)-2", BackendTree.runScript()
            .file("model.bin", bytes: Data(repeating: 0x5A, count: Self.payloadBytes)))
        let local = try site.gallery([GalleryItem(name: Self.payloadBackend, uri: source, version: "2.0.0")], name: "bench")
        let proxy = "http://127.0.0.1:9"
        environment = site.environment(galleries: [GalleryFile(path: gallery, name: "localai"), local], [
            "PATH": "/usr/bin:/bin", "LANG": nil, "TERM": "xterm-256color", "LC_ALL": "C.UTF-8",
            "HANGAR_COPY_LIMIT": String(Self.copyLimit),
            // The real gallery's images live on quay.io: any registry lookup goes to a closed loopback port instead.
            "HTTPS_PROXY": proxy, "https_proxy": proxy, "HTTP_PROXY": proxy, "http_proxy": proxy, "ALL_PROXY": proxy,
            // One quick retry: with the default 1, 3, 9 s backoff the 50 refused lookups keep the upgrade check (and
            // with it the payload's upgrade) waiting for minutes.
            "HANGAR_RETRY_BACKOFF": "0",
        ])
        let engine = try Self.engine(environment, root: site.root)
        var names: [String] = []
        for entry in engine.gallery().entries where !entry.isMeta && !names.contains(entry.name) {
            names.append(entry.name)
            // What an install from the gallery leaves: run.sh and LocalAI's metadata.json with the image digest.
            try site.install(entry.name, metadata: BackendMetadata(
                alias: entry.alias, name: entry.name, galleryURL: entry.gallery.url, installedAt: RFC3339.localNow(),
                version: entry.version, uri: entry.uri, digest: "sha256:" + SHA256.hex(entry.name)))
            if names.count == Self.installedCount { break }
        }
        installedNames = names.sorted()
        try Self.installPayloadBackend(on: site, in: site.backends)
    }

    func remove() { site.remove() }

    /// The engine hangar itself runs on the site (`HANGAR_COPY_LIMIT` in `environment` throttles local copies).
    static func engine(_ environment: [String: String], root: String) throws -> Engine {
        let configuration = try HangarConfiguration.resolve(flags: .init(), environment: environment, workingDirectory: root)
        return Engine.live(configuration: configuration, recover: false).engine
    }

    /// The payload backend at v1.0.0, upgradable to the local gallery's v2.0.0.
    private static func installPayloadBackend(on site: LocalAISite, in backends: String) throws {
        try site.install(payloadBackend, metadata: BackendMetadata(name: payloadBackend, installedAt: RFC3339.localNow(),
                                                                   version: "1.0.0", uri: "/old"), in: backends)
    }

    /// A shell command running hangar with exactly `environment`; `exec` replaces the shell (so the pane's pid is
    /// hangar's), `then` runs after it with output discarded.
    func command(_ arguments: [String], exec: Bool = false, then: String? = nil) -> String {
        var line = (exec ? "exec " : "") + envCommand(environment, [hangar] + arguments)
        if let then { line += " >/dev/null 2>&1; " + then }
        return line
    }

    /// Progress events per second the engine emits for the payload upgrade, on a copy of the site's backend.
    func engineProgressEvents() throws -> Double {
        let backends = root + "/engine-baseline/backends"
        try Self.installPayloadBackend(on: site, in: backends)
        var env = environment
        env["LOCALAI_BACKENDS_PATH"] = backends
        let engine = try Self.engine(env, root: root)
        let times = Mutex<[Double]>([])
        engine.jobs.subscribe(on: DispatchQueue(label: "bench.progress")) { event in
            if case .progress = event.kind { times.withLock { $0.append(Date().timeIntervalSince1970) } }
        }
        guard engine.jobs.wait(try engine.upgrade(Self.payloadBackend)).isSuccess else {
            throw TUIBenchError("the baseline upgrade of \(Self.payloadBackend) failed")
        }
        usleep(100_000)
        let stamps = times.withLock { $0 }
        guard stamps.count > 1, let firstStamp = stamps.first, let lastStamp = stamps.last, lastStamp > firstStamp else {
            return .nan
        }
        return Double(stamps.count - 1) / (lastStamp - firstStamp)
    }

    /// Peak RSS of `hangar list --available` on the same data.
    func peakMemoryOfList() throws -> Int {
        let child = try ChildProcess([hangar, "list", "--available"], environment: environment, outputPath: root + "/list.out")
        guard child.wait(timeout: 60) == 0, let peak = child.peakMemoryKiB else {
            throw TUIBenchError("hangar list --available failed: \(child.output)")
        }
        return peak
    }
}

/// Why the UI benchmark could not measure, with what to do about it.
struct TUIBenchError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
