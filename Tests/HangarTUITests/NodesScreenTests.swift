import Foundation
@testable import HangarEngine
@testable import HangarTUI
import XCTest

/// The Nodes screen and the cluster marks on Backends and Detail, drawn on a cell grid from a hand-built cluster.
final class NodesScreenTests: XCTestCase {
    static let a = "sha256:" + String(repeating: "a", count: 64)
    static let b = "sha256:" + String(repeating: "b", count: 64)

    /// gpu-a/gpu-b/gpu-c have piper (gpu-b an older build), whisper everywhere reachable; gpu-d offline.
    static func cluster() -> ClusterSnapshot {
        func node(_ id: String, _ name: String, _ status: String = "healthy") -> ClusterNode {
            ClusterNode(id: id, name: name, status: status, lastHeartbeat: "2026-12-04T12:00:00Z")
        }
        let piper = NodeBackend(name: "piper", version: "0.9.0", digest: b), whisper = NodeBackend(name: "whisper", version: "1.5.0", digest: b)
        return ClusterSnapshot(server: "http://127.0.0.1:1", nodes: [
            ClusterNodeState(node: node("n1", "gpu-a"), backends: [piper, whisper]),
            ClusterNodeState(node: node("n2", "gpu-b"), backends: [NodeBackend(name: "piper", version: "0.8.0", digest: a), whisper]),
            ClusterNodeState(node: node("n3", "gpu-c", "draining"), backends: [piper, whisper]),
            ClusterNodeState(node: node("n4", "gpu-d", "offline"), backends: nil, error: "offline: its backends cannot be listed"),
        ])
    }

    static func state() -> UIState {
        var snapshot = EngineSnapshot.empty()
        snapshot.cluster = Self.cluster()
        snapshot.installed = ["piper", "whisper"].map { name in
            InstalledBackend(name: name, runFile: "", isMeta: false, isSystem: false,
                             metadata: BackendMetadata(name: name, version: name == "piper" ? "0.9.0" : "1.5.0", digest: Self.b),
                             broken: nil, directory: "http://127.0.0.1:1/" + name)
        }
        return UIState(snapshot: snapshot)
    }

    func testNKeyOpensNodesWithEachNodesBackendsVersionsAndShortDigests() throws { try onMain {
        var state = Self.state()
        _ = state.handle(.char("n"))
        XCTAssertEqual(state.screen, .nodes)
        let canvas = draw(state, width: 120, height: 30)
        XCTAssertTrue(canvas.text.contains("4 nodes · 2 backends · 1 offline · 1 drifted"), canvas.text)
        let gpuB = line(canvas, containing: "gpu-b")
        XCTAssertTrue(gpuB.contains("healthy") && gpuB.contains("n2") && gpuB.contains("2 backends, 1 drifted"), gpuB)
        let rows = canvas.text.split(separator: "\n").map(String.init)
        let bIndex = try XCTUnwrap(rows.firstIndex { $0.contains("gpu-b") })
        XCTAssertTrue(rows[bIndex + 1].contains("piper") && rows[bIndex + 1].contains("v0.8.0") && rows[bIndex + 1].contains("sha256:aaaaaaa"),
                      rows[bIndex + 1])
        XCTAssertTrue(rows[bIndex + 1].contains("drifted: most nodes have v0.9.0"), rows[bIndex + 1])
        let gpuD = line(canvas, containing: "gpu-d")
        XCTAssertTrue(gpuD.contains("offline") && gpuD.contains("backends unknown"), gpuD)
        XCTAssertFalse(canvas.text.contains("up to date"))
        XCTAssertTrue(canvas.line(29).contains("u upgrade"), canvas.line(29))
    } }

    func testUOnABackendUpgradesItOnThatNodeOnly() throws { try onMain {
        var state = Self.state()
        _ = state.handle(.char("n"))
        XCTAssertEqual(state.handle(.char("u")), [], "a node row: nothing to upgrade")
        XCTAssertEqual(state.message?.isError, true)
        for _ in 0..<4 { _ = state.handle(.char("j")) }  // gpu-a, piper, whisper, gpu-b, piper
        XCTAssertEqual(state.handle(.char("u")), [.upgradeOnNode("piper", node: "n2")])
        _ = state.handle(.escape)
        XCTAssertEqual(state.screen, .backends)
        _ = state.handle(.char("n"))
        _ = state.handle(.tab)
        XCTAssertEqual(state.screen, .backends, "Tab from Nodes goes to the first tab")
        _ = state.handle(.char("n"))
        _ = state.handle(.backTab)
        XCTAssertEqual(state.screen, .settings, "Shift-Tab from Nodes goes to the last")
    } }

