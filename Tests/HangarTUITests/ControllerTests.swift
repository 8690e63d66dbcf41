import Foundation
import HangarEngine
@testable import HangarTUI
import XCTest

/// The controller against a real engine on disk: keys become jobs, job events arrive on the main queue.
final class ControllerTests: XCTestCase {
    func testUpgradeShowsDoneThenTheNewBadgeAndMetadataOnDisk() throws { try onMain {
        let fixture = try TUIFixture()
        let (controller, canvas) = try startedController(fixture)
        defer { controller.stop() }
        try selectBackend(controller, "piper")
        controller.handle(.char("u"))
        XCTAssertEqual(controller.state.jobs.first?.backend, "piper", "the row appears at once")
        waitOnMain("the upgrade") { controller.state.jobs.first?.isFinished == true && controller.state.snapshot.installed.first { $0.name == "piper" }?.metadata?.version == "0.9.0" }
        controller.redraw()
        XCTAssertTrue(line(canvas, containing: "piper").contains("v0.9.0"), canvas.text)
        XCTAssertEqual(try fixture.metadata("piper").version, "0.9.0")
        controller.handle(.char("4"))
        controller.redraw()
        XCTAssertTrue(line(canvas, containing: "#1 upgrade piper").contains("✓ done"), canvas.text)
        XCTAssertTrue(canvas.text.contains("upgraded piper v0.8.0 → v0.9.0"), canvas.text)
    } }

    func testBrokenUpgradeShowsTheRollbackAndKeepsTheOldVersion() throws { try onMain {
        let fixture = try TUIFixture()
        let (controller, canvas) = try startedController(fixture)
        defer { controller.stop() }
        try selectBackend(controller, "kokoro")
        controller.handle(.char("u"))
        waitOnMain("the rollback") { controller.state.jobs.first?.isFinished == true }
        controller.handle(.char("4"))
        controller.redraw()
        XCTAssertTrue(line(canvas, containing: "#1 upgrade kokoro").contains("rolled back"), canvas.text)
        XCTAssertTrue(canvas.text.contains("v1.0.0 restored"), canvas.text)
        XCTAssertEqual(try fixture.metadata("kokoro").version, "1.0.0")
    } }

    func testAutoUpgradeKeyWritesRuntimeSettings() throws { try onMain {
        let fixture = try TUIFixture()
        let (controller, canvas) = try startedController(fixture)
        defer { controller.stop() }
        controller.handle(.char("a"))
        let file = try String(contentsOfFile: fixture.config + "/runtime_settings.json", encoding: .utf8)
        XCTAssertTrue(file.contains("\"auto_upgrade_backends\": true"), file)
        controller.redraw()
        XCTAssertTrue(canvas.line(1).contains("auto-upgrade on"), canvas.line(1))
        XCTAssertTrue(canvas.text.contains("a running LocalAI picks it up"))
        // Auto-upgrade on starts real upgrades: let them and the checks after them end before the fixture goes.
        waitOnMain("the auto-upgrade round") { !controller.checker.status.autoUpgradeJobs.isEmpty }
        controller.handle(.char("a"))
        for id in controller.checker.status.autoUpgradeJobs { _ = controller.engine.jobs.wait(id) }
        waitOnMain("the jobs and checks to settle") {
            controller.state.activeJobs.isEmpty && !controller.state.upgrades.isChecking && !controller.isReloading
        }
    } }

    func testUninstallAfterConfirmationRemovesTheDirectory() throws { try onMain {
        let fixture = try TUIFixture()
        let (controller, _) = try startedController(fixture)
        defer { controller.stop() }
        try selectBackend(controller, "oldimg")
        controller.handle(.char("d"))
        controller.handle(.char("n"))
        XCTAssertTrue(FileManager.default.fileExists(atPath: fixture.backends + "/oldimg"))
        controller.handle(.char("d"))
        controller.handle(.char("y"))
        waitOnMain("the uninstall") { !controller.state.snapshot.installed.contains { $0.name == "oldimg" } }
        XCTAssertFalse(FileManager.default.fileExists(atPath: fixture.backends + "/oldimg"))
    } }

    func testMouseClicksSwitchTabsAndSelectRows() throws { try onMain {
        let fixture = try TUIFixture()
        let (controller, canvas) = try startedController(fixture)
        defer { controller.stop() }
        controller.redraw()
        let piper = try XCTUnwrap(canvas.find("piper"))
        controller.click(x: piper.x, y: piper.y)
        XCTAssertEqual(controller.state.selectedBackend?.name, "piper")
        controller.redraw()
        let jobs = try XCTUnwrap(canvas.find("4 Jobs"))
        controller.click(x: jobs.x, y: jobs.y)
        XCTAssertEqual(controller.state.screen, .jobs)
    } }
}

/// Settings changes apply at once and persist; Detail reads the engine's operation history.
final class ControllerSettingsTests: XCTestCase {
    func testIntervalThemeAndPreferDevelopmentPersist() throws { try onMain {
        let fixture = try TUIFixture()
        let engine = try fixture.engine()
        let controller = UIController(engine: engine, checker: UpgradeScheduler(engine: engine, interval: { 3600 }),
                                      snapshot: EngineSnapshot.load(engine), glyphs: .unicode)
        controller.setThemeChoices(current: "default", names: ["default", "light"], colorNote: "")
        controller.onThemeChange = { _ in nil }
        controller.handle(.char("5"))
        controller.handle(.char("j"))
        controller.handle(.right)
        XCTAssertEqual(try engine.hangarSettings.load().checkInterval, 12 * 3600)
        usleep(200_000)
        XCTAssertNil(controller.checker.status.lastCheck, "changing the interval starts no check (nor auto-upgrades)")
        XCTAssertFalse(controller.checker.status.isChecking)
        controller.handle(.char("j"))
        controller.handle(.enter)
        XCTAssertEqual(try engine.settings().preferDevelopmentBackends, true)
        XCTAssertEqual(controller.state.snapshot.settings?.preferDevelopmentBackends, true, "shown at once")
        controller.handle(.char("G"))
        controller.handle(.enter)
        XCTAssertEqual(try engine.hangarSettings.load().theme, "light")
        XCTAssertEqual(controller.state.themeName, "light")
        controller.stop()
    } }

    func testDetailShowsTheLastOperationFromTheHistory() throws { try onMain {
        let fixture = try TUIFixture()
        let engine = try fixture.engine()
        _ = engine.jobs.wait(try engine.upgrade("kokoro"))
        let controller = UIController(engine: engine, checker: UpgradeScheduler(engine: engine, interval: { 3600 }),
                                      snapshot: EngineSnapshot.load(engine), glyphs: .unicode)
        let canvas = CellGridCanvas(width: 140, height: 30)
        controller.draw = { Screens.render($0, on: canvas) }
        let index = try XCTUnwrap(controller.state.backendRows.firstIndex { $0.name == "kokoro" })
        for _ in 0..<index { controller.handle(.char("j")) }
        controller.handle(.enter)
        controller.redraw()
        let deadline = Date().addingTimeInterval(5)
        while controller.state.lastOperations["kokoro"] == nil && Date() < deadline { RunLoop.main.run(until: Date().addingTimeInterval(0.01)) }
        controller.redraw()
        let text = line(canvas, containing: "last operation")
        XCTAssertTrue(text.contains("rolled back at") && text.contains("v1.0.0 restored"), text)
        XCTAssertFalse(line(canvas, containing: "size on disk").contains("measuring"))
    } }
}
