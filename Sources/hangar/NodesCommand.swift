import ArgumentParser
import HangarEngine

/// `hangar nodes`: the worker nodes of a distributed LocalAI server and what each has installed.
struct NodesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "nodes",
        abstract: "List the nodes of a distributed LocalAI server (--server URL) and their backends.",
        discussion: """
            Two round trips whatever the cluster's size: GET /api/nodes, then every node's backends at once. \
            An offline node is shown as offline, with its backends unknown (never "up to date"). \
            DRIFT (and "drift"/"drifted" in --json) is hangar's own count from the node listings: a node's backends \
            whose build differs from the one most nodes have. \
            --json prints {"server": URL, "nodes": [{"id", "name", "status", "address", "last_heartbeat", "backends": \
            [{"name", "version", "digest", "uri", "installed_at", "is_system", "is_meta", "drifted"}] or null, "error"?, \
            "drift": N or null}], "backends": {NAME: {"nodes": [ID ...], "of": N, "drifted": [ID ...]}}, \
            "node_drift": {NAME: [...]}}; "node_drift" is LocalAI's own report, each backend's node_drift from \
            GET /backends/upgrades exactly as served (only backends LocalAI lists there, as hangar check --json shows).
            """)

    @OptionGroup var global: GlobalOptions

    @OptionGroup var output: JSONOutput

    func run() throws {
        guard try global.configuration().server != nil else {
            throw HangarError.configuration("hangar nodes needs a distributed LocalAI server: give its frontend's URL with --server URL")
        }
        let engine = try global.engine()
        guard let cluster = try engine.cluster() else {
            throw HangarError.configuration("LocalAI server \(engine.location) is not in distributed mode (GET /api/nodes answered 404): it has no nodes; hangar list shows its backends")
        }
        if output.json {
            var document = Self.json(cluster)
            let drift = try engine.servedNodeDrift() ?? [:]
            document["node_drift"] = .object(JSONObject(drift.keys.sorted().map { .init(key: $0, value: drift[$0]!) }))
            Output.json(.object(document))
            return
        }
        var table = Table(header: ["NAME", "ID", "STATUS", "BACKENDS", "DRIFT", "LAST SEEN"])
        for state in cluster.nodes {
            let backends = state.backends.map { String($0.filter { !$0.isSystem }.count) } ?? "?"
            let drift = state.backends == nil ? "?" : String(state.drifted.count)
            table.add([state.node.name, state.node.id, state.node.status, backends, drift,
                       state.node.lastHeartbeat.isEmpty ? "never" : state.node.lastHeartbeat])
        }
        var out = Output.Buffered()
        table.render(into: &out)
        for state in cluster.nodes where state.backends == nil {
            out.write("\(state.node.name): \(state.error ?? "backends unknown")\n")
        }
        out.flush()
    }

    /// The documented `--json` shape (see the discussion above).
    static func json(_ cluster: ClusterSnapshot) -> JSONObject {
        var o = JSONObject()
        o["server"] = .string(cluster.server)
        o["nodes"] = .array(cluster.nodes.map { state in
            var n = JSONObject()
            n["id"] = .string(state.node.id)
            n["name"] = .string(state.node.name)
            n["status"] = .string(state.node.status)
            n["address"] = .string(state.node.address)
            n["last_heartbeat"] = .string(state.node.lastHeartbeat)
            n["backends"] = state.backends.map { list in
                .array(list.map { b in
                    .object(JSONObject(["name": .string(b.name), "version": .string(b.version), "digest": .string(b.digest),
                                        "uri": .string(b.uri), "installed_at": .string(b.installedAt),
                                        "is_system": .bool(b.isSystem), "is_meta": .bool(b.isMeta),
                                        "drifted": .bool(state.drifted.contains(b.name))]))
                })
            } ?? .null
            if let error = state.error { n["error"] = .string(error) }
            n["drift"] = state.backends == nil ? .null : .number(String(state.drifted.count))
            return .object(n)
        })
        var backends = JSONObject()
        for name in cluster.backends.keys.sorted() {
            let spread = cluster.backends[name]!
            backends[name] = .object(JSONObject(["nodes": .array(spread.holders.map { .string($0.node.id) }),
                                                 "of": .number(String(spread.nodeCount)),
                                                 "drifted": .array(spread.drifted.map { .string($0) })]))
        }
        o["backends"] = .object(backends)
        return o
    }
}

/// `--node ID` of the operation commands: run on one node of a distributed LocalAI server.
struct NodeOption: ParsableArguments {
    @Option(help: "Run on this node only (an id or name from hangar nodes); needs --server URL of a distributed LocalAI server.")
    var node: String?

    /// Refuses --node at once, before any job, when hangar is not talking to a distributed LocalAI server.
    func check(_ global: GlobalOptions) throws {
        guard node != nil else { return }
        // The engine words the refusal (no server, or one that is not distributed); its warnings are printed once, by
        // the engine that runs the jobs.
        try Engine.live(configuration: try global.configuration(), recover: false).engine.requireCluster()
    }
}
