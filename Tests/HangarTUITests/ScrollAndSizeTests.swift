import Foundation
import HangarEngine
@testable import HangarTUI
import XCTest

/// Scroll position, too-small terminals, short Detail, help scrolling and the key table (review items 3, 9, 11,
/// 20, 21, 22), on the in-memory canvas and through the controller.
final class ScrollAndSizeTests: XCTestCase {
    @MainActor private static func controller(_ fixture: TUIFixture, width: Int, height: Int, glyphs: Glyphs = .unicode) throws
        -> (UIController, CellGridCanvas) {
        let engine = try fixture.engine()
        let controller = UIController(engine: engine, checker: UpgradeScheduler(engine: engine, interval: { 3600 }),
                                      snapshot: EngineSnapshot.load(engine), glyphs: glyphs)
        let canvas = CellGridCanvas(width: width, height: height)
        controller.draw = { Screens.render($0, on: canvas) }
        controller.setPageSize(height: height)
        controller.redraw()
        return (controller, canvas)
    }

    func testMovingUpALongListKeepsItsScrollAndClicksHitTheRowShown() throws { try onMain {
        let fixture = try TUIFixture()
        // 12 rows: 6 list rows for 9 backends.
        let (controller, canvas) = try Self.controller(fixture, width: 80, height: 12)
        controller.handle(.char("G"))
        controller.redraw()
        let listTop = 4
        let topBefore = canvas.line(listTop)
        controller.handle(.char("k"))
        controller.redraw()
        XCTAssertEqual(canvas.line(listTop), topBefore, "one k moves the cursor, not the whole list:\n\(canvas.text)")
        XCTAssertGreaterThan(controller.state.scroll[.backends] ?? 0, 0)
        let name = try XCTUnwrap(canvas.line(listTop).split(separator: " ").first.map(String.init))
        controller.click(x: 4, y: listTop)
        XCTAssertEqual(controller.state.selectedBackend?.name, name, "the click selects the row drawn there")
    } }

    func testTooSmallTerminalIgnoresActionKeysAndShowsAPendingQuestion() throws { try onMain {
        let fixture = try TUIFixture()
        let (controller, canvas) = try Self.controller(fixture, width: 50, height: 10)
        XCTAssertTrue(canvas.text.contains("Terminal too small: 50x10"))
        controller.handle(.char("d"))
        XCTAssertNil(controller.state.confirmation, "no question that cannot be seen")
        controller.handle(.char("u"))
        XCTAssertTrue(controller.state.jobs.isEmpty, "nothing happens unseen")

        var state = controller.state
        state.isTooSmall = false
        _ = state.handle(.char("d"))
        let title = try XCTUnwrap(state.confirmation?.title)
        let small = draw(state, width: 50, height: 10)
        XCTAssertTrue(small.text.contains(title), small.text)
        XCTAssertTrue(small.text.contains("y = yes   n = no"), small.text)
        state.isTooSmall = true
        XCTAssertEqual(state.handle(.char("n")), [], "the question stays answerable")
        XCTAssertNil(state.confirmation)
        XCTAssertEqual(state.handle(.char("q")), [.quit(cancelJobs: false)], "q still quits")
    } }

    func testShortDetailKeepsTheUpgradeAndLastOperationAndSaysWhatIsLeftOut() throws { try onMain {
        let fixture = try TUIFixture()
        var s = try UIState.loaded(try fixture.engine())
        s.selection[.backends] = try XCTUnwrap(s.backendRows.firstIndex { $0.name == "piper" })
        _ = s.handle(.enter)
        let canvas = draw(s, width: 100, height: 14)
        XCTAssertTrue(line(canvas, containing: "  upgrade  ").contains("v0.8.0 → v0.9.0"), canvas.text)
        XCTAssertTrue(line(canvas, containing: "last operation").contains("none recorded"), canvas.text)
        XCTAssertTrue(canvas.text.contains("more lines on a taller terminal"), canvas.text)
        let tall = draw(s, width: 100, height: 30)
        XCTAssertFalse(tall.text.contains("more lines on a taller terminal"))
        XCTAssertTrue(tall.text.contains("size on disk"))
    } }

    func testHelpScrollingStopsAtTheLastPage() throws { try onMain {
        var s = UIState(snapshot: .empty())
        s.helpRoom = Screens.helpRoom(height: 14)
        _ = s.handle(.char("?"))
        for _ in 0..<50 { _ = s.handle(.char("j")) }
        let count = KeyMap.helpLines(for: .backends).count
        XCTAssertEqual(s.helpScroll, count - s.helpRoom)
        XCTAssertTrue(draw(s, width: 80, height: 14).text.contains("\(count - s.helpRoom + 1)-\(count) of \(count)"))
        _ = s.handle(.char("k"))
        XCTAssertEqual(s.helpScroll, count - s.helpRoom - 1, "one k scrolls back at once")
    } }

    func testDigitKeysAreKeyMapBindingsAndTheCatalogUpgradesAndUninstalls() throws { try onMain {
        for screen in Screen.allCases {
            for target in Screen.allCases {
                let key = Key.char(Character(String(target.rawValue)))
                XCTAssertEqual(KeyMap.bindings(for: screen).first { $0.keys.contains(key) }?.action, .show(target))
            }
        }
        let fixture = try TUIFixture()
        var s = try UIState.loaded(try fixture.engine())
        _ = s.handle(.char("2"))
        s.selection[.catalog] = try XCTUnwrap(s.catalogRows.firstIndex { $0.entry.name == "piper" })
        XCTAssertEqual(s.handle(.char("u")), [.upgrade("piper")])
        s.jobs = []
        _ = s.handle(.char("d"))
        XCTAssertEqual(s.confirmation?.title, "Uninstall piper?")
    } }

    func testCachedCatalogRowsFollowTheSnapshotFilterAndToggles() throws { try onMain {
        let fixture = try TUIFixture()
        var s = try UIState.loaded(try fixture.engine())
        let compatible = s.catalogRows.map(\.entry.name)
        XCTAssertFalse(compatible.contains("cuda12-bark"))
        var copy = s
        copy.snapshot.catalog.removeAll { $0.entry.name == "bark" }
        XCTAssertFalse(copy.catalogRows.contains { $0.entry.name == "bark" }, "a new snapshot is filtered afresh")
        XCTAssertEqual(s.catalogRows.map(\.entry.name), compatible, "the original keeps its rows")
        _ = s.handle(.char("2"))
        _ = s.handle(.char("A"))
        XCTAssertTrue(s.catalogRows.contains { $0.entry.name == "cuda12-bark" })
        for key: Key in [.char("/"), .char("p"), .char("i")] { _ = s.handle(key) }
        XCTAssertEqual(s.catalogRows.map(\.entry.name), ["piper"])
    } }

    func testFrameLayoutsWithDifferentRowHeightsDiffer() {
        var a = FrameLayout()
        var b = FrameLayout()
        a.rowsPerItem = 1
        b.rowsPerItem = 2
        XCTAssertNotEqual(a, b)
    }
}
