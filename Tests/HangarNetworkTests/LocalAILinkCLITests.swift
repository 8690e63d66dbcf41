import Foundation
import HangarEngine
import HangarFixtures
import XCTest

/// Link mode: the real `hangar` binary on a backends directory (LOCALAI_BACKENDS_PATH) with `--server` naming the
/// LocalAI stand-in that serves the same directory. hangar does the disk work, then tells the server: which loaded
/// models still run the previous build, restarting them, whether the server knows an install (localai-api.md §12).
final class LocalAILinkCLITests: XCTestCase {
    var standIn: LocalAIStandIn!
    var directory: String!
    let key = "sk-standin-link-0123456789"

    override func setUpWithError() throws {
        directory = try makeTemporaryDirectory("localai-link")
        standIn = try LocalAIStandIn(gallery: [], apiKeys: [key])
        // What LocalAI had installed before: piper 0.8.0 and kokoro 1.0.0, both with run.sh.
        try standIn.preinstall(.init(name: "piper"), version: "0.8.0")
        try standIn.preinstall(.init(name: "kokoro"), version: "1.0.0")
        // hangar's own gallery, built from directories: piper 0.9.0, whisper 1.5.0.
        for (name, version) in [("piper", "0.9.0"), ("whisper", "1.5.0")] {
            try HangarFixtures.write(path: "\(directory!)/sources/\(name)-\(version)/run.sh", text: "#!/bin/sh\necho \(name) \(version)\n", mode: 0o755)
        }
        try HangarFixtures.write(path: directory + "/index.yaml", text: """
            ---
            - {name: piper, uri: "\(directory!)/sources/piper-0.9.0", version: "0.9.0"}
            - {name: whisper, uri: "\(directory!)/sources/whisper-1.5.0", version: "1.5.0", alias: stt}

            """)
        standIn.restartLoader()  // LocalAI starts on that directory
    }

    override func tearDown() {
        standIn?.stop()
        if let directory { removeTree(directory) }
    }

    func hangar(_ arguments: [String], env extra: [String: String] = [:], server: String? = nil) throws -> HangarExecutable.Run {
        var env = ["PATH": "/usr/bin:/bin", "HOME": directory!, "LOCALAI_API_KEY": key,
                   "LOCALAI_BACKENDS_PATH": standIn.backendsPath, "LOCALAI_BACKENDS_SYSTEM_PATH": directory + "/system",
                   "LOCALAI_CONFIG_DIR": standIn.configDir, "LOCALAI_FORCE_META_BACKEND_CAPABILITY": "default",
                   "LOCALAI_BACKEND_GALLERIES": GalleryFile(path: directory + "/index.yaml", name: "t").json,
                   "HANGAR_SERVER_POLL_INTERVAL": "0.05", "HANGAR_SERVER_TIMEOUT": "5", "HANGAR_LINK_REGISTRATION_WAIT": "0.3"]
        env.merge(extra) { $1 }
        return try HangarExecutable.run(arguments + ["--server", server ?? standIn.url], environment: env,
                                        directory: directory, timeout: 60)
    }

