import Foundation
import HangarEngine
import HangarFixtures
import XCTest

/// Distributed LocalAI (spec §13): the stand-in's cluster routes as a client sees them, the engine's two-round-trip
/// snapshot, and the real `hangar` binary's `nodes`, `check --json` with drift and `--node` operations.
final class LocalAIClusterTests: LocalAIServerTestCase {
    static let old = "sha256:" + String(repeating: "a", count: 64)
    static let new = "sha256:" + String(repeating: "b", count: 64)
    let nodes: [LocalAIStandIn.ClusterNode] = [
        .init(id: "6c1e0001", name: "gpu-a"),
        .init(id: "91fd0002", name: "gpu-b"),
        .init(id: "a7770003", name: "gpu-c", status: "draining"),
        .init(id: "d0d00004", name: "gpu-d", status: "offline", lastHeartbeat: "2026-12-03T08:00:00Z"),
    ]

    /// piper 0.9.0 on gpu-a and gpu-c, 0.8.0 on gpu-b (drift); whisper on every node; kokoro (broken 2.0.0) on gpu-a.
    override func setUpWithError() throws {
        try super.setUpWithError()
        try standIn.enableCluster(nodes: nodes)
        let piper = Self.gallery[0], kokoro = Self.gallery[1], whisper = Self.gallery[2]
        try standIn.preinstall(piper, onNode: "6c1e0001")
        try standIn.preinstall(piper, onNode: "91fd0002", version: "0.8.0", digest: Self.old)
        try standIn.preinstall(piper, onNode: "a7770003")
        for node in nodes { try standIn.preinstall(whisper, onNode: node.id) }
        try standIn.preinstall(kokoro, onNode: "6c1e0001", version: "1.0.0")
        standIn.runClusterCheckNow()
    }

    private func get(_ path: String) throws -> (status: Int, body: JSONValue?) {
        let response = try HTTPClient().send(HTTPRequest(url: standIn.url + path, headers: ["Authorization": "Bearer " + key]))
        return (response.status, try? JSONValue.parse(response.body))
    }

    private func post(_ path: String, _ body: String) throws -> (status: Int, body: JSONValue?) {
        let response = try HTTPClient().send(HTTPRequest(url: standIn.url + path, method: "POST",
                                                         headers: ["Authorization": "Bearer " + key, "Content-Type": "application/json"],
                                                         body: Array(body.utf8)))
        return (response.status, try? JSONValue.parse(response.body))
    }

    private func engine() throws -> Engine {
        let configuration = try HangarConfiguration.resolve(flags: .init(server: standIn.url), environment: environment(),
                                                            workingDirectory: directory)
        return Engine.live(configuration: configuration).engine
    }

    // MARK: - The stand-in, as the spec describes the server

