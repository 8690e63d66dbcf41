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
}
