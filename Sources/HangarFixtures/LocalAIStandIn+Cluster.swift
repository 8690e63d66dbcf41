// LocalAI's distributed mode in the stand-in, from ../shared/spec/localai-api.md:
// - §13 the node routes (GET /api/nodes, /api/nodes/:id, /api/nodes/:id/backends; POST
//   /api/nodes/:id/backends/install|upgrade → 202 `{"jobID","statusUrl","message"}`, /delete synchronous), admin-only
//   like every route here, 404 when the server is not distributed, errors in shape C with type `node_error`.
// - §13 "cluster behaviour": cluster-wide apply and delete fan out to every node, unhealthy ones included, upgrade
//   targets only the nodes that have the backend; node-scoped jobs live in the same job store and report `nodes[]`
//   (§5.5 `NodeProgress`). §7.2: a node that is not healthy (here `offline` or `unhealthy`; a draining node still
//   works) is reported `status:"queued"` with `error:"node unhealthy, will retry when healthy"` and the job still
//   completes. A fanned-out delete on a node that does not have the backend counts as done there [U: the spec does
//   not say what the worker answers].
// - §5.1 `GET /backends` rows aggregated from the workers (alias rows dropped, `RunFile` ""), each with `nodes[]`.
// - §5.6 `/backends/upgrades` entries with `node_drift[]` when nodes disagree; `installed_*` is the majority's value.
// - §5.2 `GET /backends/available` marks `installed` when any node has the backend.
// Each node is a real LocalAI-layout directory (run.sh + metadata.json) under the stand-in's root. An offline node
// cannot be queried (its listing is a 500 "failed to list backends on node"); jobs leave it a retry row (§7.2).
import Foundation
import HangarEngine

extension LocalAIStandIn {
    /// One worker node of a distributed stand-in.
    public struct ClusterNode: Sendable {
        public var id: String
        public var name: String
        /// `healthy`, `unhealthy`, `offline`, `draining` or `pending` (§13).
        public var status: String
        /// RFC 3339 time of the last heartbeat.
        public var lastHeartbeat: String

        public init(id: String, name: String, status: String = "healthy", lastHeartbeat: String = "2026-12-04T12:00:00Z") {
            self.id = id
            self.name = name
            self.status = status
            self.lastHeartbeat = lastHeartbeat
        }
    }

    struct ClusterState: Sendable {
        var nodes: [ClusterNode]
        var upgradesCache = JSONObject()
        /// Job id → the nodes it targets (a node-scoped or fanned-out job).
        var jobTargets: [String: [String]] = [:]
    }

    /// Turns the stand-in into a distributed LocalAI frontend with `nodes`, each with an empty backends directory.
    public func enableCluster(nodes: [ClusterNode]) throws {
        for node in nodes {
            try FileManager.default.createDirectory(atPath: nodeBackendsPath(node.id), withIntermediateDirectories: true)
        }
        state.withLock { $0.cluster = ClusterState(nodes: nodes) }
    }

    /// The real directory holding node `id`'s backends.
    public func nodeBackendsPath(_ id: String) -> String { root + "/nodes/" + id + "/backends" }

    /// Installs `entry` on node `id` as its worker would have, `version`/`digest` overriding the gallery's.
    public func preinstall(_ entry: Entry, onNode id: String, version: String? = nil, digest: String? = nil) throws {
        try writeBackend(entry, version: version ?? entry.version, digest: digest ?? entry.digest, in: nodeBackendsPath(id))
    }

    /// A node's health changes (a worker goes offline, is drained, comes back).
    public func setNodeStatus(_ id: String, _ status: String) {
        state.withLock { s in
            guard let i = s.cluster?.nodes.firstIndex(where: { $0.id == id }) else { return }
            s.cluster?.nodes[i].status = status
        }
    }