    func testNodeRoutesFollowTheSpec() throws {
        let list = try get("/api/nodes")
        XCTAssertEqual(list.status, 200)
        XCTAssertEqual(list.body?.arrayValue?.compactMap { $0["name"]?.stringValue }, ["gpu-a", "gpu-b", "gpu-c", "gpu-d"])
        XCTAssertEqual(list.body?.arrayValue?.last?["status"], .string("offline"))
        XCTAssertEqual(list.body?.arrayValue?.first?["node_type"], .string("backend"))
        XCTAssertEqual(try get("/api/nodes/91fd0002").body?["name"], .string("gpu-b"))
        let missing = try get("/api/nodes/nope")
        XCTAssertEqual(missing.status, 404)
        XCTAssertEqual(missing.body?["error"]?["message"], .string("node not found"))
        XCTAssertEqual(missing.body?["error"]?["type"], .string("node_error"))

        let backends = try get("/api/nodes/91fd0002/backends")
        XCTAssertEqual(backends.body?.arrayValue?.compactMap { $0["name"]?.stringValue }, ["piper", "whisper"])
        XCTAssertEqual(backends.body?.arrayValue?.first?["version"], .string("0.8.0"))
        XCTAssertEqual(backends.body?.arrayValue?.first?["digest"], .string(Self.old))
        XCTAssertNil(backends.body?.arrayValue?.first?["RunFile"], "NodeBackendInfo is snake_case")
        XCTAssertEqual(try get("/api/nodes/d0d00004/backends").status, 500, "an offline node cannot be queried")

        let rows = try XCTUnwrap(try get("/backends").body?.arrayValue)
        let piper = try XCTUnwrap(rows.first { $0["Name"] == .string("piper") })
        XCTAssertEqual(piper["RunFile"], .string(""), "§5.1: RunFile is empty in distributed mode")
        XCTAssertEqual(piper["Metadata"]?["version"], .string("0.9.0"), "the majority's metadata")
        XCTAssertEqual(piper["nodes"]?.arrayValue?.compactMap { $0["node_name"]?.stringValue }, ["gpu-a", "gpu-b", "gpu-c"])
        XCTAssertEqual(piper["nodes"]?.arrayValue?[1]["node_status"], .string("healthy"))
        XCTAssertEqual(piper["nodes"]?.arrayValue?[2]["node_status"], .string("draining"))

        let upgrades = try XCTUnwrap(try get("/backends/upgrades").body)
        XCTAssertEqual(upgrades["piper"]?["installed_version"], .string("0.9.0"), "the majority value (§5.6)")
        XCTAssertEqual(upgrades["piper"]?["node_drift"], .array([.object(JSONObject([
            "node_id": .string("91fd0002"), "node_name": .string("gpu-b"), "version": .string("0.8.0"), "digest": .string(Self.old)]))]))
        XCTAssertNil(upgrades["whisper"], "every reachable node agrees with the gallery")
    }

