import Foundation
import HangarEngine
import HangarFixtures
import XCTest

/// The real binary's UI under tmux on a LocalAI server (the stand-in, real HTTP on 127.0.0.1): the header names the
/// server, its version and the connection; an upgrade shows live progress; LocalAI's failed upgrade is reported as
/// what the server did; the auto-upgrade toggle writes the live setting; a server that stops answering leaves the
/// last listing on screen marked stale while hangar retries, and one that refuses the key says so.
final class RemoteUIEndToEndTests: XCTestCase {
    private let key = "sk-remote-ui-0123456789"
    private var site: RemoteUISite!
    private var standIn: LocalAIStandIn { site.standIn }

    override func setUpWithError() throws {
        // Slow enough ticks that the progress bar is on screen for a few captures.
        site = try RemoteUISite(key: key, tick: 0.25, ticks: 10)
    }

    override func tearDown() { site = nil }

    private func openUI(server: String? = nil, key: String? = nil) throws -> TmuxSession {
        try site.openUI(server: server, key: key)
    }

    func testBrowseUpgradeFailToggleAndLoseTheServer() throws {
        let ui = try openUI()
        eventually("the first frame on the server", context: { ui.screen() }) {
            ui.screen().contains("piper") && ui.screen().contains("connected")
        }
        let header = ui.lines.first ?? ""
        XCTAssertTrue(header.contains("server \(standIn.url)"), header)
        XCTAssertTrue(header.contains("LocalAI \(LocalAIStandIn.version)"), header)
        XCTAssertTrue(header.range(of: #"connected, \d+ ms"#, options: .regularExpression) != nil, header)
        XCTAssertFalse(ui.screen().contains(key), "the key is never shown")

        // An upgrade is LocalAI's job; its progress shows in the row while the server runs it.
        eventually("the upgrade indicator", timeout: 15, context: { ui.screen() }) { ui.screen().contains("↑ v0.9.0") }
        try select("piper", in: ui)
        try ui.send("u")
        eventually("live progress of the server's job", timeout: 10, context: { ui.screen() }) {
            ui.lines.contains { $0.contains("piper") && $0.range(of: #"\d+%"#, options: .regularExpression) != nil }
        }
        eventually("the upgrade to finish on the server", timeout: 20, context: { ui.screen() }) {
            self.standIn.installedMetadata("piper")?.version == "0.9.0"
        }

        // A failed upgrade: LocalAI deletes the backend (G1), and the UI says so instead of "old version kept".
        try select("kokoro", in: ui)
        try ui.send("u")
        eventually("the truthful failure", timeout: 20, context: { ui.screen() }) {
            ui.screen().contains("LocalAI removed kokoro after its failed upgrade")
        }
        XCTAssertNil(standIn.installedMetadata("kokoro"))

        // Settings: the toggle writes the server's live setting, and says it applies at once there.
        try ui.send("5")
        eventually("the Settings screen", context: { ui.screen() }) { ui.screen().contains("auto-upgrade") }
        // Before the toggle the screen already says whose setting it is; no file of hangar's is named.
        let settings = ui.screen()
        XCTAssertTrue(settings.contains("the server's live setting: auto_upgrade_backends on \(standIn.url) through its settings API"), settings)
        XCTAssertTrue(settings.contains("a change applies at once on the server; LocalAI's own checker upgrades flagged backends there"), settings)
        XCTAssertFalse(settings.contains("runtime_settings.json"), settings)
        XCTAssertFalse(settings.contains("upgrades flagged backends itself"), settings)
        XCTAssertTrue(ui.lines.contains { $0.contains("Previous versions kept") && $0.contains("does not apply on a LocalAI server") }, settings)
        XCTAssertFalse(standIn.autoUpgrade)
        try ui.send("a")
        eventually("the server's live setting", timeout: 10, context: { ui.screen() }) { self.standIn.autoUpgrade }
        eventually("the message", context: { ui.screen() }) { ui.screen().contains("auto-upgrade on: applies at once on the server") }

        // The server stops answering: the listing stays, marked stale, and hangar retries with backoff.
        try ui.send("1")
        // Three polls in a row get a dropped connection (backoff 1 s, 2 s), then the server answers again.
        for _ in 0..<3 { standIn.inject(.http(.closeAfter(bytes: 0)), on: "/") }
        eventually("the stale listing", timeout: 15, context: { ui.screen() }) {
            ui.screen().contains("STALE") && ui.screen().contains("not answering, retrying in")
        }
        XCTAssertTrue(ui.screen().contains("piper"), "the last listing stays on screen\n\(ui.screen())")
        eventually("the server back", timeout: 30, context: { ui.screen() }) {
            !ui.screen().contains("STALE") && (ui.lines.first ?? "").contains("connected")
        }
        try ui.send("q")
        eventually("hangar to exit", timeout: 10, context: { ui.screen(history: true) }) { ui.exitStatus != nil }
    }

    /// Rollback, hold and versions live beside a local directory: on a server they are not offered, and their keys
    /// answer with the engine's one-line reason while nothing is sent to the server.
    func testLocalOnlyKeysSayWhyAndChangeNothingOnTheServer() throws {
        let ui = try openUI()
        eventually("the first frame on the server", context: { ui.screen() }) {
            ui.screen().contains("piper") && ui.screen().contains("connected")
        }
        let footer = ui.lines.last ?? ""
        for word in ["roll back", "hold"] { XCTAssertFalse(footer.contains(word), "\(word) in \(footer)") }
        try ui.send("?")
        eventually("the help", context: { ui.screen() }) { ui.screen().contains("Keys: Backends") }
        XCTAssertFalse(ui.screen().contains("roll back to the previous version"), ui.screen())
        XCTAssertFalse(ui.screen().contains("hold the selected backend"), ui.screen())
        try ui.send("?")
        eventually("the help closed", context: { ui.screen() }) { !ui.screen().contains("Keys: Backends") }

        try select("piper", in: ui)
        let before = standIn.installedMetadata("piper")
        let mark = standIn.requests.count
        let url = standIn.url
        try ui.send("R")
        eventually("the rollback reason", context: { ui.screen() }) {
            ui.screen().contains("rollback is not available for a LocalAI server (\(url))")
        }
        try ui.send("h")
        eventually("the hold reason", context: { ui.screen() }) {
            ui.screen().contains("holds are hangar's own state beside a local backends directory")
        }
        try ui.send("Enter")
        eventually("Detail", context: { ui.screen() }) { ui.screen().contains("not kept on a LocalAI server") }
        XCTAssertFalse((ui.lines.last ?? "").contains("versions"), ui.lines.last ?? "")
        try ui.send("v")
        eventually("the versions reason", context: { ui.screen() }) {
            ui.screen().contains("listing an image's versions is not available for a LocalAI server")
        }
        XCTAssertFalse(ui.screen().contains("asking the registry"), ui.screen())
        // Only the UI's own reads went to the server: no job, no setting, nothing written.
        let sent = standIn.requests.dropFirst(mark).filter { $0.method != "GET" && $0.path != "/backends/upgrades/check" }
        XCTAssertTrue(sent.isEmpty, "\(sent.map { "\($0.method) \($0.path)" })")
        XCTAssertEqual(standIn.installedMetadata("piper"), before)
        try ui.send("q")
        eventually("hangar to exit", timeout: 10, context: { ui.screen(history: true) }) { ui.exitStatus != nil }
    }

    func testAWrongKeyIsOneLineNamingItsSource() throws {
        let ui = try openUI(key: "sk-wrong-key-000")
        eventually("the refusal", timeout: 15, context: { ui.screen() }) { ui.screen().contains("unauthorised") }
        XCTAssertTrue(ui.screen().contains("LOCALAI_API_KEY"), ui.screen())
        XCTAssertFalse(ui.screen().contains("sk-wrong-key-000"), "the key is never shown")
        try ui.send("q")
        eventually("hangar to exit", timeout: 10, context: { ui.screen(history: true) }) { ui.exitStatus != nil }
    }

    func testAServerThatIsDownIsSaidAndRetried() throws {
        let proxy = try DelayProxy(upstreamPort: standIn.port, delay: 0)
        let ui = try openUI(server: "http://" + proxy.hostPort)
        eventually("the first frame", context: { ui.screen() }) { ui.screen().contains("piper") && ui.screen().contains("connected") }
        proxy.stop()
        eventually("the retry countdown", timeout: 15, context: { ui.screen() }) {
            ui.screen().contains("not answering, retrying in") && ui.screen().contains("STALE")
        }
        XCTAssertTrue(ui.screen().contains("piper"), ui.screen())
        try ui.send("q")
        eventually("hangar to exit", timeout: 10, context: { ui.screen(history: true) }) { ui.exitStatus != nil }
    }
}
