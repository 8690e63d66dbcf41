import Foundation
import Synchronization
import HangarEngine
@testable import HangarTUI
import XCTest

/// The controller against a real engine: reloads, re-checks, ASCII text and the shared upgrade lookup
/// (review items 8, 10, 12, 18, 19).
final class ControllerEventTests: XCTestCase {
    @MainActor private static func controller(_ fixture: TUIFixture, glyphs: Glyphs = .unicode) throws -> UIController {
        let engine = try fixture.engine()
        let controller = UIController(engine: engine, checker: UpgradeScheduler(engine: engine, interval: { 3600 }),
                                      snapshot: EngineSnapshot.load(engine), glyphs: glyphs)
        controller.start()
        waitOnMain("the first check") { controller.state.upgrades.lastCheck != nil }
        return controller
    }

    /// The list row whose name column is exactly `name` (not a longer name ending in it).
    @MainActor private static func row(_ canvas: CellGridCanvas, _ name: String) -> String {
        let rows = canvas.text.split(separator: "\n").map(String.init)
        return rows.first { $0.dropFirst(2).hasPrefix(name + " ") } ?? "(no row \(name))"
    }

    @MainActor private static func select(_ controller: UIController, _ name: String) throws {
        let index = try XCTUnwrap(controller.state.backendRows.firstIndex { $0.name == name })
        for _ in 0..<index { controller.handle(.char("j")) }
    }

    func testASCIIModeShowsAFinishedRollbackWithoutUnicodeDash() throws { try onMain {
        let fixture = try TUIFixture()
        let controller = try Self.controller(fixture, glyphs: .ascii)
        defer { controller.stop() }
        try Self.select(controller, "kokoro")
        controller.handle(.char("u"))
        waitOnMain("the rollback") { controller.state.jobs.first?.isFinished == true }
        let message = try XCTUnwrap(controller.state.message?.text)
        XCTAssertTrue(message.contains(" - v1.0.0 restored"), message)
        XCTAssertFalse(message.contains("—"), message)
        waitOnMain("the listing to settle") { !controller.isReloading && !controller.state.upgrades.isChecking }
    } }

    func testUpgradeWithoutAKnownUpgradeReachesTheEngine() throws { try onMain {
        let fixture = try TUIFixture()
        let engine = try fixture.engine()
        let controller = UIController(engine: engine, checker: UpgradeScheduler(engine: engine, interval: { 3600 }),
                                      snapshot: EngineSnapshot.load(engine), glyphs: .unicode)
        controller.start()
        defer { controller.stop() }
        // cpu-whisper has no known upgrade (its gallery version equals the installed one); `hangar upgrade` would
        // still run, and so does u: the engine decides.
        try Self.select(controller, "cpu-whisper")
        controller.handle(.char("u"))
        XCTAssertEqual(controller.state.jobs.first?.backend, "cpu-whisper")
        waitOnMain("the engine's answer") { controller.state.jobs.first?.isFinished == true }
        let job = try XCTUnwrap(controller.state.jobs.first)
        guard case .done = job.state else { return XCTFail("\(job.state)") }
        XCTAssertEqual(try fixture.metadata("cpu-whisper").uri, fixture.root + "/sources/piper-0.9.0", "upgraded from the gallery entry")
        waitOnMain("the listing to settle") { !controller.isReloading && !controller.state.upgrades.isChecking }
    } }

    func testAReloadStartedBeforeASettingsChangeDoesNotUndoItOnScreen() throws { try onMain {
        let fixture = try TUIFixture()
        let engine = try fixture.engine()
        let controller = UIController(engine: engine, checker: UpgradeScheduler(engine: engine, interval: { 3600 }),
                                      snapshot: EngineSnapshot.load(engine), glyphs: .unicode)
        controller.reload()
        controller.reload()
        controller.reload()
        XCTAssertTrue(controller.isReloading)
        // Settings > Prefer development builds, toggled while the reloads run.
        for key: Key in [.char("5"), .char("j"), .char("j"), .enter] { controller.handle(key) }
        XCTAssertEqual(try engine.settings().preferDevelopmentBackends, true)
        waitOnMain("the reloads") { !controller.isReloading }
        XCTAssertEqual(controller.state.snapshot.settings?.preferDevelopmentBackends, true, "the reload kept the new value")
    } }

