import HangarEngine
import HangarFixtures
import XCTest

/// A test case with a fresh loopback HTTP server per test and a client with test-sized timeouts.
class LoopbackHTTPTestCase: XCTestCase {
    var server: LoopbackHTTPServer!

    override func setUpWithError() throws { server = try LoopbackHTTPServer() }
    override func tearDown() { server.stop() }

    /// Tiny backoff and a short connect timeout so fault tests finish in a second or two.
    func client(stall: Double = 60, maxBody: Int = 32 << 20) -> HTTPClient {
        HTTPClient(options: HTTPClientOptions(connectTimeout: 2, stallTimeout: stall, maxBodyBytes: maxBody,
                                              retryBackoff: [0.01, 0.01, 0.01]))
    }
}
