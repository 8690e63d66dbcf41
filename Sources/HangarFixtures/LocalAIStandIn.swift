// A stand-in for a LocalAI server's backend-management API, written from ../shared/spec/localai-api.md (itself read
// from mudler/LocalAI at 82c191a): no LocalAI binary can be installed where the tests run. What it reproduces:
// - §6.1 GET /backends: `SystemBackend` rows with Go's capitalised keys (§5.1, G9), from a real backends directory
//   (installed backends with metadata.json, listed by LocalAI's algorithm), in random order as Go's map gives them.
// - §6.2 GET /backends/available: `GalleryBackend` entries, `installed` omitted when false (§5.2).
// - §6.5–6.7 POST /backends/apply, /backends/delete/:name, /backends/upgrade/:name: `BackendResponse` (§5.4) with a
//   UUID v1-shaped id; jobs run one at a time on one worker (§7.1), report `OpStatus` (§5.5, §7.2) with
//   `processed`, `progress`, `current_bytes`/`total_bytes`, `file_size`/`downloaded_size`, and end completed, failed
//   (`error`, `message: "error: …"`, empty `gallery_element_name`) or cancelled.
// - G1: a failed upgrade or forced reinstall deletes the installed backend (`DeleteBackendFromSystem`).
// - §6.8, G3: GET /backends/upgrades is a cache; POST /backends/upgrades/check answers the old cache and computes the
//   new one later; a successful job triggers a check too (§9.1). Detection per §9.1 (version, then digest).
// - §6.9, G4: an unknown job id is a 500 shape A "could not find any status for ID".
// - §7.3 POST /api/operations/:id/cancel: 400 for a queued /backends job and for finished ones (G15).
// - §10 GET/POST /api/settings: the full snapshot (with api_keys in clear), partial POST, `{"success":true,…}`.
// - §3 auth: legacy keys (every key admin) and user keys with roles; 401 shape A with `WWW-Authenticate: Bearer`,
//   403 "Admin access required"; `Authorization: Bearer`, `x-api-key` and a bare `Authorization` accepted.
// - §2.1 the SPA fallback: HTML with 200 for an unknown route when `Accept` asks for text/html.
// Faults for the tests: per-path HTTP faults (500s, delays, dropped connections), HTML or hostile bodies, jobs that
// never finish, a restart that forgets every job id, a redirect of every request to another URL.
import Foundation
import HangarEngine
import Synchronization

/// A LocalAI server stand-in on 127.0.0.1 (see the header comment for what it reproduces and from where).
public final class LocalAIStandIn: Sendable {
    /// One gallery entry the stand-in offers; installing it writes `run.sh` (unless `broken`) and metadata.json.
    public struct Entry: Sendable {
        public var name: String
        public var version: String
        public var digest: String
        /// Bytes the job reports downloading.
        public var size: Int64
        /// An install or upgrade of this entry fails (its image has no run.sh), as a broken release would.
        public var broken: Bool
        public var description: String
        public var tags: [String]
        /// Files (image layers) the download has; each restarts the job's byte counts, as LocalAI's do, and has
        /// `size` bytes.
        public var layers = 1

        public init(name: String, version: String = "", digest: String = "", size: Int64 = 4 << 20,
                    broken: Bool = false, description: String = "", tags: [String] = []) {
            self.name = name
            self.version = version
            self.digest = digest
            self.size = size
            self.broken = broken
            self.description = description
            self.tags = tags
        }

        public var uri: String { "quay.io/go-skynet/local-ai-backends:latest-\(name)" }
    }

    /// A role of a user API key (§3.1 user-auth mode); legacy keys are all admin.
    public enum Role: String, Sendable { case admin, user }

    /// How a route misbehaves, applied to the next matching request(s).
    public enum Fault: Sendable {
        /// One of the loopback server's faults (status, delay, dropped connection, stall).
        case http(LoopbackHTTPServer.Fault)
        /// Answers 200 with this body and content type instead (HTML pages, hostile JSON).
        case body([UInt8], contentType: String)
    }

    struct Job: Sendable {
        var id: String
        var name: String
        var kind: String  // apply, upgrade, delete
        var force: Bool
        var status: JSONObject
        var cancelRequested = false
        var started = false
    }

