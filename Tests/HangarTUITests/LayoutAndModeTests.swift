import Foundation
import HangarEngine
@testable import HangarTUI
import XCTest

/// Help from the key map, small terminals, ASCII and NO_COLOR.
final class LayoutAndModeTests: XCTestCase {
    func testHelpOverlayListsEveryKeyOfTheScreensKeyMap() throws { try onMain {
        for screen in Screen.allCases {
            var state = UIState(snapshot: .empty())
            state.screen = screen
            _ = state.handle(.char("?"))
            XCTAssertTrue(state.showHelp)
            let canvas = draw(state, width: 100, height: 40)
            XCTAssertTrue(canvas.text.contains("Keys: \(screen.title)"))
            for help in KeyMap.helpLines(for: screen) {
                XCTAssertTrue(canvas.text.contains(help.label.padding(toLength: 11, withPad: " ", startingAt: 0) + help.description),
                              "\(screen): \(help.label) \(help.description)\n\(canvas.text)")
            }
            // Every binding of the key map is behind one of those lines (the digits share the "1-5" line).
            XCTAssertTrue(canvas.text.contains("1-5        Backends, Catalog, Detail, Jobs, Settings"), canvas.text)
            _ = state.handle(.escape)
            XCTAssertFalse(state.showHelp)
        }
    } }

    func testHelpScrollsOnShortTerminals() throws { try onMain {
        var state = UIState(snapshot: .empty())
        state.helpRoom = Screens.helpRoom(height: 14)
        _ = state.handle(.char("?"))
        let short = draw(state, width: 80, height: 14)
        XCTAssertTrue(short.text.contains("(j/k scroll, 1-8 of"), short.text)
        XCTAssertFalse(short.text.contains("Ctrl-C"))
        for _ in 0..<30 { _ = state.handle(.char("j")) }
        XCTAssertTrue(draw(state, width: 80, height: 14).text.contains("Ctrl-C     quit now"), "the last key is reachable")
        XCTAssertTrue(state.showHelp, "j scrolls instead of moving the list")
    } }

    func testEveryKeyOfTheMapDispatchesItsAction() throws { try onMain {
        for screen in Screen.allCases {
            for binding in KeyMap.bindings(for: screen) {
                for key in binding.keys {
                    guard case .char(let c) = key, c.wholeNumberValue != nil else {
                        XCTAssertEqual(KeyMap.action(for: key, on: screen), binding.action, "\(screen) \(key)")
                        continue
                    }
                    XCTAssertEqual(KeyMap.action(for: key, on: screen), .show(Screen(rawValue: c.wholeNumberValue!)!))
                }
            }
        }
    } }

    func testTinyTerminalShowsOneMessageWithCurrentAndNeededSize() throws { try onMain {
        let fixture = try TUIFixture()
        let state = try UIState.loaded(try fixture.engine())
        let canvas = draw(state, width: 40, height: 10)
        XCTAssertTrue(canvas.text.contains("Terminal too small: 40x10"), canvas.text)
        XCTAssertTrue(canvas.text.contains("hangar needs at least 60x12"))
        XCTAssertFalse(canvas.text.contains("piper"))
        XCTAssertTrue(draw(state, width: 60, height: 12).text.contains("piper"), "exactly the minimum draws the UI")
    } }

    func testNarrowTerminalKeepsNamesVersionsAndUpgradesAndTheQuitKey() throws { try onMain {
        let fixture = try TUIFixture()
        let canvas = draw(try UIState.loaded(try fixture.engine()), width: 60, height: 14)
        let row = line(canvas, containing: "oldimg")
        XCTAssertTrue(row.contains("sha256:3f2a9c1") && row.contains("↑ new build"), row)
        XCTAssertTrue(canvas.line(13).contains("u upgrade"), canvas.line(13))
        XCTAssertTrue(canvas.line(13).contains("? help") && canvas.line(13).contains("q quit"), canvas.line(13))
        XCTAssertTrue(canvas.text.contains("more"), "rows below the fold are announced")
    } }

