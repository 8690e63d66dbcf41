import Foundation
import HangarFixtures
import XCTest

/// The real `hangar` binary under tmux on a demo sandbox: what a user sees and what ends up on disk.
final class TUIEndToEndTests: XCTestCase {
    // MARK: - Helpers

    /// The row of backend `name` on the visible screen (rows start with the selection marker or two spaces).
    private func row(_ name: String, in session: TmuxSession) -> String? {
        session.lines.first { line in
            let body = line.drop { $0 == " " || $0 == "▸" || $0 == ">" }
            return body.hasPrefix(name + " ")
        }
    }

    private func quit(_ session: TmuxSession, file: StaticString = #filePath, line: UInt = #line) throws {
        try session.send("q")
        eventually("hangar to exit", timeout: 10, file: file, line: line, context: { session.screen(history: true) }) {
            session.exitStatus != nil
        }
        XCTAssertEqual(session.exitStatus, 0, session.screen(history: true), file: file, line: line)
    }

    // MARK: - Tests

    func testBackendsListShowsBadgesIndicatorsAndKindMarks() throws {
        let site = try DemoSite()
        let ui = try site.openUI()
        eventually("the upgrade check's indicators", context: { ui.screen() }) { row("piper", in: ui)?.contains("↑ v0.9.0") == true }
        let screen = ui.screen()
        func assertRow(_ name: String, _ parts: [String], absent: [String] = [], line: UInt = #line) {
            let text = row(name, in: ui) ?? ""
            for part in parts { XCTAssertTrue(text.contains(part), "\(name) row lacks \(part): \(text)\n\(screen)", line: line) }
            for part in absent { XCTAssertFalse(text.contains(part), "\(name) row has \(part): \(text)", line: line) }
        }
        assertRow("piper", ["v0.8.0", "↑ v0.9.0", "demo"])
        assertRow("kokoro", ["v1.0.0", "↑ v1.1.0"])
        assertRow("cpu-whisper", ["v2.1.0"], absent: ["↑"])
        assertRow("silero-vad", ["?", "↑ v5.0"])
        assertRow("llama-cpp", ["meta → cpu-llama-cpp"])
        assertRow("whisper", ["alias → cpu-whisper"])
        assertRow("system-vllm", ["system (protected)"], absent: ["↑"])
        XCTAssertTrue(screen.contains("auto-upgrade off"), screen)
        XCTAssertTrue(ui.screen(colors: true).contains("\u{1B}["), "TERM=xterm-256color gets colour")
        try quit(ui)
    }