    /// metadata.json of `name` on node `id`, nil when that node does not have it.
    public func nodeMetadata(_ name: String, onNode id: String) -> BackendMetadata? {
        let dir = nodeBackendsPath(id) + "/" + name
        guard FileManager.default.fileExists(atPath: dir + "/run.sh") else { return nil }
        guard case .success(let m) = InstalledBackends.readMetadata(dir: dir, name: name) else { return nil }
        return m
    }

    /// Computes the cluster's upgrades cache now (§5.6, §9.1).
    public func runClusterCheckNow() {
        let cache = computeClusterUpgrades()
        state.withLock { $0.cluster?.upgradesCache = cache }
    }

    var clusterNodes: [ClusterNode]? { state.withLock { $0.cluster?.nodes } }

    // MARK: - Routes

    func routeCluster(_ request: LoopbackHTTPServer.Request, _ path: String) -> Reply? {
        guard path.hasPrefix("/api/nodes") || path.hasPrefix("/backends") else { return nil }
        guard let nodes = clusterNodes else {
            // §13: registered only in distributed mode.
            return path.hasPrefix("/api/nodes") ? Self.errorA(404, "Resource not found") : nil
        }
        let m = request.method
        if m == "POST", path == "/backends/apply" {
            // §13: a cluster-wide install fans out to every node.
            let body = try? JSONValue.parse(request.body.isEmpty ? Array("{}".utf8) : request.body)
            let id = submitClusterJob(name: body?["id"]?.stringValue ?? "", kind: "apply", targets: nodes.map(\.id),
                                      force: body?["force"] == .bool(true))
            return json(.object(JSONObject(["id": .string(id), "status_url": .string(url + "/backends/jobs/" + id)])))
        }
        if path.hasPrefix("/backends") { return routeClusterBackends(m, path) }
        let parts = path.split(separator: "/").map(String.init)  // api, nodes, :id, backends, verb
        if m == "GET", parts.count == 2 { return json(.array(nodes.map { .object(nodeJSON($0)) })) }
        if parts.count == 3, parts[2] == "models", m == "GET" { return json(.array([])) }
        guard parts.count >= 3, let node = nodes.first(where: { $0.id == parts[2] }) else {
            return Self.errorA(404, "node not found", type: "node_error")
        }
        switch (m, parts.count, parts.count > 3 ? parts[3] : "", parts.count > 4 ? parts[4] : "") {
        case ("GET", 3, _, _): return json(.object(nodeJSON(node)))
        case ("GET", 4, "backends", _):
            guard node.status != "offline" else { return Self.errorA(500, "failed to list backends on node", type: "node_error") }
            return json(.array(nodeBackends(node.id).map { .object($0) }))
        case ("GET", 4, "models", _): return json(.array([]))
        case ("POST", 5, "backends", let verb) where ["install", "upgrade", "delete"].contains(verb):
            let body = try? JSONValue.parse(request.body.isEmpty ? Array("{}".utf8) : request.body)
            let name = body?["backend"]?.stringValue ?? body?["name"]?.stringValue ?? ""
            if name.isEmpty {
                return Self.errorA(400, verb == "install" ? "backend name or uri required" : "backend name required", type: "node_error")
            }
            if verb == "delete" { return deleteOnNode(node, name) }
            let id = submitClusterJob(name: name, kind: verb == "install" ? "apply" : "upgrade", targets: [node.id], force: false)
            return json(.object(JSONObject(["jobID": .string(id), "statusUrl": .string("/api/backends/job/" + id),
                                            "message": .string("backend \(verb == "install" ? "installation" : "upgrade") started")])),
                        status: 202)
        default:
            return Self.errorA(404, "Resource not found")
        }
    }

