import Foundation
import HangarEngine
@testable import HangarTUI
import XCTest

/// The state machine: movement, screens, filter, confirmations (default No), quit.
final class KeyHandlingTests: XCTestCase {
    @MainActor private static func state() throws -> (UIState, TUIFixture) {
        let fixture = try TUIFixture()
        return (try UIState.loaded(try fixture.engine()), fixture)
    }

    @MainActor private static func selectedName(_ s: UIState) -> String? { s.selectedBackend?.name }

    func testMovementKeys() throws { try onMain {
        var (s, _) = try Self.state()
        let names = s.backendRows.map(\.name)
        XCTAssertEqual(Self.selectedName(s), names[0])
        _ = s.handle(.char("j")); _ = s.handle(.down)
        XCTAssertEqual(Self.selectedName(s), names[2])
        _ = s.handle(.char("k"))
        XCTAssertEqual(Self.selectedName(s), names[1])
        _ = s.handle(.char("G"))
        XCTAssertEqual(Self.selectedName(s), names.last)
        _ = s.handle(.down)
        XCTAssertEqual(Self.selectedName(s), names.last, "stops at the last row")
        _ = s.handle(.char("g"))
        XCTAssertEqual(Self.selectedName(s), names[0])
        s.pageSize = 4
        _ = s.handle(.pageDown)
        XCTAssertEqual(Self.selectedName(s), names[4])
        _ = s.handle(.pageUp); _ = s.handle(.up)
        XCTAssertEqual(Self.selectedName(s), names[0])
    } }

    func testScreenSwitching() throws { try onMain {
        var (s, _) = try Self.state()
        _ = s.handle(.tab)
        XCTAssertEqual(s.screen, .catalog)
        _ = s.handle(.backTab); _ = s.handle(.backTab)
        XCTAssertEqual(s.screen, .settings)
        _ = s.handle(.char("4"))
        XCTAssertEqual(s.screen, .jobs)
        _ = s.handle(.char("1")); _ = s.handle(.enter)
        XCTAssertEqual(s.screen, .detail)
        let first = Self.selectedName(s)
        _ = s.handle(.char("j"))
        XCTAssertNotEqual(Self.selectedName(s), first, "j on Detail steps to the next backend")
        XCTAssertEqual(s.screen, .detail)
        _ = s.handle(.escape)
        XCTAssertEqual(s.screen, .backends)
    } }

    func testFilterByNameOrTagAndEscapeClears() throws { try onMain {
        var (s, _) = try Self.state()
        _ = s.handle(.char("/"))
        for c in "pi" { _ = s.handle(.char(c)) }
        XCTAssertEqual(s.backendRows.map(\.name), ["piper"])
        XCTAssertTrue(draw(s).text.contains("/pi_"))
        _ = s.handle(.backspace); _ = s.handle(.backspace)
        for c in "fast" { _ = s.handle(.char(c)) }
        XCTAssertEqual(s.backendRows.map(\.name), ["piper"], "tags from the gallery match too")
        _ = s.handle(.enter)
        XCTAssertFalse(s.isEditingFilter)
        XCTAssertEqual(s.handle(.char("q")), [.quit(cancelJobs: false)], "keys act again after Enter")
        _ = s.handle(.escape)
        XCTAssertEqual(s.filter, "")
        XCTAssertEqual(s.backendRows.count, 10)
        _ = s.handle(.char("/")); _ = s.handle(.char("z")); _ = s.handle(.escape)
        XCTAssertEqual(s.filter, "")
        XCTAssertFalse(s.isEditingFilter)
    } }

    func testUninstallAsksNamingWhatHappensAndDefaultsToNo() throws { try onMain {
        var (s, fixture) = try Self.state()
        s.selection[.backends] = try XCTUnwrap(s.backendRows.firstIndex { $0.name == "piper" })
        XCTAssertEqual(s.handle(.char("d")), [])
        let confirmation = try XCTUnwrap(s.confirmation)
        XCTAssertEqual(confirmation.title, "Uninstall piper?")
        XCTAssertTrue(confirmation.lines[0].contains("Deletes \(fixture.backends)/piper (v0.8.0)"))
        let screen = draw(s)
        XCTAssertTrue(screen.text.contains("Uninstall piper?") && screen.text.contains("n / Esc / Enter = no (default)"))
        XCTAssertEqual(s.handle(.enter), [], "Enter takes the default: No")
        XCTAssertNil(s.confirmation)
        _ = s.handle(.char("d"))
        XCTAssertEqual(s.handle(.char("y")), [.uninstall("piper")])
    } }