    func testNodeScopedJobsShareTheJobStoreAndDeleteIsSynchronous() throws {
        let upgrade = try post("/api/nodes/91fd0002/backends/upgrade", #"{"backend":"piper"}"#)
        XCTAssertEqual(upgrade.status, 202)
        XCTAssertEqual(upgrade.body?["message"], .string("backend upgrade started"))
        let id = try XCTUnwrap(upgrade.body?["jobID"]?.stringValue)
        XCTAssertEqual(upgrade.body?["statusUrl"], .string("/api/backends/job/" + id))
        XCTAssertTrue(waitUntil(timeout: 10) { (try? self.get("/backends/jobs/" + id).body?["processed"]) == .bool(true) })
        let status = try get("/backends/jobs/" + id).body
        XCTAssertEqual(status?["message"], .string("completed"))
        XCTAssertEqual(status?["nodes"]?.arrayValue?.first?["node_name"], .string("gpu-b"))
        XCTAssertEqual(status?["nodes"]?.arrayValue?.first?["status"], .string("success"))
        XCTAssertEqual(standIn.nodeMetadata("piper", onNode: "91fd0002")?.version, "0.9.0")
        XCTAssertEqual(try post("/api/nodes/91fd0002/backends/upgrade", "{}").status, 400)

        let deleted = try post("/api/nodes/91fd0002/backends/delete", #"{"backend":"whisper"}"#)
        XCTAssertEqual(deleted.status, 200)
        XCTAssertEqual(deleted.body?["message"], .string("backend deleted"))
        XCTAssertNil(standIn.nodeMetadata("whisper", onNode: "91fd0002"), "gone before the answer")
        XCTAssertNotNil(standIn.nodeMetadata("whisper", onNode: "6c1e0001"), "other nodes keep it")
    }

    func testNodeRoutesAre404WhenNotDistributed() throws {
        let plain = try LocalAIStandIn(gallery: Self.gallery, apiKeys: [key])
        defer { plain.stop() }
        let response = try HTTPClient().send(HTTPRequest(url: plain.url + "/api/nodes", headers: ["Authorization": "Bearer " + key]))
        XCTAssertEqual(response.status, 404)
    }

    // MARK: - The engine

    func testClusterSnapshotIsTwoRoundTripsAndMarksDriftAndOffline() throws {
        let before = standIn.requests.count
        let cluster = try XCTUnwrap(try engine().cluster())
        let requests = standIn.requests.dropFirst(before).map(\.path)
        XCTAssertEqual(requests.filter { $0 == "/api/nodes" }.count, 1)
        XCTAssertEqual(Set(requests.filter { $0 != "/api/nodes" }),
                       ["/api/nodes/6c1e0001/backends", "/api/nodes/91fd0002/backends", "/api/nodes/a7770003/backends"],
                       "each reachable node asked once, the offline one not at all")
        XCTAssertEqual(requests.count, 4)
        XCTAssertEqual(cluster.nodes.map(\.node.name), ["gpu-a", "gpu-b", "gpu-c", "gpu-d"])
        XCTAssertEqual(cluster.nodes[1].drifted, ["piper"])
        XCTAssertNil(cluster.nodes[3].backends, "offline: unknown, not empty")
        XCTAssertEqual(cluster.backends["piper"]?.summary, "3/4 · 1 drifted")
        XCTAssertEqual(cluster.backends["whisper"]?.summary, "3/4 nodes")
        XCTAssertEqual(cluster.backends["piper"]?.majority.version, "0.9.0")
    }

    func testNodeListingsAreAskedAtOnce() throws {
        let engine = try engine()
        for node in ["6c1e0001", "91fd0002", "a7770003"] {
            standIn.inject(.http(.delay(seconds: 0.5)), on: "/api/nodes/\(node)/backends")
        }
        let start = Date()
        let cluster = try XCTUnwrap(try engine.cluster())
        let elapsed = Date().timeIntervalSince(start)
        XCTAssertEqual(cluster.nodes.compactMap(\.backends).count, 3)
        XCTAssertGreaterThanOrEqual(elapsed, 0.5, "the delays applied")
        XCTAssertLessThan(elapsed, 1.0, "three 0.5 s listings took \(elapsed) s: not in parallel")
    }

    func testClusterIsNilForAServerThatIsNotDistributed() throws {
        let plain = try LocalAIStandIn(gallery: Self.gallery, apiKeys: [key])
        defer { plain.stop() }
        let configuration = try HangarConfiguration.resolve(flags: .init(server: plain.url), environment: environment(),
                                                            workingDirectory: directory)
        XCTAssertNil(try Engine.live(configuration: configuration).engine.cluster())
    }

    func testHostileNodeListingsAreOneError() throws {
        standIn.inject(.body(Array(#"[{"id":"../../etc","name":"x","status":"healthy"}]"#.utf8), contentType: "application/json"),
                       on: "/api/nodes")
        XCTAssertThrowsError(try engine().cluster()) { error in
            XCTAssertTrue("\(error)".contains("is not an id"), "\(error)")
        }
        standIn.inject(.body(Array(#"[{"id":"n1","name":7}]"#.utf8), contentType: "application/json"), on: "/api/nodes")
        XCTAssertThrowsError(try engine().cluster()) { error in
            XCTAssertTrue("\(error)".contains("\"name\" is not a string"), "\(error)")
        }
        standIn.inject(.body(Array(#"[{"id":"n1","name":"gpu\u001b[2J"}]"#.utf8), contentType: "application/json"), on: "/api/nodes")
        XCTAssertThrowsError(try engine().cluster()) { error in
            XCTAssertTrue("\(error)".contains("\"name\" holds control characters"), "\(error)")
        }
        standIn.inject(.body(Array(#"[{"Name":"piper","RunFile":"","Metadata":null,"nodes":{"node_id":"n1"}}]"#.utf8),
                             contentType: "application/json"), on: "/backends")
        XCTAssertThrowsError(try engine().installed()) { error in
            XCTAssertTrue("\(error)".contains("nodes of piper is not a list"), "\(error)")
        }
        let piper = try XCTUnwrap(try engine().installed().get("piper"))
        XCTAssertEqual(piper.nodes?.map(\.nodeName), ["gpu-a", "gpu-b", "gpu-c"], "the row's own nodes[] (§5.1)")
        XCTAssertEqual(piper.nodes?[1].version, "0.8.0")
    }

    // MARK: - The real binary

    func testNodesJSONShowsEveryNodeItsBackendsAndDrift() throws {
        let run = try hangar(["nodes", "--json"])
        XCTAssertEqual(run.status, 0, run.stderr)
        let doc = try XCTUnwrap(try document(run) as? [String: Any])
        XCTAssertEqual(doc["server"] as? String, standIn.url)
        let nodes = try XCTUnwrap(doc["nodes"] as? [[String: Any]])
        XCTAssertEqual(nodes.map { $0["name"] as? String }, ["gpu-a", "gpu-b", "gpu-c", "gpu-d"])
        XCTAssertEqual(nodes.map { $0["status"] as? String }, ["healthy", "healthy", "draining", "offline"])
        XCTAssertEqual(nodes.map { $0["drift"] as? Int }, [0, 1, 0, nil])
        XCTAssertTrue(nodes[3]["drift"] is NSNull, "offline: drift unknown")
        let gpuB = try XCTUnwrap(nodes[1]["backends"] as? [[String: Any]])
        XCTAssertEqual(gpuB.first?["name"] as? String, "piper")
        XCTAssertEqual(gpuB.first?["version"] as? String, "0.8.0")
        XCTAssertEqual(gpuB.first?["drifted"] as? Bool, true)
        XCTAssertTrue(nodes[3]["backends"] is NSNull, "offline: backends unknown, not an empty list")
        XCTAssertNotNil(nodes[3]["error"] as? String)
        XCTAssertEqual(nodes[3]["last_heartbeat"] as? String, "2026-12-03T08:00:00Z")
        let piper = try XCTUnwrap((doc["backends"] as? [String: [String: Any]])?["piper"])
        XCTAssertEqual(piper["nodes"] as? [String], ["6c1e0001", "91fd0002", "a7770003"])
        XCTAssertEqual(piper["of"] as? Int, 4)
        XCTAssertEqual(piper["drifted"] as? [String], ["91fd0002"])
        assertNoKey(run)
    }

    func testNodesJSONCarriesLocalAIsOwnNodeDriftAsServed() throws {
        // A second drifted node, with a digest only: LocalAI's entry must come through with its own fields.
        try standIn.preinstall(Self.gallery[0], onNode: "a7770003", version: "", digest: Self.new)
        standIn.runClusterCheckNow()
        let run = try hangar(["nodes", "--json"])
        XCTAssertEqual(run.status, 0, run.stderr)
        let printed = try JSONValue.parse(Array(run.stdout.utf8))
        let served = try XCTUnwrap(try get("/backends/upgrades").body)
        let piperDrift = try XCTUnwrap(served["piper"]?["node_drift"])
        XCTAssertEqual(piperDrift.arrayValue?.count, 2, "gpu-b and gpu-c differ from LocalAI's majority")
        XCTAssertEqual(printed["node_drift"]?["piper"], piperDrift, "exactly as GET /backends/upgrades served it")
        XCTAssertEqual(printed["node_drift"]?.objectValue?.members.map(\.key), ["piper"], "only backends LocalAI reports drift for")
        XCTAssertEqual(printed["backends"]?["piper"]?["drifted"], .array([.string("91fd0002"), .string("a7770003")]),
                       "hangar's own count stays beside it")
    }

    func testNodesTableShowsOfflineNodesAsOffline() throws {
        let run = try hangar(["nodes"])
        XCTAssertEqual(run.status, 0, run.stderr)
        let lines = run.stdout.split(separator: "\n").map(String.init)
        XCTAssertEqual(lines.first?.split(separator: " ", omittingEmptySubsequences: true),
                       ["NAME", "ID", "STATUS", "BACKENDS", "DRIFT", "LAST", "SEEN"])
        let offline = try XCTUnwrap(lines.first { $0.hasPrefix("gpu-d") })
        XCTAssertEqual(offline.split(separator: " ", omittingEmptySubsequences: true),
                       ["gpu-d", "d0d00004", "offline", "?", "?", "2026-12-03T08:00:00Z"])
        let gpuB = try XCTUnwrap(lines.first { $0.hasPrefix("gpu-b") })
        XCTAssertEqual(gpuB.split(separator: " ", omittingEmptySubsequences: true)[3...4], ["2", "1"])
        XCTAssertFalse(run.stdout.lowercased().contains("up to date"))
        XCTAssertTrue(lines.contains { $0.hasPrefix("gpu-d: offline") }, run.stdout)
    }

    func testNodesNeedsADistributedServer() throws {
        let plain = try LocalAIStandIn(gallery: Self.gallery, apiKeys: [key])
        defer { plain.stop() }
        let run = try hangar(["nodes"], server: plain.url)
        XCTAssertEqual(run.status, 2)
        XCTAssertEqual(run.stderr.split(separator: "\n").count, 1, run.stderr)
        XCTAssertTrue(run.stderr.contains("not in distributed mode"), run.stderr)

        let local = try HangarExecutable.run(["nodes", "--backends-path", directory], environment: environment(), directory: directory)
        XCTAssertEqual(local.status, 2)
        XCTAssertEqual(local.stderr, "hangar: hangar nodes needs a distributed LocalAI server: give its frontend's URL with --server URL\n")
    }

    func testCheckJSONPassesNodeDriftThroughUntouched() throws {
        let run = try hangar(["check", "--json"])
        XCTAssertEqual(run.status, 0, run.stderr)
        let printed = try JSONValue.parse(Array(run.stdout.utf8))
        let served = try XCTUnwrap(try get("/backends/upgrades").body)
        XCTAssertEqual(printed["piper"]?["node_drift"], served["piper"]?["node_drift"])
        XCTAssertNotNil(printed["piper"]?["node_drift"])
        XCTAssertEqual(printed, served, "check --json is the server's /backends/upgrades body")
        let text = try hangar(["check"])
        XCTAssertTrue(text.stdout.contains("piper: most nodes have v0.9.0 (current); drift: gpu-b has v0.8.0"), text.stdout)
    }

    func testUpgradeOnOneNodeChangesOnlyThatNode() throws {
        let run = try hangar(["upgrade", "piper", "--node", "gpu-b", "--json"])
        XCTAssertEqual(run.status, 0, run.stderr)
        let done = try XCTUnwrap(try events(run).last)
        XCTAssertEqual(done["event"] as? String, "done")
        XCTAssertEqual(done["summary"] as? String, "upgraded piper v0.8.0 → v0.9.0 on node gpu-b (91fd0002) of \(standIn.url)")
        XCTAssertEqual(standIn.nodeMetadata("piper", onNode: "91fd0002")?.version, "0.9.0")
        XCTAssertTrue(standIn.requests.contains { $0.method == "POST" && $0.path == "/api/nodes/91fd0002/backends/upgrade" })
        XCTAssertFalse(standIn.requests.contains { $0.path.hasPrefix("/backends/upgrade/") }, "no cluster-wide upgrade")
        let check = try hangar(["check", "--json"])
        XCTAssertNil(try JSONValue.parse(Array(check.stdout.utf8))["piper"], "no drift left: \(check.stdout)")
    }

    func testUpgradeOnAnOfflineNodeIsOneLineNamingIt() throws {
        let run = try hangar(["upgrade", "whisper", "--node", "d0d00004"])
        XCTAssertEqual(run.status, 1)
        XCTAssertTrue(run.stderr.contains("node gpu-d (d0d00004)") && run.stderr.contains("offline"), run.stderr)
        XCTAssertFalse(standIn.requests.contains { $0.path.hasPrefix("/api/nodes/d0d00004/backends/") && $0.method == "POST" })
    }

    func testAFailedNodeUpgradeNamesTheNodeAndWhatLocalAIDid() throws {
        let run = try hangar(["upgrade", "kokoro", "--node", "gpu-a", "--json"])
        XCTAssertEqual(run.status, 1, run.stderr)
        let failed = try XCTUnwrap(try events(run).last)
        XCTAssertEqual(failed["event"] as? String, "failed")
        let error = try XCTUnwrap(failed["error"] as? String)
        XCTAssertTrue(error.hasPrefix("upgrade of kokoro failed on node gpu-a (6c1e0001)"), error)
        XCTAssertTrue(error.contains("run.sh not found"), error)
        XCTAssertTrue(error.contains("LocalAI removed kokoro from that node"), error)
        XCTAssertFalse(error.contains("node(s)"), "the node's own line of the job's nodes[], not the job's summary: \(error)")
    }

    func testInstallAndUninstallOnOneNode() throws {
        XCTAssertEqual(try hangar(["install", "kokoro", "--node", "gpu-b"]).status, 1, "kokoro 2.0.0 is broken")
        let install = try hangar(["uninstall", "whisper", "--node", "gpu-c", "--json"])
        XCTAssertEqual(install.status, 0, install.stderr)
        XCTAssertEqual(try events(install).last?["summary"] as? String, "uninstalled whisper from node gpu-c (a7770003) of \(standIn.url)")
        XCTAssertNil(standIn.nodeMetadata("whisper", onNode: "a7770003"))
        XCTAssertNotNil(standIn.nodeMetadata("whisper", onNode: "6c1e0001"))
        let again = try hangar(["install", "whisper", "--node", "gpu-c", "--json"])
        XCTAssertEqual(again.status, 0, again.stderr)
        XCTAssertEqual(try events(again).last?["summary"] as? String, "installed whisper v1.5.0 on node gpu-c (a7770003) of \(standIn.url)")
        XCTAssertEqual(standIn.nodeMetadata("whisper", onNode: "a7770003")?.version, "1.5.0")
    }

    func testNodeOptionNeedsRemoteModeAndAKnownNode() throws {
        let local = try HangarExecutable.run(["upgrade", "piper", "--node", "gpu-a", "--backends-path", directory],
                                             environment: environment(), directory: directory)
        XCTAssertEqual(local.status, 2)
        XCTAssertEqual(local.stderr.split(separator: "\n").count, 1, local.stderr)
        XCTAssertTrue(local.stderr.contains("--node needs a distributed LocalAI server"), local.stderr)

        let unknown = try hangar(["uninstall", "piper", "--node", "gpu-z"])
        XCTAssertEqual(unknown.status, 1)
        XCTAssertTrue(unknown.stderr.contains("no node \"gpu-z\"") && unknown.stderr.contains("gpu-a (6c1e0001)"), unknown.stderr)

        let plain = try LocalAIStandIn(gallery: Self.gallery, apiKeys: [key])
        defer { plain.stop() }
        let notCluster = try hangar(["upgrade", "piper", "--node", "gpu-a"], server: plain.url)
        XCTAssertEqual(notCluster.status, 2)
        XCTAssertEqual(notCluster.stdout, "", "refused before any job")
        XCTAssertEqual(notCluster.stderr.split(separator: "\n").count, 1, notCluster.stderr)
        XCTAssertTrue(notCluster.stderr.contains("not in distributed mode"), notCluster.stderr)
    }

    func testClusterWideUpgradeTargetsOnlyTheNodesThatHaveIt() throws {
        var gallery = Self.gallery
        gallery[0].version = "1.0.0"
        standIn.setGallery(gallery)
        let run = try hangar(["upgrade", "piper", "--json"])
        XCTAssertEqual(run.status, 0, run.stderr)
        for node in ["6c1e0001", "91fd0002", "a7770003"] {
            XCTAssertEqual(standIn.nodeMetadata("piper", onNode: node)?.version, "1.0.0", node)
        }
        XCTAssertNil(standIn.nodeMetadata("piper", onNode: "d0d00004"), "not installed there, so not a target")
    }

    func testListAndReinstallOnOneNodeInDistributedMode() throws {
        let list = try hangar(["list", "--json"])
        XCTAssertEqual(list.status, 0, list.stderr)
        let rows = try XCTUnwrap(try document(list) as? [[String: Any]])
        XCTAssertEqual(rows.map { $0["name"] as? String }, ["kokoro", "piper", "whisper"], "the workers' rows, aggregated")
        XCTAssertEqual((rows[1]["metadata"] as? [String: Any])?["version"] as? String, "0.9.0", "the majority's build")

        let before = try XCTUnwrap(standIn.nodeMetadata("whisper", onNode: "91fd0002"))
        let other = try XCTUnwrap(standIn.nodeMetadata("whisper", onNode: "6c1e0001"))
        Thread.sleep(forTimeInterval: 1.1)  // installed_at has one-second resolution
        let run = try hangar(["reinstall", "whisper", "--node", "91fd0002", "--json"])
        XCTAssertEqual(run.status, 0, run.stderr)
        XCTAssertEqual(try events(run).last?["summary"] as? String, "reinstalled whisper v1.5.0 on node gpu-b (91fd0002) of \(standIn.url)")
        let after = try XCTUnwrap(standIn.nodeMetadata("whisper", onNode: "91fd0002"))
        XCTAssertNotEqual(after.installedAt, before.installedAt, "a new install on that node")
        let delete = try XCTUnwrap(standIn.requests.firstIndex { $0.path == "/api/nodes/91fd0002/backends/delete" })
        let install = try XCTUnwrap(standIn.requests.firstIndex { $0.path == "/api/nodes/91fd0002/backends/install" })
        XCTAssertLessThan(delete, install, "a node install is never forced: delete first")
        XCTAssertEqual(standIn.nodeMetadata("whisper", onNode: "6c1e0001"), other, "the other nodes are untouched")
    }

    // MARK: - Per-node progress and outcome (§5.5, §7.2 "inspect nodes[] even on success")

    /// The `nodes` events of a `--json` run, each as `[node name: (status, error)]`.
    private func nodeEvents(_ run: HangarExecutable.Run) throws -> [[String: (status: String, error: String?, percentage: Int)]] {
        try events(run).filter { $0["event"] as? String == "nodes" }.map { event in
            let nodes = try XCTUnwrap(event["nodes"] as? [[String: Any]])
            return Dictionary(uniqueKeysWithValues: nodes.map {
                ($0["node_name"] as? String ?? "", ($0["status"] as? String ?? "", $0["error"] as? String, $0["percentage"] as? Int ?? -1))
            })
        }
    }

    func testClusterWideUpgradeReportsEachNodeAndNamesTheOfflineOne() throws {
        var gallery = Self.gallery
        gallery[0].version = "1.0.0"
        standIn.setGallery(gallery)
        // gpu-d had piper before it went offline: LocalAI targets it, and leaves it a retry row.
        try standIn.preinstall(gallery[0], onNode: "d0d00004", version: "0.9.0")
        let run = try hangar(["upgrade", "piper", "--json"])
        XCTAssertEqual(run.status, 0, run.stderr)
        let perNode = try nodeEvents(run)
        XCTAssertGreaterThanOrEqual(perNode.count, 2, "per-node lines while it runs: \(run.stdout)")
        XCTAssertTrue(perNode.contains { $0["gpu-a"]?.status == "downloading" && ($0["gpu-a"]?.percentage ?? 0) < 100 }, run.stdout)
        let last = try XCTUnwrap(perNode.last)
        XCTAssertEqual(Set(last.keys), ["gpu-a", "gpu-b", "gpu-c", "gpu-d"])
        for node in ["gpu-a", "gpu-b", "gpu-c"] { XCTAssertEqual(last[node]?.status, "success", node) }
        XCTAssertEqual(last["gpu-d"]?.status, "queued")
        XCTAssertEqual(last["gpu-d"]?.error, "node unhealthy, will retry when healthy")
        let all = try events(run)
        let warning = try XCTUnwrap(all.first { $0["event"] as? String == "warning" }?["message"] as? String)
        XCTAssertEqual(warning, "upgrade of piper not done on node gpu-d (d0d00004): queued: node unhealthy, will retry when healthy")
        let done = try XCTUnwrap(all.last)
        XCTAssertEqual(done["event"] as? String, "done")
        XCTAssertEqual(done["summary"] as? String, "upgraded piper v0.9.0 → v1.0.0 on \(standIn.url); not on 1 of 4 nodes: "
                       + "gpu-d queued: node unhealthy, will retry when healthy")
        XCTAssertEqual(standIn.nodeMetadata("piper", onNode: "d0d00004")?.version, "0.9.0", "the offline node was not touched")

        let plain = try hangar(["reinstall", "whisper"])
        XCTAssertEqual(plain.status, 0, plain.stderr)
        XCTAssertTrue(plain.stderr.split(separator: "\n").contains {
            $0.hasPrefix("reinstall whisper: nodes: ") && $0.contains("gpu-d queued: node unhealthy, will retry when healthy")
        }, plain.stderr)
    }

    func testClusterWideReinstallFansOutToEveryNode() throws {
        let before = ["6c1e0001", "91fd0002", "a7770003"].map { standIn.nodeMetadata("whisper", onNode: $0)?.installedAt }
        Thread.sleep(forTimeInterval: 1.1)  // installed_at has one-second resolution
        let run = try hangar(["reinstall", "whisper", "--json"])
        XCTAssertEqual(run.status, 0, run.stderr)
        let after = ["6c1e0001", "91fd0002", "a7770003"].map { standIn.nodeMetadata("whisper", onNode: $0)?.installedAt }
        for (b, a) in zip(before, after) { XCTAssertNotEqual(a, b, "every reachable node reinstalled") }
        XCTAssertEqual(try nodeEvents(run).last?["gpu-d"]?.status, "queued", "the offline node is a target too (§13)")
        let summary = try XCTUnwrap(try events(run).last?["summary"] as? String)
        XCTAssertTrue(summary.hasPrefix("reinstalled whisper v1.5.0 on \(standIn.url); not on 1 of 4 nodes: gpu-d queued"), summary)
    }

    func testClusterWideUninstallRemovesItFromEveryReachableNode() throws {
        let run = try hangar(["uninstall", "whisper", "--json"])
        XCTAssertEqual(run.status, 0, run.stderr)
        for node in ["6c1e0001", "91fd0002", "a7770003"] { XCTAssertNil(standIn.nodeMetadata("whisper", onNode: node), node) }
        XCTAssertNotNil(standIn.nodeMetadata("whisper", onNode: "d0d00004"), "offline: LocalAI deletes it there when it is back")
        let last = try XCTUnwrap(try nodeEvents(run).last)
        XCTAssertEqual(last["gpu-d"]?.error, "node unhealthy, will retry when healthy")
        let summary = try XCTUnwrap(try events(run).last?["summary"] as? String)
        XCTAssertEqual(summary, "uninstalled whisper from \(standIn.url); not on 1 of 4 nodes: gpu-d queued: node unhealthy, will retry when healthy")

        // kokoro is on gpu-a only: the fan-out reaches every node, and the ones without it have nothing to do.
        let kokoro = try hangar(["uninstall", "kokoro", "--json"])
        XCTAssertEqual(kokoro.status, 0, kokoro.stderr)
        XCTAssertNil(standIn.nodeMetadata("kokoro", onNode: "6c1e0001"))
    }

    func testAnUpgradeOnAnUnhealthyNodeIsNotReportedDone() throws {
        standIn.setNodeStatus("91fd0002", "unhealthy")
        let run = try hangar(["upgrade", "piper", "--node", "gpu-b", "--json"])
        XCTAssertEqual(run.status, 1, run.stdout)
        let error = try XCTUnwrap(try events(run).last?["error"] as? String)
        XCTAssertEqual(error, "upgrade of piper reached no node of \(standIn.url): gpu-b queued: node unhealthy, will retry when healthy")
        XCTAssertEqual(standIn.nodeMetadata("piper", onNode: "91fd0002")?.version, "0.8.0")
    }

    func testAJobThatReachedNoNodeFails() throws {
        for node in ["6c1e0001", "91fd0002", "a7770003"] { standIn.setNodeStatus(node, "unhealthy") }
        let run = try hangar(["reinstall", "whisper", "--json"])
        XCTAssertEqual(run.status, 1, run.stdout)
        let failed = try XCTUnwrap(try events(run).last)
        XCTAssertEqual(failed["event"] as? String, "failed")
        let error = try XCTUnwrap(failed["error"] as? String)
        XCTAssertTrue(error.hasPrefix("reinstall of whisper reached no node of \(standIn.url): gpu-a queued: node unhealthy"), error)
        XCTAssertTrue(error.contains("gpu-d queued"), error)
    }
}
