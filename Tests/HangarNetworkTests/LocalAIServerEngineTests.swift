import Foundation
import HangarEngine
import HangarFixtures
import Synchronization
import XCTest

/// The engine in remote mode, in process: the store behind `Engine.live`, and cancelling through LocalAI's
/// cancel endpoint.
final class LocalAIServerEngineTests: LocalAIServerTestCase {
    private func engine(_ extra: [String: String] = [:]) throws -> Engine {
        let configuration = try HangarConfiguration.resolve(flags: .init(server: standIn.url + "/"),
                                                            environment: environment(extra), workingDirectory: directory)
        let live = Engine.live(configuration: configuration)
        XCTAssertNil(live.recovery, "remote mode runs no local recovery")
        return live.engine
    }

    func testLiveEngineTalksToTheServer() throws {
        let engine = try engine()
        XCTAssertEqual(engine.location, standIn.url, "the trailing slash is dropped")
        XCTAssertEqual(engine.configuration.server?.apiKey?.description, "API key from LOCALAI_API_KEY")
        XCTAssertFalse("\(engine.configuration)".contains(key), "printing the configuration never shows the key")
        XCTAssertEqual(try engine.installed().rows.map(\.name), ["kokoro", "piper"])
        let available = try engine.availableBackends()
        XCTAssertEqual(available.backends.map(\.entry.name), ["piper", "kokoro", "whisper"])
        XCTAssertEqual(available.backends.map(\.installed), [true, true, false])
        XCTAssertEqual(try engine.settings().autoUpgradeBackends, false)
    }

    func testCancelUsesLocalAIsCancelEndpoint() throws {
        standIn.setNeverFinish(true)
        let engine = try engine()
        let events = Mutex<[JobEvent]>([])
        engine.jobs.subscribe(on: DispatchQueue(label: "events")) { event in events.withLock { $0.append(event) } }
        let id = try engine.install("whisper", force: false)
        XCTAssertTrue(waitUntil(timeout: 10) {
            events.withLock { $0.contains { if case .progress = $0.kind { return true }; return false } }
        }, "the job ran on the server")
        engine.jobs.cancel(id)
        XCTAssertEqual(engine.jobs.wait(id), .cancelled)
        XCTAssertTrue(standIn.requests.contains { $0.method == "POST" && $0.path.hasPrefix("/api/operations/") && $0.path.hasSuffix("/cancel") })
        XCTAssertNil(standIn.installedMetadata("whisper"))
    }

    func testServerConfigurationSources() throws {
        func resolve(_ flags: HangarConfiguration.Flags, _ env: [String: String]) throws -> HangarConfiguration {
            try HangarConfiguration.resolve(flags: flags, environment: env, workingDirectory: directory)
        }
        let local = try resolve(.init(), ["LOCALAI_API_KEY": "k"])
        XCTAssertNil(local.server, "no server: local mode")
        XCTAssertEqual(local.backendsPath, directory + "/backends")

        let fromEnv = try resolve(.init(), ["HANGAR_SERVER": "https://gpu-box:8443/localai/", "LOCALAI_API_KEY": "k1, k2"])
        XCTAssertEqual(fromEnv.server?.url, "https://gpu-box:8443/localai")
        XCTAssertEqual(fromEnv.server?.apiKey?.source, "LOCALAI_API_KEY")
        XCTAssertEqual(fromEnv.sources["backends_path"], "HANGAR_SERVER")
        XCTAssertNil(fromEnv.environment["LOCALAI_API_KEY"])

        try HangarFixtures.write(path: directory + "/key", text: "from-file\n")
        let flagWins = try resolve(.init(server: "http://a:1", apiKeyFile: "key"), ["HANGAR_SERVER": "http://b:2", "LOCALAI_API_KEY": "k"])
        XCTAssertEqual(flagWins.server?.url, "http://a:1")
        XCTAssertEqual(flagWins.server?.apiKey?.source, "--api-key-file \(directory!)/key", "the file wins over the variable")

        XCTAssertThrowsError(try resolve(.init(server: "http://a:1"), ["HANGAR_SERVER_POLL_INTERVAL": "soon"])) { error in
            XCTAssertEqual((error as? HangarError)?.category, .configuration)
            XCTAssertTrue("\(error)".contains("HANGAR_SERVER_POLL_INTERVAL=soon is not a number of seconds"), "\(error)")
        }
        try HangarFixtures.write(path: directory + "/two-lines", text: "a\nb\n")
        XCTAssertThrowsError(try resolve(.init(server: "http://a:1", apiKeyFile: "two-lines"), [:])) { error in
            XCTAssertTrue("\(error)".contains("must hold the key on one line"), "\(error)")
        }
    }

    func testTheSchedulerLeavesAutoUpgradesToTheServer() throws {
        _ = try engine().setAutoUpgrade(true)
        XCTAssertTrue(standIn.autoUpgrade)
        let engine = try engine()
        let checker = UpgradeScheduler(engine: engine, interval: { 3600 })
        checker.start()
        defer { checker.stop() }
        XCTAssertTrue(waitUntil(timeout: 10) { checker.status.lastCheck != nil && !checker.status.isChecking })
        XCTAssertEqual(Set(checker.status.report?.upgrades.keys ?? [:].keys), ["piper", "kokoro"])
        XCTAssertEqual(checker.status.autoUpgradeJobs, [], "LocalAI's own checker upgrades (§9.2); hangar must not race it")
        XCTAssertFalse(standIn.requests.contains { $0.path.hasPrefix("/backends/upgrade/") })
    }
}