    func testUpgradeOnDiskNamesTheModelsStillOnThePreviousBuildAndRestartModelsStopsThem() throws {
        try standIn.load(model: "voice-a", backend: "piper")
        try standIn.load(model: "voice-b", backend: "piper")
        try standIn.load(model: "narrator", backend: "kokoro")

        let upgrade = try hangar(["upgrade", "piper"])
        XCTAssertEqual(upgrade.status, 0, upgrade.transcript)
        XCTAssertTrue(upgrade.stderr.contains("upgraded piper"), upgrade.stderr)
        XCTAssertTrue(upgrade.stderr.contains("loaded by voice-a, voice-b on \(standIn.url), still running the previous build: hangar restart-models piper restarts them"), upgrade.stderr)
        XCTAssertEqual(standIn.installedMetadata("piper")?.version, "0.9.0", "hangar did the disk work")
        XCTAssertFalse(standIn.requests.contains { $0.path.hasPrefix("/backends/upgrade") }, "not the server's job")
        XCTAssertFalse(standIn.runsCurrentBuild("voice-a"), "the loaded model still runs the old run.sh")
        XCTAssertEqual(standIn.shutdowns, [], "nothing restarted without being asked")

        let restart = try hangar(["restart-models", "piper"])
        XCTAssertEqual(restart.status, 0, restart.transcript)
        XCTAssertEqual(restart.stdout, "restarted voice-a, voice-b on \(standIn.url): the next request to each runs piper's new build\n")
        XCTAssertEqual(standIn.shutdowns, ["voice-a", "voice-b"])
        XCTAssertEqual(standIn.loadedModels.map(\.id), ["narrator"], "another backend's model is left alone")
        let shutdown = try XCTUnwrap(standIn.requests.first { $0.path == "/backend/shutdown" })
        XCTAssertEqual(shutdown.header("authorization"), "Bearer \(key)")
        XCTAssertEqual(try JSONValue.parse(shutdown.body), .object(JSONObject(["model": .string("voice-a")])))

        // Loaded again by the next request: it runs the new build.
        try standIn.load(model: "voice-a", backend: "piper")
        XCTAssertTrue(standIn.runsCurrentBuild("voice-a"))
        XCTAssertEqual(try hangar(["restart-models", "kokoro", "--json"]).stdout,
                       "{\"event\":\"restarted_models\",\"backend\":\"kokoro\",\"models\":[\"narrator\"],\"server\":\"\(standIn.url)\"}\n")
    }

    func testUpgradeWithRestartModelsRestartsThemAtOnceAndABusyModelIsOneLine() throws {
        try standIn.load(model: "voice-a", backend: "piper")
        let upgrade = try hangar(["upgrade", "piper", "--restart-models", "--json"])
        XCTAssertEqual(upgrade.status, 0, upgrade.transcript)
        XCTAssertTrue(upgrade.stdout.hasSuffix("{\"event\":\"restarted_models\",\"backend\":\"piper\",\"models\":[\"voice-a\"],\"server\":\"\(standIn.url)\"}\n"), upgrade.stdout)
        XCTAssertEqual(standIn.shutdowns, ["voice-a"])

        try standIn.load(model: "voice-a", backend: "piper", busy: true)
        let busy = try hangar(["reinstall", "piper", "--restart-models"])
        XCTAssertEqual(busy.status, 1, busy.transcript)
        XCTAssertTrue(busy.stderr.contains("reinstalled piper") || busy.stderr.contains("installed piper"), busy.stderr)
        XCTAssertEqual(busy.stderr.split(separator: "\n").last.map(String.init),
                       "hangar: LocalAI server \(standIn.url) could not stop voice-a: it is still busy with requests after 30 s; try again when it is idle, or start LocalAI with LOCALAI_FORCE_BACKEND_SHUTDOWN=true")
    }

    func testInstallIsRegisteredLiveAndTheServerKnowsItAtOnce() throws {
        let install = try hangar(["install", "whisper"])
        XCTAssertEqual(install.status, 0, install.transcript)
        let runFile = standIn.backendsPath + "/whisper/run.sh"
        XCTAssertTrue(install.stderr.contains("registered whisper, stt → \(runFile) in \(standIn.configDir)/external_backends.json"), install.stderr)
        XCTAssertTrue(install.stderr.contains("LocalAI at \(standIn.url) knows whisper now"), install.stderr)
        XCTAssertNoThrow(try standIn.load(model: "transcribe", backend: "stt"), "loadable by its alias without a restart")
        XCTAssertFalse(standIn.requests.contains { $0.path == "/backends/apply" })

        // Uninstalled: the registration goes, but the running loader never forgets a name it had (G8).
        try standIn.load(model: "again", backend: "kokoro")
        let uninstall = try hangar(["uninstall", "kokoro"])
        XCTAssertEqual(uninstall.status, 0, uninstall.transcript)
        XCTAssertTrue(uninstall.stderr.contains("LocalAI at \(standIn.url) still lists kokoro until it restarts (it never forgets a backend, and loading it there now fails): restart LocalAI, or uninstall through the server with --via-server"), uninstall.stderr)
        let gone = try hangar(["uninstall", "whisper"])
        XCTAssertTrue(gone.stderr.contains("removed stt, whisper from \(standIn.configDir)/external_backends.json; LocalAI at \(standIn.url) no longer lists whisper"), gone.stderr)
    }

