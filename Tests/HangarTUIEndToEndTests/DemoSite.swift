import Foundation
import HangarEngine
import HangarFixtures
import XCTest

/// A fresh demo sandbox per test (the same generator as `hangar demo`, with small payloads so it builds in a blink),
/// and the exact environment hangar runs with: HOME and the config in the sandbox, LocalAI's variables pointing at it,
/// TERM=xterm-256color, LC_ALL=C.UTF-8, and a copy throttle so progress stays on screen long enough to be seen.
final class DemoSite {
    let root: String
    let demo: DemoSandbox
    let hangar: String
    /// Bytes per second for local copies (`HANGAR_COPY_LIMIT`); piper's new build is 12 payload units.
    var copyLimit: Int

    /// `payloadUnit`: bytes per demo "MiB". Sources copy in 1 MiB chunks, so a test that watches progress step by
    /// step needs builds of several MiB.
    init(copyLimit: Int = 512 << 10, payloadUnit: Int = 64 << 10) throws {
        hangar = try HangarExecutable.path()
        root = try makeTemporaryDirectory("e2e")
        try FileManager.default.createDirectory(atPath: root + "/home", withIntermediateDirectories: true)
        demo = DemoSandbox(directory: root + "/demo", payloadUnit: payloadUnit)
        try demo.create(reset: true)
        self.copyLimit = copyLimit
    }

    deinit { removeTree(root) }

    var environment: [String: String] {
        var env = demo.environment
        env["PATH"] = "/usr/bin:/bin"
        env["HOME"] = root + "/home"
        env["XDG_CONFIG_HOME"] = root + "/home/.config"
        env["XDG_DATA_HOME"] = root + "/home/.local/share"
        env["TERM"] = "xterm-256color"
        env["LC_ALL"] = "C.UTF-8"
        env["HANGAR_COPY_LIMIT"] = String(copyLimit)
        return env
    }

    /// `env -i K=V … hangar ARGS` for a shell: the pane runs hangar with exactly `environment`.
    func shellCommand(_ arguments: [String], extraEnvironment: [String: String] = [:]) -> String {
        "cd \(shellQuote(root)) && " + envCommand(environment.merging(extraEnvironment) { $1 }, [hangar] + arguments)
    }

    /// The UI (`hangar` with no subcommand) in a fresh tmux server, waited for until its first frame is drawn.
    func openUI(_ arguments: [String] = [], width: Int = 120, height: Int = 35,
                file: StaticString = #filePath, line: UInt = #line) throws -> TmuxSession {
        let session = try TmuxSession(command: shellCommand(arguments), width: width, height: height, scratch: root)
        eventually("the first frame", file: file, line: line, context: { session.screen() }) {
            session.screen().contains("Backends") && session.screen().contains("piper")
        }
        return session
    }

    /// A backend's metadata.json as written on disk.
    func metadata(_ name: String) -> [String: Any]? {
        guard let data = FileManager.default.contents(atPath: demo.backendsPath + "/\(name)/metadata.json") else { return nil }
        return (try? JSONSerialization.jsonObject(with: data)) as? [String: Any]
    }

    func exists(_ relative: String) -> Bool { FileManager.default.fileExists(atPath: demo.backendsPath + "/" + relative) }

    static func quote(_ text: String) -> String { shellQuote(text) }
}