    func testABatchOfUpgradesIsCheckedOnceAfterTheLastJob() throws { try onMain {
        let fixture = try TUIFixture()
        let controller = try Self.controller(fixture)
        defer { controller.stop() }
        waitOnMain("the first check to finish") { !controller.state.upgrades.isChecking }
        let firstCheck = controller.state.upgrades.lastCheck
        let log = CheckLog()
        let id = controller.checker.subscribe(on: .main) { status in
            if !status.isChecking, let last = status.lastCheck, last != firstCheck { log.note(last) }
        }
        defer { controller.checker.unsubscribe(id) }
        controller.handle(.char("U"))
        controller.handle(.char("y"))
        XCTAssertEqual(controller.state.jobs.count, 3)
        waitOnMain("the upgrades") { controller.state.activeJobs.isEmpty && controller.state.jobs.count == 3 }
        waitOnMain("the re-check") { log.count > 0 }
        RunLoop.main.run(until: Date().addingTimeInterval(0.5))
        XCTAssertEqual(log.count, 1, "one check for the batch, not one per job")
        XCTAssertNil(controller.state.upgrades.report?.upgrades["piper"])
        waitOnMain("the listing to settle") { !controller.isReloading }
    } }

    func testCheckNowFetchesTheGalleriesAgainAndTheCatalogShowsWhatItSaw() throws { try onMain {
        let fixture = try TUIFixture()
        let controller = try Self.controller(fixture)
        defer { controller.stop() }
        waitOnMain("the first check to finish") { !controller.state.upgrades.isChecking }
        // The gallery publishes piper 0.9.1 after hangar read it.
        let gallery = try String(contentsOfFile: fixture.gallery, encoding: .utf8)
        try gallery.replacingOccurrences(of: "version: 0.9.0", with: "version: 0.9.1").write(toFile: fixture.gallery, atomically: true, encoding: .utf8)
        controller.handle(.char("c"))
        waitOnMain("the check") { controller.state.upgrades.report?.upgrades["piper"]?.availableVersion == "0.9.1" }
        waitOnMain("the catalog") { controller.state.snapshot.catalog.contains { $0.entry.name == "piper" && $0.entry.version == "0.9.1" } }
        waitOnMain("the listing to settle") { !controller.isReloading }
    } }

    func testCatalogAndBackendsShareTheMetaAndAliasUpgradeLookup() throws { try onMain {
        let fixture = try TUIFixture()
        var s = try UIState.loaded(try fixture.engine())
        // The concrete behind the meta "whisper" has an upgrade.
        s.upgrades.report?.upgrades["cpu-whisper"] = UpgradeInfo(backendName: "cpu-whisper", installedVersion: "2.0.0", availableVersion: "2.1.0")
        let backends = draw(s)
        XCTAssertTrue(Self.row(backends, "whisper").contains("↑ v2.1.0"), backends.text)
        _ = s.handle(.char("2"))
        let catalog = draw(s)
        XCTAssertTrue(Self.row(catalog, "whisper").contains("↑ upgradable"), catalog.text)
        let row = try XCTUnwrap(s.snapshot.installed.first { $0.name == "whisper" })
        XCTAssertEqual(s.upgrades.report?.upgrade(for: row)?.indicator(), "↑ v2.1.0", "the engine's rule")
        XCTAssertEqual(row.kindMarks(devSuffix: "development"), "meta → cpu-whisper")
    } }
}

/// Distinct finished-check times, written on the main queue, read by the test.
private final class CheckLog: Sendable {
    private let dates = Mutex<[Date]>([])
    func note(_ date: Date) { dates.withLock { if $0.last != date { $0.append(date) } } }
    var count: Int { dates.withLock { $0.count } }
}
