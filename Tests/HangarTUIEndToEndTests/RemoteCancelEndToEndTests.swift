import Foundation
import HangarEngine
import HangarFixtures
import XCTest

/// Cancelling a LocalAI job from the UI under tmux (the real binary against the stand-in, real HTTP on 127.0.0.1):
/// `x` on the Jobs screen sends LocalAI's cancel (`POST /api/operations/<id>/cancel`, localai-api.md §7.3) for the
/// very job hangar follows, and the row says cancelled.
final class RemoteCancelEndToEndTests: XCTestCase {
    private var site: RemoteUISite!
    private var standIn: LocalAIStandIn { site.standIn }

    override func setUpWithError() throws {
        site = try RemoteUISite(key: "sk-remote-cancel-0123456789", tick: 0.1, ticks: 10)
        standIn.setNeverFinish(true)
    }

    override func tearDown() { site = nil }

    func testXCancelsTheServersRunningJob() throws {
        let ui = try site.openUI()
        eventually("the first frame on the server", context: { ui.screen() }) {
            ui.screen().contains("piper") && ui.screen().contains("connected")
        }
        // Catalog: whisper is the one entry not installed.
        try ui.send("2")
        eventually("the catalog", context: { ui.screen() }) { ui.screen().contains("whisper") }
        try select("whisper", in: ui)
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