    /// The cluster-aware `/backends*` routes; nil leaves the rest (jobs, settings) to the stand-in.
    private func routeClusterBackends(_ m: String, _ path: String) -> Reply? {
        switch (m, path) {
        case ("GET", "/backends"): return json(.array(clusterRows().shuffled()))
        case ("GET", "/backends/available"):
            let names = Set(clusterNodes!.flatMap { n in nodeBackends(n.id).compactMap { $0["name"]?.stringValue } })
            return json(.array(available().map { entry in
                guard case .object(var o) = entry, let name = o["name"]?.stringValue else { return entry }
                o["installed"] = names.contains(name) ? .bool(true) : nil
                return .object(o)
            }))
        case ("GET", "/backends/upgrades"): return json(.object(state.withLock { $0.cluster?.upgradesCache ?? JSONObject() }))
        case ("POST", "/backends/upgrades/check"):
            let old = state.withLock { s -> JSONObject in s.checksRequested += 1; return s.cluster?.upgradesCache ?? JSONObject() }
            let delay = state.withLock { $0.checkDelay }
            checker.asyncAfter(deadline: .now() + delay) { [weak self] in self?.runClusterCheckNow() }
            return json(.object(old))
        default: break
        }
        if m == "POST", path.hasPrefix("/backends/upgrade/") {
            let name = String(path.dropFirst("/backends/upgrade/".count))
            let targets = clusterNodes!.filter { hasBackend(name, on: $0.id) }.map(\.id)
            let id = submitClusterJob(name: name, kind: "upgrade", targets: targets, force: true)
            return json(.object(JSONObject(["id": .string(id), "status_url": .string(url + "/backends/jobs/" + id)])))
        }
        if m == "POST", path.hasPrefix("/backends/delete/") {
            let name = String(path.dropFirst("/backends/delete/".count))
            let id = submitClusterJob(name: name, kind: "delete", targets: clusterNodes!.map(\.id), force: false)
            return json(.object(JSONObject(["id": .string(id), "status_url": .string(url + "/backends/jobs/" + id)])))
        }
        return nil
    }

    // MARK: - Shapes

    /// `NodeWithExtras` (§13), flat.
    func nodeJSON(_ node: ClusterNode) -> JSONObject {
        let index = (clusterNodes?.firstIndex { $0.id == node.id } ?? 0) + 5
        var o = JSONObject()
        o["id"] = .string(node.id)
        o["name"] = .string(node.name)
        o["node_type"] = .string("backend")
        o["address"] = .string("10.0.0.\(index):50051")
        o["http_address"] = .string("10.0.0.\(index):50052")
        o["status"] = .string(node.status)
        for key in ["total_vram", "available_vram", "reserved_vram", "total_ram", "available_ram", "total_disk", "available_disk"] {
            o[key] = .number("0")
        }
        o["gpu_vendor"] = .string("")
        o["gpu_compute_capability"] = .string("")
        o["max_replicas_per_model"] = .number("1")
        o["max_replicas_per_model_manually_set"] = .bool(false)
        o["vram_budget_manually_set"] = .bool(false)
        o["last_heartbeat"] = .string(node.lastHeartbeat)
        o["created_at"] = .string("2026-12-01T09:00:00Z")
        o["updated_at"] = .string(node.lastHeartbeat)
        o["model_count"] = .number("0")
        o["in_flight_count"] = .number("0")
        return o
    }

    func hasBackend(_ name: String, on node: String) -> Bool {
        FileManager.default.fileExists(atPath: nodeBackendsPath(node) + "/" + name + "/run.sh")
    }

    /// A node's rows as its worker lists them (aliases excluded), as `NodeBackendInfo` (§13).
    func nodeBackends(_ id: String) -> [JSONObject] {
        guard let listing = try? InstalledBackends.list(backendsPath: nodeBackendsPath(id), systemBackendsPath: root + "/system",
                                                        capability: Capability("default")) else { return [] }
        return listing.rows.filter { !$0.isAlias }.sorted { $0.name < $1.name }.map { row in
            var o = JSONObject()
            o["name"] = .string(row.name)
            o["is_system"] = .bool(row.isSystem)
            o["is_meta"] = .bool(row.isMeta)
            if let m = row.metadata {
                if !m.installedAt.isEmpty { o["installed_at"] = .string(m.installedAt) }
                if !m.galleryURL.isEmpty { o["gallery_url"] = .string(m.galleryURL) }
                if !m.version.isEmpty { o["version"] = .string(m.version) }
                if !m.uri.isEmpty { o["uri"] = .string(m.uri) }
                if !m.digest.isEmpty { o["digest"] = .string(m.digest) }
            }
            return o
        }
    }

