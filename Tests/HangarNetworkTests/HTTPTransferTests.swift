import Foundation
import HangarEngine
import HangarFixtures
import Synchronization
import XCTest

/// Redirects, retries, streaming with resume, cancellation, stalls and limits, against a real loopback server.
final class HTTPTransferTests: LoopbackHTTPTestCase {
    /// 256 KiB of bytes that differ position by position, so a misplaced resume shows.
    private let blob: [UInt8] = (0..<(256 << 10)).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ $0 >> 8) }

    // MARK: Redirects

    func testSameHostRedirectKeepsAuthorization() throws {
        server.redirect("/old", to: server.url("/new"))
        server.route("/new", .init(text: "moved"))
        let response = try client().send(HTTPRequest(url: server.url("/old"), headers: ["Authorization": "Bearer secret"]))
        XCTAssertEqual(response.status, 200)
        XCTAssertEqual(String(decoding: response.body, as: UTF8.self), "moved")
        XCTAssertEqual(response.effectiveURL, server.url("/new"))
        XCTAssertEqual(server.requests(to: "/new").first?.header("authorization"), "Bearer secret")
    }

    func testCrossHostRedirectDropsAuthorizationForGood() throws {
        // 127.0.0.1 → localhost (another host name, same server) → back to 127.0.0.1.
        server.redirect("/start", to: server.url("/elsewhere", host: "localhost"))
        server.redirect("/elsewhere", to: server.url("/final"))
        server.route("/final", .init(text: "done"))
        let response = try client().send(HTTPRequest(url: server.url("/start"),
                                                     headers: ["Authorization": "Bearer secret", "Accept": "x/y"]))
        XCTAssertEqual(response.status, 200)
        XCTAssertEqual(String(decoding: response.body, as: UTF8.self), "done")
        XCTAssertEqual(server.requests(to: "/start").first?.header("authorization"), "Bearer secret")
        let other = try XCTUnwrap(server.requests(to: "/elsewhere").first)
        XCTAssertEqual(other.header("host"), "localhost:\(server.port)")
        XCTAssertNil(other.header("authorization"), "credentials must not reach another host")
        XCTAssertEqual(other.header("accept"), "x/y", "other headers are kept")
        XCTAssertNil(server.requests(to: "/final").first?.header("authorization"),
                     "once stripped, credentials stay stripped")
    }

    func testCrossHostRedirectDropsCookieToo() throws {
        server.redirect("/start", to: server.url("/elsewhere", host: "localhost"))
        server.route("/elsewhere", .init(text: "done"))
        let response = try client().send(HTTPRequest(url: server.url("/start"), headers: ["Cookie": "session=secret"]))
        XCTAssertEqual(String(decoding: response.body, as: UTF8.self), "done")
        XCTAssertEqual(server.requests(to: "/start").first?.header("cookie"), "session=secret")
        XCTAssertNil(try XCTUnwrap(server.requests(to: "/elsewhere").first).header("cookie"),
                     "cookies must not reach another host")
    }

    func testPooledHandleDoesNotCarryAuthorizationToTheNextRequest() throws {
        server.route("/a", .init(text: "a"))
        server.route("/b", .init(text: "b"))
        let c = client()  // one client: the second request reuses the first one's pooled handle and connection cache
        _ = try c.send(HTTPRequest(url: server.url("/a"), headers: ["Authorization": "Bearer for-a", "Cookie": "c=a"]))
        _ = try c.send(HTTPRequest(url: server.url("/b")))
        XCTAssertEqual(server.requests(to: "/a").first?.header("authorization"), "Bearer for-a")
        let b = try XCTUnwrap(server.requests(to: "/b").first)
        XCTAssertNil(b.header("authorization"), "request A's credentials leaked into request B")
        XCTAssertNil(b.header("cookie"))
    }

    func testRedirectLoopFailsClearly() throws {
        server.redirect("/loop", to: server.url("/loop"))
        XCTAssertThrowsError(try client().send(HTTPRequest(url: server.url("/loop")))) { error in
            XCTAssertTrue("\(error)".contains("redirected more than 10 times"), "\(error)")
            XCTAssertEqual((error as? HTTPFailure)?.isTransient, false)
        }
        XCTAssertEqual(server.requests(to: "/loop").count, 11)
    }

    // MARK: Retries

    func testServerErrorsAreRetriedUntilSuccess() throws {
        server.route("/flaky", .init(text: "finally"), faults: [.status(500), .status(503)])
        let c = client()
        var attempts: [Int] = []
        let body = try HTTPRetry.run(backoff: c.options.retryBackoff, isCancelled: { false }) { attempt in
            attempts.append(attempt)
            return try c.send(HTTPRequest(url: server.url("/flaky"))).requireSuccess().body
        }
        XCTAssertEqual(String(decoding: body, as: UTF8.self), "finally")
        XCTAssertEqual(attempts, [0, 1, 2])
        XCTAssertEqual(server.requests(to: "/flaky").count, 3)
    }

    func testRetriesGiveUpAfterTheBackoffAndSaySo() throws {
        server.route("/down", .init(text: "never"), faults: Array(repeating: .status(503), count: 10))
        let c = client()
        XCTAssertThrowsError(try HTTPRetry.run(backoff: [0.01, 0.01], isCancelled: { false }) { _ in
            try c.send(HTTPRequest(url: server.url("/down"))).requireSuccess()
        }) { error in
            XCTAssertEqual((error as? HTTPFailure)?.status, 503)
            XCTAssertTrue("\(error)".contains("gave up after 3 attempts"), "\(error)")
        }
        XCTAssertEqual(server.requests(to: "/down").count, 3)
    }

    func testPermanentFailuresAreNotRetried() throws {
        server.route("/gone", .init(status: 404, text: "no"))
        let c = client()
        XCTAssertThrowsError(try HTTPRetry.run(backoff: [0.01, 0.01], isCancelled: { false }) { _ in
            try c.send(HTTPRequest(url: server.url("/gone"))).requireSuccess()
        })
        XCTAssertEqual(server.requests(to: "/gone").count, 1)
    }

    func testRetryBackoffStopsOnCancel() throws {
        server.route("/down", .init(text: "never"), faults: [.status(503)])
        let c = client()
        let cancelled = Atomic<Bool>(false)
        let start = Date()
        DispatchQueue.global().asyncAfter(deadline: .now() + 0.2) { cancelled.store(true, ordering: .relaxed) }
        XCTAssertThrowsError(try HTTPRetry.run(backoff: [30], isCancelled: { cancelled.load(ordering: .relaxed) }) { _ in
            try c.send(HTTPRequest(url: server.url("/down"))).requireSuccess()
        }) { error in XCTAssertTrue(error is CancelledError, "\(error)") }
        XCTAssertLessThan(Date().timeIntervalSince(start), 2)
    }

    // MARK: Streaming

    func testStreamResumesWithRangeAfterAMidBodyDisconnect() throws {
        server.route("/blob", .init(body: blob), faults: [.closeAfter(bytes: 100_000)])
        let c = client()
        var received: [UInt8] = []
        let response = try HTTPRetry.run(backoff: c.options.retryBackoff, isCancelled: { false }) { _ in
            let request = HTTPRequest(url: server.url("/blob"), resumeFrom: received.isEmpty ? nil : Int64(received.count))
            let response = try c.stream(request, isCancelled: { false }) { received.append(contentsOf: $0) }
            return try response.requireSuccess()
        }
        XCTAssertEqual(response.status, 206)
        XCTAssertEqual(response.header("content-range"), "bytes 100000-\(blob.count - 1)/\(blob.count)")
        XCTAssertEqual(received.count, blob.count)
        XCTAssertTrue(received == blob, "the resumed bytes are exactly the blob")
        let logged = server.requests(to: "/blob")
        XCTAssertEqual(logged.count, 2)
        XCTAssertNil(logged[0].header("range"))
        XCTAssertEqual(logged[1].header("range"), "bytes=100000-")
    }

    func testResumeAgainstAServerIgnoringRangeFeedsTheSinkNothing() throws {
        // Any 2xx but 206 to a Range request is the body from byte 0 (203: the fixture would honour Range on a 200).
        let blob = self.blob
        server.route("/blob") { _ in .init(status: 203, body: blob) }
        var sunk = 0
        var seen: (status: Int, range: String?)?
        let response = try client().stream(HTTPRequest(url: server.url("/blob"), resumeFrom: 100_000), isCancelled: { false },
                                           onResponse: { status, headers in seen = (status, headers["content-range"]) }) {
            sunk += $0.count
        }
        XCTAssertEqual(server.requests(to: "/blob").first?.header("range"), "bytes=100000-")
        XCTAssertEqual(response.status, 203)
        XCTAssertFalse(response.resumes(from: 100_000))
        XCTAssertEqual(sunk, 0, "byte 0 onwards must not be appended at byte 100000")
        XCTAssertLessThanOrEqual(response.body.count, 64 << 10, "what was read of the body is capped like an error body")
        XCTAssertEqual(seen?.status, 203)
        XCTAssertNil(seen?.range)
    }

    func testOnResponseSeesStatusAndLengthBeforeTheFirstByte() throws {
        server.route("/blob", .init(body: blob))
        var events: [String] = []
        _ = try client().stream(HTTPRequest(url: server.url("/blob"), resumeFrom: 1000), isCancelled: { false },
                                onResponse: { status, headers in
                                    events.append("\(status) \(headers["content-length"] ?? "-") \(headers["content-range"] ?? "-")")
                                }) { _ in
            if events.last != "bytes" { events.append("bytes") }
        }
        XCTAssertEqual(events, ["206 \(blob.count - 1000) bytes 1000-\(blob.count - 1)/\(blob.count)", "bytes"])
        // Redirects are followed first; a HEAD, with no body at all, still gets the hook once.
        server.redirect("/moved", to: server.url("/blob"))
        var heads: [Int] = []
        _ = try client().stream(HTTPRequest(url: server.url("/moved"), method: "HEAD"), isCancelled: { false },
                                onResponse: { status, _ in heads.append(status) }) { _ in }
        XCTAssertEqual(heads, [200])
    }

    func testOnResponseThrowingAbortsBeforeTheSink() throws {
        struct TooBig: Error {}
        server.route("/blob", .init(body: blob))
        var sunk = 0
        XCTAssertThrowsError(try client().stream(HTTPRequest(url: server.url("/blob")), isCancelled: { false },
                                                 onResponse: { _, _ in throw TooBig() }) { sunk += $0.count }) { error in
            XCTAssertTrue(error is TooBig, "\(error)")
        }
        XCTAssertEqual(sunk, 0)
    }

    func testMidBodyDisconnectIsTransient() throws {
        server.route("/blob", .init(body: blob), faults: [.closeAfter(bytes: 1000)])
        XCTAssertThrowsError(try client().stream(HTTPRequest(url: server.url("/blob")), isCancelled: { false }) { _ in }) { error in
            XCTAssertEqual((error as? HTTPFailure)?.isTransient, true, "\(error)")
            XCTAssertTrue("\(error)".contains(self.server.url("/blob")), "\(error)")
        }
    }

    func testStreamDoesNotFeedAnErrorBodyToTheSink() throws {
        server.route("/denied", .init(status: 403, text: "{\"errors\":[{\"code\":\"DENIED\"}]}"))
        var sinkCalls = 0
        let response = try client().stream(HTTPRequest(url: server.url("/denied")), isCancelled: { false }) { _ in sinkCalls += 1 }
        XCTAssertEqual(response.status, 403)
        XCTAssertEqual(sinkCalls, 0)
        XCTAssertEqual(String(decoding: response.body, as: UTF8.self), "{\"errors\":[{\"code\":\"DENIED\"}]}")
    }

    func testSinkErrorAbortsTheTransfer() throws {
        struct DiskFull: Error {}
        server.route("/blob", .init(body: blob))
        XCTAssertThrowsError(try client().stream(HTTPRequest(url: server.url("/blob")), isCancelled: { false }) { _ in
            throw DiskFull()
        }) { error in XCTAssertTrue(error is DiskFull, "\(error)") }
    }

    func testCancelStopsAStalledStreamAfterItsFirstBytes() throws {
        server.route("/blob", .init(body: blob), faults: [.stall(afterBytes: 5000, seconds: 30)])
        let cancelled = Atomic<Bool>(false)
        var got = 0
        let start = Date()
        XCTAssertThrowsError(try client().stream(HTTPRequest(url: server.url("/blob")),
                                                  isCancelled: { cancelled.load(ordering: .acquiring) }) { bytes in
            got += bytes.count
            if got == 5000 {
                // The server now sends nothing; cancel from another thread a little later.
                DispatchQueue.global().asyncAfter(deadline: .now() + 0.3) { cancelled.store(true, ordering: .releasing) }
            }
        }) { error in XCTAssertTrue(error is CancelledError, "\(error)") }
        XCTAssertEqual(got, 5000)
        XCTAssertLessThan(Date().timeIntervalSince(start), 2)
    }

    func testCancelLatencyIsUnderAFewHundredMilliseconds() throws {
        server.route("/blob", .init(body: blob), faults: [.stall(afterBytes: 0, seconds: 30)])
        let cancelAt = Atomic<UInt64>(0)
        DispatchQueue.global().asyncAfter(deadline: .now() + 0.3) {
            cancelAt.store(DispatchTime.now().uptimeNanoseconds, ordering: .releasing)
        }
        XCTAssertThrowsError(try client().stream(HTTPRequest(url: server.url("/blob")),
                                                  isCancelled: { cancelAt.load(ordering: .acquiring) != 0 }) { _ in }) { error in
            XCTAssertTrue(error is CancelledError, "\(error)")
        }
        let latency = Double(DispatchTime.now().uptimeNanoseconds - cancelAt.load(ordering: .acquiring)) / 1e9
        // Polled every 50 ms; the bound is wide so a loaded 2-core CI machine does not fail it.
        XCTAssertLessThan(latency, 1.5, "the transfer stopped \(latency) s after the cancel")
    }

    func testStallTimeoutFailsATransferThatStopsSendingAsTransient() throws {
        server.route("/blob", .init(body: blob), faults: [.stall(afterBytes: 2000, seconds: 30)])
        let start = Date()
        var got = 0
        XCTAssertThrowsError(try client(stall: 1).stream(HTTPRequest(url: server.url("/blob")), isCancelled: { false }) {
            got += $0.count
        }) { error in
            let failure = error as? HTTPFailure
            XCTAssertEqual(failure?.isTransient, true)
            XCTAssertTrue("\(error)".contains("stalled: no data for 1 s"), "\(error)")
        }
        let took = Date().timeIntervalSince(start)
        XCTAssertEqual(got, 2000)
        XCTAssertGreaterThan(took, 0.9, "not before the stall timeout")
        XCTAssertLessThan(took, 10, "well before the server's 30 s stall ends")
    }

    func testStallTimeoutCoversAServerThatNeverAnswers() throws {
        server.route("/slow", .init(text: "late"), faults: [.delay(seconds: 30)])
        XCTAssertThrowsError(try client(stall: 1).send(HTTPRequest(url: server.url("/slow")))) { error in
            XCTAssertEqual((error as? HTTPFailure)?.isTransient, true)
            XCTAssertTrue("\(error)".contains("stalled"), "\(error)")
        }
    }

    // MARK: Limits

    func testBodyOverTheCapFailsInsteadOfFillingMemory() throws {
        server.route("/big", .init(body: blob))
        XCTAssertThrowsError(try client(maxBody: 64 << 10).send(HTTPRequest(url: server.url("/big")))) { error in
            XCTAssertEqual((error as? HTTPFailure)?.isTransient, false)
            XCTAssertTrue("\(error)".contains("larger than 64.0 KiB"), "\(error)")
        }
        server.route("/small", .init(body: Array(blob[..<(64 << 10)])))
        XCTAssertEqual(try client(maxBody: 64 << 10).send(HTTPRequest(url: server.url("/small"))).body.count, 64 << 10)
    }

    func testStreamIsNotLimitedByTheMemoryCap() throws {
        server.route("/big", .init(body: blob))
        var count = 0
        let response = try client(maxBody: 1024).stream(HTTPRequest(url: server.url("/big")), isCancelled: { false }) {
            count += $0.count
        }
        XCTAssertEqual(response.status, 200)
        XCTAssertEqual(count, blob.count)
    }

    func testResponseHeadersOverTheCapFailTheTransfer() throws {
        let header = String(repeating: "h", count: 8 << 10)
        let many = Dictionary(uniqueKeysWithValues: (0..<40).map { ("X-Filler-\($0)", header) })  // 320 KiB
        server.route("/huge-headers", .init(headers: many, text: "x"))
        XCTAssertThrowsError(try client().send(HTTPRequest(url: server.url("/huge-headers")))) { error in
            XCTAssertEqual("\(error)", "GET \(self.server.url("/huge-headers")): the response headers are larger than 256.0 KiB; refusing them (a broken or hostile server)")
            XCTAssertEqual((error as? HTTPFailure)?.isTransient, false)
        }
        let fewer = Dictionary(uniqueKeysWithValues: (0..<24).map { ("X-Filler-\($0)", header) })  // 192 KiB
        server.route("/big-headers", .init(headers: fewer, text: "x"))
        XCTAssertEqual(try client().send(HTTPRequest(url: server.url("/big-headers"))).header("x-filler-23"), header)
    }

    func testProxyComesFromTheClientsEnvironmentUpperCaseAllProxyIncluded() throws {
        // The loopback server plays the proxy for a host hangar never resolves, so no traffic leaves 127.0.0.1.
        server.route("http://gallery.invalid/index.yaml", .init(text: "via proxy"))
        for variable in ["http_proxy", "all_proxy", "ALL_PROXY"] {
            let c = HTTPClient(options: HTTPClientOptions(connectTimeout: 2), environment: [variable: server.url("")])
            let response = try c.send(HTTPRequest(url: "http://gallery.invalid/index.yaml"))
            XCTAssertEqual(String(decoding: response.body, as: UTF8.self), "via proxy", variable)
        }
        XCTAssertEqual(server.requests(to: "http://gallery.invalid/index.yaml").count, 3)
    }

    func testPutSendsTheBody() throws {
        server.route("/upload") { request in
            .init(status: 201, headers: ["Location": "/done"], text: "\(request.method) \(request.body.count) \(request.header("content-type") ?? "-")")
        }
        let response = try client().send(HTTPRequest(url: server.url("/upload"), method: "PUT", body: Array(blob[..<5000])))
        XCTAssertEqual(response.status, 201)
        XCTAssertEqual(String(decoding: response.body, as: UTF8.self), "PUT 5000 application/octet-stream")
        XCTAssertTrue(server.requests(to: "/upload").first?.body == Array(blob[..<5000]))
    }
}
