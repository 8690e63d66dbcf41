import Synchronization
import XCTest
@testable import HangarEngine

/// `HANGAR_CHECK_CONCURRENCY`: how many digest HEADs `Engine.checkUpgrades` (so `hangar check`, the UI's checker
/// and the daemon) keeps in flight.
final class CheckConcurrencyTests: XCTestCase {
    func testDefaultIsEightAndTheVariableSetsIt() throws {
        let f = try EngineFixture()
        let byDefault = try f.configuration()
        XCTAssertEqual(byDefault.checkConcurrency, 8)
        XCTAssertEqual(byDefault.sources["check_concurrency"], "default")
        for (text, bound) in [("1", 1), ("16", 16), ("64", 64), (" 3 ", 3)] {
            let set = try f.configuration(extraEnvironment: ["HANGAR_CHECK_CONCURRENCY": text])
            XCTAssertEqual(set.checkConcurrency, bound, text)
            XCTAssertEqual(set.sources["check_concurrency"], "HANGAR_CHECK_CONCURRENCY")
        }
        XCTAssertEqual(try f.configuration(extraEnvironment: ["HANGAR_CHECK_CONCURRENCY": ""]).checkConcurrency, 8,
                       "empty means unset, like every other variable")
    }

    func testBadValueIsAOneLineConfigurationErrorNamingTheVariable() throws {
        let f = try EngineFixture()
        for bad in ["0", "65", "-2", "eight", "8.5", "1000000000000000000000"] {
            XCTAssertThrowsError(try f.configuration(extraEnvironment: ["HANGAR_CHECK_CONCURRENCY": bad]), bad) { error in
                XCTAssertEqual((error as? HangarError)?.category, .configuration)
                XCTAssertEqual("\(error)", "HANGAR_CHECK_CONCURRENCY=\(bad) is not a number from 1 to 64: give how many registry lookups a check runs at once, e.g. 8")
            }
        }
    }

    /// 12 OCI backends whose lookups each take 30 ms: the most lookups ever in flight is exactly the bound.
    func testCheckUpgradesKeepsExactlyTheConfiguredNumberOfLookupsInFlight() throws {
        let f = try EngineFixture()
        var yaml = "---\n"
        for i in 0..<12 {
            let uri = "quay.io/test/backends:latest-b\(i)"
            yaml += "- {name: b\(i), uri: \"\(uri)\"}\n"
            try f.installed("b\(i)", BackendMetadata(name: "b\(i)", uri: uri, digest: "sha256:old"))
        }
        try f.gallery(yaml)
        for (environment, expected) in [([String: String](), 8), (["HANGAR_CHECK_CONCURRENCY": "3"], 3),
                                        (["HANGAR_CHECK_CONCURRENCY": "1"], 1)] {
            let resolver = InFlightCounter()
            let report = try f.engine(resolver: resolver, extraEnvironment: environment).checkUpgrades()
            XCTAssertEqual(report.upgrades.count, 12, "\(environment): every backend was looked up")
            XCTAssertEqual(report.upgrades["b0"]?.availableDigest, "sha256:new")
            XCTAssertEqual(resolver.mostInFlight, expected, "\(environment)")
        }
    }
}

/// A resolver that answers after 30 ms and records how many lookups overlapped (a stand-in for the registry
/// inside this unit test of the check's scheduling only).
private final class InFlightCounter: DigestResolver {
    private let counts = Mutex((now: 0, most: 0))

    var mostInFlight: Int { counts.withLock { $0.most } }

    func digest(of reference: String) throws -> String {
        counts.withLock { $0.now += 1; $0.most = max($0.most, $0.now) }
        defer { counts.withLock { $0.now -= 1 } }
        usleep(30_000)
        return "sha256:new"
    }
}