    /// Per backend name: each reachable node's `NodeBackendInfo`, in node order.
    private func reachableHoldings() -> [(name: String, holders: [(node: ClusterNode, info: JSONObject)])] {
        var byName: [String: [(ClusterNode, JSONObject)]] = [:]
        for node in clusterNodes ?? [] where node.status != "offline" {
            for info in nodeBackends(node.id) {
                guard let name = info["name"]?.stringValue, info["is_system"] != .bool(true) else { continue }
                byName[name, default: []].append((node, info))
            }
        }
        return byName.keys.sorted().map { ($0, byName[$0]!.map { (node: $0.0, info: $0.1) }) }
    }

    /// The value nodes agree on most (ties: the first node's), keyed by version and digest.
    private static func majority(_ holders: [(node: ClusterNode, info: JSONObject)]) -> (version: String, digest: String) {
        let keys = holders.map { ($0.info["version"]?.stringValue ?? "", $0.info["digest"]?.stringValue ?? "") }
        var counts: [String: Int] = [:]
        for k in keys { counts[k.0 + "\u{0}" + k.1, default: 0] += 1 }
        return keys.max { a, b in
            let ca = counts[a.0 + "\u{0}" + a.1]!, cb = counts[b.0 + "\u{0}" + b.1]!
            if ca != cb { return ca < cb }
            return keys.firstIndex { $0 == b }! < keys.firstIndex { $0 == a }!
        } ?? ("", "")
    }

    /// §5.1 distributed rows: one per backend, `Metadata` from a node with the majority build, `nodes[]` per holder.
    func clusterRows() -> [JSONValue] {
        reachableHoldings().map { name, holders in
            let major = Self.majority(holders)
            let source = holders.first { ($0.info["version"]?.stringValue ?? "") == major.version
                && ($0.info["digest"]?.stringValue ?? "") == major.digest }!
            var o = JSONObject()
            o["Name"] = .string(name)
            o["RunFile"] = .string("")
            o["IsMeta"] = .bool(source.info["is_meta"] == .bool(true))
            o["IsSystem"] = .bool(false)
            o["Metadata"] = nodeMetadata(name, onNode: source.node.id).map { .object($0.jsonObject) } ?? .null
            o["nodes"] = .array(holders.map { holder in
                var ref = JSONObject()
                ref["node_id"] = .string(holder.node.id)
                ref["node_name"] = .string(holder.node.name)
                ref["node_status"] = .string(holder.node.status)
                for key in ["version", "digest", "uri", "installed_at"] { if let v = holder.info[key] { ref[key] = v } }
                return .object(ref)
            })
            return .object(o)
        }
    }

    /// §5.6 with drift: flagged when the majority differs from the gallery or any node differs from the majority.
    func computeClusterUpgrades() -> JSONObject {
        let gallery = state.withLock { $0.gallery }
        var cache = JSONObject()
        for (name, holders) in reachableHoldings() {
            guard let entry = gallery.first(where: { $0.name == name }) else { continue }
            let major = Self.majority(holders)
            let drift = holders.filter { ($0.info["version"]?.stringValue ?? "") != major.version
                || ($0.info["digest"]?.stringValue ?? "") != major.digest }
            let outdated = !entry.version.isEmpty ? entry.version != major.version
                : (major.digest.isEmpty || major.digest != entry.digest)
            guard outdated || !drift.isEmpty else { continue }
            var info = JSONObject()
            info["backend_name"] = .string(name)
            info["installed_version"] = .string(major.version)
            info["available_version"] = .string(entry.version)
            if !major.digest.isEmpty { info["installed_digest"] = .string(major.digest) }
            if !entry.digest.isEmpty { info["available_digest"] = .string(entry.digest) }
            if !drift.isEmpty {
                info["node_drift"] = .array(drift.map { holder in
                    var d = JSONObject()
                    d["node_id"] = .string(holder.node.id)
                    d["node_name"] = .string(holder.node.name)
                    if let v = holder.info["version"] { d["version"] = v }
                    if let v = holder.info["digest"] { d["digest"] = v }
                    return .object(d)
                })
            }
            cache[name] = .object(info)
        }
        return cache
    }