    struct State: Sendable {
        var gallery: [Entry]
        var jobs: [String: Job] = [:]
        var upgradesCache = JSONObject()
        var settings: JSONObject
        var faults: [(prefix: String, fault: Fault)] = []
        var neverFinish = false
        var redirectTo: String?
        var stopped = false
        var nextJob = 1
        var checksRequested = 0
        var checkDelay: Double
        /// When each backend's job first reported bytes and when it ended, on `MonotonicClock` (benchmarks measure
        /// how soon a client shows them).
        var timeline: [String: JobTimeline] = [:]
        // Models state
        var loadedModels: [LoadedModel] = []
        var shutdowns: [String] = []
        /// The loader's registry of backends on disk (nil: not started yet); see LocalAIStandIn+Models.swift.
        var registered: [String: String]?
        var registryJobsSeen: Set<String> = []
        // Cluster state
        var cluster: ClusterState?
        // Echo state
        var echoes: [Echo] = []
    }

    /// When the server's job on a backend first reported progress and when it finished (`MonotonicClock` seconds).
    public struct JobTimeline: Sendable {
        public var firstProgress: Double?
        public var finished: Double?
    }

    /// The timeline of the newest job on `backend`.
    public func timeline(of backend: String) -> JobTimeline? { state.withLock { $0.timeline[backend] } }

    let server: LoopbackHTTPServer
    let state: Mutex<State>
    /// The one gallery worker (§7.1): jobs run strictly one after another.
    let worker = DispatchQueue(label: "localai-standin.worker")
    let checker = DispatchQueue(label: "localai-standin.checker")
    let legacyKeys: [String]
    let userKeys: [String: Role]
    /// The temporary root holding `backends/` (removed by `stop()`).
    public let root: String
    public var backendsPath: String { root + "/backends" }
    /// Seconds between progress ticks of a job, and how many ticks a download takes.
    public let tick: Double
    public let ticks: Int

    /// `http://127.0.0.1:<port>`, the value for `--server`.
    public var url: String { "http://127.0.0.1:\(server.port)" }
    public var port: Int { server.port }

    /// A stand-in offering `gallery`, requiring one of `apiKeys` (legacy, admin) or `userKeys` when either is given.
    /// `checkDelay` is how long an upgrade check takes after it is requested (G3).
    public init(gallery: [Entry], apiKeys: [String] = [], userKeys: [String: Role] = [:], tick: Double = 0.05,
                ticks: Int = 6, checkDelay: Double = 0.3) throws {
        root = try makeTemporaryDirectory("localai-standin")
        try FileManager.default.createDirectory(atPath: root + "/backends", withIntermediateDirectories: true)
        legacyKeys = apiKeys
        self.userKeys = userKeys
        self.tick = tick
        self.ticks = ticks
        var settings = JSONObject()
        settings["max_active_backends"] = .number("0")
        settings["single_backend"] = .bool(false)
        settings["auto_upgrade_backends"] = .bool(false)
        settings["prefer_development_backends"] = .bool(false)
        settings["backend_galleries"] = .array([.object(JSONObject(["url": .string("https://index.localai.io/backends"),
                                                                    "name": .string("localai")]))])
        settings["autoload_backend_galleries"] = .bool(true)
        settings["api_keys"] = .array(apiKeys.map { .string($0) })
        state = Mutex(State(gallery: gallery, settings: settings, checkDelay: checkDelay))
        server = try LoopbackHTTPServer()
        server.fallback { [weak self] request in
            guard let self else { return (LoopbackHTTPServer.Reply(status: 503, text: "stopped"), nil) }
            return self.answer(request)
        }
    }

    deinit { stop() }

    /// Stops serving and the worker, and removes the backends directory.
    public func stop() {
        state.withLock { $0.stopped = true }
        server.stop()
        worker.sync {}
        removeTree(root)
    }

    // MARK: - Set-up and faults

    /// Installs `entry` as LocalAI would have (run.sh plus metadata.json), with `version`/`digest` overriding the
    /// gallery's (an older build).
    public func preinstall(_ entry: Entry, version: String? = nil, digest: String? = nil) throws {
        try writeBackend(entry, version: version ?? entry.version, digest: digest ?? entry.digest)
    }

    /// Replaces the gallery (a new release published).
    public func setGallery(_ entries: [Entry]) { state.withLock { $0.gallery = entries } }

    /// Queues `fault` for the next request whose path starts with `pathPrefix` (repeat the call for several).
    public func inject(_ fault: Fault, on pathPrefix: String) {
        state.withLock { $0.faults.append((pathPrefix, fault)) }
    }

