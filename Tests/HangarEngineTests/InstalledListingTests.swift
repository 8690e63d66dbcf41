import XCTest
@testable import HangarEngine

/// `ListSystemBackends` (spec §3.7) and hangar's two improvements over it.
final class InstalledListingTests: XCTestCase {
    func list(_ f: EngineFixture, capability: String = "default") throws -> InstalledBackends {
        try InstalledBackends.list(backendsPath: f.backends, systemBackendsPath: f.system, capability: Capability(capability))
    }

    func testConcreteWithoutMetadataListsWithItsDirectoryName() throws {
        let f = try EngineFixture()
        try f.installed("plain")
        let row = try XCTUnwrap(try list(f).get("plain"))
        XCTAssertEqual(row.metadata, BackendMetadata(name: "plain"))
        XCTAssertEqual(row.runFile, f.backends + "/plain/run.sh")
        XCTAssertFalse(row.isMeta)
        XCTAssertFalse(row.isAlias)
    }

    func testDirectoriesWithoutRunScriptAndFilesAreNotBackends() throws {
        let f = try EngineFixture()
        try f.installed("empty", runScript: false)
        try f.write(f.backends + "/stray-file", "x")
        XCTAssertTrue(try list(f).rows.isEmpty)
    }

    func testMetaRowPointsAtItsConcreteRunFile() throws {
        let f = try EngineFixture()
        try f.installed("cpu-foo", BackendMetadata(name: "cpu-foo"))
        try f.installed("foo", BackendMetadata(metaBackendFor: "cpu-foo", name: "foo"), runScript: false)
        let meta = try XCTUnwrap(try list(f).get("foo"))
        XCTAssertTrue(meta.isMeta)
        XCTAssertEqual(meta.runFile, f.backends + "/cpu-foo/run.sh")
        XCTAssertTrue(meta.isRunnable)
    }

    func testAliasRowOverwritesMetaRowWithTheSameKey() throws {
        let f = try EngineFixture()
        try f.installed("cpu-llama-cpp", BackendMetadata(alias: "llama-cpp", name: "cpu-llama-cpp"))
        try f.installed("llama-cpp", BackendMetadata(metaBackendFor: "cpu-llama-cpp", name: "llama-cpp"), runScript: false)
        let row = try XCTUnwrap(try list(f).get("llama-cpp"))
        XCTAssertFalse(row.isMeta, "LocalAI's alias row replaces the meta row")
        XCTAssertTrue(row.isAlias)
        XCTAssertEqual(row.metadata?.name, "cpu-llama-cpp")
        XCTAssertEqual(row.replacedMeta?.metaBackendFor, "cpu-llama-cpp", "the meta it replaced is kept for display")
    }

    func testAliasPrefersCPUOnDefaultAndCUDAOnNvidia() throws {
        let f = try EngineFixture()
        try f.installed("cuda12-foo", BackendMetadata(alias: "foo", name: "cuda12-foo"))
        try f.installed("cpu-foo", BackendMetadata(alias: "foo", name: "cpu-foo"))
        XCTAssertEqual(try list(f, capability: "default").get("foo")?.metadata?.name, "cpu-foo")
        XCTAssertEqual(try list(f, capability: "nvidia").get("foo")?.metadata?.name, "cuda12-foo")
        XCTAssertEqual(try list(f, capability: "nvidia-cuda-13").get("foo")?.runFile, f.backends + "/cuda12-foo/run.sh")
    }

    func testAliasPrefersNonDevelopmentBuildLexically() throws {
        let f = try EngineFixture()
        try f.installed("cpu-foo-development", BackendMetadata(alias: "foo", name: "cpu-foo-development"))
        try f.installed("cpu-foo", BackendMetadata(alias: "foo", name: "cpu-foo"))
        XCTAssertEqual(try list(f).get("foo")?.metadata?.name, "cpu-foo")
    }

    func testAliasWithoutMatchingTokenTakesFirstCandidate() throws {
        let f = try EngineFixture()
        try f.installed("zeta-bar", BackendMetadata(alias: "bar", name: "zeta-bar"))
        try f.installed("alpha-bar", BackendMetadata(alias: "bar", name: "alpha-bar"))
        XCTAssertEqual(try list(f, capability: "amd").get("bar")?.metadata?.name, "alpha-bar")
    }

    func testSystemBackendsListedAndReplacedByUserBackendOfSameName() throws {
        let f = try EngineFixture()
        try f.installed("sys-only", in: f.system)
        try f.installed("shared", in: f.system)
        try f.installed("shared", BackendMetadata(name: "shared"))
        let rows = try list(f)
        XCTAssertEqual(rows.get("sys-only")?.isSystem, true)
        XCTAssertNil(rows.get("sys-only")?.metadata)
        XCTAssertEqual(rows.get("shared")?.isSystem, false)
    }

    func testMissingSystemPathIsFineButMissingBackendsPathIsAnError() throws {
        let f = try EngineFixture()
        try FileManager.default.removeItem(atPath: f.system)
        XCTAssertNoThrow(try list(f))
        try FileManager.default.removeItem(atPath: f.backends)
        XCTAssertThrowsError(try list(f)) { error in
            XCTAssertTrue("\(error)".contains(f.backends))
            XCTAssertTrue("\(error)".contains("--backends-path"))
        }
    }

    func testStagingAndBackupDirectoriesAreNeverListed() throws {
        let f = try EngineFixture()
        try f.installed("foo", BackendMetadata(alias: "foo-alias", name: "foo"))
        for leftover in ["foo.backup", "foo.install-tmp", "foo.upgrade-tmp", "foo.install-backup", ".hangar"] {
            try f.installed(leftover, BackendMetadata(alias: "foo-alias", name: "foo"))
        }
        let rows = try list(f)
        XCTAssertEqual(rows.rows.map(\.name).sorted(), ["foo", "foo-alias"])
        XCTAssertEqual(rows.get("foo-alias")?.directory, f.backends + "/foo")
    }

    func testMalformedMetadataBreaksOnlyItsOwnRow() throws {
        let f = try EngineFixture()
        try f.installed("good", BackendMetadata(name: "good", version: "1.0"))
        try f.installed("bad", metadata: "{\"name\": \"bad\",")
        try f.installed("worse", metadata: "{\"name\": 42}")
        let rows = try list(f)
        XCTAssertEqual(rows.get("good")?.metadata?.version, "1.0")
        let bad = try XCTUnwrap(rows.get("bad"))
        XCTAssertNil(bad.metadata)
        XCTAssertTrue(bad.broken?.contains("metadata.json") == true, bad.broken ?? "")
        XCTAssertTrue(bad.broken?.contains("line 1") == true, bad.broken ?? "")
        XCTAssertNotNil(rows.get("worse")?.broken)
    }
}
