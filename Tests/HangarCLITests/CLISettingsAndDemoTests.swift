import Foundation
import HangarFixtures
import XCTest

/// `hangar settings` against LocalAI's runtime_settings.json, and the `hangar demo` sandbox.
final class CLISettingsAndDemoTests: CLITestCase {

    private func mode(_ path: String) -> mode_t {
        var st = stat()
        return stat(path, &st) == 0 ? st.st_mode & 0o7777 : 0
    }

    private func autoUpgradeSetting(_ r: RunResult, file: StaticString = #filePath, line: UInt = #line) throws -> [String: Any] {
        XCTAssertEqual(r.status, 0, r.transcript, file: file, line: line)
        let settings = try XCTUnwrap(try JSON.object(r.stdout)["settings"] as? [String: Any], file: file, line: line)
        return try XCTUnwrap(settings["auto_upgrade_backends"] as? [String: Any], file: file, line: line)
    }

    func testAutoUpgradeOnWritesTheFilePreservingOtherKeysWithMode0600() throws {
        let site = try sandbox.site()
        let file = site.config + "/runtime_settings.json"
        try writeFile(file, "{\n  \"max_active_backends\": 2,\n  \"watchdog_idle_timeout\": \"15m\",\n  \"custom\": {\"a\": [1, 2]}\n}\n", mode: 0o644)

        let r = try site.run(["settings", "auto-upgrade", "on"], gallery: nil)
        XCTAssertEqual(r.status, 0, r.transcript)
        let text = try String(contentsOfFile: file, encoding: .utf8)
        let object = try JSON.object(text)
        XCTAssertEqual(object["auto_upgrade_backends"] as? Bool, true)
        XCTAssertEqual(object["max_active_backends"] as? Int, 2)
        XCTAssertEqual(object["watchdog_idle_timeout"] as? String, "15m")
        XCTAssertEqual((object["custom"] as? [String: Any])?["a"] as? [Int], [1, 2])
        XCTAssertEqual(Set(object.keys), ["auto_upgrade_backends", "max_active_backends", "watchdog_idle_timeout", "custom"])
        XCTAssertTrue(text.contains("\n  \"auto_upgrade_backends\": true"), "two-space indent as LocalAI writes: \(text)")
        XCTAssertEqual(mode(file), 0o600)

        let setting = try autoUpgradeSetting(try site.run(["settings", "--json"], gallery: nil))
        XCTAssertEqual(setting["value"] as? Bool, true)
        XCTAssertEqual(setting["source"] as? String, "runtime_settings.json")
        let show = try site.run(["settings", "show", "--json"], gallery: nil)
        XCTAssertEqual(try autoUpgradeSetting(show)["value"] as? Bool, true)

        XCTAssertEqual(try site.run(["settings", "auto-upgrade", "off"], gallery: nil).status, 0)
        XCTAssertEqual(try JSON.object(try String(contentsOfFile: file, encoding: .utf8))["auto_upgrade_backends"] as? Bool, false)
        XCTAssertEqual(mode(file), 0o600)
    }

    func testAutoUpgradeCreatesAMissingSettingsFile() throws {
        let site = try sandbox.site()
        let file = site.config + "/runtime_settings.json"
        XCTAssertEqual(try site.run(["settings", "auto-upgrade", "on"], gallery: nil).status, 0)
        XCTAssertEqual(try JSON.object(try String(contentsOfFile: file, encoding: .utf8))["auto_upgrade_backends"] as? Bool, true)
        XCTAssertEqual(mode(file), 0o600)
    }

    func testEnvironmentOverridesTheFileAndSettingsSaysSo() throws {
        let site = try sandbox.site()
        try site.installation.runtimeSettings("{\n  \"auto_upgrade_backends\": false\n}")
        let env = ["LOCALAI_AUTO_UPGRADE_BACKENDS": "true"]
        let setting = try autoUpgradeSetting(try site.run(["settings", "--json"], gallery: nil, env: env))
        XCTAssertEqual(setting["value"] as? Bool, true)
        XCTAssertEqual(setting["source"] as? String, "LOCALAI_AUTO_UPGRADE_BACKENDS")
        XCTAssertEqual(setting["file_value"] as? Bool, false)
        XCTAssertEqual(setting["overridden_by_environment"] as? Bool, true)

        let human = try site.run(["settings"], gallery: nil, env: env)
        XCTAssertEqual(human.status, 0, human.transcript)
        let line = human.stdoutLines.first { $0.hasPrefix("auto_upgrade_backends") } ?? ""
        XCTAssertTrue(line.contains("LOCALAI_AUTO_UPGRADE_BACKENDS"), human.stdout)
        XCTAssertTrue(line.contains("true"), human.stdout)

        // Writing the file while the variable is set warns that the file value does not apply.
        let write = try site.run(["settings", "auto-upgrade", "off"], gallery: nil, env: env)
        XCTAssertEqual(write.status, 0, write.transcript)
        XCTAssertTrue(write.stderr.contains("LOCALAI_AUTO_UPGRADE_BACKENDS"), write.transcript)
    }

    /// The demo's `env` file, read by a real shell, as `source <dir>/env` would.
    private func demoEnvironment(_ envFile: String, site: Site) throws -> [String: String] {
        let shell = Process()
        shell.executableURL = URL(fileURLWithPath: "/bin/sh")
        shell.arguments = ["-c", ". \"$1\" && env", "sh", envFile]
        shell.environment = ["PATH": "/usr/bin:/bin"]
        let pipe = Pipe()
        shell.standardOutput = pipe
        try shell.run()
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        shell.waitUntilExit()
        XCTAssertEqual(shell.terminationStatus, 0, "the env file is source-able")
        var env = ["PATH": "/usr/bin:/bin", "HOME": site.home]
        for line in output.split(separator: "\n") {
            guard let eq = line.firstIndex(of: "=") else { continue }
            let key = String(line[..<eq])
            if key.hasPrefix("LOCALAI_") || key.hasPrefix("HANGAR_") { env[key] = String(line[line.index(after: eq)...]) }
        }
        return env
    }

