import Foundation
import HangarFixtures
import XCTest

/// The real `hangar` under tmux, asserted on captured cells and colours: what the default theme paints where.
/// The default theme on xterm-256color: upgrade = bright-yellow bold (colour 11), progress_fill = cyan (6),
/// progress_empty and dim = grey (8), selection = black on cyan, bold; header background #5f87af (256-colour 67).
final class TUICaptureTests: XCTestCase {
    private static let upgradeColour = TerminalColor.indexed(11)
    private static let cyan = TerminalColor.indexed(6)
    private static let grey = TerminalColor.indexed(8)

    private func quit(_ ui: TmuxSession, file: StaticString = #filePath, line: UInt = #line) throws {
        try ui.send("q")
        eventually("hangar to exit", file: file, line: line, context: { ui.screen(history: true) }) { ui.exitStatus != nil }
    }

    private func describe(_ cells: [CapturedCell]) -> String {
        cells.map { "\($0.character):\($0.foreground)/\($0.background)\($0.bold ? " bold" : "")\($0.reverse ? " rev" : "")" }
            .joined(separator: " ")
    }

    func testTheBannerIsDrawnInTheUpgradeColourAndTheHeaderOnItsBar() throws {
        let site = try DemoSite()
        let ui = try site.openUI()
        eventually("the banner", context: { ui.screen() }) { ui.screen().contains("5 upgrades available") }
        let capture = ui.capture()
        let banner = try XCTUnwrap(capture.cells(of: "5 upgrades available"), ui.screen())
        XCTAssertTrue(banner.allSatisfy { $0.foreground == Self.upgradeColour && $0.bold }, describe(banner))
        let hint = try XCTUnwrap(capture.cells(of: "U upgrades all"))
        XCTAssertTrue(hint.allSatisfy { $0.bold && $0.foreground == .default }, describe(hint))
        let checked = try XCTUnwrap(capture.cells(of: "checked"))
        XCTAssertTrue(checked.allSatisfy { $0.foreground == Self.grey }, "the age is dim: \(describe(checked))")
        // The banner sits right above the table, under the meters.
        let bannerRow = try XCTUnwrap(capture.find("5 upgrades available")).y
        XCTAssertTrue(capture.text(bannerRow - 1).contains("disk: "), capture.text(bannerRow - 1))
        XCTAssertTrue(capture.text(bannerRow + 1).contains("NAME"), capture.text(bannerRow + 1))
        let header = try XCTUnwrap(capture.cells(of: "capability default"))
        XCTAssertTrue(header.allSatisfy { $0.background == .indexed(67) && $0.foreground == .indexed(0) }, describe(header))
        try quit(ui)
    }

    func testTheSelectedRowIsPaintedInTheSelectionStyleAndNoOtherRowIs() throws {
        let site = try DemoSite()
        let ui = try site.openUI()
        try select("kokoro", in: ui)
        let capture = ui.capture()
        let at = try XCTUnwrap(capture.find("▸ kokoro"), ui.screen())
        // The whole row is the selection bar: the name and the blank cells between columns (tmux leaves the cells
        // ncurses cleared to the end of the line out of a capture, so the last captured cell stands for the edge).
        for x in [at.x, at.x + 2, at.x + 12, capture.rows[at.y].count - 1] {
            let cell = try XCTUnwrap(capture.cell(x: x, y: at.y), "cell \(x) of the selected row")
            XCTAssertEqual(cell.background, Self.cyan, "cell \(x): \(describe([cell]))")
        }
        XCTAssertTrue(try XCTUnwrap(capture.cells(of: "kokoro")).allSatisfy { $0.bold && $0.foreground == .indexed(0) })
        let other = try XCTUnwrap(capture.find("  piper "))
        let piper = try XCTUnwrap(capture.cells(of: "  piper "))
        XCTAssertTrue(piper.allSatisfy { $0.background == .default }, "row \(other.y): \(describe(piper))")
        try quit(ui)
    }

