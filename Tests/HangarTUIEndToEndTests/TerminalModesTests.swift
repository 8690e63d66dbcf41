import Foundation
import HangarFixtures
import XCTest

/// The real `hangar` under tmux without colour and without a UTF-8 locale: what the terminal receives.
final class TerminalModesTests: XCTestCase {
    private func open(_ site: DemoSite, environment: [String: String]) throws -> TmuxSession {
        let ui = try TmuxSession(command: site.shellCommand([], extraEnvironment: environment), scratch: site.root)
        eventually("the upgrade check's indicators", timeout: 15, context: { ui.screen() }) { ui.screen().contains("5 upgrades") }
        return ui
    }

    private func quit(_ ui: TmuxSession) throws {
        try ui.send("q")
        eventually("hangar to exit", context: { ui.screen(history: true) }) { ui.exitStatus != nil }
        XCTAssertEqual(ui.exitStatus, 0, ui.screen(history: true))
    }

    func testNoColorDrawsTheSelectedRowInReverseVideoAndNoColours() throws {
        let site = try DemoSite()
        let ui = try open(site, environment: ["NO_COLOR": "1"])
        let screen = ui.screen(colors: true)
        let rows = screen.components(separatedBy: "\n")
        let selected = try XCTUnwrap(rows.first { $0.contains("▸") }, screen)
        XCTAssertTrue(selected.contains("\u{1B}[7m"), "the selection is reverse video: \(selected.debugDescription)")
        let other = try XCTUnwrap(rows.first { $0.contains("kokoro") && !$0.contains("▸") }, screen)
        XCTAssertFalse(other.contains("\u{1B}[7m"), "other rows are not: \(other.debugDescription)")
        let colour = try NSRegularExpression(pattern: #"\x1B\[[0-9;]*(3[0-7]|38;5;[0-9]+|4[0-7]|48;5;[0-9]+)[;m]"#)
        XCTAssertEqual(colour.numberOfMatches(in: screen, range: NSRange(screen.startIndex..., in: screen)), 0,
                       "NO_COLOR: no colour codes at all: \(screen.debugDescription)")
        try quit(ui)
    }

    func testWithoutAUTF8LocaleEveryGlyphAndEngineTextIsASCII() throws {
        let site = try DemoSite()
        // kokoro's broken upgrade through the CLI first, so the engine's own rollback text is on the Detail screen.
        var fast = site.environment
        fast["HANGAR_COPY_LIMIT"] = String(1 << 30)
        XCTAssertEqual(try ChildProcess.run([site.hangar, "upgrade", "kokoro"], environment: fast, scratch: site.root).status, 1)
        let ui = try open(site, environment: ["LC_ALL": "C"])
        let home = ui.screen()
        XCTAssertTrue(home.contains("meta -> cpu-llama-cpp"), home)
        XCTAssertTrue(home.contains("^ v0.9.0"), home)
        XCTAssertTrue(home.allSatisfy(\.isASCII), "only ASCII on the home screen: \(home)")
        for _ in 0..<2 { try ui.send("j") }
        eventually("kokoro selected", context: { ui.screen() }) { ui.lines.contains { $0.hasPrefix("> kokoro ") } }
        try ui.send("Enter")
        eventually("the last operation on Detail", context: { ui.screen() }) {
            ui.line(containing: "last operation")?.contains("rolled back") == true
        }
        XCTAssertTrue(ui.screen().allSatisfy(\.isASCII), "the engine's texts too: \(ui.screen())")
        try quit(ui)
    }

    /// The real LocalAI gallery's coqui entry, whose description starts with 🐸 and holds 🚀 🛠️ 📚: on a real terminal
    /// the description line is cut by cells with its ellipsis on screen, and nothing wraps onto the status line below.
    func testEmojiDescriptionOfTheRealGalleryStaysOnItsLine() throws {
        let site = try DemoSite()
        let real = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("../shared/fixtures/localai-backend-index.yaml").standardized.path
        let ui = try TmuxSession(command: site.shellCommand([], extraEnvironment: [
            "LOCALAI_BACKEND_GALLERIES": "[{\"name\":\"demo\",\"url\":\"file://\(site.demo.galleryPath)\"},"
                + "{\"name\":\"localai\",\"url\":\"file://\(real)\"}]",
            // The real gallery's images are on quay.io: lookups go to a closed loopback port and give up at once.
            "HTTPS_PROXY": "http://127.0.0.1:9", "https_proxy": "http://127.0.0.1:9", "HANGAR_RETRY_BACKOFF": "0",
        ]), width: 100, height: 30, scratch: site.root)
        eventually("the first frame with the real gallery", timeout: 15, context: { ui.screen() }) {
            ui.screen().contains("localai 1033 entries")
        }
        try ui.send("2")
        try ui.send("A")
        try ui.send("/")
        try ui.send("coqui", literal: true)
        try ui.send("Enter")
        try ui.send("j")  // the demo has a coqui of its own, listed first
        eventually("coqui's description", context: { ui.screen() }) { ui.line(containing: "🐸 Coqui TTS") != nil }
        let lines = ui.lines
        let index = try XCTUnwrap(lines.firstIndex { $0.contains("🐸 Coqui TTS") })
        XCTAssertTrue(lines[index].hasSuffix("…"), "cut by cells, the ellipsis visible: \(lines[index])")
        XCTAssertTrue(lines[index + 1].hasPrefix(" filter \"coqui\""), "the status line is untouched: \(ui.screen())")
        XCTAssertTrue(lines[index + 2].contains("q quit"), "the footer stays on the last row: \(ui.screen())")
        try quit(ui)
    }
}
