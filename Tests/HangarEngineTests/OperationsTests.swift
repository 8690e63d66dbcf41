import XCTest
@testable import HangarEngine

/// Install, reinstall, upgrade and uninstall on real directories (spec §4; LocalAI's backends_test.go,
/// backends_version_test.go and upgrade_test.go behaviours).
final class OperationsTests: XCTestCase {
    func galleryWith(_ f: EngineFixture, _ body: String) throws {
        try f.gallery("---\n" + body)
    }

    // MARK: install

    func testInstallRecordsNameVersionURIAliasAndGallery() throws {
        let f = try EngineFixture()
        let src = try f.source("foo-1", files: ["lib.so": "v1"])
        try galleryWith(f, "- {name: foo, uri: \"\(src)\", version: \"1.0.0\", alias: foo-alias}\n")
        let outcome = try finish(try f.engine()) { try $0.install("foo", force: false) }
        XCTAssertTrue(outcome.isSuccess, "\(outcome)")
        let m = try f.metadata("foo")
        XCTAssertEqual(m.name, "foo")
        XCTAssertEqual(m.version, "1.0.0")
        XCTAssertEqual(m.uri, src)
        XCTAssertEqual(m.alias, "foo-alias")
        XCTAssertEqual(m.galleryURL, "file://\(f.galleryFile)")
        XCTAssertFalse(m.installedAt.isEmpty)
        XCTAssertEqual(f.read(f.backends + "/foo/lib.so"), "v1")
        XCTAssertNotEqual(FileManager.default.isExecutableFile(atPath: f.backends + "/foo/run.sh"), false)
    }

    func testVersionIsOmittedWhenEmpty() throws {
        let f = try EngineFixture()
        let src = try f.source("foo")
        try galleryWith(f, "- {name: foo, uri: \"\(src)\"}\n")
        try finish(try f.engine()) { try $0.install("foo", force: false) }
        XCTAssertFalse(f.read(f.backends + "/foo/metadata.json")!.contains("version"))
    }

    func testMetaInstallsItsConcreteAndWritesTheMetaDirectory() throws {
        let f = try EngineFixture()
        let cpu = try f.source("cpu-kokoro")
        let cuda = try f.source("cuda12-kokoro")
        try galleryWith(f, """
            - &kokoro
              name: kokoro
              alias: kokoro
              capabilities: {default: cpu-kokoro, nvidia: cuda12-kokoro}
            - !!merge <<: *kokoro
              name: cpu-kokoro
              uri: "\(cpu)"
              version: "0.9"
            - !!merge <<: *kokoro
              name: cuda12-kokoro
              uri: "\(cuda)"

            """)
        XCTAssertTrue(try finish(try f.engine()) { try $0.install("kokoro", force: false) }.isSuccess)
        XCTAssertTrue(f.exists("cpu-kokoro/run.sh"))
        XCTAssertFalse(f.exists("cuda12-kokoro"))
        let meta = try f.metadata("kokoro")
        XCTAssertEqual(meta.metaBackendFor, "cpu-kokoro")
        XCTAssertEqual(meta.version, "0.9")
        XCTAssertEqual(meta.uri, "")
        XCTAssertFalse(f.exists("kokoro/run.sh"))
        XCTAssertEqual(try f.metadata("cpu-kokoro").alias, "kokoro")

        // On an NVIDIA host the same meta picks the CUDA build.
        let g = try EngineFixture()
        try FileManager.default.removeItem(atPath: g.site.galleries)
        try FileManager.default.createSymbolicLink(atPath: g.site.galleries, withDestinationPath: f.site.galleries)
        XCTAssertTrue(try finish(try g.engine(capability: "nvidia")) { try $0.install("kokoro", force: false) }.isSuccess)
        XCTAssertEqual(try g.metadata("kokoro").metaBackendFor, "cuda12-kokoro")
    }

    func testUnknownNameAndIncompatibleBuildAreClearErrors() throws {
        let f = try EngineFixture()
        try galleryWith(f, "- {name: cuda12-foo, uri: /x}\n")
        let engine = try f.engine()
        guard case .failed(let e) = try finish(engine, { try $0.install("nope", force: false) }) else { return XCTFail() }
        XCTAssertTrue(e.message.hasPrefix("no backend found with name \"nope\""), e.message)
        guard case .failed(let e2) = try finish(engine, { try $0.install("cuda12-foo", force: false) }) else { return XCTFail() }
        XCTAssertTrue(e2.message.contains("not compatible with capability \"default\""), e2.message)
    }

