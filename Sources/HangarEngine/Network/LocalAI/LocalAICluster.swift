import Foundation

/// A worker node of a distributed LocalAI server (§13 `NodeWithExtras`, the fields hangar shows).
public struct ClusterNode: Sendable, Equatable {
    public var id: String
    public var name: String
    /// `healthy`, `unhealthy`, `offline`, `draining`, `pending` or `registering`, as the server says.
    public var status: String
    public var address: String
    /// RFC 3339 time of the node's last heartbeat ("" when none was sent).
    public var lastHeartbeat: String
    public var capability: String
    public var modelCount: Int

    public init(id: String, name: String, status: String, address: String = "", lastHeartbeat: String = "",
                capability: String = "", modelCount: Int = 0) {
        self.id = id
        self.name = name
        self.status = status
        self.address = address
        self.lastHeartbeat = lastHeartbeat
        self.capability = capability
        self.modelCount = modelCount
    }

    /// An offline node cannot be asked what it has: never shown as up to date.
    public var isOffline: Bool { status == "offline" }
}

/// One backend on one node (§13 `NodeBackendInfo`).
public struct NodeBackend: Sendable, Equatable {
    public var name: String
    public var isSystem: Bool
    public var isMeta: Bool
    public var installedAt: String
    public var galleryURL: String
    public var version: String
    public var uri: String
    public var digest: String

    public init(name: String, isSystem: Bool = false, isMeta: Bool = false, installedAt: String = "", galleryURL: String = "",
                version: String = "", uri: String = "", digest: String = "") {
        self.name = name
        self.isSystem = isSystem
        self.isMeta = isMeta
        self.installedAt = installedAt
        self.galleryURL = galleryURL
        self.version = version
        self.uri = uri
        self.digest = digest
    }

    /// `v1.2.0`, else the short digest, else `?` (as `hangar list` shows builds).
    public var versionBadge: String {
        if !version.isEmpty { return "v" + version }
        if !digest.isEmpty { return TextFormat.shortDigest(digest) }
        return isSystem ? "system" : "?"
    }
}

/// One node's copy of a `GET /backends` row in distributed mode (§5.1 `NodeBackendRef`).
public struct BackendNodeRef: Sendable, Equatable {
    public var nodeID: String
    public var nodeName: String
    /// `healthy`, `unhealthy`, `offline`, `draining` or `pending`.
    public var nodeStatus: String
    public var version: String
    public var digest: String
    public var uri: String
    public var installedAt: String
}

/// One node as `hangar nodes` shows it: its backends, or why they are unknown.
public struct ClusterNodeState: Sendable, Equatable {
    public var node: ClusterNode
    /// nil when the node could not be asked (offline, or its listing failed: `error` says why).
    public var backends: [NodeBackend]?
    public var error: String?
    /// Names of this node's backends whose build differs from the one most nodes have (set by `ClusterSnapshot`).
    public var drifted: [String]

    public init(node: ClusterNode, backends: [NodeBackend]?, error: String? = nil, drifted: [String] = []) {
        self.node = node
        self.backends = backends
        self.error = error
        self.drifted = drifted
    }
}

/// Where one backend is installed across the cluster and whether the nodes agree.
public struct BackendSpread: Sendable, Equatable {
    public var name: String
    /// Nodes with the backend (reachable ones only), in the server's node order.
    public var holders: [(node: ClusterNode, backend: NodeBackend)]
    /// Every node of the cluster, offline ones included.
    public var nodeCount: Int
    /// The build most holders have (version, digest).
    public var majority: NodeBackend
    /// Ids of holders whose build differs from the majority's.
    public var drifted: [String]

    /// `4/4 nodes`, or `3/4 · 1 drifted`.
    public var summary: String {
        let base = "\(holders.count)/\(nodeCount)"
        return drifted.isEmpty ? base + " nodes" : "\(base) · \(drifted.count) drifted"
    }

    public static func == (a: BackendSpread, b: BackendSpread) -> Bool {
        a.name == b.name && a.nodeCount == b.nodeCount && a.majority == b.majority && a.drifted == b.drifted
            && a.holders.map(\.node) == b.holders.map(\.node) && a.holders.map(\.backend) == b.holders.map(\.backend)
    }
}

/// A distributed LocalAI server's nodes and what each has, read in two round trips.
public struct ClusterSnapshot: Sendable, Equatable {
    public var server: String
    public var nodes: [ClusterNodeState]
    /// Per backend name (system backends left out).
    public var backends: [String: BackendSpread]

