import Foundation
import HangarEngine
@testable import HangarTUI
import XCTest

/// The selection is a backend, not a row number: it survives reloads, reorders, check results and filters, and the
/// highlighted row is always the one the keys act on (review items 1, 2).
final class SelectionTests: XCTestCase {
    /// The screen line with the selection cursor.
    @MainActor private static func highlighted(_ canvas: CellGridCanvas) -> String { line(canvas, containing: Glyphs.unicode.cursor) }

    func testSelectionFollowsTheBackendAcrossAReloadAndAReorder() throws { try onMain {
        let fixture = try TUIFixture()
        let engine = try fixture.engine()
        var s = try UIState.loaded(engine, checked: false)
        let before = try XCTUnwrap(s.backendRows.firstIndex { $0.name == "piper" })
        s.selection[.backends] = before
        _ = s.handle(.enter)
        XCTAssertEqual(s.screen, .detail)
        // An install from the Catalog adds "bark", which sorts before piper.
        XCTAssertTrue(engine.jobs.wait(try engine.install("bark", force: false)).isSuccess)
        s.snapshot = EngineSnapshot.load(engine)
        s.reselect()
        XCTAssertEqual(s.backendRows.firstIndex { $0.name == "piper" }, before + 1, "the row moved")
        XCTAssertEqual(s.selectedBackend?.name, "piper")
        XCTAssertTrue(line(draw(s), containing: "name").contains("piper"), "Detail still shows piper")
        _ = s.handle(.escape)
        XCTAssertTrue(Self.highlighted(draw(s)).contains("piper"), draw(s).text)
        // "upgrades first", then a check result reorders the list under the selection.
        _ = s.handle(.char("o"))
        s.upgrades = UpgradeCheckStatus(lastCheck: Date(), report: try engine.checkUpgrades())
        s.reselect()
        XCTAssertTrue(Self.highlighted(draw(s)).contains("piper"), draw(s).text)
        XCTAssertEqual(s.handle(.char("u")), [.upgrade("piper")], "u upgrades the backend the user picked")
    } }

    func testDetailOfABackendThatWasUninstalledGoesBackToBackends() throws { try onMain {
        let fixture = try TUIFixture()
        let engine = try fixture.engine()
        var s = try UIState.loaded(engine)
        s.selection[.backends] = try XCTUnwrap(s.backendRows.firstIndex { $0.name == "oldimg" })
        _ = s.handle(.enter)
        XCTAssertTrue(engine.jobs.wait(try engine.uninstall("oldimg")).isSuccess)
        s.snapshot = EngineSnapshot.load(engine)
        s.reselect()
        XCTAssertEqual(s.screen, .backends)
        XCTAssertEqual(s.message?.text, "oldimg is no longer installed")
    } }

    func testDetailKeepsItsBackendWhenTheOrderHidesItsRow() throws { try onMain {
        let fixture = try TUIFixture()
        var s = try UIState.loaded(try fixture.engine())
        s.order = .upgradesOnly
        s.selection[.backends] = try XCTUnwrap(s.backendRows.firstIndex { $0.name == "piper" })
        _ = s.handle(.enter)
        // piper's upgrade finished: the next check no longer lists it.
        s.upgrades.report?.upgrades["piper"] = nil
        s.reselect()
        XCTAssertEqual(s.screen, .detail)
        XCTAssertEqual(s.selectedBackend?.name, "piper")
    } }

    func testWhenTheSelectedRowLeavesTheListTheHighlightAndTheKeysAgree() throws { try onMain {
        let fixture = try TUIFixture()
        var s = try UIState.loaded(try fixture.engine())
        s.order = .upgradesOnly
        // tts is kokoro's alias: it shows its build's upgrade, as on `hangar list` and the Catalog.
        XCTAssertEqual(s.backendRows.map(\.name), ["kokoro", "oldimg", "piper", "tts"])
        _ = s.handle(.char("G"))
        XCTAssertTrue(Self.highlighted(draw(s)).contains("tts"))
        // The next check no longer flags kokoro: kokoro and tts leave the list, the old row number is past its end.
        s.upgrades.report?.upgrades["kokoro"] = nil
        s.reselect()
        XCTAssertEqual(s.backendRows.map(\.name), ["oldimg", "piper"])
        XCTAssertTrue(Self.highlighted(draw(s)).contains("piper"), draw(s).text)
        XCTAssertEqual(s.selectedBackend?.name, "piper")
        _ = s.handle(.char("d"))
        XCTAssertEqual(s.confirmation?.title, "Uninstall piper?", "d asks about the highlighted row")
    } }

    func testBackendsAndCatalogKeepTheirOwnFilter() throws { try onMain {
        let fixture = try TUIFixture()
        var s = try UIState.loaded(try fixture.engine())
        for key: Key in [.char("/"), .char("p"), .char("i"), .enter] { _ = s.handle(key) }
        XCTAssertEqual(s.backendRows.map(\.name), ["piper"])
        _ = s.handle(.char("2"))
        XCTAssertEqual(s.filter, "", "the Catalog has its own filter")
        let all = s.catalogRows.count
        XCTAssertGreaterThan(all, 1)
        for key: Key in [.char("/"), .char("b"), .char("a"), .enter] { _ = s.handle(key) }
        XCTAssertEqual(s.catalogRows.map(\.entry.name), ["bark"])
        XCTAssertEqual(s.selectedCatalogEntry?.entry.name, "bark")
        _ = s.handle(.char("1"))
        XCTAssertEqual(s.backendRows.map(\.name), ["piper"])
        XCTAssertTrue(draw(s).text.contains("filter \"pi\" (Esc clears)"))
        _ = s.handle(.escape)
        XCTAssertGreaterThan(s.backendRows.count, 1)
        _ = s.handle(.char("2"))
        XCTAssertEqual(s.catalogRows.map(\.entry.name), ["bark"], "clearing one filter leaves the other")
    } }

    func testEachFilterKeystrokeSelectsTheFirstMatch() throws { try onMain {
        let fixture = try TUIFixture()
        var s = try UIState.loaded(try fixture.engine())
        _ = s.handle(.char("G"))
        for key: Key in [.char("/"), .char("o")] { _ = s.handle(key) }
        let rows = s.backendRows
        XCTAssertEqual(s.selectedBackend?.name, rows.first?.name)
        XCTAssertTrue(Self.highlighted(draw(s)).contains(rows[0].name))
    } }
}
