import Foundation
import XCTest
@testable import HangarEngine

/// `<backends>/.hangar/history.jsonl`: every operation, across engines, processes and restarts; append-only,
/// rotated, and a line that cannot be read never hides the others.
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
        XCTAssertEqual(piper.change, BackendChange(from: BuildIdentity(version: "1", digest: ""), to: BuildIdentity(version: "2", digest: "")))
        XCTAssertEqual(piper.origin, "cli")
        XCTAssertGreaterThan(piper.bytes, 0, "the copy's bytes are recorded")
        XCTAssertNotNil(piper.duration)
        let kokoro = try XCTUnwrap(engine.lastOperation(for: "kokoro"))
        XCTAssertEqual(kokoro.outcome, "rolled_back")
        XCTAssertTrue(kokoro.message.hasSuffix("— v1 restored"), kokoro.message)
        XCTAssertEqual(kokoro.change?.to?.version, "2", "a failed upgrade records what it tried to install")
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
        XCTAssertTrue(FileManager.default.fileExists(atPath: f.backends + "/.hangar/history.jsonl"))
        XCTAssertEqual(engine.operationHistory(backend: "piper").records.map(\.operation), [.uninstall, .upgrade],
                       "newest first, both processes' records")
    }

    func testHistoryIsBoundedByRotationAndKeepsTheNewestRecords() throws {
        let f = try EngineFixture()
        try f.gallery("---\n")
        let root = BackendsRoot(f.backends)
        let history = OperationHistory(root: root, maxBytes: 600)
        let jobs = JobQueue()
        history.attach(to: jobs)
        for i in 1...20 {
            _ = jobs.wait(jobs.submit(.install, backend: "b\(i)") { _ in "installed b\(i)" })
        }
        history.flush()
        let current = try XCTUnwrap(f.read(f.backends + "/.hangar/history.jsonl"))
        let rotated = try XCTUnwrap(f.read(f.backends + "/.hangar/history.1.jsonl"), "the full file was rotated")
        XCTAssertLessThan(current.utf8.count, 600 + 400, "rotated once past the bound")
        XCTAssertLessThan(rotated.utf8.count, 600 + 400)
        let names = history.listing().records.map(\.backend)
        XCTAssertEqual(names.last, "b20")
        XCTAssertLessThan(names.count, 20, "the oldest records went with the rotation before last")
        XCTAssertEqual(names, (21 - names.count...20).map { "b\($0)" }, "what is kept is the newest, in order")
        XCTAssertNil(history.last(for: "b1"))
        XCTAssertEqual(history.last(for: "b20")?.message, "installed b20")
    }

    func testAppendsFromManyWritersAtOnceAreNeitherLostNorInterleaved() throws {
        for maxBytes in [OperationHistory.defaultMaxBytes, 8 << 10] {
            let f = try EngineFixture()
            try f.gallery("---\n")
            let root = BackendsRoot(f.backends)
            // Separate instances have separate descriptors, so their flocks contend as separate processes' would.
            let writers = (0..<4).map { _ in OperationHistory(root: root, maxBytes: maxBytes) }
            let queues = writers.map { history -> JobQueue in
                let jobs = JobQueue(maxParallel: 4)
                history.attach(to: jobs)
                return jobs
            }
            DispatchQueue.concurrentPerform(iterations: 4) { w in
                let ids = (0..<50).map { i in queues[w].submit(.install, backend: "w\(w)-\(i)") { _ in "ok \(w) \(i)" } }
                for id in ids { _ = queues[w].wait(id) }
            }
            writers.forEach { $0.flush() }
            let listing = OperationHistory(root: root).listing()
            XCTAssertEqual(listing.unreadableLines, 0, "no torn or interleaved line (bound \(maxBytes))")
            let kept = listing.records.map(\.backend)
            XCTAssertEqual(Set(kept).count, kept.count, "no record written twice (bound \(maxBytes))")
            if maxBytes == OperationHistory.defaultMaxBytes {
                XCTAssertEqual(kept.count, 200, "every writer's every record")
            } else {
                // 200 records of ~250 bytes pass the 8 KiB bound several times while writers race: only the last
                // two files remain, each of whole records.
                XCTAssertGreaterThan(kept.count, 16)
                XCTAssertLessThan(kept.count, 200)
            }
        }
    }

    func testTheNewestRecordsAreReadFromTheEndAcrossBlockBoundaries() throws {
        let f = try EngineFixture()
        try f.gallery("---\n")
        let root = BackendsRoot(f.backends)
        let history = OperationHistory(root: root)
        let jobs = JobQueue(maxParallel: 1)
        history.attach(to: jobs)
        // ~1,200 records of varying length: several 64 KiB blocks, lines split across their edges.
        for i in 0..<1200 {
            _ = jobs.submit(.install, backend: "b\(i % 37)") { _ in "installed " + String(repeating: "x", count: i % 97) }
        }
        jobs.waitAll()
        history.flush()
        let all = history.listing().records
        XCTAssertEqual(all.count, 1200)
        XCTAssertEqual(history.recent(limit: 900), Array(all.reversed().prefix(900)))
        XCTAssertEqual(history.recent(limit: 5000).count, 1200)
        for name in ["b0", "b17", "b36"] {
            XCTAssertEqual(history.last(for: name), all.last { $0.backend == name })
        }
        XCTAssertNil(history.last(for: "b37"))
    }

    func testTheStreamedJSONAndTheFastDecoderAgreeWithTheJSONTree() throws {
        let odd = OperationRecord(job: 7, operation: .upgrade, backend: "b<&>", finishedAt: OperationRecord.date(1_780_000_000_123),
                                  outcome: "rolled_back", message: "quote \" backslash \\ newline \n tab \t é 🚀 \u{2028}",
                                  startedAt: OperationRecord.date(1_780_000_000_000),
                                  change: BackendChange(from: BuildIdentity(version: "1", digest: "sha256:aa"), to: nil),
                                  bytes: 42, origin: "auto-upgrade (daemon)")
        for record in [odd, OperationRecord(job: 1, operation: .install, backend: "x", finishedAt: OperationRecord.date(0),
                                            outcome: "done", message: "")] {
            var streamed: [UInt8] = []
            record.appendJSON(to: &streamed)
            XCTAssertEqual(String(decoding: streamed, as: UTF8.self), record.jsonValue.compact())
            XCTAssertEqual(streamed.withUnsafeBufferPointer(OperationRecord.decode(line:)), record)
            XCTAssertEqual(OperationRecord(try JSONValue.parse(streamed)), record)
        }
        for bad in ["{\"job\": 1}", "[1]", "{\"job\":1,\"operation\":\"upgrade\",\"backend\":\"x\",\"finished_at_ms\":1,\"outcome\":\"done\",\"message\":\"m\"} x",
                    "{\"job\":\"1\",\"operation\":\"upgrade\",\"backend\":\"x\",\"finished_at_ms\":1,\"outcome\":\"done\",\"message\":\"m\"}"] {
            XCTAssertNil(Array(bad.utf8).withUnsafeBufferPointer(OperationRecord.decode(line:)), bad)
        }
    }

    func testALineThatCannotBeReadNeverHidesTheOthers() throws {
        let f = try EngineFixture()
        try f.gallery("---\n")
        let engine = try f.engine()
        _ = engine.jobs.wait(engine.jobs.submit(.install, backend: "a") { _ in "first" })
        engine.history.flush()
        let path = f.backends + "/.hangar/history.jsonl"
        let handle = try XCTUnwrap(FileHandle(forWritingAtPath: path))
        handle.seekToEndOfFile()
        handle.write(Data("{\"job\": 9, \"operat\n\u{0}\u{1}garbage\n[1,2]\n".utf8))
        handle.closeFile()
        _ = engine.jobs.wait(engine.jobs.submit(.install, backend: "b") { _ in "second" })
        let listing = engine.operationHistory()
        XCTAssertEqual(listing.records.map(\.backend), ["b", "a"])
        XCTAssertEqual(listing.unreadableLines, 3)
    }

    func testAnUnreadableHistoryNeverFailsAJob() throws {
        let f = try EngineFixture()
        try FileManager.default.createDirectory(atPath: f.backends + "/.hangar", withIntermediateDirectories: true)
        try f.write(f.backends + "/.hangar/history.jsonl", "{ not json")
        try f.write(f.backends + "/.hangar/history.json", "{ not json either")
        try f.gallery("---\n")
        let engine = try f.engine()
        let id = engine.jobs.submit(.install, backend: "x") { _ in "fine" }
        XCTAssertTrue(engine.jobs.wait(id).isSuccess)
        XCTAssertEqual(engine.lastOperation(for: "x")?.outcome, "done", "a corrupt history is appended to, not fatal")
    }

    func testRecordsOfTheEarlierHistoryFileAreStillRead() throws {
        let f = try EngineFixture()
        try FileManager.default.createDirectory(atPath: f.backends + "/.hangar", withIntermediateDirectories: true)
        try f.write(f.backends + "/.hangar/history.json", """
            {"records": [{"job": 3, "operation": "upgrade", "backend": "old", "finished_at_ms": 1700000000000,
            "outcome": "done", "message": "upgraded old v1 → v2"}]}
            """)
        try f.gallery("---\n")
        let engine = try f.engine()
        XCTAssertEqual(engine.lastOperation(for: "old")?.message, "upgraded old v1 → v2")
    }
}