    /// Builds the per-backend spread and each node's drift from the node listings: the majority build (ties: the
    /// first node's) is the reference, as LocalAI's own `node_drift` (§5.6) uses it.
    public init(server: String, nodes: [ClusterNodeState]) {
        self.server = server
        var holders: [String: [(node: ClusterNode, backend: NodeBackend)]] = [:]
        var order: [String] = []
        for state in nodes {
            for backend in state.backends ?? [] where !backend.isSystem {
                if holders[backend.name] == nil { order.append(backend.name) }
                holders[backend.name, default: []].append((state.node, backend))
            }
        }
        var spreads: [String: BackendSpread] = [:]
        for name in order {
            let list = holders[name]!
            let keys = list.map { $0.backend.version + "\u{0}" + $0.backend.digest }
            var counts: [String: Int] = [:]
            for key in keys { counts[key, default: 0] += 1 }
            let top = counts.values.max() ?? 0
            let majorityIndex = keys.firstIndex { counts[$0] == top } ?? 0
            let drifted = list.indices.filter { keys[$0] != keys[majorityIndex] }.map { list[$0].node.id }
            spreads[name] = BackendSpread(name: name, holders: list, nodeCount: nodes.count,
                                          majority: list[majorityIndex].backend, drifted: drifted)
        }
        backends = spreads
        self.nodes = nodes.map { state in
            var state = state
            state.drifted = (state.backends ?? []).filter { spreads[$0.name]?.drifted.contains(state.node.id) == true }.map(\.name)
            return state
        }
    }
}

extension UpgradeInfo {
    /// The nodes `node_drift` names (name, else id) with their build, for text; empty outside a cluster.
    public var driftedNodes: [(name: String, build: String)] {
        (nodeDrift?.arrayValue ?? []).map { item in
            let name = item["node_name"]?.stringValue.flatMap { $0.isEmpty ? nil : $0 } ?? item["node_id"]?.stringValue ?? "?"
            let version = item["version"]?.stringValue ?? "", digest = item["digest"]?.stringValue ?? ""
            return (name, !version.isEmpty ? "v" + version : !digest.isEmpty ? TextFormat.shortDigest(digest) : "?")
        }
    }

    /// Only nodes disagree: the build most nodes have is already the gallery's.
    public var isDriftOnly: Bool {
        !driftedNodes.isEmpty && (availableVersion.isEmpty ? installedDigest == availableDigest : installedVersion == availableVersion)
    }

    /// `drift: gpu-b has v0.8.0, …`; nil outside a cluster or when the nodes agree.
    public var driftText: String? {
        let drift = driftedNodes
        return drift.isEmpty ? nil : "drift: " + drift.map { "\($0.name) has \($0.build)" }.joined(separator: ", ")
    }

    /// The build most nodes have: `v0.9.0`, else its short digest.
    public var majorityBadge: String {
        !installedVersion.isEmpty ? "v" + installedVersion : TextFormat.shortDigest(installedDigest)
    }
}

/// A distributed job's per-node line (§5.5 `NodeProgress`), as the job events carry it.
typealias NodeProgress = JobNodeStatus

extension LocalAIDecoding {
    /// Most nodes or rows a cluster answer may hold: more is a hostile or broken server.
    static let maxClusterItems = 4096

    /// A node id goes into URL paths: letters, digits, `-`, `_`, `.`, at most 128.
    static func isNodeID(_ id: String) -> Bool {
        (1...128).contains(id.utf8.count) && id != "." && id != ".."
            && id.unicodeScalars.allSatisfy { $0.isASCII && (CharacterSet.alphanumerics.contains($0) || "-_.".unicodeScalars.contains($0)) }
    }

