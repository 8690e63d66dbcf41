import Foundation
import HangarEngine
import HangarFixtures
import Synchronization
import XCTest

/// The loopback fixtures themselves: they must stop cleanly and do what benchmarks rely on.
final class HTTPFixtureTests: LoopbackHTTPTestCase {
    func testStopBreaksAStalledConnectionAndJoinsItsThread() throws {
        server.route("/blob", .init(body: [UInt8](repeating: 7, count: 10_000)), faults: [.stall(afterBytes: 100, seconds: 30)])
        let failed = DispatchSemaphore(value: 0)
        let c = client()
        let url = server.url("/blob")
        DispatchQueue.global().async {
            _ = try? c.stream(HTTPRequest(url: url), isCancelled: { false }) { _ in }
            failed.signal()
        }
        Thread.sleep(forTimeInterval: 0.2)
        let start = Date()
        server.stop()  // returns only once every connection thread has ended
        XCTAssertLessThan(Date().timeIntervalSince(start), 1)
        XCTAssertEqual(failed.wait(timeout: .now() + 2), .success, "the client saw the connection end")
        XCTAssertThrowsError(try c.send(HTTPRequest(url: url)), "a stopped server accepts nothing")
    }

    func testDelayProxyHoldsEachRequestAndForwardsTheAnswer() throws {
        server.route("/v2/", .init(headers: ["Docker-Distribution-Api-Version": "registry/2.0"], text: "{}"))
        let proxy = try DelayProxy(upstreamPort: server.port, delay: 0.05)
        defer { proxy.stop() }
        let c = client()
        let start = Date()
        for _ in 0..<4 {
            let response = try c.send(HTTPRequest(url: "http://\(proxy.hostPort)/v2/"))
            XCTAssertEqual(response.status, 200)
            XCTAssertEqual(response.header("docker-distribution-api-version"), "registry/2.0")
            XCTAssertEqual(String(decoding: response.body, as: UTF8.self), "{}")
        }
        XCTAssertGreaterThanOrEqual(Date().timeIntervalSince(start), 0.2, "four requests, each held 50 ms")
        XCTAssertEqual(proxy.delayedRequests, 4)
        XCTAssertEqual(server.requests(to: "/v2/").count, 4)
    }

    func testDelayProxyToAClosedPortClosesTheClientConnection() throws {
        let closed = try LoopbackHTTPServer()
        let port = closed.port
        closed.stop()
        let proxy = try DelayProxy(upstreamPort: port, delay: 0.01)
        defer { proxy.stop() }
        XCTAssertThrowsError(try client().send(HTTPRequest(url: "http://\(proxy.hostPort)/v2/"))) { error in
            XCTAssertEqual((error as? HTTPFailure)?.isTransient, true, "\(error)")
        }
    }
}
