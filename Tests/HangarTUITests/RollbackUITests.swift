import Foundation
import HangarEngine
@testable import HangarTUI
import XCTest

/// `R` on Backends and Detail, the previous-version mark, Detail's kept versions and the Settings row, against a
/// real engine on disk.
final class RollbackUITests: XCTestCase {
    @MainActor private static func version(_ controller: UIController, _ name: String) -> String? {
        controller.state.snapshot.installed.first { $0.name == name }?.metadata?.version
    }

    func testRAsksNamingBothVersionsThenRollsBackAndTheOldBadgeReturns() throws { try onMain {
        let fixture = try TUIFixture()
        let (controller, canvas) = try startedController(fixture)
        defer { controller.stop() }
        try selectBackend(controller, "piper")
        controller.handle(.char("R"))
        XCTAssertNil(controller.state.confirmation, "nothing kept yet: no question")
        XCTAssertEqual(controller.state.message?.text, "no previous version of piper is kept (one is kept at each upgrade or reinstall)")

        controller.handle(.char("u"))
        waitOnMain("the upgrade") { Self.version(controller, "piper") == "0.9.0" && !controller.state.snapshot.generations.isEmpty }
        controller.redraw()
        let row = line(canvas, containing: "piper ")
        XCTAssertTrue(row.contains("v0.9.0") && row.contains("↶"), row)
        XCTAssertFalse(line(canvas, containing: "oldimg").contains("↶"), "only rows that keep a version are marked")

        controller.handle(.char("R"))
        let question = try XCTUnwrap(controller.state.confirmation)
        XCTAssertEqual(question.title, "Roll back piper?")
        XCTAssertTrue(question.lines[0].hasPrefix("Puts v0.8.0 back in place of v0.9.0 (replaced "), question.lines[0])
        controller.handle(.enter)  // Enter is No
        XCTAssertEqual(Self.version(controller, "piper"), "0.9.0")
        XCTAssertEqual(try fixture.metadata("piper").version, "0.9.0")

        controller.handle(.enter)  // Detail
        controller.redraw()
        XCTAssertTrue(line(canvas, containing: "previous 1").contains("v0.8.0, replaced "), canvas.text)
        controller.handle(.char("R"))
        controller.handle(.char("y"))
        waitOnMain("the rollback") { Self.version(controller, "piper") == "0.8.0" && controller.state.activeJobs.isEmpty }
        waitOnMain("the reload") { controller.state.snapshot.generations["piper"]?.first?.metadata?.version == "0.9.0" }
        XCTAssertEqual(try fixture.metadata("piper").version, "0.8.0")
        controller.handle(.escape)
        controller.redraw()
        let back = line(canvas, containing: "piper ")
        XCTAssertTrue(back.contains("v0.8.0") && back.contains("↶"), "the old badge returns, v0.9.0 is kept: \(back)")
        controller.handle(.char("4"))
        controller.redraw()
        XCTAssertTrue(canvas.text.contains("rolled back piper v0.9.0 → v0.8.0"), canvas.text)
    } }

    func testKeepGenerationsSettingIsWrittenToHangarJSON() throws { try onMain {
        let fixture = try TUIFixture()
        let (controller, canvas) = try startedController(fixture)
        defer { controller.stop() }
        controller.handle(.char("s"))
        for _ in 0..<SettingItem.keepGenerations.rawValue { controller.handle(.char("j")) }
        controller.redraw()
        XCTAssertTrue(line(canvas, containing: "Previous versions kept").contains("1 per backend"), canvas.text)
        controller.handle(.right)
        XCTAssertEqual(controller.state.snapshot.keepGenerations, 2)
        controller.handle(.left)
        controller.handle(.left)
        controller.redraw()
        XCTAssertTrue(line(canvas, containing: "Previous versions kept").contains("none (rollback off)"), canvas.text)
        let file = try String(contentsOfFile: fixture.config + "/hangar.json", encoding: .utf8)
        XCTAssertTrue(file.contains("\"keep_generations\": 0"), file)
        XCTAssertEqual(controller.engine.keepGenerations, 0)
    } }

    func testTheMarkHasAnASCIITwinAndRIsInTheHelpOfBothScreens() {
        XCTAssertEqual(Glyphs.ascii.previous, "<<")
        XCTAssertEqual(Glyphs.ascii.symbol("↶"), "<<")
        for screen in [Screen.backends, .detail] {
            XCTAssertEqual(KeyMap.action(for: .char("R"), on: screen), .rollbackSelected)
            XCTAssertTrue(KeyMap.helpLines(for: screen).contains { $0.label == "R" })
        }
        XCTAssertNil(KeyMap.action(for: .char("R"), on: .catalog))
    }

    func testASCIIScreensMarkTheRowAndDetailListsTheKeptVersion() throws { try onMain {
        let fixture = try TUIFixture()
        let engine = try fixture.engine()
        XCTAssertTrue(engine.jobs.wait(try engine.upgrade("piper")).isSuccess)
        var state = try UIState.loaded(engine, glyphs: .ascii)
        let canvas = draw(state)
        let row = line(canvas, containing: "piper ")
        XCTAssertTrue(row.contains("v0.9.0") && row.contains("<<"), row)
        XCTAssertFalse(line(canvas, containing: "kokoro").contains("<<"), canvas.text)
        let index = try XCTUnwrap(state.backendRows.firstIndex { $0.name == "piper" })
        state.select(index, on: .backends)
        _ = state.perform(.openDetail)
        let detail = draw(state)
        XCTAssertTrue(line(detail, containing: "previous 1").contains("v0.8.0, replaced "), detail.text)
        _ = state.perform(.rollbackSelected)
        XCTAssertEqual(state.confirmation?.effect, .rollback("piper"))
        XCTAssertEqual(state.handle(.char("y")), [.rollback("piper")])
    } }
}