    /// Jobs stay running forever at 50% (a job id that never finishes).
    public func setNeverFinish(_ on: Bool) { state.withLock { $0.neverFinish = on } }

    /// Every request is answered with a 302 to `base` + the same path (nil: serve normally).
    public func redirectEverything(to base: String?) { state.withLock { $0.redirectTo = base } }

    /// A restart: every job id is forgotten (§7.4); the disk stays as it is.
    public func forgetJobs() { state.withLock { $0.jobs.removeAll() } }

    /// Computes the upgrades cache now, as the checker's first run (§9.1) would.
    public func runCheckNow() { let cache = computeUpgrades(); state.withLock { $0.upgradesCache = cache } }

    /// Every request received, in order.
    public var requests: [LoopbackHTTPServer.Request] { server.requests }

    /// The live `auto_upgrade_backends` setting.
    public var autoUpgrade: Bool { state.withLock { $0.settings["auto_upgrade_backends"] } == .bool(true) }

    /// How many upgrade checks were requested through the API.
    public var checksRequested: Int { state.withLock { $0.checksRequested } }

    /// metadata.json of an installed backend, nil when it is not installed.
    public func installedMetadata(_ name: String) -> BackendMetadata? {
        guard FileManager.default.fileExists(atPath: backendsPath + "/" + name + "/run.sh") else { return nil }
        guard case .success(let m) = InstalledBackends.readMetadata(dir: backendsPath + "/" + name, name: name) else { return nil }
        return m
    }

    // MARK: - Routing

    /// Routes added by the stand-in's extension files; nil when none of them answers `path`.
    func routeExtensions(_ request: LoopbackHTTPServer.Request, _ path: String) -> Reply? {
        routeCluster(request, path) ?? routeModels(request, path) ?? routeEcho(request, path)
    }

    typealias Reply = LoopbackHTTPServer.Reply

    /// What `GET /version` answers.
    public static let version = "v3.9.0-standin"

    func answer(_ request: LoopbackHTTPServer.Request) -> (Reply, LoopbackHTTPServer.Fault?) {
        let path = request.path.count > 1 && request.path.hasSuffix("/") ? String(request.path.dropLast()) : request.path
        let (fault, redirect) = state.withLock { s -> (Fault?, String?) in
            let index = s.faults.firstIndex { path.hasPrefix($0.prefix) }
            return (index.map { s.faults.remove(at: $0).fault }, s.redirectTo)
        }
        if let redirect { return (Reply(status: 302, headers: ["Location": redirect + request.target]), nil) }
        switch fault {
        case .http(let f)?:
            if case .status(let code) = f { return (Self.errorA(code, "injected fault"), nil) }
            return (route(request, path: path), f)
        case .body(let bytes, let type)?:
            return (Reply(status: 200, headers: ["Content-Type": type], body: bytes), nil)
        case nil:
            return (route(request, path: path), nil)
        }
    }

