import HangarFixtures
import XCTest
@testable import HangarEngine

/// Configuration precedence of spec §1.4, §2.1 and §2.7: flag, then LocalAI's variables, then the settings file
/// (galleries only), then LocalAI's defaults.
final class ConfigurationTests: XCTestCase {
    func resolve(_ flags: HangarConfiguration.Flags = .init(), env: [String: String] = [:], cwd: String = "/work/dir")
        throws -> HangarConfiguration {
        try HangarConfiguration.resolve(flags: flags, environment: env, workingDirectory: cwd)
    }

    func testDefaultsAreLocalAIsRelativeToTheWorkingDirectory() throws {
        let c = try resolve(env: ["LOCALAI_CONFIG_DIR": "/nonexistent-config"])
        XCTAssertEqual(c.backendsPath, "/work/dir/backends")
        XCTAssertEqual(c.systemBackendsPath, "/var/lib/local-ai/backends")
        XCTAssertEqual(try resolve().configDir, "/work/dir/configuration")
        XCTAssertEqual(c.galleries, GalleryConfig.localAIDefault)
        XCTAssertEqual([c.releaseTag, c.branchTag, c.devSuffix], ["latest", "master", "development"])
        XCTAssertFalse(c.preferDevelopment)
        XCTAssertFalse(c.requireIntegrity)
        XCTAssertEqual(c.galleryCacheDirectory, "/work/dir/cache/gallery")
    }

    func testFlagBeatsEnvironmentBeatsDefaultAndShortAliasesWork() throws {
        XCTAssertEqual(try resolve(.init(backendsPath: "/flag"), env: ["LOCALAI_BACKENDS_PATH": "/env"]).backendsPath, "/flag")
        XCTAssertEqual(try resolve(env: ["LOCALAI_BACKENDS_PATH": "/env", "BACKENDS_PATH": "/short"]).backendsPath, "/env")
        XCTAssertEqual(try resolve(env: ["BACKENDS_PATH": "/short"]).backendsPath, "/short")
        XCTAssertEqual(try resolve(env: ["BACKEND_SYSTEM_PATH": "/sys"]).systemBackendsPath, "/sys")
        XCTAssertEqual(try resolve(env: ["LOCALAI_BACKENDS_SYSTEM_PATH": "/sys2"]).systemBackendsPath, "/sys2")
        XCTAssertEqual(try resolve(env: ["LOCALAI_BACKEND_DEV_SUFFIX": "dev", "BACKEND_IMAGES_RELEASE_TAG": "v4"]).devSuffix, "dev")
        XCTAssertEqual(try resolve(env: ["BACKEND_IMAGES_RELEASE_TAG": "v4"]).releaseTag, "v4")
        let c = try resolve(.init(backendsPath: "rel/../backends"), env: [:], cwd: "/home/u")
        XCTAssertEqual(c.backendsPath, "/home/u/backends")
        XCTAssertEqual(c.sources["backends_path"], "--backends-path")
    }

    func testGalleriesFromFlagEnvSettingsFileOrDefault() throws {
        // The configuration dir itself does not exist yet: the settings file's update makes it.
        let base = try makeTemporaryDirectory("config")
        defer { removeTree(base) }
        let dir = base + "/configuration"
        try RuntimeSettingsFile(configDir: dir).update([
            "backend_galleries": .array([.object(JSONObject(["name": .string("file"), "url": .string("file:///f.yaml")]))]),
        ])
        let fromFile = try resolve(.init(configDir: dir))
        XCTAssertEqual(fromFile.galleries.map(\.name), ["file"])
        XCTAssertEqual(fromFile.sources["backend_galleries"], "runtime_settings.json")
        let fromEnv = try resolve(.init(configDir: dir), env: ["LOCALAI_BACKEND_GALLERIES": "[{\"name\":\"env\",\"url\":\"u\"}]"])
        XCTAssertEqual(fromEnv.galleries.map(\.name), ["env"])
        let fromFlag = try resolve(.init(backendGalleries: "[{\"name\":\"flag\",\"url\":\"u\",\"mirrors\":[\"m\"]}]", configDir: dir),
                                   env: ["LOCALAI_BACKEND_GALLERIES": "[]"])
        XCTAssertEqual(fromFlag.galleries, [GalleryConfig(name: "flag", url: "u", mirrors: ["m"])])
        XCTAssertEqual(try resolve(.init(configDir: dir), env: ["BACKEND_GALLERIES": ""]).galleries, [],
                       "an empty string is an empty list, as in LocalAI")
    }

    func testBadValuesAreConfigurationErrorsNamingTheSource() throws {
        XCTAssertThrowsError(try resolve(.init(backendGalleries: "[{"))) { error in
            XCTAssertEqual((error as? HangarError)?.category, .configuration)
            XCTAssertTrue("\(error)".contains("--backend-galleries"), "\(error)")
        }
        XCTAssertThrowsError(try resolve(env: ["LOCALAI_REQUIRE_BACKEND_INTEGRITY": "yes"])) { error in
            XCTAssertTrue("\(error)".contains("LOCALAI_REQUIRE_BACKEND_INTEGRITY=yes"), "\(error)")
        }
    }

    func testMissingBackendsDirectoryNamesThePathAndTheFlag() throws {
        let c = try resolve(.init(backendsPath: "/definitely/not/here"))
        XCTAssertThrowsError(try c.requireBackendsDirectory()) { error in
            XCTAssertEqual((error as? HangarError)?.category, .configuration)
            XCTAssertTrue("\(error)".contains("/definitely/not/here"))
            XCTAssertTrue("\(error)".contains("--backends-path"))
            XCTAssertTrue("\(error)".contains("LOCALAI_BACKENDS_PATH"))
        }
    }

    func testCapabilityFlagBeatsLocalAIsForceVariable() throws {
        let c = try resolve(.init(capability: "amd"), env: ["LOCALAI_FORCE_META_BACKEND_CAPABILITY": "nvidia"])
        let engine = Engine(configuration: c, host: HostProbe(environment: c.environment, os: "linux", arch: "amd64"))
        XCTAssertEqual(engine.capability.value, "amd")
    }
}
