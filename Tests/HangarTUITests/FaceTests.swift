import Foundation
import HangarEngine
@testable import HangarTUI
import XCTest

/// The meters, the attention banner, width-aware columns, job timings and sizes measured per snapshot.
final class FaceTests: XCTestCase {
    private static let checkedAt = Date(timeIntervalSince1970: 1_800_000_000)

    func testBannerSaysHowManyUpgradesWhatUDoesHowLongAgoAndWhatIsBroken() throws { try onMain {
        let fixture = try TUIFixture()
        var state = try UIState.loaded(try fixture.engine())
        state.wallClock = Self.checkedAt.addingTimeInterval(125)
        let canvas = draw(state)
        let banner = line(canvas, containing: "upgrades available")
        XCTAssertTrue(banner.contains("↑ 3 upgrades available · U upgrades all · checked 2 min ago · ✗ broken: 1"), banner)
        let at = try XCTUnwrap(canvas.find("3 upgrades available"))
        XCTAssertEqual(canvas.style(x: at.x, y: at.y), Style(.upgrade, [.bold]))
        XCTAssertEqual(canvas.style(x: try XCTUnwrap(canvas.find("✗ broken: 1")).x, y: at.y).role, .error)
        XCTAssertEqual(at.y + 1, try XCTUnwrap(canvas.find("NAME")).y, "the banner sits right above the table")
    } }

    func testBannerBeforeAnyCheckAndWhenUpToDateAndWhenTheCheckFailed() throws { try onMain {
        let fixture = try TUIFixture()
        var state = try UIState.loaded(try fixture.engine(), checked: false)
        XCTAssertTrue(draw(state).text.contains("not checked for upgrades yet · c checks now"), draw(state).text)
        var report = try fixture.engine().checkUpgrades()
        report.upgrades = [:]
        state.upgrades = UpgradeCheckStatus(lastCheck: Self.checkedAt, report: report)
        state.wallClock = Self.checkedAt.addingTimeInterval(3 * 3600)
        XCTAssertTrue(draw(state).text.contains("✓ all backends up to date · checked 3 h ago"), draw(state).text)
        state.upgrades.error = "gallery unreachable"
        XCTAssertTrue(draw(state).text.contains("✗ last check failed: gallery unreachable · c retries"), draw(state).text)
        XCTAssertEqual(AttentionBanner.agoText(from: Self.checkedAt, to: Self.checkedAt.addingTimeInterval(30)), "just now")
        XCTAssertEqual(AttentionBanner.agoText(from: Self.checkedAt, to: Self.checkedAt.addingTimeInterval(2 * 86400)), "2 days ago")
    } }