    func testUpgradeShowsProgressThenTheNewBadgeAndUpdatesMetadataOnDisk() throws {
        // piper's new build is a 3 MiB tarball copied at 2 MiB/s: three download steps, then extraction.
        let site = try DemoSite(copyLimit: 2 << 20, payloadUnit: 256 << 10)
        let ui = try site.openUI()
        eventually("piper's upgrade indicator", context: { ui.screen() }) { row("piper", in: ui)?.contains("↑ v0.9.0") == true }
        try select("piper", in: ui)
        try ui.send("u")
        var progress = Set<String>()
        eventually("the new badge", timeout: 20, context: { ui.screen() }) {
            let text = row("piper", in: ui) ?? ""
            if let percent = text.range(of: #"\d+%"#, options: .regularExpression) { progress.insert(String(text[percent])) }
            return text.contains("v0.9.0") && !text.contains("↑") && !text.contains("%")
        }
        XCTAssertGreaterThanOrEqual(progress.count, 3, "progress was visible while copying: \(progress)")
        XCTAssertEqual(site.metadata("piper")?["version"] as? String, "0.9.0")
        XCTAssertEqual(try String(contentsOfFile: site.demo.backendsPath + "/piper/VERSION", encoding: .utf8), "piper 0.9.0\n")
        try quit(ui)
    }

    func testBrokenUpgradeShowsTheRollbackAndKeepsTheOldVersion() throws {
        let site = try DemoSite()
        let ui = try site.openUI()
        eventually("kokoro's upgrade indicator", context: { ui.screen() }) { row("kokoro", in: ui)?.contains("↑ v1.1.0") == true }
        try select("kokoro", in: ui)
        try ui.send("u")
        try ui.send("4")
        eventually("the rollback on the Jobs screen", timeout: 20, context: { ui.screen() }) {
            ui.screen().contains("rolled back") && ui.screen().contains("v1.0.0 restored")
        }
        XCTAssertTrue(ui.screen().contains("run.sh missing"), ui.screen())
        XCTAssertEqual(site.metadata("kokoro")?["version"] as? String, "1.0.0")
        XCTAssertTrue(site.exists("kokoro/run.sh"), "the old version is still runnable")
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: site.demo.backendsPath + "/.hangar/staging"), [])
        try ui.send("1")
        eventually("the old badge with the upgrade still offered", context: { ui.screen() }) {
            let text = row("kokoro", in: ui) ?? ""
            return text.contains("v1.0.0") && text.contains("↑ v1.1.0")
        }
        try quit(ui)
    }

    func testAutoUpgradeToggleWritesRuntimeSettingsAndSurvivesARestart() throws {
        let site = try DemoSite()
        let file = site.demo.configDir + "/runtime_settings.json"
        let first = try site.openUI()
        eventually("the header says off", context: { first.screen() }) { first.screen().contains("auto-upgrade off") }
        try first.send("a")
        eventually("the header says on", context: { first.screen() }) { first.screen().contains("auto-upgrade on") }
        let written = try JSONSerialization.jsonObject(with: try Data(contentsOf: URL(fileURLWithPath: file))) as? [String: Any]
        XCTAssertEqual(written?["auto_upgrade_backends"] as? Bool, true)
        var info = stat()
        XCTAssertEqual(stat(file, &info), 0)
        XCTAssertEqual(info.st_mode & 0o777, 0o600)
        // Quit and wait for any auto-upgrade the checker may have started, then start a new UI process.
        eventually("no job running", timeout: 30, context: { first.screen() }) { !first.screen().contains("active)") }
        try quit(first)

        let second = try site.openUI()
        eventually("the restarted UI says on", context: { second.screen() }) { second.screen().contains("auto-upgrade on") }
        try second.send("a")
        eventually("off again", context: { second.screen() }) { second.screen().contains("auto-upgrade off") }
        let rewritten = try JSONSerialization.jsonObject(with: try Data(contentsOf: URL(fileURLWithPath: file))) as? [String: Any]
        XCTAssertEqual(rewritten?["auto_upgrade_backends"] as? Bool, false)
        eventually("no job running", timeout: 30, context: { second.screen() }) { !second.screen().contains("active)") }
        try quit(second)
    }

    func testWithAutoUpgradeOnTheUIUpgradesFlaggedBackendsAsJobs() throws {
        let site = try DemoSite(copyLimit: 64 << 20)
        try RuntimeSettingsText.write(autoUpgrade: true, in: site.demo.configDir)
        let ui = try site.openUI()
        try ui.send("4")
        eventually("auto-upgrade jobs on the Jobs screen", timeout: 20, context: { ui.screen() }) {
            ui.screen().contains("upgrade piper (auto-upgrade)") && ui.screen().contains("upgrade kokoro (auto-upgrade)")
        }
        eventually("every auto-upgrade finished", timeout: 30, context: { ui.screen() }) { ui.screen().contains("0 active") }
        XCTAssertEqual(site.metadata("piper")?["version"] as? String, "0.9.0")
        XCTAssertEqual(site.metadata("kokoro")?["version"] as? String, "1.0.0", "the broken one rolled back")
        try ui.send("1")
        eventually("the refreshed list: piper current, kokoro still offered", timeout: 15, context: { ui.screen() }) {
            let piper = row("piper", in: ui) ?? "", kokoro = row("kokoro", in: ui) ?? ""
            return piper.contains("v0.9.0") && !piper.contains("↑") && kokoro.contains("↑ v1.1.0")
        }
        try quit(ui)
    }

    func testDetailShowsTheLastOperationOfAnotherHangarProcess() throws {
        let site = try DemoSite()
        var fast = site.environment
        fast["HANGAR_COPY_LIMIT"] = String(1 << 30)
        let cli = try ChildProcess.run([site.hangar, "upgrade", "kokoro"], environment: fast, scratch: site.root)
        XCTAssertEqual(cli.status, 1, "the broken upgrade fails: \(cli.output)")
        let ui = try site.openUI()
        try select("kokoro", in: ui)
        try ui.send("Enter")
        eventually("the detail's last operation, recorded by the CLI", context: { ui.screen() }) {
            ui.line(containing: "last operation")?.contains("rolled back at") == true
        }
        XCTAssertTrue(ui.line(containing: "last operation")?.contains("run.sh missing in new version of kokoro") == true, ui.screen())
        eventually("the size on disk", context: { ui.screen() }) {
            ui.line(containing: "size on disk")?.range(of: #"\d+(\.\d+)? (KiB|MiB)"#, options: .regularExpression) != nil
        }
        try quit(ui)
    }

    func testSlashFiltersByNameAndEscapeClears() throws {
        let site = try DemoSite()
        let ui = try site.openUI()
        try ui.send("/")
        try ui.send("whisper", literal: true)
        eventually("only the whisper rows", context: { ui.screen() }) {
            row("whisper", in: ui) != nil && row("cpu-whisper", in: ui) != nil && row("piper", in: ui) == nil
        }
        XCTAssertNil(row("kokoro", in: ui), ui.screen())
        try ui.send("Enter")
        eventually("the filter kept after Enter", context: { ui.screen() }) { ui.screen().contains("filter \"whisper\"") }
        XCTAssertNil(row("piper", in: ui))
        try ui.send("Escape")
        eventually("every row back", context: { ui.screen() }) { row("piper", in: ui) != nil && row("kokoro", in: ui) != nil }
        try quit(ui)
    }

    func testUninstallAsksFirstThenRemoves() throws {
        let site = try DemoSite()
        let ui = try site.openUI()
        try select("piper", in: ui)
        try ui.send("d")
        eventually("the confirmation naming piper", context: { ui.screen() }) { ui.screen().contains("Uninstall piper?") }
        XCTAssertTrue(ui.screen().contains("Deletes \(site.demo.backendsPath)/piper"), ui.screen())
        try ui.send("n")
        eventually("the dialog gone", context: { ui.screen() }) {
            !ui.screen().contains("Deletes ") && ui.screen().contains("Uninstall piper? — not done")
        }
        XCTAssertTrue(site.exists("piper/run.sh"), "No keeps it")
        XCTAssertNotNil(row("piper", in: ui))

        try ui.send("d")
        eventually("asked again", context: { ui.screen() }) { ui.screen().contains("Uninstall piper?") }
        try ui.send("y")
        eventually("piper's row gone", timeout: 15, context: { ui.screen() }) { row("piper", in: ui) == nil }
        XCTAssertFalse(site.exists("piper"), "the directory is removed")
        XCTAssertTrue(site.exists("kokoro/run.sh"), "nothing else is touched")
        try quit(ui)
    }

    func testResizeRelaysOutAndATinyTerminalSaysWhatItNeeds() throws {
        let site = try DemoSite()
        let ui = try site.openUI()
        let footerKey = "Enter detail"
        eventually("the footer on the last row", context: { ui.screen() }) { ui.lines.prefix(35).last?.contains(footerKey) == true }
        XCTAssertTrue(ui.screen().contains("GALLERY"), "120 columns have room for the gallery column")

        try ui.resize(width: 80, height: 24)
        eventually("the footer on row 24 of 80x24", context: { ui.screen() }) {
            let lines = ui.lines
            return lines.count >= 24 && lines[23].contains(footerKey) && row("piper", in: ui) != nil
        }
        XCTAssertTrue(ui.lines.allSatisfy { $0.count <= 80 }, ui.screen())
        XCTAssertFalse(ui.screen().contains("GALLERY"), "the narrower layout drops the gallery column: \(ui.screen())")

        try ui.resize(width: 40, height: 10)
        eventually("the too-small message", context: { ui.screen() }) { ui.screen().contains("Terminal too small: 40x10") }

        try ui.resize(width: 120, height: 35)
        eventually("the full layout again", context: { ui.screen() }) {
            row("piper", in: ui) != nil && !ui.screen().contains("too small") && ui.lines.prefix(35).last?.contains(footerKey) == true
        }
        try quit(ui)
    }

    func testQuitRestoresTheTerminal() throws {
        let site = try DemoSite()
        let ui = try site.openUI()
        XCTAssertEqual(ui.paneFormat("#{alternate_on}"), "1", "the UI runs on the alternate screen")
        try quit(ui)
        XCTAssertEqual(ui.paneFormat("#{alternate_on}"), "0", "the alternate screen is gone")
        // The normal screen and its scrollback (the shell's next line can scroll into it when ncurses leaves the
        // cursor on the last row); tmux's own "Pane is dead" line (remain-on-exit) is not the program's output.
        let normal = ui.screen(history: true)
        let visible = normal.components(separatedBy: "\n")
            .filter { !$0.trimmingCharacters(in: .whitespaces).isEmpty && !$0.hasPrefix("Pane is dead") }
        XCTAssertEqual(visible.last, "EXIT=0", "the shell's next line follows on the normal screen: \(normal)")
        XCTAssertFalse(normal.contains("Backends ("), "the UI was drawn on the alternate screen only: \(normal)")
    }

    func testDemoOpensTheUIOnATerminal() throws {
        let site = try DemoSite()
        let dir = site.root + "/own-demo"
        let ui = try TmuxSession(command: site.shellCommand(["demo", "--dir", dir]), scratch: site.root)
        eventually("the UI on the freshly built demo", timeout: 30, context: { ui.screen() }) {
            row("piper", in: ui)?.contains("↑ v0.9.0") == true && row("kokoro", in: ui) != nil
        }
        XCTAssertTrue(ui.screen().contains(dir + "/backends"), "the header names the sandbox: \(ui.screen())")
        try quit(ui)
        XCTAssertTrue(ui.screen(history: true).contains("Demo sandbox in \(dir)"), ui.screen(history: true))
        XCTAssertTrue(FileManager.default.fileExists(atPath: dir + "/sources/piper-0.9.0.tar.gz"))
    }

    func testNotATerminalPrintsThePlainListing() throws {
        let site = try DemoSite()
        let r = try ChildProcess.run([site.hangar], environment: site.environment, scratch: site.root)
        XCTAssertEqual(r.status, 0, r.output)
        XCTAssertTrue(r.output.hasPrefix("NAME"), r.output)
        let piper = r.output.split(separator: "\n").first { $0.hasPrefix("piper ") } ?? ""
        XCTAssertTrue(piper.contains("v0.8.0"), r.output)
        XCTAssertFalse(r.output.contains("\u{1B}"), "no escape sequences in a pipe")
    }
}