    // MARK: - Node jobs

    /// §13 delete: synchronous, the worker's reason not returned.
    private func deleteOnNode(_ node: ClusterNode, _ name: String) -> Reply {
        guard node.status != "offline" else { return Self.errorA(500, "failed to delete backend on node", type: "node_error") }
        guard hasBackend(name, on: node.id) else { return Self.errorA(500, "backend deletion failed", type: "node_error") }
        removeTree(nodeBackendsPath(node.id) + "/" + name)
        runClusterCheckNow()
        return json(.object(JSONObject(["message": .string("backend deleted")])))
    }

    /// Queues a job on the stand-in's one worker that installs, upgrades or deletes `name` on each of `targets`.
    func submitClusterJob(name: String, kind: String, targets: [String], force: Bool) -> String {
        let id: String = state.withLock { s in
            let id = Self.admit(&s, name: name, kind: "cluster-" + kind, force: force)
            s.cluster?.jobTargets[id] = targets
            return id
        }
        worker.async { [weak self] in self?.runClusterJob(id) }
        return id
    }

    /// §7.2's wording for a node LocalAI will retry once it is healthy again.
    static let unhealthyRetry = "node unhealthy, will retry when healthy"

    /// Nodes that are not healthy get a retry row instead of the work (§13, §7.2); a draining node still works.
    static func retriesLater(_ node: ClusterNode) -> Bool { node.status == "offline" || node.status == "unhealthy" }

    /// `NodeProgress` (§5.5).
    private static func progress(_ node: ClusterNode, status: String, percentage: Double, file: String = "",
                                 current: Int64? = nil, total: Int64? = nil, error: String? = nil) -> JSONValue {
        var o = JSONObject()
        o["node_id"] = .string(node.id)
        o["node_name"] = .string(node.name)
        o["status"] = .string(status)
        o["percentage"] = .number(String(percentage))
        if !file.isEmpty { o["file_name"] = .string(file) }
        if let current { o["current"] = .number(String(current)) }
        if let total { o["total"] = .number(String(total)) }
        if let error { o["error"] = .string(error) }
        return .object(o)
    }