    func testBackendsRowsAndDetailShowTheSpread() throws { try onMain {
        var state = Self.state()
        let canvas = draw(state, width: 140, height: 30)
        XCTAssertTrue(line(canvas, containing: "piper").contains("3/4 · 1 drifted"), canvas.text)
        XCTAssertTrue(line(canvas, containing: "whisper").contains("3/4 nodes"), canvas.text)
        var drift = UpgradeInfo(backendName: "piper", installedVersion: "0.9.0", availableVersion: "0.9.0",
                                installedDigest: Self.b, availableDigest: Self.b)
        drift.nodeDrift = .array([.object(JSONObject(["node_id": .string("n2"), "node_name": .string("gpu-b"),
                                                      "version": .string("0.8.0"), "digest": .string(Self.a)]))])
        state.upgrades = UpgradeCheckStatus(lastCheck: Date(timeIntervalSince1970: 1_800_000_000),
                                            report: UpgradeReport(upgrades: ["piper": drift], warnings: []))
        XCTAssertTrue(line(draw(state, width: 140, height: 30), containing: "piper").contains("↑ drift"))
        _ = state.handle(.enter)
        let detail = draw(state, width: 120, height: 40)
        XCTAssertTrue(line(detail, containing: "most nodes have").contains("upgrade          most nodes have v0.9.0 (current); drift: gpu-b has v0.8.0"), detail.text)
        XCTAssertEqual(state.screen, .detail)
        XCTAssertTrue(line(detail, containing: "nodes ").contains("3/4 · 1 drifted"), detail.text)
        XCTAssertTrue(line(detail, containing: "gpu-b").contains("v0.8.0 sha256:aaaaaaa healthy (drifted)"), detail.text)
        XCTAssertTrue(line(detail, containing: "gpu-d").contains("offline: unknown"), detail.text)
    } }

    func testWithoutAClusterTheScreenSaysWhatItIsFor() throws { try onMain {
        var state = UIState(snapshot: .empty())
        _ = state.handle(.char("n"))
        let canvas = draw(state)
        XCTAssertTrue(canvas.text.contains("No nodes: this screen shows the nodes of a distributed LocalAI server"), canvas.text)
        XCTAssertEqual(state.handle(.char("u")), [])
        XCTAssertFalse(canvas.line(2).contains("Nodes"), "not a tab")
    } }

    func testJobsRowShowsEachNodesStateAndTheOutcomeNamesTheNodeLeftOut() throws { try onMain {
        var state = Self.state()
        var job = JobRow(job: 7, operation: .upgrade, backend: "piper")
        job.apply(.phase(.downloading, detail: "piper on http://127.0.0.1:1"), now: 0)
        job.apply(.progress(bytes: 40, total: 200), now: 0.1)
        job.apply(.nodes([JobNodeStatus(nodeID: "n1", nodeName: "gpu-a", status: "downloading", percentage: 40.7, fileName: "piper"),
                          JobNodeStatus(nodeID: "n2", nodeName: "gpu-b", status: "success", percentage: 100),
                          JobNodeStatus(nodeID: "n4", nodeName: "gpu-d", status: "queued",
                                        error: "node unhealthy, will retry when healthy")]), now: 0.2)
        state.jobs = [job]
        state.screen = .jobs
        var canvas = draw(state, width: 160, height: 20)
        let rows = canvas.text.split(separator: "\n").map(String.init)
        let title = try XCTUnwrap(rows.firstIndex { $0.contains("#7 upgrade piper") }, canvas.text)
        XCTAssertTrue(rows[title + 1].contains("gpu-a 40% · gpu-b done · gpu-d queued: node unhealthy, will retry when healthy"),
                      rows[title + 1])

        state.jobs[0].apply(.done(summary: "upgraded piper v0.8.0 → v0.9.0 on http://127.0.0.1:1; not on 1 of 3 nodes: "
                                  + "gpu-d queued: node unhealthy, will retry when healthy"), now: 1)
        canvas = draw(state, width: 160, height: 20)
        XCTAssertTrue(line(canvas, containing: "not on 1 of 3 nodes").contains("gpu-d queued"), canvas.text)
    } }

    func testROrDOnABackendAsksThenActsOnThatNodeOnly() throws { try onMain {
        var state = Self.state()
        _ = state.handle(.char("n"))
        XCTAssertEqual(state.handle(.char("d")), [], "a node row: nothing to uninstall")
        XCTAssertTrue(state.message?.text.contains("to uninstall it on that node") == true, state.message?.text ?? "")
        XCTAssertNil(state.confirmation)
        for _ in 0..<4 { _ = state.handle(.char("j")) }  // gpu-a, piper, whisper, gpu-b, piper
        XCTAssertEqual(state.handle(.char("d")), [], "asks first")
        XCTAssertEqual(state.confirmation?.title, "Uninstall piper from node gpu-b?")
        XCTAssertTrue(state.confirmation?.lines.joined(separator: " ").contains("Other nodes keep it") == true)
        let canvas = draw(state, width: 120, height: 30)
        XCTAssertTrue(canvas.text.contains("Uninstall piper from node gpu-b?"), canvas.text)
        XCTAssertEqual(state.handle(.char("n")), [], "No leaves it")
        XCTAssertNil(state.confirmation)
        _ = state.handle(.char("d"))
        XCTAssertEqual(state.handle(.char("y")), [.uninstallOnNode("piper", node: "n2")])

        _ = state.handle(.char("r"))
        XCTAssertEqual(state.confirmation?.title, "Reinstall piper on node gpu-b?")
        XCTAssertEqual(state.handle(.char("y")), [.reinstallOnNode("piper", node: "n2")])

        let footer = draw(state, width: 160, height: 30).line(29)
        XCTAssertTrue(footer.contains("r reinstall") && footer.contains("d uninstall"), footer)
        XCTAssertTrue(KeyMap.bindings(for: .nodes).contains { $0.label == "d" && $0.description.contains("from its node only") })
    } }
}
