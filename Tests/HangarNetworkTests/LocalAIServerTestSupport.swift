import Foundation
import HangarEngine
import HangarFixtures
import XCTest

/// A LocalAI stand-in per test and the real `hangar` binary pointed at it with `--server`.
class LocalAIServerTestCase: XCTestCase {
    var standIn: LocalAIStandIn!
    var directory: String!
    /// The key the stand-in requires (legacy API key mode, §3.1).
    let key = "sk-standin-0123456789abcdef"

    static let gallery = LocalAIStandIn.sampleGallery

    override func setUpWithError() throws {
        directory = try makeTemporaryDirectory("localai-remote")
        standIn = try LocalAIStandIn(gallery: Self.gallery, apiKeys: [key])
        try standIn.preinstallSamples()
    }

    override func tearDown() {
        standIn?.stop()
        if let directory { removeTree(directory) }
    }

    /// The environment of a remote-mode run: the key in LOCALAI_API_KEY unless `withKey` is false, fast polls.
    func environment(_ extra: [String: String] = [:], withKey: Bool = true) -> [String: String] {
        var env = ["PATH": "/usr/bin:/bin", "HOME": directory!, "HANGAR_SERVER_POLL_INTERVAL": "0.05",
                   "HANGAR_SERVER_CHECK_WAIT": "1", "HANGAR_SERVER_TIMEOUT": "5"]
        if withKey { env["LOCALAI_API_KEY"] = key }
        return env.merging(extra) { $1 }
    }

    /// `hangar <arguments> --server <stand-in>` in the test's directory (which has no backends directory).
    func hangar(_ arguments: [String], server: String? = nil, env: [String: String] = [:], withKey: Bool = true,
                timeout: Double = 30) throws -> HangarExecutable.Run {
        try HangarExecutable.run(arguments + ["--server", server ?? standIn.url],
                                 environment: environment(env, withKey: withKey), directory: directory, timeout: timeout)
    }

    /// JSON Lines of a `--json` job run.
    func events(_ run: HangarExecutable.Run) throws -> [[String: Any]] {
        try run.stdout.split(separator: "\n").map { line in
            try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any], "not JSON: \(line)")
        }
    }

    /// The one JSON document a `--json` query printed.
    func document(_ run: HangarExecutable.Run) throws -> Any {
        try JSONSerialization.jsonObject(with: Data(run.stdout.utf8))
    }

    /// Asserts the key appears nowhere in what hangar printed.
    func assertNoKey(_ run: HangarExecutable.Run, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertFalse(run.stdout.contains(key) || run.stderr.contains(key), "the API key was printed", file: file, line: line)
    }
}