    func testAnotherConfigDirLeavesTheServerUnawareAndSaysHowToFixItInOneLine() throws {
        let elsewhere = directory + "/configuration"
        try FileManager.default.createDirectory(atPath: elsewhere, withIntermediateDirectories: true)
        let install = try hangar(["install", "whisper"], env: ["LOCALAI_CONFIG_DIR": elsewhere])
        XCTAssertEqual(install.status, 0, install.transcript)
        XCTAssertTrue(install.stderr.contains("LocalAI at \(standIn.url) does not know whisper yet (it rescans its backends only at start and after its own installs): restart LocalAI, point --config-dir at its config dir so hangar registers new backends live, or install through the server with --via-server"), install.stderr)
        XCTAssertThrowsError(try standIn.load(model: "transcribe", backend: "whisper"))
        standIn.restartLoader()
        XCTAssertNoThrow(try standIn.load(model: "transcribe", backend: "whisper"), "a restart registers it")
    }

    func testViaServerHandsTheCommandToTheServerAndAnUnreachableServerIsAWarning() throws {
        standIn.setGallery([.init(name: "whisper", version: "1.5.0", size: 1 << 20)])
        let remote = try hangar(["install", "whisper", "--via-server"])
        XCTAssertEqual(remote.status, 0, remote.transcript)
        XCTAssertTrue(remote.stderr.contains("installed whisper v1.5.0 on \(standIn.url)"), remote.stderr)
        XCTAssertTrue(standIn.requests.contains { $0.path == "/backends/apply" })

        let down = try hangar(["upgrade", "piper"], server: "http://127.0.0.1:1")
        XCTAssertEqual(down.status, 0, down.transcript)
        XCTAssertEqual(standIn.installedMetadata("piper")?.version, "0.9.0")
        XCTAssertTrue(down.stderr.contains("(the change on disk is done; LocalAI at http://127.0.0.1:1 was not told)"), down.stderr)
    }
}

/// The stand-in's loaded-model routes as a client sees them (§11.1–11.3), and `restart-models` in remote mode.
final class LocalAILoadedModelsTests: LocalAIServerTestCase {
    func curl(_ method: String, _ target: String, body: String? = nil) throws -> (status: Int, body: String) {
        var arguments = ["-s", "-o", "-", "-w", "\n%{http_code}", "-X", method, "-H", "Authorization: Bearer \(key)"]
        if let body { arguments += ["-H", "Content-Type: application/json", "-d", body] }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/curl")
        process.arguments = arguments + [standIn.url + target]
        process.environment = ["PATH": "/usr/bin:/bin"]
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let lines = String(decoding: data, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false)
        return (Int(lines.last ?? "") ?? 0, lines.dropLast().joined(separator: "\n"))
    }

