import Foundation
@testable import HangarEngine
@testable import HangarTUI
import XCTest

/// Remote mode (`--server`) on a cell grid from a hand-built snapshot: Settings says the auto-upgrade toggle is the
/// server's live setting and that kept versions do not apply there; rollback, hold and versions are left out of the
/// footer and help and answer with the engine's reason instead of pretending to work.
final class RemoteModeUITests: XCTestCase {
    static let url = "http://127.0.0.1:9"

    static func state(remote: Bool) throws -> UIState {
        var snapshot = EngineSnapshot.empty()
        if remote { snapshot.server = ServerConnection(url: url, localAIVersion: "v3.5.0") }
        snapshot.settings = try EffectiveRuntimeSettings(file: JSONObject(["auto_upgrade_backends": .bool(false)]),
                                                         environment: [:], source: url + "/api/settings")
        snapshot.installed = [InstalledBackend(name: "piper", runFile: "", isMeta: false, isSystem: false,
                                               metadata: BackendMetadata(name: "piper", version: "0.9.0"),
                                               broken: nil, directory: url + "/piper")]
        return UIState(snapshot: snapshot)
    }

    func testSettingsOnAServerNameItsLiveSettingAndNoLocalFile() throws { try onMain {
        var state = try Self.state(remote: true)
        _ = state.handle(.char("s"))
        let screen = draw(state, width: 150, height: 40)
        XCTAssertTrue(screen.text.contains("the server's live setting: auto_upgrade_backends on \(Self.url) through its settings API"), screen.text)
        XCTAssertTrue(screen.text.contains("a change applies at once on the server; LocalAI's own checker upgrades flagged backends there"), screen.text)
        XCTAssertFalse(screen.text.contains("runtime_settings.json"), screen.text)
        XCTAssertFalse(screen.text.contains("upgrades flagged backends itself"), screen.text)
        XCTAssertTrue(line(screen, containing: "Previous versions kept").contains("does not apply on a LocalAI server"))
        XCTAssertFalse(screen.text.contains("keep_generations in"), screen.text)
        XCTAssertTrue(line(screen, containing: "Capability").contains("the server's own"))
        XCTAssertFalse(screen.text.contains("set with --capability"), screen.text)

        // Changing the kept versions answers with the reason and asks the engine for nothing.
        state.select(SettingItem.keepGenerations.rawValue, on: .settings)
        XCTAssertEqual(state.handle(.right), [])
        XCTAssertEqual(state.message?.isError, true)
        XCTAssertTrue(state.message?.text.contains("previous versions are not kept on a LocalAI server (\(Self.url))") == true,
                      state.message?.text ?? "")
    } }

    func testLocalSettingsStillNameTheFile() throws { try onMain {
        var state = try Self.state(remote: false)
        _ = state.handle(.char("s"))
        let screen = draw(state, width: 150, height: 40)
        XCTAssertTrue(screen.text.contains("/runtime_settings.json"), screen.text)
        XCTAssertFalse(screen.text.contains("the server's live setting"), screen.text)
    } }

    func testLocalOnlyKeysAreLeftOutAndAnswerWithTheEnginesReason() throws { try onMain {
        var state = try Self.state(remote: true)
        for (screen, key, feature) in [(Screen.backends, Key.char("R"), LocalOnlyFeature.rollback),
                                       (.backends, .char("h"), .holds), (.detail, .char("v"), .versions),
                                       (.detail, .char("R"), .rollback), (.detail, .char("h"), .holds)] {
            state.message = nil
            state.screen = screen
            XCTAssertEqual(state.handle(key), [], "\(key) on \(screen) asks the engine for nothing")
            XCTAssertNil(state.versionPicker)
            XCTAssertNil(state.confirmation)
            XCTAssertEqual(state.message?.text, feature.reason(server: Self.url, backend: "piper"))
            XCTAssertEqual(state.message?.isError, true)
        }
        for screen in [Screen.backends, .detail] {
            state.message = nil
            state.screen = screen
            let canvas = draw(state, width: 200)
            let footer = canvas.line(canvas.height - 1)
            for word in ["roll back", "hold", "versions"] { XCTAssertFalse(footer.contains(word), "\(word) in \(footer)") }
            let help = KeyMap.helpLines(for: screen, remote: true).map(\.label)
            for label in ["R", "h", "v"] { XCTAssertFalse(help.contains(label), "\(label) in help of \(screen)") }
        }
        XCTAssertTrue(KeyMap.helpLines(for: .backends, remote: true).contains {
            $0.label == "a" && $0.description.contains("the server's live setting")
        })

        // Reinstall does not promise what LocalAI does not do (G1: a failed forced reinstall deletes the backend).
        state.screen = .backends
        state.message = nil
        _ = state.handle(.char("r"))
        let lines = state.confirmation?.lines.joined(separator: " ") ?? ""
        XCTAssertTrue(lines.contains("If that fails, LocalAI removes piper"), lines)
        XCTAssertFalse(lines.contains("the current files stay"), lines)
        state.confirmation = nil

        // On a local directory the same keys stay in help and the footer.
        var local = try Self.state(remote: false)
        local.screen = .detail
        XCTAssertTrue(draw(local, width: 200).line(29).contains("versions"))
        XCTAssertTrue(KeyMap.helpLines(for: .detail).map(\.label).contains("R"))
    } }
}