    func testEnsureInstalledIsANoOpAndForceReinstallDropsStaleFiles() throws {
        let f = try EngineFixture()
        let src = try f.source("foo", files: ["new.txt": "new"])
        try galleryWith(f, "- {name: foo, uri: \"\(src)\", version: \"2\"}\n")
        try f.installed("foo", BackendMetadata(name: "foo", version: "1"))
        try f.write(f.backends + "/foo/stale.so", "old")
        let engine = try f.engine()
        let noop = try finish(engine) { try $0.install("foo", force: false) }
        XCTAssertEqual(noop, .succeeded(summary: "foo is already installed (use reinstall to replace it)"))
        XCTAssertEqual(try f.metadata("foo").version, "1")
        XCTAssertTrue(try finish(engine) { try $0.install("foo", force: true) }.isSuccess)
        XCTAssertFalse(f.exists("foo/stale.so"), "reinstall must not leave files of the old version")
        XCTAssertTrue(f.exists("foo/new.txt"))
        XCTAssertEqual(try f.metadata("foo").version, "2")
    }

    func testOrphanedMetaIsReinstalledWithoutForce() throws {
        let f = try EngineFixture()
        let src = try f.source("cpu-foo")
        try galleryWith(f, "- {name: foo, capabilities: {default: cpu-foo}}\n- {name: cpu-foo, uri: \"\(src)\"}\n")
        try f.installed("foo", BackendMetadata(metaBackendFor: "cpu-foo", name: "foo"), runScript: false)
        XCTAssertTrue(try finish(try f.engine()) { try $0.install("foo", force: false) }.isSuccess)
        XCTAssertTrue(f.exists("cpu-foo/run.sh"))
    }

    func testFailedFreshInstallLeavesNothingAndFailedReinstallKeepsTheOldVersion() throws {
        let f = try EngineFixture()
        let bad = try f.source("bad", runScript: false, files: ["x": "y"])
        try galleryWith(f, "- {name: foo, uri: \"\(bad)\"}\n- {name: bar, uri: \"\(bad)\"}\n")
        let engine = try f.engine()
        guard case .failed(let e) = try finish(engine, { try $0.install("foo", force: false) }) else { return XCTFail() }
        XCTAssertTrue(e.message.contains("run.sh"), e.message)
        XCTAssertFalse(f.exists("foo"))

        try f.installed("bar", BackendMetadata(name: "bar", version: "1.0.0"))
        let before = f.snapshot()
        guard case .rolledBack(let e2, let restored) = try finish(engine, { try $0.install("bar", force: true) }) else {
            return XCTFail()
        }
        XCTAssertTrue(e2.message.contains("run.sh"))
        XCTAssertEqual(restored, "previous install kept")
        XCTAssertEqual(f.snapshot(), before, "a failed forced reinstall must not touch the working install (LocalAI §4.9 bug)")
    }

    func testMirrorAndTagFallbacksRecordThePrimaryURI() throws {
        let f = try EngineFixture()
        try f.source("mirror-foo")
        try f.source("master-bar-development")
        try galleryWith(f, """
            - {name: foo, uri: "\(f.root)/sources/missing-foo", mirrors: ["\(f.root)/sources/mirror-foo"]}
            - {name: bar, uri: "\(f.root)/sources/latest-bar"}

            """)
        let engine = try f.engine()
        XCTAssertTrue(try finish(engine) { try $0.install("foo", force: false) }.isSuccess)
        XCTAssertEqual(try f.metadata("foo").uri, "\(f.root)/sources/missing-foo")
        // latest- → master- → master-…-development, the last of which exists.
        XCTAssertTrue(try finish(engine) { try $0.install("bar", force: false) }.isSuccess)
        XCTAssertEqual(try f.metadata("bar").uri, "\(f.root)/sources/latest-bar")
    }

