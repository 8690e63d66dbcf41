import Foundation
import HangarEngine
import HangarFixtures

/// Section: what the Nodes screen and `hangar nodes` read — `Engine.cluster()` — on a 16-node distributed LocalAI
/// stand-in behind a proxy that holds every request 50 ms (a distant frontend). The goal: the whole snapshot costs
/// about two round trips (the node list, then every node's backends at once), measured against one round trip of
/// the same client in the same run, with a node-after-node walk beside it for scale.
struct ClusterSection: BenchSection {
    let id = "cluster_nodes"
    let title = "nodes of a 16-node cluster through DelayProxy (+50 ms per request): Engine.cluster() vs one round trip"
    let nodeCount = 16
    let backendsPerNode = 8
    let delay = 0.05
    /// Two round trips, with 10 % for the 16 connections the second one opens at once.
    let goal = 2.2

    func run(_ options: BenchOptions) throws -> BenchReport {
        let gallery = (0..<backendsPerNode).map { i in
            LocalAIStandIn.Entry(name: "backend-\(i)", version: "1.\(i).0", digest: "sha256:" + String(repeating: "\(i % 10)", count: 64))
        }
        let standIn = try LocalAIStandIn(gallery: gallery)
        defer { standIn.stop() }
        let nodes = (0..<nodeCount).map { i in
            LocalAIStandIn.ClusterNode(id: String(format: "node%04x", i), name: "gpu-\(i)")
        }
        try standIn.enableCluster(nodes: nodes)
        for node in nodes { for entry in gallery { try standIn.preinstall(entry, onNode: node.id) } }
        let proxy = try DelayProxy(upstreamPort: standIn.port, delay: delay)
        defer { proxy.stop() }
        let server = "http://" + proxy.hostPort
        let root = try makeTemporaryDirectory("hangar-bench-cluster")
        defer { removeTree(root) }
        let configuration = try HangarConfiguration.resolve(flags: .init(server: server), environment: ["HOME": root],
                                                            workingDirectory: root)
        let engine = Engine.live(configuration: configuration, recover: false).engine
        let client = HTTPClient()

        /// The snapshot, verified: every node listed with all its backends, through exactly 1 + 16 requests.
        func snapshot() throws {
            let before = proxy.delayedRequests
            guard let cluster = try engine.cluster() else { throw BenchFailure("the stand-in is not distributed") }
            guard cluster.nodes.count == nodeCount, cluster.nodes.allSatisfy({ $0.backends?.count == backendsPerNode }) else {
                throw BenchFailure("the snapshot lacks nodes or backends: \(cluster.nodes.map { $0.error ?? "\($0.backends?.count ?? 0)" })")
            }
            let sent = proxy.delayedRequests - before
            guard sent == 1 + nodeCount else { throw BenchFailure("a snapshot sent \(sent) requests, expected \(1 + nodeCount)") }
        }
        func get(_ path: String) throws {
            let response = try client.send(HTTPRequest(url: server + path))
            guard response.status == 200 else { throw BenchFailure("GET \(path) answered \(response.status)") }
        }

        // Untimed: opens the engine's connections (16 at once) and the single client's one.
        try snapshot()
        try get("/api/nodes")
        var cluster = Timing(id: "cluster", "a) Engine.cluster(): GET /api/nodes, then 16 node listings at once")
        var single = Timing(id: "one_round_trip", "b) one round trip: GET /api/nodes, warm client")
        var walk = Timing(id: "node_after_node", "c) GET /api/nodes, then each node's listing one after another")
        let rounds = min(options.iterations, 10)
        for _ in 0..<rounds {
            try cluster.measure { try snapshot() }
            try single.measure { try get("/api/nodes") }
            try walk.measure {
                try get("/api/nodes")
                for node in nodes { try get("/api/nodes/\(node.id)/backends") }
            }
        }
        var report = BenchReport(id: id, section: title)
        report.timings = [cluster, single, walk]
        report.checks = [
            BenchCheck(id: "cluster_over_round_trip", label: "a/b: round trips the Nodes data costs (2 = ideal)",
                       value: cluster.median / single.median, goal: goal, unit: "×"),
            BenchCheck(id: "walk_over_cluster", label: "c/a: node-after-node walk vs hangar, ideal \(format(Double(1 + nodeCount) / 2, decimals: 1))×",
                       value: walk.median / cluster.median, goal: Double(1 + nodeCount) / 2, unit: "×",
                       info: format(100 * (walk.median / cluster.median) / (Double(1 + nodeCount) / 2), decimals: 1) + " % of the ideal reached"),
        ]
        report.facts = [
            ("cluster", "\(nodeCount) healthy nodes × \(backendsPerNode) backends, each node a real LocalAI-layout directory"),
            ("requests through the proxy per snapshot", "\(1 + nodeCount) (verified on every snapshot), in 2 round trips"),
            ("timed rounds", "\(rounds) per row, rows alternating"),
            ("a's connections", "the HTTP client keeps 8 idle, so 8 of the 16 listings open a new connection each snapshot (the 10 % in the goal)"),
        ]
        return report
    }
}