    func route(_ request: LoopbackHTTPServer.Request, path: String) -> Reply {
        let m = request.method
        if path == "/healthz" || path == "/readyz" { return Reply(status: 200, text: "OK") }
        if let refusal = authorize(request) { return refusal }
        // Routes of the stand-in's other files (extensions: web UI, loaded models, cluster) answer first.
        if let reply = routeExtensions(request, path) { return reply }
        switch (m, path) {
        case ("GET", "/version"):
            // localai.go:282: `{"version": internal.PrintableVersion()}`, behind auth.
            return json(.object(JSONObject(["version": .string(Self.version)])))
        case ("GET", "/backends"): return json(.array(listInstalled()))
        case ("GET", "/backends/available"): return json(.array(available()))
        case ("GET", "/backends/upgrades"): return json(.object(state.withLock { $0.upgradesCache }))
        case ("POST", "/backends/upgrades/check"):
            // G3: the old cache now, the new one later.
            let old = state.withLock { s -> JSONObject in s.checksRequested += 1; return s.upgradesCache }
            scheduleCheck()
            return json(.object(old))
        case ("POST", "/backends/apply"):
            let body = try? JSONValue.parse(request.body.isEmpty ? Array("{}".utf8) : request.body)
            let id = body?["id"]?.stringValue ?? ""
            return json(.object(submit(name: id, kind: "apply", force: body?["force"] == .bool(true))))
        case ("GET", "/api/settings"): return json(.object(state.withLock { $0.settings }))
        case ("POST", "/api/settings"):
            guard case .object(let changes)? = try? JSONValue.parse(request.body) else {
                return json(.object(JSONObject(["success": .bool(false), "error": .string("invalid JSON")])), status: 400)
            }
            state.withLock { s in for member in changes.members { s.settings[member.key] = member.value } }
            return json(.object(JSONObject(["success": .bool(true), "message": .string("Settings updated successfully")])))
        default: break
        }
        if m == "POST", path.hasPrefix("/backends/upgrade/") {
            return json(.object(submit(name: String(path.dropFirst("/backends/upgrade/".count)), kind: "upgrade", force: true)))
        }
        if m == "POST", path.hasPrefix("/backends/delete/") {
            return json(.object(submit(name: String(path.dropFirst("/backends/delete/".count)), kind: "delete", force: false)))
        }
        if m == "GET", path.hasPrefix("/backends/jobs/") {
            let id = String(path.dropFirst("/backends/jobs/".count))
            guard let status = state.withLock({ $0.jobs[id]?.status }) else {
                return Self.errorA(500, "could not find any status for ID")
            }
            return json(.object(status))
        }
        if m == "POST", path.hasPrefix("/api/operations/"), path.hasSuffix("/cancel") {
            let id = String(path.dropFirst("/api/operations/".count).dropLast("/cancel".count))
            return cancel(id)
        }
        if (request.header("accept") ?? "").contains("text/html") {
            return Reply(status: 200, headers: ["Content-Type": "text/html"], text: "<!doctype html><html><body>LocalAI</body></html>")
        }
        return Self.errorA(404, "Resource not found")
    }

    /// §3.2–3.3: Bearer, x-api-key, xi-api-key, or a bare legacy key; 401 without one, 403 for a `user` key.
    func authorize(_ request: LoopbackHTTPServer.Request) -> Reply? {
        guard !legacyKeys.isEmpty || !userKeys.isEmpty else { return nil }
        var candidates: [String] = []
        if let auth = request.header("authorization") {
            candidates.append(auth.hasPrefix("Bearer ") ? String(auth.dropFirst(7)) : auth)
        }
        candidates += [request.header("x-api-key"), request.header("xi-api-key")].compactMap { $0 }
        for key in candidates {
            if legacyKeys.contains(key) { return nil }
            if let role = userKeys[key] {
                return role == .admin ? nil : Self.errorA(403, "Admin access required", type: "authorization_error")
            }
        }
        var reply = Self.errorA(401, "An authentication key is required", type: "invalid_request_error")
        reply.headers["WWW-Authenticate"] = "Bearer"
        return reply
    }

    func json(_ value: JSONValue, status: Int = 200) -> Reply {
        Reply(status: status, headers: ["Content-Type": "application/json"], text: value.compact())
    }

    /// Error shape A (§2.2).
    static func errorA(_ code: Int, _ message: String, type: String = "") -> Reply {
        let body = JSONValue.object(JSONObject(["error": .object(JSONObject([
            "code": .number(String(code)), "message": .string(message), "type": .string(type)]))]))
        return Reply(status: code, headers: ["Content-Type": "application/json"], text: body.compact())
    }

    // MARK: - Listing, gallery, upgrades

    func listInstalled() -> [JSONValue] {
        guard let installed = try? InstalledBackends.list(backendsPath: backendsPath, systemBackendsPath: root + "/system",
                                                          capability: Capability("default")) else { return [] }
        return installed.rows.shuffled().map { row in
            var o = JSONObject()
            o["Name"] = .string(row.name)
            o["RunFile"] = .string(row.runFile)
            o["IsMeta"] = .bool(row.isMeta)
            o["IsSystem"] = .bool(row.isSystem)
            o["Metadata"] = row.metadata.map { .object($0.jsonObject) } ?? .null
            return .object(o)
        }
    }

    func available() -> [JSONValue] {
        state.withLock { $0.gallery }.map { entry in
            var o = JSONObject()
            o["name"] = .string(entry.name)
            if !entry.description.isEmpty { o["description"] = .string(entry.description) }
            if !entry.tags.isEmpty { o["tags"] = .array(entry.tags.map { .string($0) }) }
            o["gallery"] = .object(JSONObject(["url": .string("https://index.localai.io/backends"), "name": .string("localai")]))
            if installedMetadata(entry.name) != nil { o["installed"] = .bool(true) }
            o["uri"] = .string(entry.uri)
            if !entry.version.isEmpty { o["version"] = .string(entry.version) }
            return .object(o)
        }
    }

