import Foundation
import HangarEngine
import HangarFixtures
import XCTest

/// The real `hangar` binary in remote mode (`--server`) against the LocalAI stand-in: every command with the same
/// output contracts as local mode.
final class LocalAIServerCLITests: LocalAIServerTestCase {
    func testListRowsComeFromTheServerWithTheKeyAsBearer() throws {
        let run = try hangar(["list", "--json"])
        XCTAssertEqual(run.status, 0, run.stderr)
        let rows = try XCTUnwrap(try document(run) as? [[String: Any]])
        XCTAssertEqual(rows.map { $0["name"] as? String }, ["kokoro", "piper"], "sorted by key, as local mode")
        let piper = try XCTUnwrap(rows.last)
        XCTAssertEqual(piper["is_meta"] as? Bool, false)
        XCTAssertEqual(piper["is_alias"] as? Bool, false)
        XCTAssertEqual(piper["run_file"] as? String, standIn.backendsPath + "/piper/run.sh")
        XCTAssertEqual((piper["metadata"] as? [String: Any])?["version"] as? String, "0.8.0")
        let requests = standIn.requests.filter { $0.path == "/backends" }
        XCTAssertFalse(requests.isEmpty)
        XCTAssertTrue(requests.allSatisfy { $0.header("authorization") == "Bearer \(key)" })
        assertNoKey(run)

        let table = try hangar(["list"])
        XCTAssertEqual(table.status, 0, table.stderr)
        XCTAssertTrue(table.stdout.contains("piper") && table.stdout.contains("v0.8.0"), table.stdout)
        XCTAssertFalse(FileManager.default.fileExists(atPath: directory + "/backends"), "remote mode touches no local directory")
    }

    func testListAvailableShowsTheServersGallery() throws {
        let run = try hangar(["list", "--available", "--json"])
        XCTAssertEqual(run.status, 0, run.stderr)
        let rows = try XCTUnwrap(try document(run) as? [[String: Any]])
        XCTAssertEqual(rows.map { $0["name"] as? String }, ["piper", "kokoro", "whisper"])
        XCTAssertEqual(rows.map { $0["installed"] as? Bool }, [true, true, false])
        XCTAssertEqual(rows.first?["tags"] as? [String], ["TTS"])
        XCTAssertEqual(rows.last?["version"] as? String, "1.5.0")
    }

    func testCheckJSONIsTheServersFreshUpgradesNotTheOldCache() throws {
        // A newer piper is published after the server's last check: POST /check answers the old cache (G3).
        var gallery = Self.gallery
        gallery[0].version = "1.0.0"
        standIn.setGallery(gallery)
        let run = try hangar(["check", "--json"])
        XCTAssertEqual(run.status, 0, run.stderr)
        let report = try XCTUnwrap(try document(run) as? [String: [String: Any]])
        XCTAssertEqual(Set(report.keys), ["piper", "kokoro"])
        XCTAssertEqual(report["piper"]?["available_version"] as? String, "1.0.0", "the new check's result")
        XCTAssertEqual(report["piper"]?["installed_version"] as? String, "0.8.0")
        XCTAssertEqual(standIn.checksRequested, 1)
    }

    func testInstallIsALocalAIJobWithPhasesAndCumulativeProgress() throws {
        let run = try hangar(["install", "whisper", "--json"])
        XCTAssertEqual(run.status, 0, run.stderr)
        let events = try events(run)
        XCTAssertEqual(events.first?["event"] as? String, "queued")
        XCTAssertTrue(events.contains { $0["event"] as? String == "phase" && $0["phase"] as? String == "downloading" })
        let progress = events.filter { $0["event"] as? String == "progress" }.compactMap { $0["bytes"] as? Int }
        XCTAssertGreaterThanOrEqual(progress.count, 2, "progress followed the job: \(events)")
        XCTAssertEqual(progress, progress.sorted(), "cumulative")
        XCTAssertEqual(events.first { $0["event"] as? String == "progress" }?["total"] as? Int, 3 << 20)
        let done = try XCTUnwrap(events.last)
        XCTAssertEqual(done["event"] as? String, "done")
        XCTAssertEqual(done["summary"] as? String, "installed whisper v1.5.0 on \(standIn.url)")
        XCTAssertEqual(standIn.installedMetadata("whisper")?.version, "1.5.0")
        let apply = try XCTUnwrap(standIn.requests.first { $0.path == "/backends/apply" })
        XCTAssertEqual(try JSONValue.parse(apply.body), .object(JSONObject(["id": .string("whisper"), "force": .bool(false)])))
        XCTAssertEqual(apply.header("content-type"), "application/json")
    }

