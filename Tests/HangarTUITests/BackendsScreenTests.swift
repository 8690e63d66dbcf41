import Foundation
import HangarEngine
@testable import HangarTUI
import XCTest

/// The Backends screen on real engine data: badges, indicators, kind marks, header.
final class BackendsScreenTests: XCTestCase {
    func testVersionBadgesShowVersionShortDigestOrQuestionMark() throws { try onMain {
        let fixture = try TUIFixture()
        let screen = draw(try UIState.loaded(try fixture.engine()))
        XCTAssertTrue(line(screen, containing: "piper").contains("v0.8.0"))
        XCTAssertTrue(line(screen, containing: "oldimg").contains("sha256:3f2a9c1 "), line(screen, containing: "oldimg"))
        XCTAssertTrue(line(screen, containing: "unknown").hasSuffix(" ?"), line(screen, containing: "unknown"))
    } }

    func testUpgradeIndicatorsNameTheNewVersionOrANewBuild() throws { try onMain {
        let fixture = try TUIFixture()
        let screen = draw(try UIState.loaded(try fixture.engine()))
        XCTAssertTrue(line(screen, containing: "piper").contains("↑ v0.9.0"))
        XCTAssertTrue(line(screen, containing: "oldimg").contains("↑ new build"))
        XCTAssertTrue(line(screen, containing: "kokoro").contains("↑ v1.1.0"))
        XCTAssertFalse(line(screen, containing: "cpu-whisper").contains("↑"), "cpu-whisper is up to date")
        XCTAssertTrue(line(screen, containing: "last check").contains("3 upgrades"), line(screen, containing: "last check"))
    } }

    func testKindMarksForMetaAliasSystemBrokenAndDevelopmentBuilds() throws { try onMain {
        let fixture = try TUIFixture()
        let screen = draw(try UIState.loaded(try fixture.engine()), width: 140)
        XCTAssertTrue(line(screen, containing: "  whisper ").contains("meta → cpu-whisper"))
        XCTAssertTrue(line(screen, containing: "  tts ").contains("alias → kokoro"))
        XCTAssertTrue(line(screen, containing: "system-vllm").contains("system (protected)"))
        XCTAssertTrue(line(screen, containing: " broken ").contains("broken: malformed"), line(screen, containing: " broken "))
        XCTAssertTrue(line(screen, containing: "foo-development").contains("development build"))
        XCTAssertTrue(line(screen, containing: "  piper ").contains("test"), "gallery column names the gallery")
    } }

    func testHeaderShowsCapabilityPathGalleryAutoUpgradeAndCheck() throws { try onMain {
        let fixture = try TUIFixture()
        let screen = draw(try UIState.loaded(try fixture.engine()), width: 160)
        XCTAssertTrue(screen.line(0).contains("capability default (forced)"), screen.line(0))
        XCTAssertTrue(screen.line(0).contains(fixture.backends))
        XCTAssertTrue(screen.line(1).contains("gallery test 8 entries, read"), screen.line(1))
        XCTAssertTrue(screen.line(1).contains("auto-upgrade off"))
        XCTAssertTrue(screen.line(1).contains("last check \(TextFormat.clock(Date(timeIntervalSince1970: 1_800_000_000))): 3 upgrades"))
        XCTAssertTrue(screen.line(29).contains("u upgrade") && screen.line(29).contains("q quit"), screen.line(29))
    } }

    func testUpgradesFirstAndUpgradesOnlyOrders() throws { try onMain {
        let fixture = try TUIFixture()
        var state = try UIState.loaded(try fixture.engine())
        _ = state.handle(.char("o"))
        XCTAssertEqual(state.backendRows.prefix(3).map(\.name).sorted(), ["kokoro", "oldimg", "piper"])
        _ = state.handle(.char("o"))
        XCTAssertEqual(state.backendRows.map(\.name).sorted(), ["kokoro", "oldimg", "piper", "tts"])
        XCTAssertTrue(draw(state).text.contains("order: upgrades only"))
    } }

    func testDetailShowsEveryMetadataFieldAndTheUpgradeChange() throws { try onMain {
        let fixture = try TUIFixture()
        var state = try UIState.loaded(try fixture.engine())
        state.selection[.backends] = try XCTUnwrap(state.backendRows.firstIndex { $0.name == "piper" })
        _ = state.handle(.enter)
        XCTAssertEqual(state.screen, .detail)
        state.diskUsage["piper"] = 2048
        let screen = draw(state)
        for (label, value) in [("name", "piper"), ("version", "v0.8.0"), ("uri", fixture.root + "/sources/piper-0.8.0"),
                               ("gallery", "test (file://"), ("installed_at", "2026-12-01T10:00:00Z"),
                               ("run file", fixture.backends + "/piper/run.sh"), ("size on disk", "2.0 KiB"),
                               ("upgrade", "v0.8.0 → v0.9.0"), ("last operation", "none recorded"),
                               ("digest", "(none recorded)"), ("meta_backend_for", "-"), ("alias", "-")] {
            XCTAssertTrue(line(screen, containing: "  \(label) ").contains(value), "\(label): \(line(screen, containing: "  \(label) "))")
        }
    } }

    func testCatalogShowsCompatibleEntriesAndTogglesAllAndDevelopmentBuilds() throws { try onMain {
        let fixture = try TUIFixture()
        var state = try UIState.loaded(try fixture.engine())
        _ = state.handle(.char("2"))
        var names = state.catalogRows.map(\.entry.name)
        XCTAssertTrue(names.contains("bark"))
        XCTAssertFalse(names.contains("cuda12-bark"), "not for a default host")
        XCTAssertFalse(names.contains("bark-development"), "development builds hidden by default")
        let screen = draw(state)
        XCTAssertTrue(line(screen, containing: " piper ").contains("↑ upgradable"), "installed with an upgrade waiting")
        XCTAssertTrue(line(screen, containing: " cpu-whisper ").contains("✓ installed"))
        XCTAssertTrue(line(screen, containing: " piper ").contains("tts, fast"))
        XCTAssertTrue(line(screen, containing: "  whisper ").contains("meta → cpu-whisper"))
        XCTAssertTrue(line(screen, containing: "  bark ").contains("not installed"))
        _ = state.handle(.char("A"))
        _ = state.handle(.char("P"))
        names = state.catalogRows.map(\.entry.name)
        XCTAssertTrue(names.contains("cuda12-bark") && names.contains("bark-development"))
        state.selection[.catalog] = try XCTUnwrap(state.catalogRows.firstIndex { $0.entry.name == "bark" })
        XCTAssertTrue(draw(state).text.contains("Bark audio generation"), "description pane of the selected entry")
        XCTAssertEqual(state.handle(.char("i")), [.install("bark")])
    } }
}
