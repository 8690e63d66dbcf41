import XCTest
@testable import HangarEngine

/// The HTTP client's rules as pure functions: which redirects are followed and which proxy variable applies.
final class HTTPPolicyTests: XCTestCase {
    private func origin(_ url: String) throws -> HTTPOrigin { try XCTUnwrap(HTTPOrigin(url), url) }

    private func refusal(_ from: String, _ to: String) throws -> String? {
        HTTPClient.redirectRefusal(from: from, try origin(from), to: to, try origin(to))
    }

    func testHTTPSToPlainHTTPRedirectIsRefusedExceptToLoopback() throws {
        XCTAssertEqual(try refusal("https://quay.io/v2/x", "http://cdn.example.org/blob"),
                       "https://quay.io/v2/x redirected to http://cdn.example.org/blob, from https to plain http: refusing the TLS downgrade; use an https URL that does not redirect to http")
        XCTAssertNotNil(try refusal("https://quay.io/a", "http://127.0.0.1.example.org/b"), "a name that only starts like loopback")
        for loopback in ["http://127.0.0.1:5000/b", "http://127.1.2.3/b", "http://localhost:8080/b", "http://[::1]:9/b",
                         "http://registry.localhost/b"] {
            XCTAssertNil(try refusal("https://quay.io/a", loopback), loopback)
        }
        for allowed in [("https://a.example/x", "https://b.example/y"), ("http://a.example/x", "http://b.example/y"),
                        ("http://a.example/x", "https://a.example/y")] {
            XCTAssertNil(try refusal(allowed.0, allowed.1), "\(allowed)")
        }
    }

    func testProxyVariablesAreChosenByScheme() {
        let all: [String: String] = ["https_proxy": "hs", "HTTPS_PROXY": "HS", "http_proxy": "h", "HTTP_PROXY": "H",
                                     "all_proxy": "a", "ALL_PROXY": "A"]
        XCTAssertEqual(HTTPClient.proxy(for: "https", environment: all), "hs")
        XCTAssertEqual(HTTPClient.proxy(for: "https", environment: ["HTTPS_PROXY": "HS", "all_proxy": "a"]), "HS")
        XCTAssertEqual(HTTPClient.proxy(for: "http", environment: all), "h")
        XCTAssertEqual(HTTPClient.proxy(for: "http", environment: ["HTTP_PROXY": "H"]), "",
                       "upper-case HTTP_PROXY is ignored, as curl does: a CGI request sets it from its Proxy: header")
        XCTAssertEqual(HTTPClient.proxy(for: "http", environment: ["HTTP_PROXY": "H", "ALL_PROXY": "A"]), "A")
        XCTAssertEqual(HTTPClient.proxy(for: "https", environment: ["http_proxy": "h", "all_proxy": "a"]), "a")
        XCTAssertEqual(HTTPClient.proxy(for: "https", environment: ["https_proxy": "", "ALL_PROXY": "A"]), "A",
                       "an empty variable is unset")
        XCTAssertEqual(HTTPClient.proxy(for: "https", environment: [:]), "")
    }
}
