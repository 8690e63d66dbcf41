import Foundation
import HangarFixtures
import XCTest

/// `hangar rollback`, `generations` and `prune` through the real binary: bad input is one clear line and changes
/// nothing; a rollback racing an upgrade of the same backend ends whole at one of them.
final class RollbackCLITests: CLITestCase {
    /// Sources and gallery, made once per test (sources are shared by every site of the sandbox).
    private var made: (v1: SourceTree, v2: SourceTree, gallery: GalleryFile)?

    /// foo 1.0.0 installed, then upgraded by hangar to 2.0.0, so 1.0.0 is kept as generation 1.
    private func upgradedSite(_ label: String, payloadBytes: Int = 0) throws
        -> (site: Site, v1: SourceTree, v2: SourceTree, gallery: GalleryFile) {
        if made == nil {
            let v1 = try sandbox.source("foo", "1.0.0", payloadBytes: payloadBytes)
            let v2 = try sandbox.source("foo", "2.0.0", payloadBytes: payloadBytes)
            made = (v1, v2, try sandbox.gallery("index.yaml", [.concrete("foo", v2, alias: "fooalias")]))
        }
        let (v1, v2, gallery) = made!
        let site = try sandbox.site(label)
        try site.installCopy(v1, as: "foo", alias: "fooalias", gallery: gallery)
        let upgrade = try site.run(["upgrade", "foo"], gallery: gallery)
        XCTAssertEqual(upgrade.status, 0, upgrade.transcript)
        return (site, v1, v2, gallery)
    }

