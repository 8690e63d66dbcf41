import XCTest
@testable import HangarEngine

/// How link mode is chosen: `--server` with an explicitly given local backends path links, `--via-server` hands the
/// command to the server, and `--server` alone stays remote mode.
final class LinkConfigurationTests: XCTestCase {
    func resolve(_ flags: HangarConfiguration.Flags, _ env: [String: String] = [:]) throws -> HangarConfiguration {
        try HangarConfiguration.resolve(flags: flags, environment: env, workingDirectory: "/work")
    }

    func testAnExplicitBackendsPathWithAServerLinksAndKeepsTheLocalDirectory() throws {
        for (flags, env) in [(HangarConfiguration.Flags(backendsPath: "/srv/backends", server: "http://gpu:8080"), [:]),
                             (HangarConfiguration.Flags(), ["LOCALAI_BACKENDS_PATH": "/srv/backends", "HANGAR_SERVER": "http://gpu:8080"])] {
            let config = try resolve(flags, env)
            XCTAssertNil(config.server, "not remote mode")
            XCTAssertEqual(config.linkedServer?.url, "http://gpu:8080")
            XCTAssertEqual(config.backendsPath, "/srv/backends")
            XCTAssertEqual(config.warnings, [], "--backends-path applies in link mode")
            let engine = Engine.live(configuration: config, recover: false).engine
            XCTAssertEqual(engine.location, "/srv/backends")
            XCTAssertEqual(engine.serverLink?.url, "http://gpu:8080")
        }
    }

    func testViaServerAndAServerAloneAreRemoteModeAndViaServerNeedsAServer() throws {
        let via = try resolve(.init(backendsPath: "/srv/backends", server: "http://gpu:8080", viaServer: true))
        XCTAssertEqual(via.server?.url, "http://gpu:8080")
        XCTAssertNil(via.linkedServer)
        XCTAssertEqual(via.backendsPath, "http://gpu:8080")
        XCTAssertTrue(via.warnings.contains { $0.hasPrefix("--backends-path does not apply with --server") }, "\(via.warnings)")

        let remote = try resolve(.init(server: "http://gpu:8080"))
        XCTAssertNotNil(remote.server)
        XCTAssertNil(remote.linkedServer)

        XCTAssertThrowsError(try resolve(.init(backendsPath: "/srv/backends", viaServer: true))) {
            XCTAssertEqual("\($0)", "--via-server needs a server: give --server URL (or HANGAR_SERVER)")
        }
        let local = try resolve(.init(backendsPath: "/srv/backends"))
        XCTAssertNil(Engine.live(configuration: local, recover: false).engine.serverLink)
        XCTAssertThrowsError(try Engine.live(configuration: local, recover: false).engine.restartModels(on: "piper")) {
            XCTAssertEqual("\($0)", "no LocalAI server to restart models on: give --server URL (or HANGAR_SERVER) with --backends-path")
        }
    }
}