    func testPreferDevelopmentInstallsTheBranchBuild() throws {
        let f = try EngineFixture()
        try f.source("latest-foo", files: ["which": "release"])
        try f.source("master-foo", files: ["which": "branch"])
        try galleryWith(f, "- {name: foo, uri: \"\(f.root)/sources/latest-foo\"}\n")
        let engine = try f.engine(extraEnvironment: ["LOCALAI_PREFER_DEV_BACKENDS": "true"])
        XCTAssertTrue(try finish(engine) { try $0.install("foo", force: false) }.isSuccess)
        XCTAssertEqual(f.read(f.backends + "/foo/which"), "branch")
        XCTAssertEqual(try f.metadata("foo").uri, "\(f.root)/sources/master-foo")
    }

    func testPreferDevelopmentFallsBackToTheDevSuffixedBranchTag() throws {
        let f = try EngineFixture()
        try f.source("master-foo-development", files: ["which": "dev-suffixed"])
        try galleryWith(f, "- {name: foo, uri: \"\(f.root)/sources/latest-foo\"}\n")
        let engine = try f.engine(extraEnvironment: ["LOCALAI_PREFER_DEV_BACKENDS": "true"])
        XCTAssertTrue(try finish(engine) { try $0.install("foo", force: false) }.isSuccess)
        XCTAssertEqual(f.read(f.backends + "/foo/which"), "dev-suffixed")
    }

    func testCheckFailsInsteadOfClaimingUpToDateWhenNoGalleryCanBeRead() throws {
        let f = try EngineFixture()
        try f.installed("foo", BackendMetadata(name: "foo", version: "1"))
        let engine = try f.engine()  // the gallery file was never written
        XCTAssertThrowsError(try engine.checkUpgrades()) { error in
            XCTAssertTrue("\(error)".hasPrefix("cannot check for upgrades: gallery \"test\""), "\(error)")
        }
    }

    func testCachedGalleryCopyIsUsedWithAWarningThatSaysHowOld() throws {
        let f = try EngineFixture()
        try f.installed("foo", BackendMetadata(name: "foo", version: "1"))
        try f.gallery("- {name: foo, uri: /x, version: \"2\"}\n")
        XCTAssertEqual(try f.engine().checkUpgrades().upgrades["foo"]?.availableVersion, "2")
        try FileManager.default.removeItem(atPath: f.galleryFile)
        let report = try f.engine().checkUpgrades()
        XCTAssertEqual(report.upgrades["foo"]?.availableVersion, "2", "served from the last-known-good copy")
        XCTAssertTrue(report.warnings.contains { $0.contains("using the cached copy") && $0.contains(" old, because ") },
                      "\(report.warnings)")
        XCTAssertFalse(report.warnings.contains { $0.contains("no cached copy exists") })
    }

    func testAMalformedSettingsFileDoesNotBlockOtherCommands() throws {
        let f = try EngineFixture()
        try f.write(f.config + "/runtime_settings.json", "{\"auto_upgrade_backends\": tru")
        let configuration = try HangarConfiguration.resolve(
            flags: .init(backendsPath: f.backends, configDir: f.config), environment: [:], workingDirectory: f.root)
        XCTAssertEqual(configuration.galleries, GalleryConfig.localAIDefault)
        XCTAssertTrue(configuration.warnings.first?.contains("runtime_settings.json") == true, "\(configuration.warnings)")
        XCTAssertThrowsError(try Engine(configuration: configuration).settings(), "settings itself refuses the file")
    }

    func testUpgradeReplacesTheDirectoryTheRowPointsAtNotTheNameInsideItsMetadata() throws {
        let f = try EngineFixture()
        let v2 = try f.source("bar-2")
        try galleryWith(f, "- {name: bar, uri: \"\(v2)\", version: \"2\"}\n")
        try f.installed("foo", BackendMetadata(name: "bar", version: "1"))
        XCTAssertTrue(try finish(try f.engine()) { try $0.upgrade("foo") }.isSuccess)
        XCTAssertEqual(try f.metadata("foo").version, "2")
        XCTAssertFalse(f.exists("bar"))
    }

    func testDevelopmentURI() {
        XCTAssertEqual(BackendURI.developmentURI("quay.io/x:latest-cpu-foo"), "quay.io/x:master-cpu-foo")
        XCTAssertNil(BackendURI.developmentURI("quay.io/x:master-cpu-foo"))
        XCTAssertNil(BackendURI.developmentURI("quay.io/x:v1.2"))
    }