    func testGenerationsListsTheKeptBuildAndRollbackSwapsItBackAndForth() throws {
        let (site, v1, v2, gallery) = try upgradedSite("list")
        let listing = try site.run(["generations", "--json"], gallery: gallery)
        XCTAssertEqual(listing.status, 0, listing.transcript)
        let rows = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(listing.stdout.utf8)) as? [[String: Any]])
        XCTAssertEqual(rows.count, 1)
        XCTAssertEqual(rows.first?["backend"] as? String, "foo")
        XCTAssertEqual(rows.first?["generation"] as? Int, 1)
        XCTAssertEqual(rows.first?["version"] as? String, "1.0.0")
        XCTAssertGreaterThan(rows.first?["size_bytes"] as? Int ?? 0, 0)

        let table = try site.run(["generations", "fooalias"], gallery: gallery)
        XCTAssertEqual(table.stdoutLines.first, "BACKEND  GEN  VERSION  REPLACED  SIZE", table.transcript)
        XCTAssertTrue(table.stdoutLines.last?.hasPrefix("foo      1    v1.0.0   ") == true, table.transcript)

        let back = try site.run(["rollback", "foo", "--json"], gallery: gallery)
        XCTAssertEqual(back.status, 0, back.transcript)
        XCTAssertTrue(back.stdout.contains("\"operation\":\"rollback\""), back.stdout)
        XCTAssertTrue(back.stdout.contains("rolled back foo v2.0.0 → v1.0.0 (v2.0.0 kept as generation 1)"), back.stdout)
        XCTAssertEqual(site.state(of: "foo", old: v2, new: v1), .new)
        let forward = try site.run(["rollback", "foo"], gallery: gallery)
        XCTAssertEqual(forward.status, 0, forward.transcript)
        XCTAssertEqual(site.state(of: "foo", old: v1, new: v2), .new)
        XCTAssertEqual(site.generations(of: "foo", old: v1, new: v2).states, [.old])
        XCTAssertEqual(site.leftovers(), [])

        let prune = try site.run(["prune", "foo", "--keep", "0"], gallery: gallery)
        XCTAssertEqual(prune.stdoutLines.count, 1, prune.transcript)
        XCTAssertTrue(prune.stdout.hasPrefix("removed generation 1 of foo (v1.0.0, "), prune.transcript)
        XCTAssertEqual(site.generations(of: "foo", old: v1, new: v2).states, [])
        let empty = try site.run(["generations"], gallery: gallery)
        XCTAssertEqual(empty.stdout, "No previous versions kept (one is kept at each upgrade or reinstall).\n", empty.transcript)
    }

    func testBadRollbacksAreOneLineWithExitOneOrTwoAndChangeNothing() throws {
        let (site, v1, v2, gallery) = try upgradedSite("bad")
        let before = TreeSnapshot.take(site.backends)
        let cases: [(args: [String], status: Int32, line: String)] = [
            (["rollback", "foo", "--to", "2"], 1,
             "hangar: foo has no generation 2: it keeps only generation 1 (hangar generations foo lists them)"),
            (["rollback", "foo", "--to", "0"], 2,
             "hangar: --to takes a generation number from 1 (the most recent), got 0 (see hangar --help)"),
            (["rollback", "nope"], 1,
             "hangar: backend \"nope\": backend not found and no previous versions kept (hangar generations lists them)"),
            (["rollback", "../foo"], 2, ""),
            (["prune", "foo", "--keep", "-1"], 2, ""),
        ]
        for c in cases {
            let r = try site.run(c.args, gallery: gallery)
            XCTAssertTrue(r.exitedNormally, r.transcript)
            XCTAssertEqual(r.status, c.status, r.transcript)
            XCTAssertEqual(r.stderrLines.count, 1, r.transcript)
            if !c.line.isEmpty { XCTAssertEqual(r.stderrLines.first, c.line, r.transcript) }
            XCTAssertEqual(r.stdout, "", r.transcript)
            XCTAssertEqual(TreeSnapshot.take(site.backends), before, "\(c.args) changed the backends directory")
        }
        XCTAssertEqual(site.generations(of: "foo", old: v1, new: v2).states, [.old])

        // Without any generation: one line, exit 1, nothing changed.
        let prune = try site.run(["prune", "--keep", "0"], gallery: gallery)
        XCTAssertEqual(prune.status, 0, prune.transcript)
        let snapshot = TreeSnapshot.take(site.path("foo"))
        let none = try site.run(["rollback", "foo"], gallery: gallery)
        XCTAssertEqual(none.status, 1, none.transcript)
        XCTAssertEqual(none.stderrLines, ["hangar: no previous version of foo is kept to roll back to (one is kept at each upgrade or reinstall while keep_generations is above 0)"])
        XCTAssertEqual(TreeSnapshot.take(site.path("foo")), snapshot)
    }

    /// Too little free space: the upgrade succeeds, says the replaced build was deleted instead of kept.
    func testAnUpgradeOnAFullDiskSaysTheReplacedBuildWasNotKept() throws {
        let v1 = try sandbox.source("foo", "1.0.0")
        let v2 = try sandbox.source("foo", "2.0.0")
        let gallery = try sandbox.gallery("index.yaml", [.concrete("foo", v2)])
        let site = try sandbox.site("full")
        try site.installCopy(v1, as: "foo", gallery: gallery)
        let upgrade = try site.run(["upgrade", "foo"], gallery: gallery, env: ["HANGAR_FAKE_FREE_BYTES": "4096"])
        XCTAssertEqual(upgrade.status, 0, upgrade.transcript)
        XCTAssertTrue(upgrade.transcript.contains("the replaced build of foo was deleted, not kept for rollback: only 4.0 KiB free"),
                      upgrade.transcript)
        XCTAssertEqual(site.state(of: "foo", old: v1, new: v2), .new)
        XCTAssertEqual(site.generations(of: "foo", old: v1, new: v2).states, [])
        XCTAssertEqual(site.leftovers(), [])
    }

    /// A rollback and an upgrade of the same backend started together: the backend lock puts one after the other,
    /// both succeed, and foo ends whole at what the later one put there, with the other kept as its generation.
    func testARollbackRacingAnUpgradeEndsWholeAtOneOfThem() throws {
        let v3 = try sandbox.source("foo", "3.0.0", payloadBytes: 1 << 20)
        let gallery3 = try sandbox.gallery("index3.yaml", [.concrete("foo", v3, alias: "fooalias")])
        var endings: [String] = []
        for iteration in 0..<4 {
            let (site, v1, v2, _) = try upgradedSite("race-\(iteration)", payloadBytes: 1 << 20)
            defer { try? FileManager.default.removeItem(atPath: site.root) }
            let env = ["HANGAR_COPY_LIMIT": "4000000"]
            // Alternate which one is launched first, so both orders happen.
            let commands = [["rollback", "foo"], ["upgrade", "foo"]]
            let first = try site.start(commands[iteration % 2], gallery: gallery3, env: env)
            let second = try site.start(commands[1 - iteration % 2], gallery: gallery3, env: env)
            let r1 = first.wait(timeout: 30), r2 = second.wait(timeout: 30)
            let label = "iteration \(iteration)"
            XCTAssertTrue(r1.launchedAt < r2.endedAt && r2.launchedAt < r1.endedAt, "\(label): the processes did not overlap")
            for r in [r1, r2] {
                XCTAssertTrue(r.exitedNormally, "\(label): \(r.transcript)")
                XCTAssertEqual(r.status, 0, "\(label): \(r.transcript)")
            }
            // Rollback first: 1.0.0 back, then upgraded to 3.0.0 keeping 1.0.0. Upgrade first: 3.0.0, then rolled
            // back to its generation 2.0.0 keeping 3.0.0.
            let live = BackendState.classify(site.path("foo"), old: v2, new: v3)
            switch live {
            case .new:
                XCTAssertEqual(site.generations(of: "foo", old: v1, new: v2).states, [.old], "\(label): upgrade last keeps 1.0.0")
                endings.append("3.0.0")
            case .old:
                XCTAssertEqual(site.generations(of: "foo", old: v2, new: v3).states, [.new], "\(label): rollback last keeps 3.0.0")
                endings.append("2.0.0")
            default:
                XCTFail("\(label): foo is \(live)")
            }
            XCTAssertEqual(site.leftovers(), [], label)
            XCTAssertEqual(site.backendEntries(), ["foo"], label)
            let again = try site.run(["recover"], gallery: gallery3)
            XCTAssertEqual(again.stdout, "Nothing to recover.\n", "\(label): \(again.transcript)")
        }
        print("  rollback vs upgrade: foo ended at " + endings.joined(separator: ", "))
    }
}
