import Foundation
import HangarEngine
import HangarFixtures
import XCTest

/// The key never leaves hangar's memory, even when the server echoes the Authorization header back: the real binary
/// against the stand-in's echo faults (LocalAIStandIn+Echo.swift) prints `<API key>` in its place, and neither the
/// job's events nor the history of the server (`<config>/servers/<host_port>/.hangar/history.jsonl`) hold it.
final class LocalAIServerRedactionTests: LocalAIServerTestCase {
    /// Every file under the test's directory (HOME and config dir) that holds the key.
    private func filesHoldingTheKey() -> [String] {
        let base = URL(fileURLWithPath: directory)
        guard let walk = FileManager.default.enumerator(at: base, includingPropertiesForKeys: nil) else { return [] }
        return walk.compactMap { $0 as? URL }.filter { url in
            (try? Data(contentsOf: url)).map { String(decoding: $0, as: UTF8.self).contains(key) } ?? false
        }.map(\.path)
    }

    func testAFailedJobWhoseErrorEchoesTheKeyIsRedactedInEventsAndHistory() throws {
        standIn.echoAuthorization(.failedJob)
        let run = try hangar(["install", "whisper", "--json"])
        XCTAssertEqual(run.status, 1, run.stderr)
        assertNoKey(run)
        let error = try XCTUnwrap(try events(run).last?["error"] as? String)
        XCTAssertTrue(error.contains("Authorization: Bearer <API key>"), "the echo arrived, redacted: \(error)")

        let history = try XCTUnwrap(filesOnDisk(named: "history.jsonl").first, "the server's history was written")
        XCTAssertTrue(history.hasSuffix("/servers/http_127.0.0.1_\(standIn.port)/.hangar/history.jsonl"), history)
        let recorded = try String(contentsOfFile: history, encoding: .utf8)
        let last = try XCTUnwrap(recorded.split(separator: "\n").last.map { try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] } ?? nil)
        XCTAssertEqual(last["outcome"] as? String, "failed", recorded)
        XCTAssertTrue((last["message"] as? String)?.contains("Authorization: Bearer <API key>") == true, recorded)
        XCTAssertFalse(recorded.contains(key), "the key is in the history")
        XCTAssertEqual(filesHoldingTheKey(), [])
    }

    func testAnErrorBodyThatEchoesTheKeyIsRedacted() throws {
        standIn.echoAuthorization(.errorBody(pathPrefix: "/backends"))
        let run = try hangar(["list"])
        XCTAssertNotEqual(run.status, 0, run.stdout)
        assertNoKey(run)
        XCTAssertTrue(run.stderr.contains("Authorization: Bearer <API key>"), run.stderr)
        XCTAssertEqual(filesHoldingTheKey(), [])
    }

    private func filesOnDisk(named name: String) -> [String] {
        let walk = FileManager.default.enumerator(atPath: directory)
        return (walk?.allObjects as? [String] ?? []).filter { $0.hasSuffix("/" + name) }.map { directory + "/" + $0 }
    }
}
