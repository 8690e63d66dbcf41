import XCTest
@testable import HangarEngine

/// LocalAI's `upgrade_test.go` cases for `CheckBackendUpgrades` (spec §4.4).
final class UpgradeCheckTests: XCTestCase {
    let gallery = GalleryConfig(name: "test", url: "file:///g.yaml")

    func entry(_ name: String, uri: String = "/nowhere", version: String = "") -> GalleryEntry {
        var e = GalleryEntry(name: name, gallery: gallery)
        e.uri = uri
        e.version = version
        return e
    }

    func check(_ f: EngineFixture, _ entries: [GalleryEntry], resolver: any DigestResolver = UnavailableDigestResolver(),
               capability: String = "default") throws -> UpgradeReport {
        let installed = try InstalledBackends.list(backendsPath: f.backends, systemBackendsPath: f.system,
                                                   capability: Capability(capability))
        return UpgradeDetection.run(installed: installed, gallery: entries, devSuffix: "development", resolver: resolver)
    }

    func testDifferentVersionIsFlaggedWithBothVersions() throws {
        let f = try EngineFixture()
        try f.installed("foo", BackendMetadata(name: "foo", version: "1.0.0"))
        let report = try check(f, [entry("foo", version: "2.0.0")])
        XCTAssertEqual(report.upgrades["foo"], UpgradeInfo(backendName: "foo", installedVersion: "1.0.0", availableVersion: "2.0.0"))
        XCTAssertEqual(JSONValue.object(report.jsonObject).compact(),
                       "{\"foo\":{\"backend_name\":\"foo\",\"installed_version\":\"1.0.0\",\"available_version\":\"2.0.0\"}}")
    }

    func testEqualVersionsAreNotFlagged() throws {
        let f = try EngineFixture()
        try f.installed("foo", BackendMetadata(name: "foo", version: "1.0.0"))
        XCTAssertTrue(try check(f, [entry("foo", version: "1.0.0")]).upgrades.isEmpty)
        XCTAssertEqual(JSONValue.object(try check(f, [entry("foo", version: "1.0.0")]).jsonObject).goIndented(), "{}")
    }

    func testNewerInstalledVersionStillShowsAsUpgradeBecauseComparisonIsInequality() throws {
        let f = try EngineFixture()
        try f.installed("foo", BackendMetadata(name: "foo", version: "3.0"))
        XCTAssertEqual(try check(f, [entry("foo", version: "2.0")]).upgrades["foo"]?.availableVersion, "2.0")
    }

    func testNoVersionAndNonOCISourceIsNeverFlagged() throws {
        let f = try EngineFixture()
        try f.installed("foo", BackendMetadata(name: "foo"))
        XCTAssertTrue(try check(f, [entry("foo", uri: "/some/dir")]).upgrades.isEmpty)
    }

    func testEmptyInstalledVersionWithGalleryVersionIsFlagged() throws {
        let f = try EngineFixture()
        try f.installed("foo", BackendMetadata(name: "foo"))
        XCTAssertEqual(try check(f, [entry("foo", version: "1.0")]).upgrades["foo"],
                       UpgradeInfo(backendName: "foo", installedVersion: "", availableVersion: "1.0"))
    }

    func testInstalledDevelopmentBuildSuppressesTheStableCandidate() throws {
        let f = try EngineFixture()
        try f.installed("foo", BackendMetadata(name: "foo", version: "1"))
        try f.installed("foo-development", BackendMetadata(name: "foo-development", version: "1"))
        let report = try check(f, [entry("foo", version: "2"), entry("foo-development", version: "2")])
        XCTAssertNil(report.upgrades["foo"])
        XCTAssertNotNil(report.upgrades["foo-development"])
    }

    func testSyntheticAliasRowsAndSystemAndBrokenRowsAreSkipped() throws {
        let f = try EngineFixture()
        try f.installed("cpu-foo", BackendMetadata(alias: "foo", name: "cpu-foo", version: "1"))
        try f.installed("sys", in: f.system)
        try f.installed("broken", metadata: "{oops")
        let report = try check(f, [entry("foo", version: "2"), entry("cpu-foo", version: "2"),
                                   entry("sys", version: "2"), entry("broken", version: "2")])
        XCTAssertEqual(Array(report.upgrades.keys), ["cpu-foo"])
    }

    func testGPUBackendIsCheckedOnACPUOnlyHost() throws {
        let f = try EngineFixture()
        try f.installed("cuda12-foo", BackendMetadata(name: "cuda12-foo", version: "1"))
        XCTAssertNotNil(try check(f, [entry("cuda12-foo", version: "2")], capability: "default").upgrades["cuda12-foo"])
    }

    func testDigestRuleForOCIEntries() throws {
        let f = try EngineFixture()
        let uri = "quay.io/go-skynet/local-ai-backends:latest-cpu-foo"
        try f.installed("same", BackendMetadata(name: "same", uri: uri, digest: "sha256:aaa"))
        try f.installed("moved", BackendMetadata(name: "moved", uri: uri + "2", digest: "sha256:aaa"))
        try f.installed("nodigest", BackendMetadata(name: "nodigest", uri: uri + "3"))
        try f.installed("unreachable", BackendMetadata(name: "unreachable", uri: uri + "4", digest: "sha256:aaa"))
        let resolver = FixedDigests(digests: [uri: "sha256:aaa", uri + "2": "sha256:bbb", uri + "3": "sha256:ccc"])
        let report = try check(f, [entry("same", uri: uri), entry("moved", uri: uri + "2"),
                                   entry("nodigest", uri: uri + "3"), entry("unreachable", uri: uri + "4")],
                               resolver: resolver)
        XCTAssertEqual(report.upgrades["moved"], UpgradeInfo(backendName: "moved", installedDigest: "sha256:aaa",
                                                             availableDigest: "sha256:bbb"))
        XCTAssertEqual(report.upgrades["nodigest"]?.availableDigest, "sha256:ccc")
        XCTAssertNil(report.upgrades["same"])
        XCTAssertNil(report.upgrades["unreachable"])
        XCTAssertEqual(report.warnings.count, 1)
        XCTAssertTrue(report.warnings[0].hasPrefix("unreachable: digest check skipped"))
    }

    func testMetaRowsAreNeverFlaggedButTheirConcreteIs() throws {
        let f = try EngineFixture()
        try f.installed("cpu-foo", BackendMetadata(name: "cpu-foo", version: "1"))
        try f.installed("foo", BackendMetadata(metaBackendFor: "cpu-foo", name: "foo", version: "1"), runScript: false)
        var meta = GalleryEntry(name: "foo", gallery: gallery)
        meta.capabilities = [CapabilityMapping(capability: "default", concrete: "cpu-foo")]
        let report = try check(f, [meta, entry("cpu-foo", version: "2")])
        XCTAssertEqual(Array(report.upgrades.keys), ["cpu-foo"])
    }
}
