import Foundation
import HangarEngine
import HangarFixtures
import XCTest

/// `hangar hold` / `unhold` and what upgrades do with a held backend, through the real binary.
final class HoldCommandTests: CLITestCase {
    /// foo and bar at 1.0.0 with 2.0.0 in the gallery; llm a meta of cpu-llm (1.0.0 → 2.0.0).
    private func site() throws -> (Site, GalleryFile, SourceTree, SourceTree) {
        let site = try sandbox.site()
        let foo1 = try sandbox.source("foo", "1.0.0"), foo2 = try sandbox.source("foo", "2.0.0")
        let bar1 = try sandbox.source("bar", "1.0.0"), bar2 = try sandbox.source("bar", "2.0.0")
        let llm1 = try sandbox.source("cpu-llm", "1.0.0"), llm2 = try sandbox.source("cpu-llm", "2.0.0")
        let gallery = try sandbox.gallery("index.yaml", [
            .concrete("foo", foo2), .concrete("bar", bar2), .concrete("cpu-llm", llm2),
            GalleryItem(name: "llm", capabilities: [("default", "cpu-llm")]),
        ])
        try site.installCopy(foo1, as: "foo", gallery: gallery)
        try site.installCopy(bar1, as: "bar", gallery: gallery)
        XCTAssertEqual(try site.run(["install", "llm"], gallery: try sandbox.gallery("old.yaml", [
            .concrete("cpu-llm", llm1), GalleryItem(name: "llm", capabilities: [("default", "cpu-llm")])])).status, 0)
        return (site, gallery, foo1, foo2)
    }

    func testAHeldBackendIsCheckedButUpgradesLeaveItAlone() throws {
        let (site, gallery, foo1, foo2) = try site()
        let hold = try site.run(["hold", "foo", "--reason", "model X needs 1.0"], gallery: gallery)
        XCTAssertEqual(hold.status, 0, hold.transcript)
        XCTAssertTrue(hold.stdout.contains("foo is held"), hold.stdout)

        let check = try site.run(["check"], gallery: gallery)
        XCTAssertTrue(check.stdout.contains("foo: v1.0.0 → v2.0.0 (held: model X needs 1.0; upgrades skip it)"), check.stdout)
        XCTAssertEqual(try JSON.object(try site.run(["check", "--json"], gallery: gallery).stdout).keys.sorted(),
                       ["bar", "cpu-llm", "foo"], "check --json stays LocalAI's shape, held rows included")

        let all = try site.run(["upgrade", "--json"], gallery: gallery)
        XCTAssertEqual(all.status, 0, all.transcript)
        let skipped = try JSON.lines(all.stdout).first { $0["event"] as? String == "skipped" }
        XCTAssertEqual(skipped?["backend"] as? String, "foo")
        XCTAssertEqual(skipped?["reason"] as? String, "held: model X needs 1.0")
        XCTAssertEqual(site.state(of: "foo", old: foo1, new: foo2), BackendState.old, "the held backend was not touched")
        XCTAssertTrue(try String(contentsOfFile: site.path("bar") + "/VERSION", encoding: .utf8).contains("2.0.0"), "bar was upgraded")

        let named = try site.run(["upgrade", "foo"], gallery: gallery)
        XCTAssertEqual(named.status, 1, named.transcript)
        XCTAssertEqual(named.stderr.split(separator: "\n").count, 1, named.stderr)
        XCTAssertTrue(named.stderr.contains("foo is held: model X needs 1.0: add --ignore-hold"), named.stderr)
        XCTAssertEqual(site.state(of: "foo", old: foo1, new: foo2), BackendState.old)

        let forced = try site.run(["upgrade", "foo", "--ignore-hold"], gallery: gallery)
        XCTAssertEqual(forced.status, 0, forced.transcript)
        XCTAssertEqual(site.state(of: "foo", old: foo1, new: foo2), BackendState.new)

        XCTAssertEqual(try site.run(["unhold", "foo"], gallery: gallery).status, 0)
        XCTAssertEqual(try site.run(["hold"], gallery: gallery).stdout, "No backend is held.\n")
        XCTAssertFalse(FileManager.default.fileExists(atPath: site.path("foo") + "/.hold"), "holds never touch the backend")
        let metadata = try String(contentsOfFile: site.path("foo") + "/metadata.json", encoding: .utf8)
        XCTAssertFalse(metadata.contains("held"), "holds live in hangar's state, not in metadata.json")
    }

