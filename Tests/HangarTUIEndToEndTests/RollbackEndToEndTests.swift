import Foundation
import HangarFixtures
import XCTest

/// The real `hangar` binary under tmux: `R` rolls back after a question naming both versions, and the old badge
/// returns.
final class RollbackEndToEndTests: XCTestCase {
    private func row(_ name: String, in session: TmuxSession) -> String? {
        session.lines.first { line in
            line.drop { $0 == " " || $0 == "▸" || $0 == ">" }.hasPrefix(name + " ")
        }
    }

    func testRRollsBackAfterTheQuestionAndTheOldBadgeReturns() throws {
        let site = try DemoSite(copyLimit: 64 << 20)
        let ui = try site.openUI()
        eventually("piper's upgrade indicator", context: { ui.screen() }) { row("piper", in: ui)?.contains("↑ v0.9.0") == true }
        try select("piper", in: ui)
        try ui.send("u")
        eventually("the new badge and the previous-version mark", timeout: 20, context: { ui.screen() }) {
            let text = row("piper", in: ui) ?? ""
            return text.contains("v0.9.0") && !text.contains("↑") && text.contains("↶")
        }
        try ui.send("R")
        eventually("the question naming both versions", context: { ui.screen() }) { ui.screen().contains("Roll back piper?") }
        XCTAssertTrue(ui.screen().contains("Puts v0.8.0 back in place of v0.9.0"), ui.screen())
        try ui.send("n")
        eventually("the dialog gone", context: { ui.screen() }) { ui.screen().contains("Roll back piper? — not done") }
        XCTAssertEqual(site.metadata("piper")?["version"] as? String, "0.9.0", "No keeps the new version")

        try ui.send("R")
        eventually("asked again", context: { ui.screen() }) { ui.screen().contains("Puts v0.8.0 back") }
        try ui.send("y")
        eventually("the old badge, the upgrade offered again and v0.9.0 kept", timeout: 20, context: { ui.screen() }) {
            let text = row("piper", in: ui) ?? ""
            return text.contains("v0.8.0") && text.contains("↑ v0.9.0") && text.contains("↶")
        }
        XCTAssertEqual(site.metadata("piper")?["version"] as? String, "0.8.0")
        XCTAssertEqual(try String(contentsOfFile: site.demo.backendsPath + "/piper/VERSION", encoding: .utf8), "piper 0.8.0\n")
        try ui.send("q")
        eventually("hangar to exit", timeout: 10, context: { ui.screen(history: true) }) { ui.exitStatus != nil }
        XCTAssertEqual(ui.exitStatus, 0)
    }
}