    /// A string field hangar prints (tables, the UI): at most 1,024 characters and no control characters, so a
    /// hostile server cannot move the cursor or recolour the terminal.
    static func text(_ o: JSONObject, _ key: String, _ endpoint: String, required: Bool = false) throws -> String {
        let value = try string(o, key, endpoint, required: required)
        guard value.count <= 1024 else { throw fail(endpoint, "\"\(key)\" is longer than 1024 characters") }
        guard !value.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) else {
            throw fail(endpoint, "\"\(key)\" holds control characters")
        }
        return value
    }

    /// `GET /api/nodes` (§13): `NodeWithExtras[]`.
    static func nodes(_ value: JSONValue) throws -> [ClusterNode] {
        let endpoint = "GET /api/nodes"
        guard case .array(let items) = value else { throw fail(endpoint, "not a JSON array") }
        guard items.count <= maxClusterItems else { throw fail(endpoint, "more than \(maxClusterItems) nodes") }
        return try items.map { item in
            guard case .object(let o) = item else { throw fail(endpoint, "a node is not an object") }
            return try node(o, endpoint)
        }
    }

    /// One `NodeWithExtras`.
    static func node(_ o: JSONObject, _ endpoint: String) throws -> ClusterNode {
        let id = try string(o, "id", endpoint, required: true)
        guard isNodeID(id) else { throw fail(endpoint, "node id \(String(id.prefix(140)).debugDescription) is not an id") }
        let count = try number(o, "model_count", endpoint) ?? 0
        return ClusterNode(id: id, name: try text(o, "name", endpoint), status: try text(o, "status", endpoint),
                           address: try text(o, "address", endpoint), lastHeartbeat: try text(o, "last_heartbeat", endpoint),
                           capability: try text(o, "capability", endpoint),
                           modelCount: count >= 0 && count < 1e9 ? Int(count) : 0)
    }

    /// `GET /api/nodes/:id/backends` (§13): `NodeBackendInfo[]`.
    static func nodeBackends(_ value: JSONValue, node: String) throws -> [NodeBackend] {
        let endpoint = "GET /api/nodes/\(node)/backends"
        guard case .array(let items) = value else { throw fail(endpoint, "not a JSON array") }
        guard items.count <= maxClusterItems else { throw fail(endpoint, "more than \(maxClusterItems) backends") }
        return try items.map { item in
            guard case .object(let o) = item else { throw fail(endpoint, "a row is not an object") }
            let name = try string(o, "name", endpoint, required: true)
            guard (try? BackendName.validate(name)) != nil else { throw fail(endpoint, "row name \(name.debugDescription) is not a backend name") }
            return NodeBackend(name: name, isSystem: try bool(o, "is_system", endpoint), isMeta: try bool(o, "is_meta", endpoint),
                               installedAt: try text(o, "installed_at", endpoint), galleryURL: try text(o, "gallery_url", endpoint),
                               version: try text(o, "version", endpoint), uri: try text(o, "uri", endpoint),
                               digest: try text(o, "digest", endpoint))
        }
    }

    /// `nodes[]` of a `GET /backends` row (§5.1); nil when the row has none (a server that is not distributed).
    static func rowNodes(_ value: JSONValue?, of backend: String) throws -> [BackendNodeRef]? {
        let endpoint = "GET /backends"
        switch value {
        case nil, .null?: return nil
        case .array(let items)?:
            guard items.count <= maxClusterItems else { throw fail(endpoint, "nodes of \(backend) is too long") }
            return try items.map { item in
                guard case .object(let o) = item else { throw fail(endpoint, "a nodes entry of \(backend) is not an object") }
                return BackendNodeRef(nodeID: try text(o, "node_id", endpoint, required: true), nodeName: try text(o, "node_name", endpoint),
                                      nodeStatus: try text(o, "node_status", endpoint), version: try text(o, "version", endpoint),
                                      digest: try text(o, "digest", endpoint), uri: try text(o, "uri", endpoint),
                                      installedAt: try text(o, "installed_at", endpoint))
            }
        default: throw fail(endpoint, "nodes of \(backend) is not a list")
        }
    }

    /// `node_drift` of a `/backends/upgrades` entry (§5.6): a list of `{node_id, node_name, version?, digest?}`.
    static func nodeDrift(_ value: JSONValue, of backend: String) throws -> [(nodeID: String, nodeName: String)] {
        let endpoint = "GET /backends/upgrades"
        guard case .array(let items) = value else { throw fail(endpoint, "node_drift of \(backend) is not a list") }
        guard items.count <= maxClusterItems else { throw fail(endpoint, "node_drift of \(backend) is too long") }
        return try items.map { item in
            guard case .object(let o) = item else { throw fail(endpoint, "a node_drift entry of \(backend) is not an object") }
            _ = try text(o, "version", endpoint)
            _ = try text(o, "digest", endpoint)
            return (try text(o, "node_id", endpoint, required: true), try text(o, "node_name", endpoint))
        }
    }

    /// §5.5 `nodes[]` of a job status.
    static func nodeProgress(_ value: JSONValue?) throws -> [NodeProgress] {
        let endpoint = "GET /backends/jobs"
        switch value {
        case nil, .null?: return []
        case .array(let items)?:
            guard items.count <= maxClusterItems else { throw fail(endpoint, "too many nodes") }
            return try items.map { item in
                guard case .object(let o) = item else { throw fail(endpoint, "a nodes entry is not an object") }
                // The error goes on one line of a job row: control characters and length are bounded like names.
                let raw = try string(o, "error", endpoint).prefix(1024).unicodeScalars
                let error = String(String.UnicodeScalarView(raw.map { $0.properties.generalCategory == .control ? " " : $0 }))
                return NodeProgress(nodeID: try text(o, "node_id", endpoint), nodeName: try text(o, "node_name", endpoint),
                                    status: try text(o, "status", endpoint),
                                    percentage: min(100, max(0, try number(o, "percentage", endpoint) ?? 0)),
                                    fileName: try text(o, "file_name", endpoint), error: error.isEmpty ? nil : error)
            }
        default: throw fail(endpoint, "\"nodes\" is not a list")
        }
    }

    /// The 202 of a node-scoped install or upgrade (§13): `{"jobID":…}`.
    static func nodeJobID(_ value: JSONValue, endpoint: String) throws -> String {
        guard case .object(let o) = value else { throw fail(endpoint, "not a JSON object") }
        let id = try string(o, "jobID", endpoint, required: true)
        guard !id.isEmpty, id.count <= 64, id.allSatisfy({ $0.isASCII && ($0.isHexDigit || $0 == "-") }) else {
            throw fail(endpoint, "job id \(id.prefix(70).debugDescription) is not a UUID")
        }
        return id
    }
}
