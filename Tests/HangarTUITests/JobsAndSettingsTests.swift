import Foundation
import HangarEngine
@testable import HangarTUI
import XCTest

/// Jobs rows (progress, outcomes) and the Settings pane.
final class JobsAndSettingsTests: XCTestCase {
    @MainActor private static func job(_ events: [(JobEvent.Kind, Double)]) -> JobRow {
        var row = JobRow(job: 7, operation: .upgrade, backend: "piper")
        for (kind, at) in events { row.apply(kind, now: at) }
        return row
    }

    func testRunningJobShowsBarBytesPercentSpeedAndETA() throws { try onMain {
        var state = UIState(snapshot: .empty())
        let mib: Int64 = 1 << 20
        state.jobs = [Self.job([(.queued, 0), (.phase(.downloading, detail: "/srv/piper"), 0),
                           (.progress(bytes: 0, total: 10 * mib), 0), (.progress(bytes: 5 * mib, total: 10 * mib), 2)])]
        state.now = 2
        state.screen = .jobs
        let screen = draw(state)
        XCTAssertTrue(line(screen, containing: "#7 upgrade piper").contains("downloading"))
        let progress = line(screen, containing: "50%")
        for part in ["█", "░", "5.0 MiB / 10.0 MiB", "2.5 MiB/s", "ETA 2s"] {
            XCTAssertTrue(progress.contains(part), "\(part) in \(progress)")
        }
    } }

    func testFinishedJobsSayDoneFailedAndRolledBackWithWhatWasRestored() throws { try onMain {
        var state = UIState(snapshot: .empty())
        state.jobs = [
            Self.job([(.done(summary: "upgraded piper v0.8.0 → v0.9.0"), 1)]),
            JobRow(job: 8, operation: .upgrade, backend: "kokoro"),
            JobRow(job: 9, operation: .install, backend: "bark"),
        ]
        state.jobs[1].apply(.rolledBack(error: "run.sh missing in new image", restored: "v1.0.0 restored"), now: 1)
        state.jobs[2].apply(.failed(error: "no space left"), now: 1)
        state.screen = .jobs
        let screen = draw(state)
        XCTAssertTrue(line(screen, containing: "#7 upgrade piper").contains("✓ done"))
        XCTAssertTrue(screen.text.contains("upgraded piper v0.8.0 → v0.9.0"))
        XCTAssertTrue(line(screen, containing: "#8 upgrade kokoro").contains("↺ rolled back"))
        XCTAssertTrue(screen.text.contains("upgrade failed: run.sh missing in new image — v1.0.0 restored"))
        XCTAssertTrue(line(screen, containing: "#9 install bark").contains("✗ failed"))
        XCTAssertTrue(screen.text.contains("install failed: no space left"))
        XCTAssertTrue(screen.text.contains("0 active · 3 finished"))
        _ = state.handle(.char("C"))
        XCTAssertTrue(state.jobs.isEmpty, "C clears finished rows")
    } }

    func testSettingsPaneShowsTheFileTheEnvironmentOverrideAndLocalAIPickup() throws { try onMain {
        let fixture = try TUIFixture()
        try RuntimeSettingsFile(configDir: fixture.config).update(["auto_upgrade_backends": .bool(false)])
        var state = try UIState.loaded(try fixture.engine(environment: ["LOCALAI_AUTO_UPGRADE_BACKENDS": "true"]))
        state.checkInterval = 21600
        state.themeNames = ["default", "light"]
        _ = state.handle(.char("s"))
        let screen = draw(state, width: 150)
        XCTAssertTrue(line(screen, containing: "Auto-upgrade backends").contains("on"))
        XCTAssertTrue(screen.text.contains("\(fixture.config)/runtime_settings.json"))
        XCTAssertTrue(screen.text.contains("a running LocalAI picks the file up"))
        XCTAssertTrue(screen.text.contains("LOCALAI_AUTO_UPGRADE_BACKENDS=true overrides the file"))
        XCTAssertTrue(line(screen, containing: "Check interval").contains("6h"))
        XCTAssertTrue(line(screen, containing: "Prefer development builds").contains("off"))
        XCTAssertTrue(line(screen, containing: "Capability").contains("default (forced)"))
        XCTAssertTrue(screen.text.contains("test: file://\(fixture.gallery) — 8 entries"))
        XCTAssertTrue(line(screen, containing: "Theme").contains("default"))
        // The toggle flips the file's value (false), not the environment's.
        XCTAssertEqual(state.handle(.enter), [.setAutoUpgrade(true)])
        _ = state.handle(.char("j"))
        XCTAssertEqual(state.handle(.right), [.setCheckInterval(43200)])
        state.selection[.settings] = SettingItem.theme.rawValue
        XCTAssertEqual(state.handle(.enter), [.setTheme("light")])
    } }

    func testBrokenSettingsFileIsShownAndTheToggleRefusesToGuess() throws { try onMain {
        let fixture = try TUIFixture()
        try "{broken".write(toFile: fixture.config + "/runtime_settings.json", atomically: true, encoding: .utf8)
        var state = try UIState.loaded(try fixture.engine())
        XCTAssertEqual(state.handle(.char("a")), [], "never overwrite a file hangar cannot read")
        XCTAssertTrue(state.message?.isError == true && state.message?.text.contains("runtime_settings.json") == true,
                      "\(String(describing: state.message))")
        _ = state.handle(.char("s"))
        XCTAssertTrue(line(draw(state, width: 160), containing: "Auto-upgrade backends").contains("unknown"))
        XCTAssertTrue(draw(state, width: 160).text.contains("not valid JSON"), draw(state, width: 160).text)
    } }

    func testDurationsAndTimes() throws { try onMain {
        XCTAssertEqual(TextFormat.duration(5), "5s")
        XCTAssertEqual(TextFormat.duration(65), "1m05s")
        XCTAssertEqual(TextFormat.duration(7380), "2h03m")
        var row = JobRow(job: 1, operation: .install, backend: "x")
        row.apply(.progress(bytes: 0, total: 100), now: 0)
        XCTAssertNil(row.speed(now: 0.1), "no speed from less than half a second of data")
        row.apply(.progress(bytes: 50, total: 100), now: 1)
        XCTAssertEqual(row.eta(now: 1), 1)
        XCTAssertEqual(row.percent, 50)
    } }
}
