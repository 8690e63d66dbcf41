import Foundation
import HangarEngine
import HangarFixtures
import XCTest

/// The local link under tmux: the real binary's UI on a backends directory that the LocalAI stand-in serves
/// (LOCALAI_BACKENDS_PATH plus HANGAR_SERVER). After an upgrade the UI offers to restart the models still on the
/// previous build, Detail says which ones until then, and `y` stops them on the server (localai-api.md §12.2).
final class LinkEndToEndTests: XCTestCase {
    func testAnUpgradeOffersToRestartTheLoadedModelsAndDetailNamesThemUntilThen() throws {
        let site = try DemoSite()
        let standIn = try LocalAIStandIn(gallery: [])
        defer { standIn.stop() }
        // LocalAI runs on the demo's backends directory: the stand-in serves it.
        try FileManager.default.removeItem(atPath: standIn.backendsPath)
        try FileManager.default.moveItem(atPath: site.demo.backendsPath, toPath: standIn.backendsPath)
        standIn.restartLoader()
        try standIn.load(model: "voice-a", backend: "piper")
        try standIn.load(model: "vad", backend: "silero-vad")

        let command = site.shellCommand([], extraEnvironment: ["LOCALAI_BACKENDS_PATH": standIn.backendsPath,
                                                               "HANGAR_SERVER": standIn.url])
        let ui = try TmuxSession(command: command, width: 120, height: 35, scratch: site.root)
        eventually("the first frame", context: { ui.screen() }) { ui.screen().contains("Backends") && ui.screen().contains("piper") }
        eventually("the upgrade check's indicators", context: { ui.screen() }) { ui.screen().contains("↑ v0.9.0") }
        try select("piper", in: ui)
        try ui.send("Enter")
        eventually("Detail's loaded-by line", context: { ui.screen() }) {
            ui.line(containing: "loaded by").map { $0.contains("voice-a") && !$0.contains("previous build") } == true
        }

        try ui.send("u")
        eventually("the restart offer after the upgrade", timeout: 30, context: { ui.screen() }) {
            ui.screen().contains("Restart models on piper?") && ui.screen().contains("y = yes")
        }
        XCTAssertTrue(ui.screen().contains("voice-a still runs the previous build of piper on \(standIn.url)."), ui.screen())
        XCTAssertFalse(standIn.runsCurrentBuild("voice-a"))
        try ui.send("n")
        eventually("Detail saying the model runs the previous build", context: { ui.screen() }) {
            ui.line(containing: "loaded by")?.contains("voice-a — running the previous build (hangar restart-models piper)") == true
        }
        XCTAssertEqual(standIn.shutdowns, [], "No restarts nothing")

        // A reinstall swaps in a build again: the offer comes back, and this time it is taken.
        try ui.send("r")
        eventually("the reinstall question", context: { ui.screen() }) { ui.screen().contains("Reinstall piper?") }
        try ui.send("y")
        eventually("the restart offer after the reinstall", timeout: 30, context: { ui.screen() }) {
            ui.screen().contains("Restart models on piper?") && ui.screen().contains("y = yes")
        }
        try ui.send("y")
        eventually("the model stopped on the server", context: { ui.screen() }) { standIn.shutdowns == ["voice-a"] }
        eventually("the message and Detail without the line", context: { ui.screen() }) {
            ui.screen().contains("restarted voice-a: the next request to each runs piper's new build")
                && ui.line(containing: "loaded by") == nil
        }
        XCTAssertEqual(standIn.loadedModels.map(\.id), ["vad"], "silero-vad's model is left alone")
        try standIn.load(model: "voice-a", backend: "piper")
        XCTAssertTrue(standIn.runsCurrentBuild("voice-a"), "loaded again, it runs the new build")

        try ui.send("q")
        eventually("hangar to exit", timeout: 10, context: { ui.screen(history: true) }) { ui.exitStatus != nil }
    }

    func testWithoutAServerTheUISaysOnceWhatARunningLocalAISeesAtOnce() throws {
        let site = try DemoSite()
        let first = try site.openUI()
        eventually("the note", context: { first.screen() }) {
            first.screen().contains("note: LocalAI loads new installs at once; loaded models keep the old build after upgrades (--server restarts them)")
        }
        try first.send("q")
        eventually("hangar to exit", timeout: 10, context: { first.screen(history: true) }) { first.exitStatus != nil }

        let second = try site.openUI()
        eventually("the upgrade check", context: { second.screen() }) { second.screen().contains("↑ v0.9.0") }
        XCTAssertFalse(second.screen().contains("note: LocalAI loads"), "said once:\n\(second.screen())")
        try second.send("q")
        eventually("hangar to exit", timeout: 10, context: { second.screen(history: true) }) { second.exitStatus != nil }
    }
}
