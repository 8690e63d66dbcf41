import Foundation
import HangarEngine
import HangarFixtures
import XCTest

/// Remote mode when the server misbehaves: down, slow, HTML, hostile JSON, dropped polls, a restart that forgets
/// jobs, a job that never finishes, a redirect to another host. Clear one-line errors, nothing hangs, no key leaks.
final class LocalAIServerFaultTests: LocalAIServerTestCase {
    private func assertOneLineError(_ run: HangarExecutable.Run, status: Int32 = 1, contains text: String,
                                    file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(run.status, status, run.stderr, file: file, line: line)
        XCTAssertFalse(run.timedOut, file: file, line: line)
        XCTAssertEqual(run.stderr.split(separator: "\n").count, 1, run.stderr, file: file, line: line)
        XCTAssertTrue(run.stderr.contains(text), "expected \(text.debugDescription) in: \(run.stderr)", file: file, line: line)
        assertNoKey(run, file: file, line: line)
    }

    func testServerDown() throws {
        let url = standIn.url
        standIn.stop()
        let run = try hangar(["list"], server: url)
        assertOneLineError(run, contains: "LocalAI server \(url) did not answer: cannot connect")
    }

    func testSlowAnswerIsBoundedByTheRequestTimeout() throws {
        standIn.inject(.http(.delay(seconds: 20)), on: "/backends")
        let started = Date()
        let run = try hangar(["list"], env: ["HANGAR_SERVER_TIMEOUT": "1"])
        XCTAssertLessThan(Date().timeIntervalSince(started), 10)
        // The stall clock and the total deadline are both 1 s here: either names the wait.
        assertOneLineError(run, contains: "LocalAI server \(standIn.url) did not answer: GET \(standIn.url)/backends")
        XCTAssertTrue(run.stderr.contains("timed out after 1 s") || run.stderr.contains("stalled: no data for 1 s"), run.stderr)
    }

    func testHTMLAnswer() throws {
        standIn.inject(.body(Array("<!doctype html><html><body>Sign in</body></html>".utf8), contentType: "text/html"), on: "/backends")
        assertOneLineError(try hangar(["list"]), contains: "answered an HTML page, not JSON")
    }

    func testAMissingRouteSaysWhatToCheck() throws {
        standIn.inject(.http(.status(404)), on: "/backends")
        assertOneLineError(try hangar(["list"]), contains: "GET \(standIn.url)/backends returned HTTP 404: injected fault; is \(standIn.url) LocalAI's API root, with its gallery endpoints on (LOCALAI_DISABLE_GALLERY_ENDPOINT unset)?")
        standIn.inject(.http(.status(404)), on: "/api/settings")
        assertOneLineError(try hangar(["settings"]), contains: "has no settings API (/api/settings answered 404)")
    }

    func testHostileJSON() throws {
        let cases: [(body: [UInt8], expect: String)] = [
            (Array("[{\"Name\":\"pip".utf8), "answered malformed JSON"),
            (Array((String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000)).utf8), "answered malformed JSON"),
            (Array("[{\"Name\":5,\"RunFile\":\"/x/run.sh\"}]".utf8), "\"Name\" is not a string"),
            (Array("{\"Name\":\"piper\"}".utf8), "GET /backends answered an unexpected shape: not a JSON array"),
            (Array("[{\"Name\":\"../../etc\",\"RunFile\":\"\"}]".utf8), "is not a backend name"),
            ([UInt8](repeating: 0x20, count: 17 << 20) + Array("[]".utf8), "the response is larger than"),
        ]
        for (body, expect) in cases {
            standIn.inject(.body(body, contentType: "application/json"), on: "/backends")
            assertOneLineError(try hangar(["list", "--json"]), contains: expect)
        }
        standIn.inject(.body(Array("{\"piper\":[1,2]}".utf8), contentType: "application/json"), on: "/backends/upgrades")
        assertOneLineError(try hangar(["check", "--json"]), contains: "the entry of piper is not an object")
    }

    func testDroppedConnectionsAnd500sMidPollAreRetried() throws {
        standIn.inject(.http(.closeAfter(bytes: 0)), on: "/backends/jobs/")
        standIn.inject(.http(.status(500)), on: "/backends/jobs/")
        standIn.inject(.http(.closeAfter(bytes: 5)), on: "/backends/jobs/")
        let run = try hangar(["install", "whisper", "--json"])
        XCTAssertEqual(run.status, 0, run.stderr)
        XCTAssertEqual(try events(run).last?["event"] as? String, "done")
        XCTAssertEqual(standIn.installedMetadata("whisper")?.version, "1.5.0")
    }

    func testAServerRestartThatForgetsTheJobIsReported() throws {
        standIn.setNeverFinish(true)
        DispatchQueue.global().asyncAfter(deadline: .now() + 0.8) { [standIn] in standIn?.forgetJobs() }
        let run = try hangar(["install", "whisper", "--json"])
        XCTAssertEqual(run.status, 1, run.stderr)
        let failed = try XCTUnwrap(try events(run).last)
        XCTAssertEqual(failed["event"] as? String, "failed")
        XCTAssertTrue((failed["error"] as? String)?.contains("no longer knows job") == true, "\(failed)")
    }

    func testAJobThatNeverFinishesIsBoundedByTheTimeoutKnob() throws {
        standIn.setNeverFinish(true)
        let started = Date()
        let run = try hangar(["install", "whisper", "--json"], env: ["HANGAR_SERVER_JOB_TIMEOUT": "1"])
        XCTAssertLessThan(Date().timeIntervalSince(started), 10)
        XCTAssertEqual(run.status, 1, run.stderr)
        let error = try XCTUnwrap(try events(run).last?["error"] as? String)
        XCTAssertTrue(error.contains("did not finish within 1 s (HANGAR_SERVER_JOB_TIMEOUT)"), error)
        XCTAssertTrue(standIn.requests.contains { $0.path.hasSuffix("/cancel") }, "hangar asked the server to cancel it")
    }

    func testARedirectToAnotherHostIsRefusedAndTheKeyNeverSent() throws {
        let other = try LoopbackHTTPServer()
        defer { other.stop() }
        other.fallback { _ in (LoopbackHTTPServer.Reply(status: 200, headers: ["Content-Type": "application/json"], text: "[]"), nil) }
        standIn.redirectEverything(to: other.url("", host: "localhost"))
        let run = try hangar(["list"])
        assertOneLineError(run, contains: "was redirected to \(other.url("", host: "localhost"))/backends: hangar follows no redirects with the API key")
        XCTAssertTrue(other.requests.isEmpty, "the other host was never contacted, so never saw the key")
    }

    func testBadServerOptions() throws {
        let keyless = try HangarExecutable.run(["list", "--server", "http://user:pw@127.0.0.1:1"],
                                               environment: environment(), directory: directory)
        assertOneLineError(keyless, status: 2, contains: "--server must not carry credentials in the URL")
        let scheme = try HangarExecutable.run(["list", "--server", "ftp://x"], environment: environment(), directory: directory)
        assertOneLineError(scheme, status: 2, contains: "is not a server URL")
        let lonelyKeyFile = try HangarExecutable.run(["list", "--api-key-file", "/nonexistent"], environment: environment(),
                                                     directory: directory)
        assertOneLineError(lonelyKeyFile, status: 2, contains: "--api-key-file is for a LocalAI server")
    }
}