    func testProgressStaysCumulativeOverLocalAIsPerFileCounts() throws {
        var gallery = Self.gallery
        gallery[2].layers = 3
        gallery[2].size = 1 << 20
        standIn.setGallery(gallery)
        let run = try hangar(["install", "whisper", "--json"])
        XCTAssertEqual(run.status, 0, run.stderr)
        let progress = try events(run).filter { $0["event"] as? String == "progress" }
        let bytes = progress.compactMap { $0["bytes"] as? Int }
        XCTAssertEqual(bytes, bytes.sorted(), "never goes back when LocalAI starts the next file: \(bytes)")
        XCTAssertEqual(bytes.last, 3 << 20, "all three files counted")
        XCTAssertEqual(progress.last?["total"] as? Int, 3 << 20)
    }

    func testUpgradeReportsBothVersions() throws {
        let run = try hangar(["upgrade", "piper", "--json"])
        XCTAssertEqual(run.status, 0, run.stderr)
        let done = try XCTUnwrap(try events(run).last)
        XCTAssertEqual(done["event"] as? String, "done")
        XCTAssertEqual(done["summary"] as? String, "upgraded piper v0.8.0 → v0.9.0 on \(standIn.url)")
        XCTAssertEqual(standIn.installedMetadata("piper")?.version, "0.9.0")
    }

    func testTheServersJobsAreInItsOwnHistory() throws {
        XCTAssertEqual(try hangar(["upgrade", "piper"]).status, 0)
        XCTAssertEqual(try hangar(["upgrade", "kokoro"]).status, 1)
        let run = try hangar(["history", "--json"])
        XCTAssertEqual(run.status, 0, run.stderr)
        let records = try XCTUnwrap(try document(run) as? [[String: Any]], run.stdout)
        let byBackend = Dictionary(records.map { ($0["backend"] as? String ?? "", $0) }, uniquingKeysWith: { a, _ in a })
        XCTAssertEqual(byBackend["piper"]?["outcome"] as? String, "done", run.stdout)
        XCTAssertEqual(byBackend["kokoro"]?["outcome"] as? String, "failed", run.stdout)
        XCTAssertTrue((byBackend["kokoro"]?["message"] as? String ?? "").contains("LocalAI removed kokoro"), run.stdout)
        // Kept per server, beside hangar's settings: not in some local backends directory.
        let another = try LocalAIStandIn(gallery: Self.gallery, apiKeys: [key])
        defer { another.stop() }
        let other = try hangar(["history", "--json"], server: another.url)
        XCTAssertEqual((try document(other) as? [[String: Any]])?.count, 0, other.stdout)
    }

    func testAFailedUpgradeSaysLocalAIRemovedTheBackend() throws {
        let run = try hangar(["upgrade", "kokoro", "--json"])
        XCTAssertEqual(run.status, 1, run.stderr)
        let failed = try XCTUnwrap(try events(run).last)
        XCTAssertEqual(failed["event"] as? String, "failed")
        let error = try XCTUnwrap(failed["error"] as? String)
        XCTAssertTrue(error.contains("run.sh not found"), error)
        XCTAssertTrue(error.contains("LocalAI removed kokoro after its failed upgrade; `r` reinstalls it"), error)
        XCTAssertFalse(error.contains("kept"), "no claim that the old version was kept: \(error)")
        XCTAssertNil(standIn.installedMetadata("kokoro"), "the stand-in reproduces G1")
    }