    func runClusterJob(_ id: String) {
        guard let (job, targetIDs, nodes, gallery) = state.withLock({ s -> (Job, [String], [ClusterNode], [Entry])? in
            guard !s.stopped, let job = s.jobs[id], let c = s.cluster else { return nil }
            return (job, c.jobTargets[id] ?? [], c.nodes, s.gallery)
        }) else { return }
        let kind = String(job.kind.dropFirst("cluster-".count))
        let name = job.name
        let targets = targetIDs.compactMap { t in nodes.first { $0.id == t } }
        let entry = gallery.first { $0.name == name }
        // What each node's worker would answer, decided before the download runs.
        var failures: [String: String] = [:]
        var skip: Set<String> = [], retry: Set<String> = []
        for node in targets {
            if Self.retriesLater(node) { retry.insert(node.id); continue }
            switch kind {
            case "delete":
                if !hasBackend(name, on: node.id) { skip.insert(node.id) }
            case "upgrade" where !hasBackend(name, on: node.id):
                failures[node.id] = "backend \"\(name)\" is not installed on node \(node.name)"
            default:
                if entry == nil { failures[node.id] = "no backend found with name \"\(name)\"" }
                else if kind == "apply" && !job.force && hasBackend(name, on: node.id) { skip.insert(node.id) }
            }
        }
        let size = entry?.size ?? 1
        let working = targets.filter { failures[$0.id] == nil && !skip.contains($0.id) && !retry.contains($0.id) }
        let steps = kind == "delete" || working.isEmpty ? 0 : ticks
        update(id) { $0.started = true }
        for step in 0...steps {
            let (stop, cancelled, never) = state.withLock { s in (s.stopped, s.jobs[id]?.cancelRequested ?? false, s.neverFinish) }
            if stop { return }
            if cancelled {
                update(id) { j in
                    var s = Self.status(processed: true, message: "cancelled", deletion: kind == "delete")
                    s["cancelled"] = .bool(true)
                    j.status = s
                }
                return
            }
            if step == steps && !never { break }
            let within = never ? steps / 2 : step
            let done = size * Int64(within) / Int64(max(steps, 1))
            update(id) { j in
                var s = Self.status(processed: false, message: "processing backend: \(name)", deletion: kind == "delete",
                                    progress: Double(done) * 100 / Double(max(size, 1)), name: name,
                                    cancellable: kind != "delete")
                s["file_name"] = .string(name)
                s["current_bytes"] = .number(String(done * Int64(working.count)))
                s["total_bytes"] = .number(String(size * Int64(working.count)))
                s["file_size"] = .string(TextFormat.bytes(size * Int64(working.count)))
                s["downloaded_size"] = .string(TextFormat.bytes(done * Int64(working.count)))
                s["nodes"] = .array(targets.map { node in
                    if let why = failures[node.id] { return Self.progress(node, status: "error", percentage: 0, error: why) }
                    if retry.contains(node.id) { return Self.progress(node, status: "queued", percentage: 0, error: Self.unhealthyRetry) }
                    if skip.contains(node.id) { return Self.progress(node, status: "success", percentage: 100) }
                    return Self.progress(node, status: "downloading", percentage: Double(done) * 100 / Double(max(size, 1)),
                                         file: name, current: done, total: size)
                })
                j.status = s
            }
            Thread.sleep(forTimeInterval: tick)
        }
        for node in working {
            let base = nodeBackendsPath(node.id)
            if kind == "delete" {
                removeTree(base + "/" + name)
            } else if let entry, entry.broken {
                // G1 on the worker: the failed upgrade removes the backend there.
                if kind == "upgrade" || job.force { removeTree(base + "/" + name) }
                failures[node.id] = "failed to install backend \"\(name)\": run.sh not found in the image"
            } else if let entry {
                do { try writeBackend(entry, version: entry.version, digest: entry.digest, in: base) } catch {
                    failures[node.id] = "\(error)"
                }
            }
        }
        let failed = targets.filter { failures[$0.id] != nil }
        let error: String? = targets.isEmpty ? "backend \"\(name)\" is not installed on any node"
            : failed.isEmpty ? nil
            : "failed on \(failed.count) of \(targets.count) node(s): " + failed.map { "\($0.name): \(failures[$0.id]!)" }.joined(separator: "; ")
        update(id) { j in
            var s = Self.status(processed: true, message: error.map { "error: " + $0 } ?? "completed", deletion: kind == "delete",
                                progress: error == nil ? 100 : 0, name: error == nil ? name : "")
            if let error { s["error"] = .string(error) }
            s["nodes"] = .array(targets.map { node in
                if retry.contains(node.id) { return Self.progress(node, status: "queued", percentage: 0, error: Self.unhealthyRetry) }
                return failures[node.id].map { Self.progress(node, status: "error", percentage: 0, error: $0) }
                    ?? Self.progress(node, status: "success", percentage: 100)
            })
            j.status = s
        }
        runClusterCheckNow()
    }
}
