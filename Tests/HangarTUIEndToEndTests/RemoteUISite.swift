import Foundation
import HangarEngine
import HangarFixtures
import XCTest

/// A LocalAI stand-in with the sample gallery (piper and kokoro installed, two upgrades pending) and the real binary's
/// UI on it under tmux: the environment every remote-mode end-to-end test uses (fast job polls, a 1 s idle poll).
final class RemoteUISite {
    let key: String
    let standIn: LocalAIStandIn
    let root: String

    /// `tick`/`ticks`: how a job's progress advances on the server (slow enough for captures to see it).
    init(key: String, tick: Double, ticks: Int) throws {
        self.key = key
        root = try makeTemporaryDirectory("remote-ui")
        standIn = try LocalAIStandIn(gallery: LocalAIStandIn.sampleGallery, apiKeys: [key], tick: tick, ticks: ticks)
        try standIn.preinstallSamples()
    }

    deinit {
        standIn.stop()
        removeTree(root)
    }

    /// `hangar --server <server or the stand-in>` with `key` (default: the accepted one) in LOCALAI_API_KEY.
    func openUI(server: String? = nil, key: String? = nil) throws -> TmuxSession {
        let env = ["PATH": "/usr/bin:/bin", "HOME": root, "TERM": "xterm-256color", "LC_ALL": "C.UTF-8",
                   "LOCALAI_API_KEY": key ?? self.key, "HANGAR_SERVER_POLL_INTERVAL": "0.1",
                   "HANGAR_SERVER_CHECK_WAIT": "1", "HANGAR_SERVER_TIMEOUT": "3", "HANGAR_SERVER_IDLE_POLL": "1"]
        let command = "cd \(shellQuote(root)) && " + envCommand(env, [try HangarExecutable.path(), "--server", server ?? standIn.url])
        return try TmuxSession(command: command, width: 120, height: 32, scratch: root)
    }
}