    func testAFailedForcedReinstallIsReportedTheSameWay() throws {
        let run = try hangar(["reinstall", "kokoro", "--json"])
        XCTAssertEqual(run.status, 1, run.stderr)
        let error = try XCTUnwrap(try events(run).last?["error"] as? String)
        XCTAssertTrue(error.contains("LocalAI removed kokoro after its failed reinstall"), error)
        let apply = try XCTUnwrap(standIn.requests.first { $0.path == "/backends/apply" })
        XCTAssertEqual(try JSONValue.parse(apply.body)["force"], .bool(true))
        // Nothing failed on a plain upgrade of an installed, healthy backend: no removal claimed.
        let fine = try hangar(["upgrade", "piper", "--json"])
        XCTAssertEqual(fine.status, 0, fine.stderr)
        XCTAssertFalse(fine.stdout.contains("removed"))
    }

    func testUpgradeAllWaitsForTheServersOneJobAtATime() throws {
        let run = try hangar(["upgrade", "--json"])
        XCTAssertEqual(run.status, 1, "kokoro's upgrade fails: \(run.stderr)")
        let events = try events(run)
        XCTAssertTrue(events.contains { ($0["detail"] as? String)?.contains("LocalAI runs one job at a time") == true },
                      "the second job was seen queued on the server: \(events)")
        XCTAssertTrue(events.contains { $0["backend"] as? String == "piper" && $0["event"] as? String == "done" })
        XCTAssertEqual(standIn.installedMetadata("piper")?.version, "0.9.0")
    }

    func testUninstall() throws {
        let run = try hangar(["uninstall", "piper", "--json"])
        XCTAssertEqual(run.status, 0, run.stderr)
        XCTAssertEqual(try events(run).last?["summary"] as? String, "uninstalled piper from \(standIn.url)")
        XCTAssertNil(standIn.installedMetadata("piper"))
        let missing = try hangar(["uninstall", "piper"])
        XCTAssertEqual(missing.status, 1)
        XCTAssertTrue(missing.stderr.contains("not installed on \(standIn.url)"), missing.stderr)
    }

    func testAutoUpgradeWritesTheServersLiveSetting() throws {
        let on = try hangar(["settings", "auto-upgrade", "on"])
        XCTAssertEqual(on.status, 0, on.stderr)
        XCTAssertTrue(on.stdout.contains("applies at once on the server \(standIn.url)"), on.stdout)
        XCTAssertTrue(standIn.autoUpgrade)
        let post = try XCTUnwrap(standIn.requests.last { $0.path == "/api/settings" && $0.method == "POST" })
        XCTAssertEqual(try JSONValue.parse(post.body), .object(JSONObject(["auto_upgrade_backends": .bool(true)])),
                       "only the key hangar owns is sent")
        let shown = try hangar(["settings", "--json"])
        XCTAssertEqual(shown.status, 0, shown.stderr)
        let settings = try XCTUnwrap((try document(shown) as? [String: Any])?["settings"] as? [String: [String: Any]])
        XCTAssertEqual(settings["auto_upgrade_backends"]?["value"] as? Bool, true)
        XCTAssertEqual(settings["auto_upgrade_backends"]?["source"] as? String, "server")
        XCTAssertEqual((try document(shown) as? [String: Any])?["file"] as? String, standIn.url + "/api/settings")
        XCTAssertFalse(shown.stdout.contains(key), "GET /api/settings carries api_keys; hangar never prints them")
        let off = try hangar(["settings", "auto-upgrade", "off"])
        XCTAssertEqual(off.status, 0, off.stderr)
        XCTAssertFalse(standIn.autoUpgrade)
    }