    /// §9.1's rules per installed row: system and alias rows skipped, version first, then digest.
    func computeUpgrades() -> JSONObject {
        let gallery = state.withLock { $0.gallery }
        var cache = JSONObject()
        guard let installed = try? InstalledBackends.list(backendsPath: backendsPath, systemBackendsPath: root + "/system",
                                                          capability: Capability("default")) else { return cache }
        for row in installed.rows where !row.isSystem {
            guard let m = row.metadata, m.name == row.name, let entry = gallery.first(where: { $0.name == row.name }) else { continue }
            let flagged = !entry.version.isEmpty ? entry.version != m.version : (m.digest.isEmpty || m.digest != entry.digest)
            guard flagged else { continue }
            var info = JSONObject()
            info["backend_name"] = .string(row.name)
            info["installed_version"] = .string(m.version)
            info["available_version"] = .string(entry.version)
            if !m.digest.isEmpty { info["installed_digest"] = .string(m.digest) }
            if !entry.digest.isEmpty { info["available_digest"] = .string(entry.digest) }
            cache[row.name] = .object(info)
        }
        return cache
    }

    func scheduleCheck() {
        let delay = state.withLock { $0.checkDelay }
        checker.asyncAfter(deadline: .now() + delay) { [weak self] in self?.runCheckNow() }
    }

    // MARK: - Jobs

    /// Records a queued job (§7.1: admission always writes a status) and returns its id, UUID v1's shape (§5.4),
    /// numbered by the stand-in.
    static func admit(_ s: inout State, name: String, kind: String, force: Bool) -> String {
        let id = String(format: "%08x-6f5d-11f1-9c2b-0242ac120002", s.nextJob)
        s.nextJob += 1
        var status = Self.status(processed: false, message: "queued", deletion: kind.hasSuffix("delete"))
        status["phase"] = .string("queued")
        s.jobs[id] = Job(id: id, name: name, kind: kind, force: force, status: status)
        return id
    }

    func submit(name: String, kind: String, force: Bool) -> JSONObject {
        let id = state.withLock { Self.admit(&$0, name: name, kind: kind, force: force) }
        worker.async { [weak self] in self?.run(id) }
        return JSONObject(["id": .string(id), "status_url": .string(url + "/backends/jobs/" + id)])
    }

    static func status(processed: Bool, message: String, deletion: Bool, progress: Double = 0,
                               name: String = "", cancellable: Bool = true) -> JSONObject {
        var o = JSONObject()
        o["deletion"] = .bool(deletion)
        o["file_name"] = .string(name)
        o["processed"] = .bool(processed)
        o["message"] = .string(message)
        o["progress"] = .number(String(progress))
        o["file_size"] = .string("")
        o["downloaded_size"] = .string("")
        o["gallery_element_name"] = .string(name)
        o["cancelled"] = .bool(false)
        o["cancellable"] = .bool(cancellable)
        return o
    }

    func update(_ id: String, _ change: (inout Job) -> Void) {
        state.withLock { s in if var job = s.jobs[id] { change(&job); s.jobs[id] = job } }
    }

    func cancel(_ id: String) -> Reply {
        let answer: Reply = state.withLock { s in
            guard var job = s.jobs[id], job.status["processed"] != .bool(true) else {
                return json(.object(JSONObject(["error": .string("operation \"\(id)\" not found or already completed")])), status: 400)
            }
            // G15: a queued /backends job has no cancel function yet.
            guard job.started else {
                return json(.object(JSONObject(["error": .string("operation \"\(id)\" not found or already completed")])), status: 400)
            }
            job.cancelRequested = true
            job.status["cancelled"] = .bool(true)
            job.status["message"] = .string("cancelled")
            s.jobs[id] = job
            return json(.object(JSONObject(["success": .bool(true), "message": .string("Operation cancelled")])))
        }
        return answer
    }

