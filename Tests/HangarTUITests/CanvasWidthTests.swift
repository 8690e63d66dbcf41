import Foundation
import HangarEngine
import HangarFixtures
@testable import HangarTUI
import XCTest

/// Terminal cell widths: wide characters (emoji, CJK) take two cells everywhere text is measured, cut or drawn,
/// and control characters never reach the terminal.
final class CanvasWidthTests: XCTestCase {
    /// The descriptions of the real LocalAI gallery that hold emoji (diffusers' 🤗, coqui's 🐸 🚀 🛠️ 📚).
    private static func realEmojiDescriptions() throws -> [String] {
        let text = try String(contentsOfFile: Self.realGallery, encoding: .utf8)
        let lines = text.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
        let picked = lines.filter { line in ["🤗", "🐸", "🚀", "🛠️", "📚"].contains { line.hasPrefix($0) } }
        XCTAssertGreaterThanOrEqual(picked.count, 5, "the fixture still has its emoji descriptions")
        return picked
    }

    static var realGallery: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("../shared/fixtures/localai-backend-index.yaml").standardized.path
    }

    /// A real engine on an empty site whose only gallery is the real LocalAI index.
    private static func realGalleryEngine(_ site: LocalAISite) throws -> Engine {
        Engine(configuration: try site.configuration(galleries: [GalleryFile(path: Self.realGallery, name: "localai")]))
    }

    func testCellWidthCountsWideCharactersTwiceAndMarksNothing() {
        XCTAssertEqual("abc".cellWidth, 3)
        XCTAssertEqual("🤗".cellWidth, 2)
        XCTAssertEqual("🤗 Diffusers".cellWidth, 12)
        XCTAssertEqual("日本語".cellWidth, 6)
        XCTAssertEqual("e\u{301}".cellWidth, 1, "a combining accent adds no cell")
        XCTAssertEqual("↑ v1.2.0 — ✓".cellWidth, 12, "the UI's own glyphs are one cell each")
        XCTAssertEqual("ab🤗cd".prefix(cells: 3), "ab", "a wide character that would straddle the limit is left out")
        XCTAssertEqual("ab🤗cd".prefix(cells: 4), "ab🤗")
    }

    func testTruncateKeepsTheRealEmojiDescriptionsWithinTheWidth() throws {
        for description in try Self.realEmojiDescriptions() {
            for glyphs in [Glyphs.unicode, .ascii] {
                for width in 1...(description.cellWidth + 2) {
                    let cut = glyphs.truncate(description, width)
                    XCTAssertLessThanOrEqual(cut.cellWidth, width, "\(width) cells: \(cut)")
                    if description.cellWidth > width, width > glyphs.ellipsis.cellWidth {
                        XCTAssertTrue(cut.hasSuffix(glyphs.ellipsis), "a cut text says so: \(cut)")
                        XCTAssertGreaterThanOrEqual(cut.cellWidth, width - 1, "at most the half of one wide character is lost")
                    }
                }
                XCTAssertEqual(glyphs.truncate(description, description.cellWidth), description, "a text that fits is kept whole")
            }
        }
    }

    @MainActor
    func testTheGridStoresAWideCharacterAsTwoCells() {
        let canvas = CellGridCanvas(width: 10, height: 2)
        canvas.put("🤗ab", x: 1, y: 0)
        XCTAssertEqual(canvas.cells[0][1].character, "🤗")
        XCTAssertTrue(canvas.cells[0][2].isContinuation)
        XCTAssertEqual(canvas.cells[0][3].character, "a")
        XCTAssertEqual(canvas.line(0), " 🤗ab")
        XCTAssertEqual(canvas.usedWidth(0), 5)
        XCTAssertEqual(canvas.find("ab")?.x, 3, "find answers the cell column, not the character index")
        // Overwriting either half of a wide character blanks the other, as a terminal does.
        canvas.put("x", x: 2, y: 0)
        XCTAssertEqual(canvas.line(0), "  xab")
        canvas.put("日", x: 5, y: 1)
        canvas.put("y", x: 5, y: 1)
        XCTAssertEqual(canvas.line(1), "     y")
        XCTAssertFalse(canvas.cells[1][6].isContinuation)
    }

    @MainActor
    func testAWideCharacterThatWouldCrossTheEdgeIsNotDrawn() {
        let canvas = CellGridCanvas(width: 5, height: 1)
        canvas.put("abcd🤗", x: 0, y: 0)
        XCTAssertEqual(canvas.line(0), "abcd")
        canvas.put("🤗🤗🤗", x: 0, y: 0, style: .text, maxWidth: 3)
        XCTAssertEqual(canvas.line(0), "🤗cd", "maxWidth counts cells: one emoji fits in 3, the second is not drawn")
    }

    @MainActor
    func testADialogIsSizedInCellsSoAWideLineKeepsItsRightBorder() {
        let canvas = CellGridCanvas(width: 40, height: 9)
        // 12 characters but 20 cells: a box sized by characters would draw its right border through the text.
        let line = "日本語の説明ですよね!!"
        Widgets.dialog(canvas, title: "Info", lines: [line], footer: "ok", glyphs: .unicode)
        guard let row = (0..<canvas.height).first(where: { canvas.line($0).contains(line) }) else {
            return XCTFail("the wide line is drawn whole:\n" + (0..<canvas.height).map(canvas.line).joined(separator: "\n"))
        }
        let top = (0..<canvas.height).first { canvas.line($0).contains("Info") }!
        XCTAssertEqual(canvas.usedWidth(row), canvas.usedWidth(top), "the text row ends at the box's right border")
        XCTAssertTrue(canvas.line(row).hasSuffix(Glyphs.unicode.vertical), canvas.line(row))
    }

    @MainActor
    func testControlCharactersNeverReachTheTerminal() {
        XCTAssertEqual(TerminalText.displayable("failed:\tno\nspace\r\nleft", asciiOnly: false), "failed: no space left")
        XCTAssertEqual(TerminalText.displayable("tag\u{1B}[2Jx\u{7}\u{7F}\u{9B}y", asciiOnly: false), "tag?[2Jx???y")
        XCTAssertEqual(TerminalText.displayable("plain text", asciiOnly: false), "plain text")
        let canvas = CellGridCanvas(width: 30, height: 3)
        canvas.put("error:\nline two\tend", x: 0, y: 1)
        XCTAssertEqual(canvas.line(1), "error: line two end", "one row, no jump to the next line")
        XCTAssertEqual(canvas.line(2), "")
    }

    @MainActor
    func testASCIIModePrintsThePunctuationOfTheUIAndTheEngineAsASCII() {
        let engineText = "upgrade failed: run.sh missing in new image — v1.0.0 restored"
        XCTAssertEqual(TerminalText.displayable(engineText, asciiOnly: true), "upgrade failed: run.sh missing in new image - v1.0.0 restored")
        XCTAssertEqual(TerminalText.displayable("meta → cpu · ↑ v2 ✓ ✗ ↺ • ▸ – … ░░██", asciiOnly: true), "meta -> cpu - ^ v2 + x < * > - ... ..##")
        XCTAssertEqual(TerminalText.displayable("┌──┐│└┘├┼═║", asciiOnly: true), "+--+|++++-|")
        XCTAssertEqual(TerminalText.displayable("🤗 日本 é", asciiOnly: true), "? ?? ?")
        XCTAssertEqual(TerminalText.displayable("→ stays", asciiOnly: false), "→ stays")
        let canvas = CellGridCanvas(width: 40, height: 1)
        canvas.asciiOnly = true
        canvas.put("kokoro ↑ v1.1.0 — rolled back ↺", x: 0, y: 0)
        XCTAssertEqual(canvas.line(0), "kokoro ^ v1.1.0 - rolled back <")
        XCTAssertTrue(canvas.text.allSatisfy(\.isASCII))
    }

    /// The Catalog's description pane with the real coqui and diffusers entries: cut by cells, so the ellipsis stays
    /// on screen instead of the line running past the edge (where ncurses wraps onto the next row).
    func testCatalogDescriptionsWithRealEmojiFitTheLine() throws { try onMain {
        let site = try LocalAISite("width")
        let snapshot = EngineSnapshot.load(try Self.realGalleryEngine(site))
        for (name, start) in [("coqui", "🐸 Coqui TTS"), ("diffusers", "🤗 Diffusers")] {
            for width in [60, 80, 81, 120] {
                var state = UIState(snapshot: snapshot, glyphs: .unicode)
                for key in [Key.char("2"), .char("A"), .char("/")] + name.map(Key.char) + [.enter] { _ = state.handle(key) }
                let canvas = draw(state, width: width, height: 24)
                guard let hit = canvas.find(start) else { return XCTFail("\(name)'s description not shown:\n\(canvas.text)") }
                let text = canvas.line(hit.y)
                XCTAssertTrue(text.hasSuffix("…"), "the cut is marked at \(width) columns: \(text)")
                XCTAssertLessThanOrEqual(canvas.usedWidth(hit.y), width - 1, "within the pane at \(width) columns: \(text)")
                XCTAssertLessThanOrEqual(text.cellWidth, width)
            }
        }
    } }
}
