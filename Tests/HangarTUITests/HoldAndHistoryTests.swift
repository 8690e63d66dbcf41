import Foundation
import HangarEngine
@testable import HangarTUI
import XCTest

/// `h` holds and releases, `u` and `U` leave a held backend alone and say why, and the Jobs screen's History view
/// shows every process's operations, on the in-memory canvas against a real engine on disk.
final class HoldAndHistoryTests: XCTestCase {
    func testHHoldsUAndCapitalUSkipItAndHReleasesIt() throws { try onMain {
        let fixture = try TUIFixture()
        let (controller, canvas) = try startedController(fixture)
        defer { controller.stop() }
        try selectBackend(controller, "piper")
        controller.handle(.char("h"))
        XCTAssertEqual(try fixture.engine().holds().keys.sorted(), ["piper"], "the hold is in hangar's state at once")
        controller.redraw()
        XCTAssertTrue(line(canvas, containing: "piper").contains("held: held from the UI"), canvas.text)
        XCTAssertTrue(line(canvas, containing: "upgrades available").contains("held: 1"), canvas.text)

        controller.handle(.char("u"))
        XCTAssertTrue(controller.state.jobs.isEmpty, "no job for a held backend")
        controller.redraw()
        XCTAssertTrue(canvas.text.contains("piper is held: held from the UI: h releases it"), canvas.text)

        controller.handle(.char("U"))
        let question = try XCTUnwrap(controller.state.confirmation)
        XCTAssertTrue(question.lines.contains("Skipped, held: piper."), "\(question.lines)")
        guard case .upgradeAll(let names) = question.effect else { return XCTFail("\(question.effect)") }
        XCTAssertFalse(names.contains("piper"))
        controller.handle(.char("n"))

        controller.handle(.char("h"))
        XCTAssertEqual(try fixture.engine().holds(), [:], "h on a held backend releases it")
        controller.redraw()
        XCTAssertFalse(line(canvas, containing: "piper").contains("held"), canvas.text)
    } }

    func testTheHistoryViewListsEveryProcesssOperationsAndOpensTheBackend() throws { try onMain {
        let fixture = try TUIFixture()
        // Another process's operation, before the UI starts.
        let other = try fixture.engine()
        _ = other.jobs.wait(try other.upgrade("kokoro"))
        let (controller, canvas) = try startedController(fixture)
        defer { controller.stop() }
        try selectBackend(controller, "piper")
        controller.handle(.char("u"))
        waitOnMain("the upgrade and the reload") {
            controller.state.snapshot.recentHistory.first?.backend == "piper" && !controller.isReloading
        }
        controller.handle(.char("4"))
        controller.handle(.char("H"))
        controller.redraw()
        XCTAssertTrue(canvas.text.contains("History of every hangar process: 2 operations"), canvas.text)
        let piper = line(canvas, containing: "upgrade   piper")
        XCTAssertTrue(piper.contains("v0.8.0 → v0.9.0") && piper.contains("done"), piper)
        let kokoro = line(canvas, containing: "upgrade   kokoro")
        XCTAssertTrue(kokoro.contains("rolled back") && kokoro.contains("cli"), kokoro)

        for key: Key in [.char("/"), .char("k"), .char("o"), .char("k"), .enter] { controller.handle(key) }
        XCTAssertEqual(controller.state.historyRows.map(\.backend), ["kokoro"])
        controller.handle(.enter)
        XCTAssertEqual(controller.state.screen, .detail)
        XCTAssertEqual(controller.state.selectedBackend?.name, "kokoro")
    } }
}