    func testStrictIntegrityRefusesOCIWithoutPolicyBeforeTouchingDisk() throws {
        let f = try EngineFixture()
        try galleryWith(f, "- {name: foo, uri: \"quay.io/go-skynet/local-ai-backends:latest-foo\"}\n")
        let engine = try f.engine(extraEnvironment: ["LOCALAI_REQUIRE_BACKEND_INTEGRITY": "true"])
        guard case .failed(let e) = try finish(engine, { try $0.install("foo", force: false) }) else { return XCTFail() }
        XCTAssertTrue(e.message.hasPrefix("strict integrity: gallery \"test\" has no verification policy"), e.message)
        XCTAssertFalse(f.exists("foo"))
        XCTAssertEqual((try? FileManager.default.contentsOfDirectory(atPath: f.backends + "/.hangar/staging")) ?? [], [])
    }

    // MARK: upgrade

    func testUpgradeSwapsContentAndMetadataKeepingNameAndAlias() throws {
        let f = try EngineFixture()
        let v2 = try f.source("foo-2", files: ["VERSION": "2"])
        try galleryWith(f, "- {name: foo, uri: \"\(v2)\", version: \"2.0.0\"}\n")
        try f.installed("foo", BackendMetadata(alias: "foo-alias", name: "foo", version: "1.0.0", uri: "/old"))
        try f.write(f.backends + "/foo/VERSION", "1")
        let engine = try f.engine()
        XCTAssertNotNil(try engine.checkUpgrades().upgrades["foo"])
        let outcome = try finish(engine) { try $0.upgrade("foo") }
        XCTAssertEqual(outcome, .succeeded(summary: "upgraded foo v1.0.0 → v2.0.0"))
        XCTAssertEqual(f.read(f.backends + "/foo/VERSION"), "2")
        let m = try f.metadata("foo")
        XCTAssertEqual([m.name, m.version, m.alias, m.uri], ["foo", "2.0.0", "foo-alias", v2])
        XCTAssertTrue(try engine.checkUpgrades().upgrades.isEmpty)
    }

    func testUpgradeFromSourceWithoutRunScriptRollsBackAndKeepsV1() throws {
        let f = try EngineFixture()
        let v2 = try f.source("foo-2", runScript: false, files: ["VERSION": "2"])
        try galleryWith(f, "- {name: foo, uri: \"\(v2)\", version: \"2.0.0\"}\n")
        try f.installed("foo", BackendMetadata(name: "foo", version: "1.0.0"))
        let before = f.snapshot()
        let outcome = try finish(try f.engine()) { try $0.upgrade("foo") }
        guard case .rolledBack(let error, let restored) = outcome else { return XCTFail("\(outcome)") }
        XCTAssertTrue(error.message.contains("run.sh"))
        XCTAssertEqual(restored, "v1.0.0 restored")
        XCTAssertEqual(f.snapshot(), before)
    }

    func testUpgradeOfAMetaUpgradesItsConcrete() throws {
        let f = try EngineFixture()
        let v2 = try f.source("cpu-foo-2")
        try galleryWith(f, "- {name: foo, capabilities: {default: cpu-foo}}\n- {name: cpu-foo, uri: \"\(v2)\", version: \"2\"}\n")
        try f.installed("cpu-foo", BackendMetadata(name: "cpu-foo", version: "1"))
        try f.installed("foo", BackendMetadata(metaBackendFor: "cpu-foo", name: "foo", version: "1"), runScript: false)
        XCTAssertTrue(try finish(try f.engine()) { try $0.upgrade("foo") }.isSuccess)
        XCTAssertEqual(try f.metadata("cpu-foo").version, "2")
        XCTAssertEqual(try f.metadata("foo").version, "1", "LocalAI leaves the meta's own metadata as it was")
    }

    func testUpgradeRefusesSystemAndUnknownBackends() throws {
        let f = try EngineFixture()
        try galleryWith(f, "- {name: sys, uri: /x, version: \"2\"}\n")
        try f.installed("sys", in: f.system)
        let engine = try f.engine()
        XCTAssertEqual(try finish(engine) { try $0.upgrade("sys") },
                       .failed(.configuration("system backend \"sys\" cannot be upgraded via gallery")))
        guard case .failed(let e) = try finish(engine, { try $0.upgrade("ghost") }) else { return XCTFail() }
        XCTAssertTrue(e.message.hasPrefix("backend \"ghost\": backend not found"))
    }