    func testDemoBuildsTheSandboxAndKokorosBrokenUpgradeRollsBack() throws {
        let site = try sandbox.site()
        let dir = site.root + "/demo"
        let r = try site.run(["demo", "--dir", dir], gallery: nil, timeout: 60)
        XCTAssertEqual(r.status, 0, r.transcript)
        XCTAssertTrue(r.stdout.contains("Demo sandbox created in \(dir)"), r.stdout)
        let kokoroLine = r.stdoutLines.first { $0.hasPrefix("kokoro ") } ?? ""
        XCTAssertTrue(kokoroLine.contains("v1.0.0") && kokoroLine.contains("↑ v1.1.0"), "an upgrade waits: \(r.stdout)")
        XCTAssertTrue(r.stdout.contains("alias →") || r.stdout.contains("meta →"), r.stdout)
        XCTAssertTrue(r.stdout.contains("system (protected)"), r.stdout)

        let envFile = dir + "/env"
        let env = try demoEnvironment(envFile, site: site)
        XCTAssertEqual(env["LOCALAI_BACKENDS_PATH"], dir + "/backends")
        let listing = try RunningHangar(["list", "--json"], environment: env, directory: site.root,
                                        outputDirectory: sandbox.ioDirectory).wait()
        XCTAssertEqual(listing.status, 0, listing.transcript)
        let rows = try JSON.array(listing.stdout)
        XCTAssertTrue(rows.contains { $0["is_system"] as? Bool == true }, listing.stdout)
        XCTAssertTrue(rows.contains { $0["is_alias"] as? Bool == true || $0["is_meta"] as? Bool == true }, listing.stdout)
        let check = try RunningHangar(["check", "--json"], environment: env, directory: site.root,
                                      outputDirectory: sandbox.ioDirectory).wait()
        XCTAssertNotNil(try JSON.object(check.stdout)["kokoro"], check.transcript)

        let upgrade = try RunningHangar(["upgrade", "kokoro", "--json"], environment: env, directory: site.root,
                                        outputDirectory: sandbox.ioDirectory).wait(timeout: 60)
        XCTAssertEqual(upgrade.status, 1, upgrade.transcript)
        let events = try JSON.lines(upgrade.stdout)
        XCTAssertEqual(events.last?["event"] as? String, "rolled_back", upgrade.stdout)
        let metadata = try JSON.object(try String(contentsOfFile: dir + "/backends/kokoro/metadata.json", encoding: .utf8))
        XCTAssertEqual(metadata["version"] as? String, "1.0.0")
        XCTAssertTrue(FileManager.default.fileExists(atPath: dir + "/backends/kokoro/run.sh"))
        XCTAssertEqual(((try? FileManager.default.contentsOfDirectory(atPath: dir + "/backends/.hangar/staging")) ?? []), [])

        // The catalog has sha256-checked tarballs too: one installs like any other backend.
        let gallery = try String(contentsOfFile: dir + "/gallery/index.yaml", encoding: .utf8)
        XCTAssertTrue(gallery.contains("bark-0.3.0.tar.gz\"\n  version: \"0.3.0\"\n  sha256: \""), gallery)
        var fast = env
        fast["HANGAR_COPY_LIMIT"] = String(1 << 30)
        let install = try RunningHangar(["install", "bark", "--json"], environment: fast, directory: site.root,
                                        outputDirectory: sandbox.ioDirectory).wait(timeout: 60)
        XCTAssertEqual(install.status, 0, install.transcript)
        XCTAssertTrue(FileManager.default.isExecutableFile(atPath: dir + "/backends/bark/run.sh"), install.transcript)
        XCTAssertEqual(try String(contentsOfFile: dir + "/backends/bark/VERSION", encoding: .utf8), "bark 0.3.0\n")

        // Without --reset an existing sandbox is kept as it is; with --reset it is rebuilt.
        try FileManager.default.removeItem(atPath: dir + "/backends/piper")
        let kept = try site.run(["demo", "--dir", dir], gallery: nil, timeout: 60)
        XCTAssertEqual(kept.status, 0, kept.transcript)
        XCTAssertTrue(kept.stdout.contains("--reset"), kept.stdout)
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir + "/backends/piper"))
        let reset = try site.run(["demo", "--reset", "--dir", dir], gallery: nil, timeout: 60)
        XCTAssertEqual(reset.status, 0, reset.transcript)
        XCTAssertTrue(reset.stdout.contains("Demo sandbox created"), reset.stdout)
        XCTAssertTrue(FileManager.default.fileExists(atPath: dir + "/backends/piper/run.sh"))
        XCTAssertEqual(try JSON.object(try String(contentsOfFile: dir + "/backends/kokoro/metadata.json", encoding: .utf8))["version"]
                       as? String, "1.0.0")
    }

    func testDemoRefusesADirectoryThatIsNotADemo() throws {
        let site = try sandbox.site()
        let dir = site.root + "/precious"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        try writeFile(dir + "/thesis.txt", "do not delete\n", mode: 0o644)
        let r = try site.run(["demo", "--reset", "--dir", dir], gallery: nil)
        XCTAssertEqual(r.status, 2, r.transcript)
        XCTAssertTrue(r.stderr.hasPrefix("hangar: "), r.transcript)
        XCTAssertTrue(FileManager.default.fileExists(atPath: dir + "/thesis.txt"))
    }
}