    func testSystemMonitorAndShutdownAnswerInTheSpecsShapes() throws {
        standIn.restartLoader()
        try standIn.load(model: "voice-a", backend: "piper")
        let system = try curl("GET", "/system")
        XCTAssertEqual(system.status, 200)
        let object = try XCTUnwrap(try JSONValue.parse(system.body).objectValue)
        XCTAssertEqual(Set(object["backends"]?.arrayValue?.compactMap(\.stringValue) ?? []), ["piper", "kokoro"])
        XCTAssertEqual(object["loaded_models"], .array([.object(JSONObject(["id": .string("voice-a"), "backend": .string("piper")]))]))

        XCTAssertEqual(try curl("GET", "/backend/monitor?model=voice-a").body, "{\"state\":2,\"memory\":{\"total\":104857600,\"breakdown\":{}}}")
        let notLoaded = try curl("GET", "/backend/monitor?model=nope")
        XCTAssertEqual(notLoaded.status, 500)
        XCTAssertTrue(notLoaded.body.contains("backend nope is not currently loaded"), notLoaded.body)
        XCTAssertEqual(try curl("POST", "/backend/shutdown", body: "{}").status, 400)
        let missing = try curl("POST", "/backend/shutdown", body: "{\"model\":\"nope\"}")
        XCTAssertEqual(missing.status, 404)
        XCTAssertTrue(missing.body.contains("model \\\"nope\\\" is not loaded on this instance or on any worker node"), missing.body)
        let stopped = try curl("POST", "/backend/shutdown", body: "{\"model\":\"voice-a\"}")
        XCTAssertEqual(stopped.status, 200)
        XCTAssertEqual(stopped.body, "{\"message\":\"model stopped\"}")
        XCTAssertEqual(standIn.loadedModels, [])
    }

    func testRestartModelsWorksInRemoteModeToo() throws {
        standIn.restartLoader()
        try standIn.load(model: "voice-a", backend: "piper")
        let run = try hangar(["restart-models", "piper"])
        XCTAssertEqual(run.status, 0, run.transcript)
        XCTAssertEqual(run.stdout, "restarted voice-a on \(standIn.url): the next request to each runs piper's new build\n")
        XCTAssertEqual(standIn.shutdowns, ["voice-a"])
        let none = try hangar(["restart-models", "piper"])
        XCTAssertEqual(none.stdout, "No model is loaded on piper at \(standIn.url).\n")
        let unknown = try hangar(["restart-models", "nope"])
        XCTAssertEqual(unknown.status, 1, unknown.transcript)
        XCTAssertEqual(unknown.stderr, "hangar: backend \"nope\": backend not found (hangar list shows what is installed)\n")
    }
}

/// `--restart-models` without a server is refused before anything changes.
final class RestartModelsWithoutServerTests: XCTestCase {
    func testRestartModelsWithoutAServerIsRefusedBeforeTheUpgrade() throws {
        let directory = try makeTemporaryDirectory("link-noserver")
        defer { removeTree(directory) }
        try HangarFixtures.write(path: directory + "/backends/piper/run.sh", text: "#!/bin/sh\n", mode: 0o755)
        try HangarFixtures.write(path: directory + "/backends/piper/metadata.json", text: "{\"name\":\"piper\",\"version\":\"0.8.0\"}")
        try HangarFixtures.write(path: directory + "/src/run.sh", text: "#!/bin/sh\n", mode: 0o755)
        try HangarFixtures.write(path: directory + "/index.yaml", text: "---\n- {name: piper, uri: \"\(directory)/src\", version: \"0.9.0\"}\n")
        let env = ["PATH": "/usr/bin:/bin", "HOME": directory, "LOCALAI_BACKENDS_PATH": directory + "/backends",
                   "LOCALAI_CONFIG_DIR": directory + "/configuration",
                   "LOCALAI_BACKEND_GALLERIES": GalleryFile(path: directory + "/index.yaml", name: "t").json]
        for arguments in [["upgrade", "piper", "--restart-models"], ["reinstall", "piper", "--restart-models"]] {
            let run = try HangarExecutable.run(arguments, environment: env, directory: directory)
            XCTAssertEqual(run.status, 2, run.transcript)
            XCTAssertEqual(run.stderr, "hangar: no LocalAI server to restart models on: give --server URL (or HANGAR_SERVER) with --backends-path\n")
        }
        XCTAssertTrue(try String(contentsOfFile: directory + "/backends/piper/metadata.json", encoding: .utf8).contains("0.8.0"), "nothing changed")
    }
}
