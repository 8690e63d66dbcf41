import Foundation
import HangarEngine
import HangarFixtures
import XCTest

/// The real `hangar` UI under tmux against a distributed LocalAI stand-in (`--server`): the Backends rows' node
/// spread, Detail's per-node lines, the Nodes screen (`n`), and `u`, `d`, `r` there acting on one node only.
final class NodesEndToEndTests: XCTestCase {
    let key = "sk-standin-0123456789abcdef"

    func testNodesScreenShowsDriftAndUpgradesOnOneNode() throws {
        let gallery: [LocalAIStandIn.Entry] = [
            .init(name: "piper", version: "0.9.0", digest: "sha256:" + String(repeating: "b", count: 64), size: 1 << 20),
            .init(name: "whisper", version: "1.5.0", digest: "sha256:" + String(repeating: "d", count: 64)),
        ]
        let standIn = try LocalAIStandIn(gallery: gallery, apiKeys: [key], tick: 0.1)
        defer { standIn.stop() }
        try standIn.enableCluster(nodes: [.init(id: "6c1e0001", name: "gpu-a"), .init(id: "91fd0002", name: "gpu-b"),
                                          .init(id: "a7770003", name: "gpu-c"),
                                          .init(id: "d0d00004", name: "gpu-d", status: "offline")])
        for node in ["6c1e0001", "a7770003"] { try standIn.preinstall(gallery[0], onNode: node) }
        try standIn.preinstall(gallery[0], onNode: "91fd0002", version: "0.8.0", digest: "sha256:" + String(repeating: "a", count: 64))
        for node in ["6c1e0001", "91fd0002", "a7770003"] { try standIn.preinstall(gallery[1], onNode: node) }
        standIn.runClusterCheckNow()

        let root = try makeTemporaryDirectory("e2e-nodes")
        defer { removeTree(root) }
        let env = ["PATH": "/usr/bin:/bin", "HOME": root, "TERM": "xterm-256color", "LC_ALL": "C.UTF-8",
                   "LOCALAI_API_KEY": key, "HANGAR_SERVER_POLL_INTERVAL": "0.05", "HANGAR_SERVER_CHECK_WAIT": "1"]
        let command = "cd \(shellQuote(root)) && " + envCommand(env, [try HangarExecutable.path(), "--server", standIn.url])
        let ui = try TmuxSession(command: command, width: 120, height: 35, scratch: root)
        func row(_ prefix: String) -> String? {
            ui.lines.first { $0.drop { $0 == " " || $0 == "▸" }.hasPrefix(prefix) }
        }
        eventually("the Backends rows with their node spread", context: { ui.screen() }) {
            row("piper ")?.contains("3/4 · 1 drifted") == true && row("whisper ")?.contains("3/4 nodes") == true
        }
        XCTAssertTrue(ui.screen().contains("n nodes"), "the footer offers n: \(ui.screen())")

        // Detail of the drifted backend: each node's build, the offline one unknown (never "up to date").
        eventually("piper selected", context: { ui.screen() }) { ui.lines.first { $0.hasPrefix("▸") }?.contains("piper") == true }
        try ui.send("Enter")
        eventually("Detail's per-node lines", context: { ui.screen() }) { row("gpu-d ")?.contains("offline: unknown") == true }
        XCTAssertTrue(row("nodes ")?.contains("3/4 · 1 drifted") == true, ui.screen())
        XCTAssertTrue(row("gpu-b ")?.contains("v0.8.0 sha256:aaaaaaa healthy (drifted)") == true, ui.screen())
        XCTAssertTrue(row("gpu-a ")?.contains("v0.9.0 sha256:bbbbbbb healthy") == true, ui.screen())
        XCTAssertFalse(row("gpu-a ")?.contains("drifted") ?? true, ui.screen())
        XCTAssertFalse(ui.screen().contains("up to date"), ui.screen())
        try ui.send("Escape")
        eventually("back on Backends", context: { ui.screen() }) { row("whisper ")?.contains("3/4 nodes") == true }

        try ui.send("n")
        eventually("the Nodes screen", context: { ui.screen() }) {
            ui.screen().contains("4 nodes · 2 backends · 1 offline · 1 drifted")
        }
        XCTAssertTrue(row("gpu-d ")?.contains("offline") == true && row("gpu-d ")?.contains("backends unknown") == true, ui.screen())
        XCTAssertFalse(ui.screen().contains("up to date"), ui.screen())
        let lines = ui.lines
        let b = try XCTUnwrap(lines.firstIndex { $0.contains("gpu-b ") })
        XCTAssertTrue(lines[b + 1].contains("piper") && lines[b + 1].contains("v0.8.0") && lines[b + 1].contains("sha256:aaaaaaa"), lines[b + 1])

        // gpu-a, its piper, its whisper, gpu-b, gpu-b's piper.
        for _ in 0..<4 { try ui.send("j") }
        eventually("gpu-b's piper selected", context: { ui.screen() }) {
            ui.lines.first { $0.hasPrefix("▸") }?.contains("v0.8.0") == true
        }
        try ui.send("u")
        eventually("the node upgrade to land and the screen to show it", timeout: 20, context: { ui.screen() }) {
            standIn.nodeMetadata("piper", onNode: "91fd0002")?.version == "0.9.0" && ui.screen().contains("no drift")
        }
        XCTAssertEqual(standIn.nodeMetadata("piper", onNode: "6c1e0001")?.version, "0.9.0")
        XCTAssertTrue(standIn.requests.contains { $0.method == "POST" && $0.path == "/api/nodes/91fd0002/backends/upgrade" })
        XCTAssertFalse(standIn.requests.contains { $0.path.hasPrefix("/backends/upgrade/") }, "no cluster-wide upgrade")

        // d on gpu-c's whisper: asks, then removes it from gpu-c only.
        let whiskers = ["6c1e0001", "91fd0002"].map { standIn.nodeMetadata("whisper", onNode: $0) }
        for _ in 0..<4 { try ui.send("j") }  // gpu-b's whisper, gpu-c, its piper, its whisper
        eventually("gpu-c's whisper selected", context: { ui.screen() }) {
            guard let at = ui.lines.firstIndex(where: { $0.hasPrefix("▸") }) else { return false }
            return ui.lines[at].contains("whisper") && ui.lines[at - 2].contains("gpu-c")
        }
        try ui.send("d")
        eventually("the confirmation", context: { ui.screen() }) { ui.screen().contains("Uninstall whisper from node gpu-c?") }
        try ui.send("y")
        eventually("whisper gone from gpu-c and the screen to show it", timeout: 20, context: { ui.screen() }) {
            standIn.nodeMetadata("whisper", onNode: "a7770003") == nil && row("gpu-c ")?.contains("1 backend") == true
        }
        XCTAssertEqual(["6c1e0001", "91fd0002"].map { standIn.nodeMetadata("whisper", onNode: $0) }, whiskers, "other nodes keep it")
        XCTAssertFalse(standIn.requests.contains { $0.path.hasPrefix("/backends/delete/") }, "no cluster-wide uninstall")

        // r on gpu-a's whisper: asks, then deletes and installs it on gpu-a only.
        try ui.send("g")
        try ui.send("j")
        try ui.send("j")
        eventually("gpu-a's whisper selected", context: { ui.screen() }) {
            guard let at = ui.lines.firstIndex(where: { $0.hasPrefix("▸") }) else { return false }
            return ui.lines[at].contains("whisper") && ui.lines[at - 2].contains("gpu-a")
        }
        let gpuB = standIn.nodeMetadata("whisper", onNode: "91fd0002")
        try ui.send("r")
        eventually("the confirmation", context: { ui.screen() }) { ui.screen().contains("Reinstall whisper on node gpu-a?") }
        try ui.send("y")
        eventually("the reinstall on gpu-a to finish", timeout: 20, context: { ui.screen() }) {
            standIn.requests.contains { $0.method == "POST" && $0.path == "/api/nodes/6c1e0001/backends/install" }
                && standIn.nodeMetadata("whisper", onNode: "6c1e0001") != nil
                && ui.screen().contains("reinstalled whisper v1.5.0 on node gpu-a (6c1e0001)")
        }
        XCTAssertTrue(standIn.requests.contains { $0.method == "POST" && $0.path == "/api/nodes/6c1e0001/backends/delete" })
        XCTAssertFalse(standIn.requests.contains { $0.path.hasPrefix("/api/nodes/91fd0002/backends/") && $0.method == "POST" && !$0.path.hasSuffix("upgrade") })
        XCTAssertEqual(standIn.nodeMetadata("whisper", onNode: "91fd0002"), gpuB, "gpu-b untouched")
        XCTAssertFalse(standIn.requests.contains { $0.path == "/backends/apply" }, "no cluster-wide reinstall")

        try ui.send("q")
        eventually("hangar to exit", context: { ui.screen(history: true) }) { ui.exitStatus != nil }
        XCTAssertEqual(ui.exitStatus, 0, ui.screen(history: true))
    }
}