    func testWrongOrMissingKeyIsOneLineNamingItsSource() throws {
        let wrong = try hangar(["list"], env: ["LOCALAI_API_KEY": "sk-wrong-key"])
        XCTAssertEqual(wrong.status, 2)
        XCTAssertEqual(wrong.stderr.split(separator: "\n").count, 1, wrong.stderr)
        XCTAssertTrue(wrong.stderr.contains("refused the API key from LOCALAI_API_KEY (HTTP 401"), wrong.stderr)
        XCTAssertFalse(wrong.stderr.contains("sk-wrong-key"))

        let keyFile = directory + "/key"
        try HangarFixtures.write(path: keyFile, text: "sk-also-wrong\n", mode: 0o600)
        let fromFile = try hangar(["list", "--api-key-file", keyFile])
        XCTAssertEqual(fromFile.status, 2)
        XCTAssertTrue(fromFile.stderr.contains("--api-key-file \(keyFile)"), fromFile.stderr)

        let none = try hangar(["list"], withKey: false)
        XCTAssertEqual(none.status, 2)
        XCTAssertTrue(none.stderr.contains("refused no API key (HTTP 401: An authentication key is required): set LOCALAI_API_KEY"), none.stderr)

        try HangarFixtures.write(path: keyFile, text: key + "\n", mode: 0o600)
        let right = try hangar(["list", "--api-key-file", keyFile], withKey: false)
        XCTAssertEqual(right.status, 0, right.stderr)
        XCTAssertEqual(right.stderr, "", "a private key file raises no warning")
        chmod(keyFile, 0o644)
        let open = try hangar(["list", "--api-key-file", keyFile], withKey: false)
        XCTAssertEqual(open.status, 0, open.stderr)
        XCTAssertTrue(open.stderr.contains("can be read by other users: chmod 600 \(keyFile)"), open.stderr)
    }

    func testAUserRoleKeyIsRefusedAsNotAdmin() throws {
        let users = try LocalAIStandIn(gallery: Self.gallery, userKeys: ["sk-user-key": .user, "sk-admin-key": .admin])
        defer { users.stop() }
        let user = try hangar(["list"], server: users.url, env: ["LOCALAI_API_KEY": "sk-user-key"])
        XCTAssertEqual(user.status, 2)
        XCTAssertTrue(user.stderr.contains("(HTTP 403: Admin access required): use an admin's key"), user.stderr)
        let admin = try hangar(["list", "--json"], server: users.url, env: ["LOCALAI_API_KEY": "sk-admin-key"])
        XCTAssertEqual(admin.status, 0, admin.stderr)
    }

    func testLocalOnlyFeaturesSaySoInRemoteMode() throws {
        let rollback = try hangar(["rollback", "piper"])
        XCTAssertNotEqual(rollback.status, 0)
        XCTAssertTrue(rollback.stderr.contains("previous versions are not kept on a LocalAI server"), rollback.stderr)
        let recover = try hangar(["recover"])
        XCTAssertEqual(recover.status, 0, recover.stderr)
        XCTAssertTrue(recover.stdout.contains("recovery is the server's work in remote mode"), recover.stdout)
        let hold = try hangar(["hold", "piper"])
        XCTAssertEqual(hold.status, 2, hold.stderr)
        XCTAssertTrue(hold.stderr.contains("holds are hangar's own state beside a local backends directory"), hold.stderr)
        XCTAssertTrue(try FileManager.default.contentsOfDirectory(atPath: directory).allSatisfy { $0 != "http:" },
                      "nothing was created under the working directory")
        let pinned = try hangar(["install", "whisper", "--tag", "v1.5.0-whisper"])
        XCTAssertNotEqual(pinned.status, 0)
        XCTAssertTrue(pinned.stderr.contains("not available for a LocalAI server"), pinned.stderr)
        let extract = try hangar(["list", "--max-extract-size", "16MiB"])
        XCTAssertEqual(extract.status, 0, extract.stderr)
        XCTAssertTrue(extract.stderr.contains("--max-extract-size does not apply with --server"), extract.stderr)
    }
}