    // MARK: uninstall

    func testUninstallingAMetaRemovesItsConcreteAlsoThroughTheAlias() throws {
        for requested in ["foo", "cpu-foo-alias"] {
            let f = try EngineFixture()
            try f.gallery("[]\n")
            try f.installed("cpu-foo", BackendMetadata(alias: "cpu-foo-alias", name: "cpu-foo"))
            try f.installed("foo", BackendMetadata(metaBackendFor: "cpu-foo", name: "foo"), runScript: false)
            let engine = try f.engine()
            let outcome = try finish(engine) { try $0.uninstall(requested) }
            XCTAssertTrue(outcome.isSuccess, "\(requested): \(outcome)")
            if requested == "foo" {
                XCTAssertFalse(f.exists("foo"))
            }
            XCTAssertFalse(f.exists("cpu-foo"), requested)
        }
    }

    func testUninstallWhenAliasEqualsMetaName() throws {
        let f = try EngineFixture()
        try f.gallery("[]\n")
        try f.installed("cpu-llama-cpp", BackendMetadata(alias: "llama-cpp", name: "cpu-llama-cpp"))
        try f.installed("llama-cpp", BackendMetadata(metaBackendFor: "cpu-llama-cpp", name: "llama-cpp"), runScript: false)
        XCTAssertTrue(try finish(try f.engine()) { try $0.uninstall("llama-cpp") }.isSuccess)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: f.backends).filter { !$0.hasPrefix(".") }, [])
    }

    func testOrphanedMetaIsDeletable() throws {
        let f = try EngineFixture()
        try f.gallery("[]\n")
        try f.installed("foo", BackendMetadata(metaBackendFor: "gone", name: "foo"), runScript: false)
        XCTAssertTrue(try finish(try f.engine()) { try $0.uninstall("foo") }.isSuccess)
        XCTAssertFalse(f.exists("foo"))
    }

    func testUninstallRefusesSystemAndReportsMissing() throws {
        let f = try EngineFixture()
        try f.gallery("[]\n")
        try f.installed("sys", in: f.system)
        let engine = try f.engine()
        XCTAssertEqual(try finish(engine) { try $0.uninstall("sys") },
                       .failed(.configuration("system backend \"sys\" cannot be deleted")))
        guard case .failed(let e) = try finish(engine, { try $0.uninstall("ghost") }) else { return XCTFail() }
        XCTAssertEqual(e.category, .notFound)
        XCTAssertTrue(FileManager.default.fileExists(atPath: f.system + "/sys/run.sh"))
    }

    // MARK: names

    func testUnsafeNamesAreRefusedBeforeAnythingTouchesTheDisk() throws {
        let f = try EngineFixture()
        try f.gallery("[]\n")
        let engine = try f.engine()
        for bad in ["../evil", "a/b", ".hidden", "..", "", "x\0y", "foo.backup", "localai@../x"] {
            XCTAssertThrowsError(try engine.install(bad, force: false), bad) { error in
                XCTAssertEqual((error as? HangarError)?.category, .configuration, bad)
            }
            XCTAssertThrowsError(try engine.uninstall(bad), bad)
            XCTAssertThrowsError(try engine.upgrade(bad), bad)
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: f.root + "/evil"))
    }

    func testUnsafeGalleryEntryNamesAreRefused() throws {
        let f = try EngineFixture()
        let src = try f.source("x")
        try galleryWith(f, "- {name: \"../../escape\", uri: \"\(src)\"}\n- {name: meta, capabilities: {default: \"../up\"}}\n- {name: \"../up\", uri: \"\(src)\"}\n")
        let engine = try f.engine()
        guard case .failed(let e) = try finish(engine, { try $0.install("meta", force: false) }) else { return XCTFail() }
        XCTAssertTrue(e.message.contains("gallery entry refused"), e.message)
        XCTAssertFalse(FileManager.default.fileExists(atPath: f.root + "/up"))
        XCTAssertFalse(FileManager.default.fileExists(atPath: f.root + "/escape"))
    }
}