    func testReinstallAndUpgradeAllConfirmAndSystemBackendsAreProtected() throws { try onMain {
        var (s, _) = try Self.state()
        s.selection[.backends] = try XCTUnwrap(s.backendRows.firstIndex { $0.name == "piper" })
        _ = s.handle(.char("r"))
        XCTAssertEqual(s.confirmation?.title, "Reinstall piper?")
        XCTAssertEqual(s.handle(.char("n")), [])
        _ = s.handle(.char("U"))
        let all = try XCTUnwrap(s.confirmation)
        XCTAssertTrue(all.lines.contains("  piper: v0.8.0 → v0.9.0"), "\(all.lines)")
        XCTAssertTrue(all.lines.contains { $0.hasPrefix("  oldimg: sha256:3f2a9c1 → sha256:9e8d7c6") }, "\(all.lines)")
        XCTAssertEqual(s.handle(.char("y")), [.upgradeAll(["kokoro", "oldimg", "piper"])])
        s.selection[.backends] = try XCTUnwrap(s.backendRows.firstIndex { $0.name == "system-vllm" })
        XCTAssertEqual(s.handle(.char("d")), [])
        XCTAssertNil(s.confirmation)
        XCTAssertTrue(s.message?.text.contains("system backend (protected)") == true)
        XCTAssertEqual(s.handle(.char("u")), [])
    } }

    func testUpgradeIsSentWithoutAKnownUpgradeAndQuitAsksWhileJobsRun() throws { try onMain {
        var (s, _) = try Self.state()
        s.selection[.backends] = try XCTUnwrap(s.backendRows.firstIndex { $0.name == "cpu-whisper" })
        XCTAssertEqual(s.handle(.char("u")), [.upgrade("cpu-whisper")], "the engine decides; it says up to date")
        s.selection[.backends] = try XCTUnwrap(s.backendRows.firstIndex { $0.name == "piper" })
        XCTAssertEqual(s.handle(.char("u")), [.upgrade("piper")])
        s.jobs = [JobRow(job: 1, operation: .upgrade, backend: "piper")]
        XCTAssertEqual(s.handle(.char("u")), [], "never two jobs on one backend from the UI")
        XCTAssertEqual(s.handle(.char("q")), [])
        XCTAssertTrue(s.confirmation?.lines.first?.contains("1 job is still queued or running") == true)
        XCTAssertEqual(s.handle(.escape), [])
        _ = s.handle(.char("q"))
        XCTAssertEqual(s.handle(.char("y")), [.quit(cancelJobs: true)])
        XCTAssertEqual(s.handle(.ctrlC), [.quit(cancelJobs: true)], "Ctrl-C always exits")
    } }

    func testJobsScreenCancelsTheSelectedRunningJobOnly() throws { try onMain {
        var (s, _) = try Self.state()
        s.jobs = [JobRow(job: 4, operation: .upgrade, backend: "piper"), JobRow(job: 5, operation: .install, backend: "bark")]
        s.jobs[0].apply(.done(summary: "upgraded"), now: 0)
        _ = s.handle(.char("4"))
        XCTAssertEqual(s.handle(.char("x")), [])
        XCTAssertEqual(s.message?.text, "job #4 has already finished")
        _ = s.handle(.char("j"))
        XCTAssertEqual(s.handle(.char("x")), [.cancel(5)])
        _ = s.handle(.char("k"))
        _ = s.handle(.enter)
        XCTAssertEqual(s.screen, .detail)
        XCTAssertEqual(s.selectedBackend?.name, "piper", "Enter on a job opens its backend")
    } }

    func testAutoUpgradeToggleFromAnyScreen() throws { try onMain {
        var (s, _) = try Self.state()
        for screen in Screen.allCases {
            s.screen = screen
            XCTAssertEqual(s.handle(.char("a")), [.setAutoUpgrade(true)], "\(screen)")
        }
    } }
}
