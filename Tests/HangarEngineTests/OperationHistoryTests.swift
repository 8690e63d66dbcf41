import Foundation
import XCTest
@testable import HangarEngine

/// `<backends>/.hangar/history.json`: the last operation of each backend, across engines and restarts.
final class OperationHistoryTests: XCTestCase {
    func testEveryOutcomeIsRecordedAndSurvivesANewEngine() throws {
        let f = try EngineFixture()
        let good = try f.source("piper-2")
        let broken = try f.source("kokoro-2", runScript: false)
        try f.gallery("---\n- {name: piper, uri: \"\(good)\", version: \"2\"}\n- {name: kokoro, uri: \"\(broken)\", version: \"2\"}\n")
        try f.installed("piper", BackendMetadata(name: "piper", version: "1", uri: "/old"))
        try f.installed("kokoro", BackendMetadata(name: "kokoro", version: "1", uri: "/old"))
        let engine = try f.engine()
        let before = Date()
        let upgrade = try engine.upgrade("piper")
        XCTAssertTrue(engine.jobs.wait(upgrade).isSuccess)
        _ = engine.jobs.wait(try engine.upgrade("kokoro"))
        _ = engine.jobs.wait(try engine.uninstall("nope"))

        let piper = try XCTUnwrap(engine.lastOperation(for: "piper"))
        XCTAssertEqual(piper.job, upgrade)
        XCTAssertEqual(piper.operation, .upgrade)
        XCTAssertEqual(piper.outcome, "done")
        XCTAssertEqual(piper.message, "upgraded piper v1 → v2")
        XCTAssertGreaterThanOrEqual(piper.finishedAt.timeIntervalSince1970, before.timeIntervalSince1970 - 0.001)
        let kokoro = try XCTUnwrap(engine.lastOperation(for: "kokoro"))
        XCTAssertEqual(kokoro.outcome, "rolled_back")
        XCTAssertTrue(kokoro.message.hasSuffix("— v1 restored"), kokoro.message)
        XCTAssertEqual(engine.lastOperation(for: "nope")?.outcome, "failed")
        XCTAssertNil(engine.lastOperation(for: "whisper"))

        // A restart (a new engine, as a new process would make) reads the same history.
        let restarted = try f.engine()
        XCTAssertEqual(restarted.lastOperation(for: "piper"), piper)
        XCTAssertEqual(restarted.lastOperation(for: "kokoro"), kokoro)

        // The other engine's later operation is seen by the first one (the file changed under it).
        _ = restarted.jobs.wait(try restarted.uninstall("piper"))
        XCTAssertEqual(restarted.lastOperation(for: "piper")?.operation, .uninstall)
        XCTAssertEqual(engine.lastOperation(for: "piper")?.operation, .uninstall)
        XCTAssertTrue(FileManager.default.fileExists(atPath: f.backends + "/.hangar/history.json"))
    }

    func testHistoryIsBoundedToTheNewestRecords() throws {
        let f = try EngineFixture()
        try f.gallery("---\n")
        let root = BackendsRoot(f.backends)
        let history = OperationHistory(root: root, limit: 5)
        let jobs = JobQueue()
        history.attach(to: jobs)
        for i in 1...8 {
            _ = jobs.wait(jobs.submit(.install, backend: "b\(i)") { _ in "installed b\(i)" })
        }
        history.flush()
        let text = try XCTUnwrap(f.read(f.backends + "/.hangar/history.json"))
        let records = try XCTUnwrap(JSONValue.parse(text)["records"]?.arrayValue)
        XCTAssertEqual(records.compactMap { $0["backend"]?.stringValue }, ["b4", "b5", "b6", "b7", "b8"])
        XCTAssertNil(history.last(for: "b3"))
        XCTAssertEqual(history.last(for: "b8")?.message, "installed b8")
    }

    func testAnUnreadableHistoryNeverFailsAJob() throws {
        let f = try EngineFixture()
        try FileManager.default.createDirectory(atPath: f.backends + "/.hangar", withIntermediateDirectories: true)
        try f.write(f.backends + "/.hangar/history.json", "{ not json")
        try f.gallery("---\n")
        let engine = try f.engine()
        let id = engine.jobs.submit(.install, backend: "x") { _ in "fine" }
        XCTAssertTrue(engine.jobs.wait(id).isSuccess)
        XCTAssertEqual(engine.lastOperation(for: "x")?.outcome, "done", "a corrupt history is started afresh")
    }
}
