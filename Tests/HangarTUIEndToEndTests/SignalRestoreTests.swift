import Foundation
import HangarFixtures
import XCTest

/// Ctrl-C, SIGTERM and SIGHUP in the middle of a throttled upgrade: the real `hangar` under tmux gives the terminal
/// back (main screen, cooked mode with echo), exits with the shell's signal status, and the cancelled upgrade leaves
/// the old version on disk with nothing in staging.
final class SignalRestoreTests: XCTestCase {
    /// How a user ends hangar: a key sent to the pane, or a signal sent to the process.
    private enum Interrupt {
        case keys(String)
        case signal(Int32)
    }

    /// Upgrades piper (a 3 MiB build copied at 1 MiB/s), interrupts it once progress shows, and checks what is
    /// left: the exit status, the terminal's state from `stty -a` run right after hangar in the same pane, and disk.
    private func interruptRunningUpgrade(_ interrupt: Interrupt, expectedStatus: Int32,
                                         file: StaticString = #filePath, line: UInt = #line) throws {
        let site = try DemoSite(copyLimit: 1 << 20, payloadUnit: 256 << 10)
        // The pane's shell traps SIGINT so that Ctrl-C (sent to the whole foreground group) ends only hangar, as
        // in an interactive shell; hangar itself starts with the default action, as the trap is not inherited.
        let command = "trap : INT; \(site.shellCommand([])); s=$?; stty -a; (exit $s)"
        let ui = try TmuxSession(command: command, width: 120, height: 35, scratch: site.root)
        eventually("piper's upgrade indicator", timeout: 15, file: file, line: line, context: { ui.screen() }) {
            ui.lines.contains { $0.dropFirst(2).hasPrefix("piper ") && $0.contains("↑ v0.9.0") }
        }
        for _ in 0..<20 where !(ui.lines.first { $0.hasPrefix("▸") } ?? "").dropFirst(2).hasPrefix("piper ") {
            let before = ui.screen()
            try ui.send("j")
            eventually("the selection to move", file: file, line: line, context: { ui.screen() }) { ui.screen() != before }
        }
        try ui.send("u")
        eventually("the upgrade's progress", timeout: 15, file: file, line: line, context: { ui.screen() }) {
            ui.line(containing: "piper ")?.range(of: #"\d+%"#, options: .regularExpression) != nil
        }
        XCTAssertEqual(ui.paneFormat("#{alternate_on}"), "1", file: file, line: line)

        switch interrupt {
        case .keys(let keys):
            try ui.send(keys)
        case .signal(let number):
            let pid = try XCTUnwrap(hangarPID(in: ui), "hangar's process in the pane", file: file, line: line)
            XCTAssertEqual(kill(pid, number), 0, file: file, line: line)
        }
        eventually("hangar to exit", timeout: 15, file: file, line: line, context: { ui.screen(history: true) }) {
            ui.exitStatus != nil
        }
        let output = ui.screen(history: true)
        XCTAssertEqual(ui.exitStatus, expectedStatus, output, file: file, line: line)
        XCTAssertEqual(ui.paneFormat("#{alternate_on}"), "0", "the alternate screen is gone", file: file, line: line)
        let modes = Set(output.split(whereSeparator: { $0 == " " || $0 == "\n" || $0 == ";" }).map(String.init))
        XCTAssertTrue(modes.contains("icanon") && modes.contains("echo") && modes.contains("isig"),
                      "stty -a after hangar shows a cooked terminal with echo: \(output)", file: file, line: line)
        XCTAssertFalse(modes.contains("-icanon") || modes.contains("-echo"), output, file: file, line: line)

        XCTAssertEqual(site.metadata("piper")?["version"] as? String, "0.8.0", "the old version stays", file: file, line: line)
        XCTAssertEqual(try String(contentsOfFile: site.demo.backendsPath + "/piper/VERSION", encoding: .utf8), "piper 0.8.0\n",
                       file: file, line: line)
        let staging = site.demo.backendsPath + "/.hangar/staging"
        let left = (try? FileManager.default.contentsOfDirectory(atPath: staging)) ?? []
        XCTAssertEqual(left, [], "nothing left in \(staging)", file: file, line: line)
    }

    /// The `hangar` process among the pane's descendants (`env -i` execs it, so it is a shell's child).
    private func hangarPID(in session: TmuxSession) -> pid_t? {
        var queue = session.panePID.map { [$0] } ?? []
        while !queue.isEmpty {
            let pid = queue.removeFirst()
            let exe = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(pid)/exe")) ?? ""
            if exe.hasSuffix("/hangar") { return pid }
            let children = (try? String(contentsOfFile: "/proc/\(pid)/task/\(pid)/children", encoding: .utf8)) ?? ""
            queue += children.split(separator: " ").compactMap { pid_t($0) }
        }
        return nil
    }

    func testCtrlCDuringAnUpgradeRestoresTheTerminalAndKeepsTheOldVersion() throws {
        try interruptRunningUpgrade(.keys("C-c"), expectedStatus: 130)
    }

    func testSIGTERMDuringAnUpgradeRestoresTheTerminalAndKeepsTheOldVersion() throws {
        try interruptRunningUpgrade(.signal(SIGTERM), expectedStatus: 128 + SIGTERM)
    }

    func testSIGHUPDuringAnUpgradeRestoresTheTerminalAndKeepsTheOldVersion() throws {
        try interruptRunningUpgrade(.signal(SIGHUP), expectedStatus: 128 + SIGHUP)
    }

    /// Ctrl-Z stops hangar with the terminal given back; `fg` (SIGCONT) takes it again and redraws. Started from an
    /// interactive shell with job control, as a user does: a stop only takes effect in a group the shell manages.
    func testCtrlZStopsWithTheTerminalRestoredAndFgRedraws() throws {
        let site = try DemoSite()
        let ui = try TmuxSession(command: "PS1='$ ' /bin/sh -i", width: 120, height: 35, scratch: site.root)
        eventually("the shell's prompt", context: { ui.screen() }) { ui.screen().contains("$") }
        try ui.send(site.shellCommand([]), literal: true)
        try ui.send("Enter")
        eventually("the first frame", timeout: 15, context: { ui.screen() }) { ui.screen().contains("Backends (") }
        let pid = try XCTUnwrap(hangarPID(in: ui))

        try ui.send("C-z")
        eventually("hangar stopped", context: { ui.screen() }) { processState(pid) == "T" }
        eventually("the main screen back while stopped", context: { ui.screen() }) { ui.paneFormat("#{alternate_on}") == "0" }
        XCTAssertFalse(ui.screen().contains("Backends ("), ui.screen())

        try ui.send("fg", literal: true)
        try ui.send("Enter")
        eventually("the UI redrawn on the alternate screen", context: { ui.screen() }) {
            ui.paneFormat("#{alternate_on}") == "1" && ui.screen().contains("Backends (") && ui.screen().contains("piper")
        }
        XCTAssertNotEqual(processState(pid), "T")
        let before = ui.screen()
        try ui.send("j")
        eventually("keys work again", context: { ui.screen() }) { ui.screen() != before }
        try ui.send("q")
        eventually("hangar to exit", timeout: 10, context: { ui.screen(history: true) }) { [nil, "Z"].contains(processState(pid)) }
        XCTAssertEqual(ui.paneFormat("#{alternate_on}"), "0")
    }

    /// The state letter of /proc/PID/stat (R, S, T for stopped …).
    private func processState(_ pid: pid_t) -> String? {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = stat.range(of: ") ", options: .backwards) else { return nil }
        return stat[close.upperBound...].split(separator: " ").first.map(String.init)
    }
}
