import HangarFixtures
import XCTest

/// The parser of `tmux capture-pane -e` output the colour tests stand on: it must see the pens tmux writes.
final class ScreenCaptureTests: XCTestCase {
    func testSGRSetsColoursAndAttributesPerCell() {
        let capture = ScreenCapture("a\u{1B}[1m\u{1B}[38;5;11mbc\u{1B}[0m d\u{1B}[46m\u{1B}[30me\u{1B}[7mf")
        XCTAssertEqual(capture.text(0), "abc def")
        XCTAssertTrue(capture.cell(x: 0, y: 0)!.isUncoloured)
        XCTAssertFalse(capture.cell(x: 0, y: 0)!.bold)
        XCTAssertEqual(capture.cell(x: 1, y: 0)?.foreground, .indexed(11))
        XCTAssertEqual(capture.cell(x: 2, y: 0)?.bold, true)
        XCTAssertEqual(capture.cell(x: 3, y: 0)?.foreground, .default, "0 resets the pen")
        XCTAssertEqual(capture.cell(x: 3, y: 0)?.bold, false)
        XCTAssertEqual(capture.cell(x: 5, y: 0)?.background, .indexed(6))
        XCTAssertEqual(capture.cell(x: 5, y: 0)?.foreground, .indexed(0))
        XCTAssertEqual(capture.cell(x: 6, y: 0)?.reverse, true)
        XCTAssertEqual(capture.cell(x: 5, y: 0)?.reverse, false)
    }

    func testBrightAnd24BitColoursAndResetsOfOneAttribute() {
        let capture = ScreenCapture("\u{1B}[93;104mx\u{1B}[38;2;95;135;175;22my\u{1B}[39;49mz\u{1B}[4mu\u{1B}[24mv")
        XCTAssertEqual(capture.cell(x: 0, y: 0)?.foreground, .indexed(11), "90-97 are the bright colours 8-15")
        XCTAssertEqual(capture.cell(x: 0, y: 0)?.background, .indexed(12))
        XCTAssertEqual(capture.cell(x: 1, y: 0)?.foreground, .rgb(95, 135, 175))
        XCTAssertEqual(capture.cell(x: 1, y: 0)?.background, .indexed(12), "a foreground change keeps the background")
        XCTAssertEqual(capture.cell(x: 2, y: 0)?.isUncoloured, true)
        XCTAssertEqual(capture.cell(x: 3, y: 0)?.underline, true)
        XCTAssertEqual(capture.cell(x: 4, y: 0)?.underline, false)
    }

    func testThePenCarriesAcrossLinesAsTmuxWritesIt() {
        let capture = ScreenCapture("\u{1B}[36mab\ncd\u{1B}[0m\nef")
        XCTAssertEqual(capture.rows.count, 3)
        XCTAssertEqual(capture.cell(x: 0, y: 1)?.foreground, .indexed(6), "tmux does not repeat the pen on the next line")
        XCTAssertEqual(capture.cell(x: 0, y: 2)?.foreground, .default)
        XCTAssertNil(capture.cell(x: 5, y: 0), "nothing past what was captured")
    }

    func testWideCharactersTakeTwoCellsAndFindCountsCells() {
        let capture = ScreenCapture("🐸 日本 ok\u{1B}(B▸ x")
        XCTAssertEqual(capture.text(0), "🐸 日本 ok▸ x")
        XCTAssertTrue(capture.cell(x: 1, y: 0)!.isContinuation)
        XCTAssertEqual(capture.find("ok")?.x, 8)
        XCTAssertEqual(capture.find("▸")?.x, 10, "a non-CSI escape draws nothing")
        XCTAssertEqual(capture.cells(of: "日本")?.map(\.character), ["日", "本"])
        XCTAssertNil(capture.find("absent"))
    }

    func testColouredCellsListsOnlyCellsWithAColour() {
        let capture = ScreenCapture("plain \u{1B}[1mbold\u{1B}[0m \u{1B}[31mred\u{1B}[0m")
        XCTAssertEqual(capture.colouredCells.map(\.x), [11, 12, 13], "bold alone is not a colour")
        XCTAssertEqual(ScreenCapture("\u{1B}[7mreverse only\u{1B}[0m").colouredCells.count, 0)
    }
}
