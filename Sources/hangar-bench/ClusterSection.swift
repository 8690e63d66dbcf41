import Foundation
import HangarEngine
import HangarFixtures

/// Section: what the Nodes screen and `hangar nodes` read — `Engine.cluster()` — on a 16-node distributed LocalAI
/// stand-in behind a proxy that holds every request 50 ms (a distant frontend). The goal: the snapshot waits two round
/// trips (the node list, then every node's backends at once). The latency it waits is its time through the 50 ms proxy
/// minus its time through a 0 ms one (what is left is CPU: 16 listings decoded on this machine's cores), counted in
/// round trips of the same client measured the same way; a node-after-node walk is beside it for scale.
struct ClusterSection: BenchSection {
    let id = "cluster_nodes"
    let title = "nodes of a 16-node cluster through DelayProxy (+50 ms per request): Engine.cluster() vs one round trip"
    let nodeCount = 16
    let backendsPerNode = 8
    let delay = 0.05
    /// Two round trips of latency (issue 8).
    let goal = 2.0

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
        let near = try DelayProxy(upstreamPort: standIn.port, delay: 0)
        defer { near.stop() }
        let server = "http://" + proxy.hostPort
        let root = try makeTemporaryDirectory("hangar-bench-cluster")
        defer { removeTree(root) }
        func engine(_ url: String) throws -> Engine {
            let configuration = try HangarConfiguration.resolve(flags: .init(server: url), environment: ["HOME": root],
                                                                workingDirectory: root)
            return Engine.live(configuration: configuration, recover: false).engine
        }
        let far = try engine(server), close = try engine("http://" + near.hostPort)
        let client = HTTPClient()

        /// The snapshot, verified: every node listed with all its backends, through exactly 1 + 16 requests.
        func snapshot(_ engine: Engine, through proxy: DelayProxy) throws {
            let before = proxy.delayedRequests
            guard let cluster = try engine.cluster() else { throw BenchFailure("the stand-in is not distributed") }
            guard cluster.nodes.count == nodeCount, cluster.nodes.allSatisfy({ $0.backends?.count == backendsPerNode }) else {
                throw BenchFailure("the snapshot lacks nodes or backends: \(cluster.nodes.map { $0.error ?? "\($0.backends?.count ?? 0)" })")
            }
            let sent = proxy.delayedRequests - before
            guard sent == 1 + nodeCount else { throw BenchFailure("a snapshot sent \(sent) requests, expected \(1 + nodeCount)") }
        }
        func get(_ path: String, base: String = server) throws {
            let response = try client.send(HTTPRequest(url: base + path))
            guard response.status == 200 else { throw BenchFailure("GET \(path) answered \(response.status)") }
        }

        // Untimed: opens the engine's connections (16 at once) and the single client's one.
        try snapshot(far, through: proxy)
        try snapshot(close, through: near)
        try get("/api/nodes")
        try get("/api/nodes", base: "http://" + near.hostPort)
        var cluster = Timing(id: "cluster", "a) Engine.cluster(): GET /api/nodes, then 16 node listings at once")
        var clusterNear = Timing(id: "cluster_no_delay", "a0) the same through a 0 ms proxy (its CPU and loopback cost)")
        var single = Timing(id: "one_round_trip", "b) one round trip: GET /api/nodes, warm client")
        var singleNear = Timing(id: "one_round_trip_no_delay", "b0) the same through the 0 ms proxy")
        var walk = Timing(id: "node_after_node", "c) GET /api/nodes, then each node's listing one after another")
        let rounds = min(options.iterations, 10)
        for _ in 0..<rounds {
            try cluster.measure { try snapshot(far, through: proxy) }
            try clusterNear.measure { try snapshot(close, through: near) }
            try single.measure { try get("/api/nodes") }
            try singleNear.measure { try get("/api/nodes", base: "http://" + near.hostPort) }
            try walk.measure {
                try get("/api/nodes")
                for node in nodes { try get("/api/nodes/\(node.id)/backends") }
            }
        }
        var report = BenchReport(id: id, section: title)
        report.timings = [cluster, clusterNear, single, singleNear, walk]
        let roundTrips = (cluster.median - clusterNear.median) / (single.median - singleNear.median)
        report.checks = [
            BenchCheck(id: "cluster_round_trips", label: "(a − a0)/(b − b0): round trips the Nodes data waits (2 = ideal)",
                       value: roundTrips, goal: goal, unit: ""),
            BenchCheck(id: "cluster_over_round_trip", label: "a/b: its whole time in round trips, CPU included",
                       value: cluster.median / single.median, goal: 2, unit: "×",
                       info: "information: a − a0 is the CPU of decoding 16 listings on this machine"),
            BenchCheck(id: "walk_over_cluster", label: "c/a: node-after-node walk vs hangar, ideal \(format(Double(1 + nodeCount) / 2, decimals: 1))×",
                       value: walk.median / cluster.median, goal: Double(1 + nodeCount) / 2, unit: "×",
                       info: format(100 * (walk.median / cluster.median) / (Double(1 + nodeCount) / 2), decimals: 1) + " % of the ideal reached"),
        ]
        report.facts = [
            ("cluster", "\(nodeCount) healthy nodes × \(backendsPerNode) backends, each node a real LocalAI-layout directory"),
            ("requests through the proxy per snapshot", "\(1 + nodeCount) (verified on every snapshot), in 2 round trips"),
            ("timed rounds", "\(rounds) per row, rows alternating"),
            ("a − a0", "the latency the snapshot waits: " + format(cluster.median - clusterNear.median, decimals: 1)
                + " ms; one round trip's latency b − b0: " + format(single.median - singleNear.median, decimals: 1) + " ms"),
        ]
        return report
    }
}