    func testAMetaHoldsItsConcreteAndHoldsSurviveAsFile() throws {
        let (site, gallery, _, _) = try site()
        let r = try site.run(["hold", "llm"], gallery: gallery)
        XCTAssertEqual(r.status, 0, r.transcript)
        XCTAssertTrue(r.stdout.contains("cpu-llm is held (llm upgrades through it)"), r.stdout)
        let list = try JSON.object(try site.run(["hold", "--json"], gallery: gallery).stdout)
        XCTAssertEqual(list.keys.sorted(), ["cpu-llm"])
        let upgrade = try site.run(["upgrade", "llm"], gallery: gallery)
        XCTAssertEqual(upgrade.status, 1)
        XCTAssertTrue(upgrade.stderr.contains("llm is upgraded through cpu-llm, which is held: held by hand"), upgrade.stderr)
        XCTAssertTrue(FileManager.default.fileExists(atPath: site.backends + "/.hangar/holds.json"))
    }

    func testBadHoldsAreOneLineAndChangeNothing() throws {
        let (site, gallery, _, _) = try site()
        try site.installation.install("sysb", metadataJSON: nil, in: site.system)
        let system = try site.run(["hold", "sysb"], gallery: gallery)
        XCTAssertEqual(system.status, 2, system.transcript)
        XCTAssertTrue(system.stderr.contains("sysb is a system backend: it is never upgraded from a gallery, so there is nothing to hold"), system.stderr)
        let missing = try site.run(["hold", "nope"], gallery: gallery)
        XCTAssertEqual(missing.status, 1)
        XCTAssertTrue(missing.stderr.contains("backend \"nope\" is not installed"), missing.stderr)
        let notHeld = try site.run(["unhold", "foo"], gallery: gallery)
        XCTAssertEqual(notHeld.status, 1)
        XCTAssertTrue(notHeld.stderr.contains("foo is not held"), notHeld.stderr)
        for r in [system, missing, notHeld] { XCTAssertEqual(r.stderr.split(separator: "\n").count, 1, r.stderr) }
        XCTAssertFalse(FileManager.default.fileExists(atPath: site.backends + "/.hangar/holds.json"), "nothing was written")

        try writeFile(site.backends + "/.hangar/holds.json", "{\"holds\": [1, 2]}", mode: 0o644)
        let corrupt = try site.run(["upgrade"], gallery: gallery)
        XCTAssertEqual(corrupt.status, 2, corrupt.transcript)
        XCTAssertTrue(corrupt.stderr.contains("\"holds\" must be an object: fix or remove the file"), corrupt.stderr)
    }

    func testAHoldWhileLocalAIsOwnAutoUpgradeIsOnSaysItIsNotHonouredThere() throws {
        let (site, gallery, _, _) = try site()
        try site.installation.runtimeSettings("{\"auto_upgrade_backends\": true}")
        let hold = try site.run(["hold", "foo"], gallery: gallery)
        XCTAssertEqual(hold.status, 0)
        XCTAssertTrue(hold.stderr.contains("LocalAI's own auto-upgrade (auto_upgrade_backends) is on and does not know hangar's holds"), hold.stderr)
        XCTAssertTrue(hold.stderr.contains("hangar daemon --auto-upgrade"), hold.stderr)
        let settings = try site.run(["settings"], gallery: gallery)
        XCTAssertTrue(settings.stderr.contains("does not know hangar's holds"), settings.stderr)
        XCTAssertEqual(try site.run(["settings", "auto-upgrade", "off"], gallery: gallery).status, 0)
        XCTAssertFalse(try site.run(["settings"], gallery: gallery).stderr.contains("holds"), "no warning once LocalAI's is off")
    }
}
