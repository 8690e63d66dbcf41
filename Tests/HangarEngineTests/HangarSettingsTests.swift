import Foundation
import XCTest
@testable import HangarEngine

/// hangar.json (hangar's own preferences), prefer-development in runtime_settings.json, disk usage.
final class HangarSettingsTests: XCTestCase {
    private func mode(_ path: String) -> mode_t {
        var st = stat()
        return stat(path, &st) == 0 ? st.st_mode & 0o7777 : 0
    }

    func testMissingFileGivesLocalAIsSixHoursAndNoTheme() throws {
        let f = try EngineFixture()
        let settings = try f.engine().hangarSettings.load()
        XCTAssertEqual(settings, HangarSettings(checkInterval: 21600, theme: nil))
    }

    func testSaveWritesMode0600KeepsUnknownKeysAndRoundTrips() throws {
        let f = try EngineFixture()
        let file = f.config + "/hangar.json"
        try f.write(file, "{\n  \"future_key\": [1, 2],\n  \"theme\": \"light\"\n}\n", mode: 0o644)
        let store = try f.engine().hangarSettings
        XCTAssertEqual(store.path, file)
        XCTAssertEqual(try store.load().theme, "light")

        try store.save(HangarSettings(checkInterval: 1800, theme: "high-contrast"))
        XCTAssertEqual(try store.load(), HangarSettings(checkInterval: 1800, theme: "high-contrast"))
        let text = try XCTUnwrap(f.read(file))
        XCTAssertEqual(text, "{\n  \"future_key\": [\n    1,\n    2\n  ],\n  \"theme\": \"high-contrast\",\n  \"check_interval_seconds\": 1800\n}")
        XCTAssertEqual(mode(file), 0o600)

        try store.save(HangarSettings(checkInterval: 90.5, theme: nil))
        XCTAssertEqual(try store.load(), HangarSettings(checkInterval: 90.5, theme: nil))
        XCTAssertFalse(f.read(file)?.contains("theme") ?? true, "no theme saved means the key is gone, not null")
        XCTAssertTrue(f.read(file)?.contains("\"future_key\"") == true)
    }

    func testSaveCreatesTheConfigDirectory() throws {
        let f = try EngineFixture()
        let store = HangarSettingsFile(configDir: f.root + "/new/config")
        try store.save(HangarSettings(checkInterval: 600))
        XCTAssertEqual(try store.load().checkInterval, 600)
        XCTAssertEqual(mode(f.root + "/new/config"), 0o700)
    }

    func testMalformedFilesAreClearErrorsAndAreNeverReplaced() throws {
        let f = try EngineFixture()
        let store = HangarSettingsFile(configDir: f.config)
        let unparsable = ["{\"check_interval_seconds\": ", "[1]"]
        for text in unparsable + ["{\"check_interval_seconds\": \"6h\"}", "{\"check_interval_seconds\": -5}", "{\"theme\": 3}"] {
            try f.write(store.path, text)
            XCTAssertThrowsError(try store.load(), text) { error in
                let message = (error as? HangarError)?.message ?? ""
                XCTAssertTrue(message.hasPrefix(store.path), message)
                XCTAssertTrue(message.contains("fix or remove"), message)
            }
        }
        for text in unparsable {
            try f.write(store.path, text)
            XCTAssertThrowsError(try store.save(HangarSettings()), text)
            XCTAssertEqual(f.read(store.path), text, "a file hangar cannot parse is left alone")
        }
        // A parsable file with a wrong value is repaired by saving good settings over that key.
        try f.write(store.path, "{\"theme\": 3, \"other\": true}")
        try store.save(HangarSettings(theme: "light"))
        XCTAssertEqual(try store.load().theme, "light")
        XCTAssertTrue(f.read(store.path)?.contains("\"other\": true") == true)
    }

    func testIntervalsParseAsUsersWriteThem() throws {
        let cases: [(String, Double)] = [("90", 90), ("45s", 45), ("30m", 1800), ("6h", 21600), ("1d", 86400),
                                         ("1h30m", 5400), ("1.5h", 5400), ("0.2s", 0.2)]
        for (text, seconds) in cases {
            XCTAssertEqual(try HangarSettings.parseInterval(text), seconds, text)
        }
        for bad in ["", "h", "6x", "-1h", "0", "6h30", "m5", "1..5h"] {
            XCTAssertThrowsError(try HangarSettings.parseInterval(bad, what: "--interval"), bad) { error in
                XCTAssertTrue((error as? HangarError)?.message.hasPrefix("--interval") == true, "\(error)")
            }
        }
        XCTAssertEqual(HangarSettings.formatInterval(21600), "6h")
        XCTAssertEqual(HangarSettings.formatInterval(5400), "1h30m")
        XCTAssertEqual(HangarSettings.formatInterval(45), "45s")
        XCTAssertEqual(HangarSettings.formatInterval(0.5), "0.5s")
    }

    func testPreferDevelopmentWritesRuntimeSettingsKeepingOtherKeys() throws {
        let f = try EngineFixture()
        let file = f.config + "/runtime_settings.json"
        try f.write(file, "{\n  \"auto_upgrade_backends\": true,\n  \"watchdog_idle_timeout\": \"15m\"\n}\n")
        let engine = try f.engine()
        try engine.setPreferDevelopment(true)
        XCTAssertEqual(try engine.settings().preferDevelopmentBackends, true)
        XCTAssertEqual(f.read(file),
                       "{\n  \"auto_upgrade_backends\": true,\n  \"watchdog_idle_timeout\": \"15m\",\n  \"prefer_development_backends\": true\n}")
        try engine.setPreferDevelopment(false)
        XCTAssertEqual(try engine.settings().preferDevelopmentBackends, false)
        XCTAssertEqual(mode(file), 0o600)
    }

    func testDiskUsageMeasuresTheBackendDirectory() throws {
        let f = try EngineFixture()
        try f.installed("piper", BackendMetadata(name: "piper", version: "1"))
        try Data(repeating: 1, count: 300_000).write(to: URL(fileURLWithPath: f.backends + "/piper/model.bin"))
        try f.installed("system-vllm", in: f.system)
        let engine = try f.engine()
        let usage = try XCTUnwrap(engine.diskUsage(of: "piper"))
        XCTAssertGreaterThanOrEqual(usage, 300_000)
        XCTAssertLessThan(usage, 400_000)
        XCTAssertNotNil(engine.diskUsage(of: "system-vllm"))
        XCTAssertNil(engine.diskUsage(of: "missing"))
        XCTAssertNil(engine.diskUsage(of: "../configuration"))
    }
}
