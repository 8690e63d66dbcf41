import Foundation
import HangarEngine
import HangarFixtures
import XCTest

/// `hangar daemon`, the real binary on a demo sandbox: it checks, auto-upgrades, logs, and stops cleanly on a signal.
final class DaemonTests: XCTestCase {
    func testDaemonAutoUpgradesLogsEachEventAndExitsCleanlyOnSIGTERM() throws {
        let site = try DemoSite(copyLimit: 64 << 20)
        try RuntimeSettingsText.write(autoUpgrade: true, in: site.demo.configDir)
        let daemon = try ChildProcess([site.hangar, "daemon", "--interval", "1s"], environment: site.environment,
                                      outputPath: site.root + "/daemon.log")
        eventually("piper upgraded by the daemon", timeout: 20, context: { daemon.output }) {
            site.metadata("piper")?["version"] as? String == "0.9.0"
        }
        eventually("a check after the upgrades", timeout: 20, context: { daemon.output }) {
            daemon.output.contains("auto-upgrade piper") && daemon.output.components(separatedBy: "check finished").count >= 3
        }
        daemon.signal(SIGTERM)
        let status = daemon.wait(timeout: 15)
        let log = daemon.output
        XCTAssertEqual(status, 0, log)

        // One line per event, each with a timestamp.
        XCTAssertTrue(log.contains("check started"), log)
        XCTAssertTrue(log.contains("upgrade available: piper v0.8.0 → v0.9.0"), log)
        XCTAssertTrue(log.contains("auto-upgrade piper (job"), log)
        XCTAssertTrue(log.contains("upgraded piper v0.8.0 → v0.9.0"), log)
        XCTAssertTrue(log.contains("auto-upgrade kokoro (job") && log.contains("v1.0.0 restored"), "the broken one rolled back: \(log)")
        XCTAssertTrue(log.contains("SIGTERM: stopping"), log)
        XCTAssertTrue(log.hasSuffix("stopped\n"), log)
        for line in log.split(separator: "\n") {
            XCTAssertNotNil(line.range(of: #"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d"#, options: .regularExpression), "untimestamped: \(line)")
        }
        // The broken upgrade was tried once, not at every check.
        XCTAssertEqual(log.components(separatedBy: "auto-upgrade kokoro (job").count - 1, 1, log)
        XCTAssertEqual(site.metadata("kokoro")?["version"] as? String, "1.0.0")
        XCTAssertTrue(site.exists("kokoro/run.sh"))
        // Every operation is in the shared history the UI's detail screen reads.
        let history = try String(contentsOfFile: site.demo.backendsPath + "/.hangar/history.jsonl", encoding: .utf8)
        XCTAssertTrue(history.contains("\"rolled_back\""), history)
    }

    func testSIGTERMDuringAnUpgradeCancelsItAndKeepsTheOldVersion() throws {
        // Slow enough that the signal lands mid-copy: stablediffusion-ggml's new build is 32 units.
        let site = try DemoSite(copyLimit: 128 << 10)
        try RuntimeSettingsText.write(autoUpgrade: true, in: site.demo.configDir)
        let daemon = try ChildProcess([site.hangar, "daemon"], environment: site.environment,
                                      outputPath: site.root + "/daemon.log")
        eventually("auto-upgrades queued", timeout: 20, context: { daemon.output }) { daemon.output.contains("upgrades queued") }
        daemon.signal(SIGINT)
        XCTAssertEqual(daemon.wait(timeout: 15), 0, daemon.output)
        XCTAssertTrue(daemon.output.contains("SIGINT: stopping"), daemon.output)
        XCTAssertTrue(daemon.output.contains("stablediffusion-ggml (job") && daemon.output.contains("cancelled"), daemon.output)
        XCTAssertEqual(site.metadata("stablediffusion-ggml")?["version"] as? String, "2.9.0")
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: site.demo.backendsPath + "/.hangar/staging"), [],
                       "nothing half-done is left behind")
    }

    func testWithoutIntervalTheDaemonUsesHangarJSONAndAutoUpgradeOff() throws {
        let site = try DemoSite()
        try HangarSettingsFile(configDir: site.demo.configDir).save(HangarSettings(checkInterval: 0.5))
        let daemon = try ChildProcess([site.hangar, "daemon"], environment: site.environment, outputPath: site.root + "/daemon.log")
        eventually("three checks half a second apart", timeout: 15, context: { daemon.output }) {
            daemon.output.components(separatedBy: "check finished: 5 upgrades available").count >= 4
        }
        daemon.signal(SIGTERM)
        XCTAssertEqual(daemon.wait(timeout: 15), 0, daemon.output)
        XCTAssertTrue(daemon.output.contains("checking every 0.5s, auto-upgrade off"), daemon.output)
        XCTAssertFalse(daemon.output.contains("queued"), "auto-upgrade is off: nothing is upgraded: \(daemon.output)")
        XCTAssertEqual(site.metadata("piper")?["version"] as? String, "0.8.0")
    }

    func testABadIntervalIsAUsageError() throws {
        let site = try DemoSite()
        let r = try ChildProcess.run([site.hangar, "daemon", "--interval", "soon"], environment: site.environment, scratch: site.root)
        XCTAssertEqual(r.status, 2, r.output)
        XCTAssertTrue(r.output.hasPrefix("hangar: --interval \"soon\" is not a duration"), r.output)
    }
}

/// runtime_settings.json as a user (or LocalAI's UI) writes it.
enum RuntimeSettingsText {
    static func write(autoUpgrade: Bool, in configDir: String) throws {
        try "{\n  \"auto_upgrade_backends\": \(autoUpgrade)\n}\n".write(toFile: configDir + "/runtime_settings.json",
                                                                     atomically: true, encoding: .utf8)
    }
}
