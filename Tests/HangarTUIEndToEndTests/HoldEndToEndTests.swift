import Foundation
import HangarFixtures
import XCTest

/// Holds and the history through the real binary under tmux: `h` marks the row, `U` skips it and says so, and the
/// History view names the UI as who ran an upgrade.
final class HoldEndToEndTests: XCTestCase {
    func testHMarksTheRowUpperUSkipsItAndTheHistoryNamesTheUI() throws {
        let site = try DemoSite()
        let ui = try site.openUI()
        eventually("the upgrade check's indicators", context: { ui.screen() }) { ui.screen().contains("↑ v0.9.0") }
        try select("piper", in: ui)
        try ui.send("h")
        eventually("the hold mark", context: { ui.screen() }) { (selectedRow(ui) ?? "").contains("held: held from the UI") }
        XCTAssertTrue(ui.screen().contains("held: 1"), ui.screen())
        let holds = try String(contentsOfFile: site.demo.backendsPath + "/.hangar/holds.json", encoding: .utf8)
        XCTAssertTrue(holds.contains("\"piper\""), holds)

        try ui.send("U")
        eventually("the question", context: { ui.screen() }) { ui.screen().contains("Upgrade all?") }
        XCTAssertTrue(ui.screen().contains("Skipped, held: piper."), ui.screen())
        try ui.send("n")

        try select("silero-vad", in: ui)
        try ui.send("u")
        eventually("silero-vad upgraded", timeout: 30, context: { ui.screen() }) { site.metadata("silero-vad")?["version"] as? String == "5.0" }
        try ui.send("4")
        try ui.send("H")
        eventually("the history row", timeout: 10, context: { ui.screen() }) {
            ui.lines.contains { $0.contains("silero-vad") && $0.contains("done") && $0.contains(" ui ") }
        }
        XCTAssertEqual(site.metadata("piper")?["version"] as? String, "0.8.0", "the held backend was left alone")
        try ui.send("q")
        eventually("hangar to exit", timeout: 10, context: { ui.screen(history: true) }) { ui.exitStatus != nil }
    }
}
