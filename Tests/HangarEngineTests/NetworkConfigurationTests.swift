import XCTest
@testable import HangarEngine

/// hangar's own network settings: the extraction cap and the insecure-registry list (flag, then env, then default).
final class NetworkConfigurationTests: XCTestCase {
    func resolve(_ flags: HangarConfiguration.Flags = .init(), env: [String: String] = [:]) throws -> HangarConfiguration {
        try HangarConfiguration.resolve(flags: flags, environment: env, workingDirectory: "/work/dir")
    }

    func testByteSizesParseWithBinaryAndDecimalUnits() {
        XCTAssertEqual(TextFormat.parseBytes("16MiB"), 16 << 20)
        XCTAssertEqual(TextFormat.parseBytes("2GiB"), 2 << 30)
        XCTAssertEqual(TextFormat.parseBytes("2G"), 2 << 30)
        XCTAssertEqual(TextFormat.parseBytes("1.5GiB"), 3 << 29)
        XCTAssertEqual(TextFormat.parseBytes("500MB"), 500_000_000)
        XCTAssertEqual(TextFormat.parseBytes("4096"), 4096)
        XCTAssertEqual(TextFormat.parseBytes(" 8 kib "), 8192)
        for bad in ["", "MiB", "12XB", "-5MiB", "1.2.3G", "9999999999TiB", "0x10"] {
            XCTAssertNil(TextFormat.parseBytes(bad), bad)
        }
    }

    func testMaxExtractSizeFromFlagEnvOrDefault() throws {
        let byDefault = try resolve()
        XCTAssertEqual(byDefault.maxExtractSize, 64 << 30)
        XCTAssertEqual(byDefault.sources["max_extract_size"], "default")
        let fromEnv = try resolve(env: ["HANGAR_MAX_EXTRACT_SIZE": "2GiB"])
        XCTAssertEqual(fromEnv.maxExtractSize, 2 << 30)
        XCTAssertEqual(fromEnv.sources["max_extract_size"], "HANGAR_MAX_EXTRACT_SIZE")
        let fromFlag = try resolve(.init(maxExtractSize: "16MiB"), env: ["HANGAR_MAX_EXTRACT_SIZE": "2GiB"])
        XCTAssertEqual(fromFlag.maxExtractSize, 16 << 20)
        XCTAssertEqual(fromFlag.sources["max_extract_size"], "--max-extract-size")
    }

    func testBadMaxExtractSizeIsAConfigurationErrorNamingTheFlag() {
        XCTAssertThrowsError(try resolve(.init(maxExtractSize: "lots"))) { error in
            XCTAssertEqual((error as? HangarError)?.category, .configuration)
            XCTAssertEqual("\(error)", "--max-extract-size lots is not a size: use bytes or a unit, e.g. 16MiB or 2GiB")
        }
        XCTAssertThrowsError(try resolve(env: ["HANGAR_MAX_EXTRACT_SIZE": "0"])) { error in
            XCTAssertTrue("\(error)".hasPrefix("HANGAR_MAX_EXTRACT_SIZE=0 is not a size"), "\(error)")
        }
    }

    func testMaxExtractSizeIsCappedAt1PiBSoDerivedLimitsCannotOverflow() throws {
        XCTAssertEqual(try resolve(.init(maxExtractSize: "1024TiB")).maxExtractSize, 1 << 50, "1 PiB itself is taken")
        for huge in ["1025TiB", "8000000TiB", "9223372036854775807"] {
            XCTAssertThrowsError(try resolve(.init(maxExtractSize: huge)), huge) { error in
                XCTAssertEqual((error as? HangarError)?.category, .configuration)
                XCTAssertEqual("\(error)", "--max-extract-size \(huge) is more than hangar allows (1PiB): give a smaller --max-extract-size, e.g. 64GiB")
            }
        }
        XCTAssertThrowsError(try resolve(env: ["HANGAR_MAX_EXTRACT_SIZE": "2048TiB"])) { error in
            XCTAssertTrue("\(error)".hasPrefix("HANGAR_MAX_EXTRACT_SIZE=2048TiB is more than hangar allows"), "\(error)")
        }
        // What the sources derive from the largest accepted value stays in range instead of trapping.
        let largest = try resolve(.init(maxExtractSize: "1024TiB")).maxExtractSize
        XCTAssertEqual(largest.addingSaturated(largest / 8).addingSaturated(1 << 20), (1 << 50) + (1 << 47) + (1 << 20))
        XCTAssertEqual(Int64.max.addingSaturated(1 << 20), .max)
        XCTAssertEqual(Int64.max.multipliedSaturated(by: 4), .max)
        XCTAssertEqual(ExtractionOptions.flagValue(largest.multipliedSaturated(by: 4)), "4096TiB")
    }

    func testInsecureRegistriesFromFlagsOrCommaSeparatedEnv() throws {
        XCTAssertEqual(try resolve().insecureRegistries, [])
        let fromEnv = try resolve(env: ["HANGAR_INSECURE_REGISTRIES": "Registry.LAN:5000, build-box ,"])
        XCTAssertEqual(fromEnv.insecureRegistries, ["registry.lan:5000", "build-box"])
        XCTAssertEqual(fromEnv.sources["insecure_registries"], "HANGAR_INSECURE_REGISTRIES")
        let fromFlags = try resolve(.init(insecureRegistries: ["a.local", "b.local:8080"]),
                                    env: ["HANGAR_INSECURE_REGISTRIES": "c.local"])
        XCTAssertEqual(fromFlags.insecureRegistries, ["a.local", "b.local:8080"])
        XCTAssertEqual(fromFlags.sources["insecure_registries"], "--insecure-registry")
    }

    func testBadInsecureRegistryIsAConfigurationErrorNamingTheFlag() {
        for bad in ["http://registry.lan:5000", "registry.lan/path", "host:port", "host:0", ":5000", "réseau.lan"] {
            XCTAssertThrowsError(try resolve(.init(insecureRegistries: [bad])), bad) { error in
                XCTAssertEqual((error as? HangarError)?.category, .configuration)
                XCTAssertTrue("\(error)".hasPrefix("--insecure-registry \(bad) is not a registry host: give HOST or HOST:PORT"), "\(error)")
            }
        }
        XCTAssertThrowsError(try resolve(env: ["HANGAR_INSECURE_REGISTRIES": "ok.lan,https://x"])) { error in
            XCTAssertTrue("\(error)".hasPrefix("HANGAR_INSECURE_REGISTRIES entry https://x is not a registry host"), "\(error)")
        }
    }
}
