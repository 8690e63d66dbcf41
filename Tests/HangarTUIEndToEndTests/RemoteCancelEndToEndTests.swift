import Foundation
import HangarEngine
import HangarFixtures
import XCTest

/// Cancelling a LocalAI job from the UI under tmux (the real binary against the stand-in, real HTTP on 127.0.0.1):
/// `x` on the Jobs screen sends LocalAI's cancel (`POST /api/operations/<id>/cancel`, localai-api.md §7.3) for the
/// very job hangar follows, and the row says cancelled.
final class RemoteCancelEndToEndTests: XCTestCase {
    private let key = "sk-remote-cancel-0123456789"
    private var standIn: LocalAIStandIn!
    private var root: String!

    override func setUpWithError() throws {
        root = try makeTemporaryDirectory("remote-cancel")
        standIn = try LocalAIStandIn(gallery: LocalAIStandIn.sampleGallery, apiKeys: [key], tick: 0.1, ticks: 10)
        try standIn.preinstallSamples()
        standIn.setNeverFinish(true)
    }

    override func tearDown() {
        standIn?.stop()
        if let root { removeTree(root) }
    }

    func testXCancelsTheServersRunningJob() throws {
        let env = ["PATH": "/usr/bin:/bin", "HOME": root!, "TERM": "xterm-256color", "LC_ALL": "C.UTF-8",
                   "LOCALAI_API_KEY": key, "HANGAR_SERVER_POLL_INTERVAL": "0.1", "HANGAR_SERVER_CHECK_WAIT": "1",
                   "HANGAR_SERVER_TIMEOUT": "3", "HANGAR_SERVER_IDLE_POLL": "1"]
        let command = "cd \(shellQuote(root)) && " + envCommand(env, [try HangarExecutable.path(), "--server", standIn.url])
        let ui = try TmuxSession(command: command, width: 120, height: 32, scratch: root)
        eventually("the first frame on the server", context: { ui.screen() }) {
            ui.screen().contains("piper") && ui.screen().contains("connected")
        }
        // Catalog: whisper is the one entry not installed.
        try ui.send("2")
        eventually("the catalog", context: { ui.screen() }) { ui.screen().contains("whisper") }
        for _ in 0..<6 where !(ui.lines.first { $0.hasPrefix("▸") }?.contains("whisper") ?? false) {
            let before = ui.screen()
            try ui.send("j")
            _ = waitUntil(timeout: 2) { ui.screen() != before }
        }
        try ui.send("i")
        eventually("the server's job to run", timeout: 10, context: { ui.screen() }) {
            self.standIn.requests.contains { $0.method == "GET" && $0.path.hasPrefix("/backends/jobs/") }
        }
        let polled = try XCTUnwrap(standIn.requests.first { $0.method == "GET" && $0.path.hasPrefix("/backends/jobs/") })
        let jobID = String(polled.path.dropFirst("/backends/jobs/".count))

        try ui.send("4")
        eventually("the running job on Jobs", timeout: 10, context: { ui.screen() }) {
            ui.lines.contains { $0.contains("install whisper") && $0.contains("downloading") }
        }
        XCTAssertFalse(standIn.requests.contains { $0.path.hasSuffix("/cancel") }, "nothing cancelled before x")
        try ui.send("x")
        eventually("LocalAI's cancel for that job", timeout: 10, context: { ui.screen() }) {
            self.standIn.requests.contains { $0.method == "POST" && $0.path == "/api/operations/\(jobID)/cancel" }
        }
        eventually("the row to say cancelled", timeout: 10, context: { ui.screen() }) {
            ui.lines.contains { $0.contains("install whisper") && $0.contains("cancelled") }
        }
        XCTAssertNil(standIn.installedMetadata("whisper"), "the server installed nothing")
        try ui.send("q")
        eventually("hangar to exit", timeout: 10, context: { ui.screen(history: true) }) { ui.exitStatus != nil }
    }
}