    func testARunningUpgradeDrawsItsProgressBarInTheRowInTheFillColour() throws {
        // stablediffusion-ggml's new build is 32 units of 256 KiB (8 MiB), copied at 2 MiB/s: about four seconds.
        let site = try DemoSite(copyLimit: 2 << 20, payloadUnit: 256 << 10)
        let ui = try site.openUI()
        try select("stablediffusion-ggml", in: ui)
        try ui.send("u")
        // Off the row: an unselected row shows the theme's bar colours (a selected one takes the selection's).
        try ui.send("k")
        var capture = ui.capture()
        eventually("the bar in the row", timeout: 15, context: { ui.screen() }) {
            capture = ui.capture()
            guard let y = capture.find("stablediffusion-ggml")?.y else { return false }
            let row = capture.text(y)
            return row.range(of: #"upgrade [1-9][0-9]?%"#, options: .regularExpression) != nil && row.contains("█") && row.contains("░")
        }
        let y = try XCTUnwrap(capture.find("stablediffusion-ggml")).y
        let filled = capture.rows[y].filter { $0.character == "█" }
        let empty = capture.rows[y].filter { $0.character == "░" }
        XCTAssertFalse(filled.isEmpty)
        XCTAssertTrue(filled.allSatisfy { $0.foreground == Self.cyan }, "progress_fill: \(describe(filled))")
        XCTAssertTrue(empty.allSatisfy { $0.foreground == Self.grey }, "progress_empty: \(describe(empty))")
        // The same job on the Jobs screen: its bar, its start time and its columns.
        try ui.send("4")
        eventually("the job row", context: { ui.screen() }) { ui.screen().contains("#1 upgrade stablediffusion-ggml") }
        eventually("the finished row keeps its numbers", timeout: 20, context: { ui.screen() }) {
            ui.line(containing: "#1 upgrade stablediffusion-ggml")?.contains("✓ done") == true
        }
        let row = try XCTUnwrap(ui.line(containing: "#1 upgrade stablediffusion-ggml"))
        XCTAssertNotNil(row.range(of: #"\d\d:\d\d:\d\d +\d+s +8\.0 MiB +\d+(\.\d)? MiB/s"#, options: .regularExpression),
                        "start time, duration, bytes and speed stay after the end: \(row)")
        let done = try XCTUnwrap(ui.capture().cells(of: "✓ done"))
        XCTAssertTrue(done.allSatisfy { $0.foreground == .indexed(2) || $0.background == Self.cyan }, describe(done))
        try quit(ui)
    }

    func testNoColorPaintsNoCellAndKeepsTheSelectionAndTheBannerVisible() throws {
        let site = try DemoSite()
        let ui = try TmuxSession(command: site.shellCommand([], extraEnvironment: ["NO_COLOR": "1"]), scratch: site.root)
        eventually("the banner", timeout: 15, context: { ui.screen() }) { ui.screen().contains("upgrades available") }
        let capture = ui.capture()
        XCTAssertEqual(capture.colouredCells.count, 0,
                       "NO_COLOR: \(capture.colouredCells.prefix(5).map { "(\($0.x),\($0.y)) \($0.cell)" })")
        let selected = try XCTUnwrap(capture.find("▸"))
        XCTAssertTrue(try XCTUnwrap(capture.cell(x: selected.x + 2, y: selected.y)).reverse, "the selection is reverse video")
        XCTAssertTrue(try XCTUnwrap(capture.cells(of: "upgrades available")).allSatisfy(\.bold), "the banner is bold without colour")
        let other = try XCTUnwrap(capture.cells(of: "  piper "))
        XCTAssertFalse(other.contains { $0.reverse }, "other rows are not reversed")
        try quit(ui)
    }

    func testColumnsFollowTheWidth() throws {
        let site = try DemoSite()
        let ui = try site.openUI(width: 120, height: 30)
        eventually("sizes measured", context: { ui.screen() }) { ui.line(containing: "  piper ")?.range(of: #"\d (KiB|MiB) +20\d\d-"#, options: .regularExpression) != nil }
        let wide = ui.screen()
        for column in ["GALLERY", "SIZE", "INSTALLED", "KIND"] { XCTAssertTrue(wide.contains(column), "120 columns show \(column)\n\(wide)") }
        let header = try XCTUnwrap(ui.line(containing: "GALLERY"))
        XCTAssertLessThan(try XCTUnwrap(header.range(of: "GALLERY")).lowerBound, try XCTUnwrap(header.range(of: "KIND")).lowerBound,
                          "the gallery sits with the other columns, the kind marks take the rest: \(header)")
        XCTAssertEqual(ui.line(containing: "  llama-cpp ")?.components(separatedBy: "cpu-llama-cpp").count, 2,
                       "the meta row says its build once: \(ui.line(containing: "  llama-cpp ") ?? "")")

        try ui.resize(width: 80, height: 24)
        eventually("80 columns", context: { ui.screen() }) { ui.lines.count >= 24 && ui.screen().contains("upgrades available") }
        XCTAssertFalse(ui.screen().contains("INSTALLED"), ui.screen())
        XCTAssertTrue(ui.lines.allSatisfy { $0.count <= 80 })

        try ui.resize(width: 60, height: 14)
        eventually("60x14", context: { ui.screen() }) { ui.line(containing: "NAME")?.contains("UPGRADE") == true && ui.lines.count >= 14 }
        XCTAssertFalse(ui.screen().contains("upgrades available"), "14 rows keep the list's room: no banner\n\(ui.screen())")
        XCTAssertTrue(ui.lines.allSatisfy { $0.count <= 60 }, ui.screen())
        try quit(ui)
    }
}