    func run(_ id: String) {
        guard let job = state.withLock({ s -> Job? in
            if let job = s.jobs[id] { s.timeline[job.name] = JobTimeline() }
            return s.stopped ? nil : s.jobs[id]
        }) else { return }
        update(id) { j in
            j.started = true
            j.status = Self.status(processed: false, message: "processing backend: \(j.name)", deletion: j.kind == "delete",
                                   name: j.name, cancellable: j.kind != "delete")
        }
        func finish(error: String?, cancelled: Bool = false) {
            state.withLock { $0.timeline[job.name, default: JobTimeline()].finished = MonotonicClock.now() }
            update(id) { j in
                var s = Self.status(processed: true, message: cancelled ? "cancelled" : error.map { "error: " + $0 } ?? "completed",
                                    deletion: j.kind == "delete", progress: error == nil && !cancelled ? 100 : 0,
                                    name: error == nil ? j.name : "")
                if let error { s["error"] = .string(error) }
                if cancelled { s["cancelled"] = .bool(true) }
                j.status = s
            }
        }
        let name = job.name
        if job.kind == "delete" {
            guard installedMetadata(name) != nil || FileManager.default.fileExists(atPath: backendsPath + "/" + name) else {
                return finish(error: "backend \"\(name)\": backend not found")
            }
            removeTree(backendsPath + "/" + name)
            finish(error: nil)
            runCheckNow()
            return
        }
        guard !name.isEmpty else { return finish(error: "backend name is empty") }
        guard let entry = state.withLock({ $0.gallery.first { $0.name == name } }) else {
            if job.kind == "upgrade" { return finish(error: "backend \"\(name)\" not found in any gallery") }
            return finish(error: "no backend found with name \"\(name)\"")
        }
        if job.kind == "upgrade" && installedMetadata(name) == nil {
            return finish(error: "backend \"\(name)\" is not installed")
        }
        // §6.5: a non-forced apply of an installed, runnable backend completes at once.
        if job.kind == "apply" && !job.force && installedMetadata(name) != nil { return finish(error: nil) }
        var step = 0
        let layers = max(1, entry.layers)
        while true {
            let (stop, cancelled, never) = state.withLock { s in
                (s.stopped, s.jobs[id]?.cancelRequested ?? false, s.neverFinish)
            }
            if stop { return }
            if cancelled { return finish(error: nil, cancelled: true) }
            if step >= ticks * layers && !never { break }
            if step < ticks * layers { step += 1 }
            // Per file, as LocalAI reports it: the counts start again at each layer.
            let layer = never ? 0 : (step - 1) / ticks
            let within = never ? ticks / 2 : step - layer * ticks
            let done = entry.size * Int64(within) / Int64(max(ticks, 1))
            let file = layers > 1 ? "\(name)-layer\(layer + 1)" : name
            state.withLock { s in
                if done > 0, s.timeline[name]?.firstProgress == nil { s.timeline[name, default: JobTimeline()].firstProgress = MonotonicClock.now() }
            }
            update(id) { j in
                j.status["file_name"] = .string(file)
                j.status["progress"] = .number(String(Double(done) * 100 / Double(max(entry.size, 1))))
                j.status["current_bytes"] = .number(String(done))
                j.status["total_bytes"] = .number(String(entry.size))
                j.status["file_size"] = .string(TextFormat.bytes(entry.size))
                j.status["downloaded_size"] = .string(TextFormat.bytes(done))
                j.status["message"] = .string("processing file: \(file). Total: \(TextFormat.bytes(entry.size)). Current: \(TextFormat.bytes(done))")
            }
            Thread.sleep(forTimeInterval: tick)
        }
        if entry.broken {
            // G1: backendHandler deletes the backend after any failed non-delete job.
            if job.kind == "upgrade" || job.force { removeTree(backendsPath + "/" + name) }
            return finish(error: "failed to install backend \"\(name)\": run.sh not found in the image")
        }
        do {
            try writeBackend(entry, version: entry.version, digest: entry.digest)
            finish(error: nil)
            runCheckNow()  // §9.1: a successful job triggers a check
        } catch {
            finish(error: "\(error)")
        }
    }

    func writeBackend(_ entry: Entry, version: String, digest: String, in base: String? = nil) throws {
        let dir = (base ?? backendsPath) + "/" + entry.name
        removeTree(dir)
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        try HangarFixtures.write(path: dir + "/run.sh", text: "#!/bin/sh\necho \(entry.name) \(version)\n", mode: 0o755)
        let metadata = BackendMetadata(name: entry.name, galleryURL: "https://index.localai.io/backends",
                                       installedAt: RFC3339.localNow(), version: version, uri: entry.uri, digest: digest)
        try HangarFixtures.write(path: dir + "/metadata.json", text: metadata.encoded())
    }
}