    func testASCIIModeDrawsOnlyASCII() throws { try onMain {
        let fixture = try TUIFixture()
        var state = try UIState.loaded(try fixture.engine(), glyphs: .ascii)
        state.jobs = [JobRow(job: 1, operation: .upgrade, backend: "piper")]
        state.jobs[0].apply(.progress(bytes: 30, total: 100), now: 0)
        for screen in Screen.allCases {
            state.screen = screen
            let text = draw(state).text
            XCTAssertTrue(text.unicodeScalars.allSatisfy(\.isASCII), "\(screen):\n\(text)")
        }
        state.screen = .backends
        XCTAssertTrue(line(draw(state), containing: "kokoro").contains("^ v1.1.0"))
        XCTAssertTrue(line(draw(state), containing: "piper").contains("upgrade 30%"), "a running job shows on its row")
        XCTAssertTrue(line(draw(state, width: 140), containing: "  whisper ").contains("meta -> cpu-whisper"))
        state.screen = .jobs
        XCTAssertTrue(draw(state).text.contains("#########....................."), draw(state).text)
    } }

    func testSelectionIsMarkedWithoutColour() throws { try onMain {
        let fixture = try TUIFixture()
        let canvas = draw(try UIState.loaded(try fixture.engine()))
        let first = try XCTUnwrap(canvas.find("▸ broken"))
        XCTAssertEqual(canvas.style(x: first.x + 2, y: first.y).role, .selection)
        XCTAssertTrue(TUIOptions(environment: ["NO_COLOR": "1"]).colorDisabled)
        XCTAssertFalse(TUIOptions(environment: ["NO_COLOR": ""]).colorDisabled, "NO_COLOR must be non-empty (no-color.org)")
        XCTAssertTrue(TUIOptions(noColor: true, environment: [:]).colorDisabled)
        let mono = try ThemeLibrary(directories: [themesDirectory()]).load("monochrome")
        XCTAssertTrue(mono.style(.selection).attributes.contains(.reverse))
        XCTAssertTrue(StyleRole.allCases.allSatisfy { mono.style($0).foreground == .terminalDefault && mono.style($0).background == .terminalDefault })
    } }

    func testListingShowsBeforeTheGalleriesAreRead() throws { try onMain {
        let fixture = try TUIFixture()
        var state = UIState(snapshot: EngineSnapshot.loadLocal(try fixture.engine()))
        XCTAssertTrue(line(draw(state), containing: "piper").contains("v0.8.0"))
        XCTAssertTrue(draw(state).line(1).contains("gallery reading…"), draw(state).line(1))
        _ = state.handle(.char("2"))
        XCTAssertTrue(draw(state).text.contains("Reading the galleries…"))
        state.snapshot.addGalleries(try fixture.engine())
        let catalog = draw(state)
        XCTAssertTrue(line(catalog, containing: "bark ").contains("v0.3.0"), catalog.text)
        XCTAssertTrue(line(catalog, containing: "piper ").contains("installed"), catalog.text)
        XCTAssertTrue(line(catalog, containing: "test@piper").contains(fixture.root + "/sources/piper-0.9.0"), catalog.text)
        XCTAssertTrue(catalog.text.contains("Piper text to speech"), "the first entry's description pane: \(catalog.text)")
    } }

    func testRenderFrameReadsTheEngineAndDrawsTheHomeScreen() throws { try onMain {
        let fixture = try TUIFixture()
        let canvas = CellGridCanvas(width: 120, height: 30)
        let state = TerminalUI.renderFrame(engine: try fixture.engine(), options: TUIOptions(asciiOnly: false), on: canvas)
        XCTAssertEqual(state.snapshot.installed.count, 10)
        XCTAssertTrue(canvas.text.contains("1 Backends (10)"))
        XCTAssertTrue(line(canvas, containing: "piper").contains("v0.8.0"))
        XCTAssertTrue(canvas.text.contains("not checked yet"))
    } }
}

/// The repository's themes/ directory.
func themesDirectory() -> String {
    URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("themes").path
}

/// Tabs stay whole on narrow terminals and clicks land on them.
final class TabBarTests: XCTestCase {
    func testNarrowTabBarDropsCountsButKeepsEveryTab() throws { try onMain {
        var state = UIState(snapshot: .empty())
        state.jobs = [JobRow(job: 1, operation: .install, backend: "x")]
        let wide = draw(state, width: 120)
        XCTAssertTrue(wide.line(2).contains("4 Jobs (1 active)"), wide.line(2))
        let canvas = CellGridCanvas(width: 60, height: 12)
        let layout = Screens.render(state, on: canvas)
        XCTAssertTrue(canvas.line(2).contains("5 Settings"), canvas.line(2))
        XCTAssertEqual(layout.tabs.map(\.screen), Screen.allCases)
        XCTAssertTrue(layout.tabs.allSatisfy { $0.columns.upperBound <= 60 })
    } }
}