    func testMetersCountBackendsByStateAndShowTheDiskUsedOnceMeasured() throws { try onMain {
        let fixture = try TUIFixture()
        var state = try UIState.loaded(try fixture.engine())
        let summary = BackendSummary(state)
        XCTAssertEqual(summary.total, 10)
        XCTAssertEqual(summary.broken, 1)
        XCTAssertEqual(summary.system, 1)
        XCTAssertEqual(summary.upgradable, 4, "piper, oldimg, kokoro and its alias tts")
        XCTAssertEqual(summary.current + summary.upgradable + summary.broken + summary.system + summary.unchecked, summary.total)
        XCTAssertTrue(draw(state).line(3).contains("disk: measuring…"), draw(state).line(3))
        state.snapshot.measureDiskUsage()
        let meters = draw(state).line(3)
        XCTAssertTrue(meters.contains("] broken: 1 · upgradable: 4 · current: 4 · system: 1"), meters)
        XCTAssertNotNil(meters.range(of: #"disk: \d+\.\d KiB · jobs: idle"#, options: .regularExpression), meters)
        let bar = try XCTUnwrap(meters.split(separator: "[").last?.split(separator: "]").first.map(String.init), meters)
        XCTAssertEqual(bar.count, 20, bar)
        XCTAssertEqual(bar.filter { $0 == "█" }.count, 8, "4 of 10 rows current: \(bar)")
        XCTAssertEqual(bar.filter { $0 == "▒" }.count, 8, "4 of 10 upgradable: \(bar)")
        XCTAssertTrue(bar.contains("✗") && bar.hasSuffix("░"), bar)
        let ascii = try UIState.loaded(try fixture.engine(), glyphs: .ascii)
        XCTAssertTrue(draw(ascii).line(3).unicodeScalars.allSatisfy(\.isASCII), draw(ascii).line(3))
    } }

    func testDashboardGivesWayOnShortTerminals() throws { try onMain {
        let fixture = try TUIFixture()
        let state = try UIState.loaded(try fixture.engine())
        XCTAssertFalse(draw(state, width: 80, height: 15).text.contains("upgrades available"))
        XCTAssertTrue(draw(state, width: 80, height: 16).text.contains("upgrades available"))
        XCTAssertFalse(draw(state, width: 80, height: 19).text.contains("disk: "))
        XCTAssertTrue(draw(state, width: 80, height: 20).text.contains("disk: "))
        XCTAssertEqual(Screens.pageSize(for: .backends, height: 30), 30 - 5 - 1 - 2)
        XCTAssertEqual(Screens.pageSize(for: .backends, height: 12), 6)
    } }

    func testColumnsUseTheWidth() throws { try onMain {
        let fixture = try TUIFixture()
        var state = try UIState.loaded(try fixture.engine())
        state.snapshot.measureDiskUsage()
        let wide = draw(state, width: 120)
        let header = line(wide, containing: "NAME")
        XCTAssertNotNil(header.range(of: #"NAME +VERSION +UPGRADE +GALLERY +SIZE INSTALLED +KIND"#, options: .regularExpression), header)
        XCTAssertNotNil(line(wide, containing: "  piper ").range(of: #"test +\d+\.\d KiB 2026-12-01"#, options: .regularExpression),
                        line(wide, containing: "  piper "))
        let medium = line(draw(state, width: 100), containing: "NAME")
        XCTAssertTrue(medium.contains("GALLERY") && medium.contains("SIZE") && !medium.contains("INSTALLED"), medium)
        let narrow = line(draw(state, width: 60, height: 14), containing: "NAME")
        XCTAssertFalse(narrow.contains("GALLERY"), narrow)
        for width in [60, 80, 120] {
            let c = BackendsScreen.Columns(width: width - 2, nameWidth: 15, galleryWidth: 7)
            XCTAssertGreaterThanOrEqual(c.kind, width >= 80 ? BackendsScreen.Columns.minimumKindWidth : 0, "\(width)")
            let shown = [c.name, c.version, c.upgrade, c.gallery, c.size, c.installed, c.kind].filter { $0 > 0 }
            XCTAssertEqual(shown.reduce(0, +) + shown.count - 1, width - 2, "\(width) columns are used to the edge: \(c)")
        }
    } }

    func testAMetaReplacedByAnAliasOfTheSameBuildSaysItOnce() throws {
        let fixture = try TUIFixture()
        // The fixture's alias row (tts → kokoro), turned into LocalAI's llama-cpp case: an alias that replaced a meta.
        var row = try XCTUnwrap(try fixture.engine().installed().get("tts"))
        row.name = "llama-cpp"
        row.metadata = BackendMetadata(alias: "llama-cpp", name: "cpu-llama-cpp")
        row.replacedMeta = BackendMetadata(metaBackendFor: "cpu-llama-cpp", name: "llama-cpp")
        XCTAssertEqual(row.kindMarks(devSuffix: "development"), "meta → cpu-llama-cpp, alias → cpu-llama-cpp")
        XCTAssertEqual(Badges.kind(row, devSuffix: "development", arrow: "→"), "meta → cpu-llama-cpp")
        row.replacedMeta = BackendMetadata(metaBackendFor: "cuda12-llama-cpp", name: "llama-cpp")
        XCTAssertEqual(Badges.kind(row, devSuffix: "development", arrow: "->"), "meta -> cuda12-llama-cpp, alias -> cpu-llama-cpp",
                       "different builds: both are said")
    }

    func testARunningJobDrawsItsBarInItsBackendsRow() throws { try onMain {
        let fixture = try TUIFixture()
        var state = try UIState.loaded(try fixture.engine())
        state.jobs = [JobRow(job: 1, operation: .upgrade, backend: "piper")]
        state.jobs[0].apply(.progress(bytes: 0, total: 100), now: 0)
        state.jobs[0].apply(.progress(bytes: 40, total: 100), now: 1)
        state.now = 1
        let canvas = draw(state)
        let row = line(canvas, containing: "  piper ")
        XCTAssertTrue(row.contains("upgrade 40%"), row)
        let y = try XCTUnwrap(canvas.find("  piper ")).y
        let filled = canvas.cells[y].indices.filter { canvas.cells[y][$0].character == "█" }
        XCTAssertEqual(filled.count, 8, "40% of a 20-cell bar on piper's row: \(row)")
        XCTAssertTrue(filled.allSatisfy { canvas.style(x: $0, y: y).role == .progressFill })
        XCTAssertEqual(row.filter { $0 == "░" }.count, 12)
        // Selected, the bar takes the selection's colours: a cyan fill on the cyan selection bar would vanish.
        state.select(try XCTUnwrap(state.backendRows.firstIndex { $0.name == "piper" }), on: .backends)
        let selected = draw(state)
        XCTAssertTrue(filled.allSatisfy { selected.style(x: $0, y: y).role == .selection }, selected.text)
        XCTAssertTrue(row.contains("40 B/s ETA 2s"), row)
    } }

    func testJobRowsKeepStartTimeDurationBytesAndSpeedAfterTheEnd() throws { try onMain {
        var row = JobRow(job: 3, operation: .upgrade, backend: "piper")
        let start = Date(timeIntervalSince1970: 1_800_000_000)
        row.apply(.queued, now: 0, wall: start)
        XCTAssertNil(row.duration(now: 5), "a queued job has not started")
        row.apply(.phase(.downloading, detail: ""), now: 10, wall: start)
        row.apply(.progress(bytes: 0, total: 4 << 20), now: 10)
        row.apply(.progress(bytes: 4 << 20, total: 4 << 20), now: 12)
        row.apply(.done(summary: "upgraded piper v0.8.0 → v0.9.0"), now: 13)
        XCTAssertEqual(row.duration(now: 100), 3, "the duration stops at the end")
        XCTAssertEqual(row.finalSpeed, Double(2 << 20))
        var state = UIState(snapshot: .empty())
        state.jobs = [row]
        state.now = 100
        state.screen = .jobs
        let screen = draw(state)
        XCTAssertNotNil(line(screen, containing: "STATE").range(of: #"STATE +STARTED +TOOK +BYTES +SPEED"#, options: .regularExpression))
        let first = line(screen, containing: "#3 upgrade piper")
        XCTAssertNotNil(first.range(of: "✓ done +\(NSRegularExpression.escapedPattern(for: TextFormat.clock(start))) +3s +4\\.0 MiB +2\\.0 MiB/s",
                                    options: .regularExpression), first)
        XCTAssertFalse(line(draw(state, width: 60), containing: "#3 upgrade").contains("MiB/s"), "60 columns drop the speed")
    } }

    func testSizesAreMeasuredOncePerSnapshotAndKeptForUnchangedInstalls() throws {
        let fixture = try TUIFixture()
        let engine = try fixture.engine()
        var first = EngineSnapshot.loadLocal(engine)
        XCTAssertNil(first.totalDiskUsage, "nothing measured on load: the first frame does not wait for a tree walk")
        first.measureDiskUsage()
        let piper = try XCTUnwrap(first.diskUsage["piper"])
        XCTAssertGreaterThan(piper, 0)
        XCTAssertEqual(first.diskUsage["tts"], first.diskUsage["kokoro"], "an alias has its build's size")
        // Grow piper without a new install: the next snapshot reuses the measured size; a changed install is walked.
        try Data(count: 256 << 10).write(to: URL(fileURLWithPath: fixture.backends + "/piper/blob"))
        var second = EngineSnapshot.loadLocal(engine)
        second.reuseDiskUsage(from: first)
        XCTAssertTrue(second.diskUsageMeasured, "every row is the same install: nothing to walk")
        XCTAssertEqual(second.diskUsage["piper"], piper)
        var metadata = try fixture.metadata("kokoro")
        metadata.installedAt = "2026-12-02T00:00:00Z"
        try metadata.encoded().write(toFile: fixture.backends + "/kokoro/metadata.json", atomically: true, encoding: .utf8)
        var reinstalled = EngineSnapshot.loadLocal(engine)
        reinstalled.reuseDiskUsage(from: first)
        XCTAssertNil(reinstalled.diskUsage["kokoro"], "a new install is measured again")
        XCTAssertFalse(reinstalled.diskUsageMeasured)
        reinstalled.measureDiskUsage()
        XCTAssertEqual(reinstalled.diskUsage["piper"], piper, "the walk keeps the sizes it was given")
        XCTAssertNotNil(reinstalled.diskUsage["kokoro"])
        var third = EngineSnapshot.loadLocal(engine)
        third.measureDiskUsage()
        XCTAssertGreaterThan(try XCTUnwrap(third.diskUsage["piper"]), piper)
        XCTAssertLessThan(try XCTUnwrap(third.totalDiskUsage), third.diskUsage.values.reduce(0, +),
                          "kokoro's directory is counted once, not again for its alias tts")
    }
}
