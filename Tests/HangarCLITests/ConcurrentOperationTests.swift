import Foundation
import XCTest

/// Two hangar processes on the same backend at the same moment (LocalAI issue #11720: concurrent upgrades of one
/// backend corrupted or lost it). The second must wait for the first's lock; the backend ends complete at the new
/// version with no leftovers, however the two interleave.
final class ConcurrentOperationTests: CLITestCase {

    /// 2 MiB at 6 MB/s: each copy takes about a third of a second, far longer than starting a process, so the
    /// second process always arrives while the first is still copying.
    private static let payloadBytes = 2 << 20
    private static let copyLimit = "6000000"
    private static let iterations = 10
    /// Well under the throttled copy time (2 MiB at 6 MB/s ≈ 0.35 s).
    private static let minimumCopySeconds = 0.25

    private func race(_ first: [String], _ second: [String], file: StaticString = #filePath, line: UInt = #line) throws {
        let v1 = try sandbox.source("foo", "1.0.0", payloadBytes: Self.payloadBytes)
        let v2 = try sandbox.source("foo", "2.0.0", payloadBytes: Self.payloadBytes)
        let gallery = try sandbox.gallery("index.yaml", [.concrete("foo", v2, alias: "fooalias")])
        var alreadyDone = 0, twoCopies = 0
        for iteration in 0..<Self.iterations {
            let label = "iteration \(iteration): \(first.joined(separator: " ")) vs \(second.joined(separator: " "))"
            let site = try sandbox.site("race-\(iteration)")
            defer { try? FileManager.default.removeItem(atPath: site.root) }
            // A fresh older version each time, so both processes find work to do.
            try site.installCopy(v1, as: "foo", alias: "fooalias", gallery: gallery)
            let env = ["HANGAR_COPY_LIMIT": Self.copyLimit]
            // Alternate which one is launched first.
            let (x, y) = iteration % 2 == 0 ? (first, second) : (second, first)
            let a = try site.start(x, gallery: gallery, env: env)
            let b = try site.start(y, gallery: gallery, env: env)
            let ra = a.wait(timeout: 30), rb = b.wait(timeout: 30)

            XCTAssertTrue(ra.launchedAt < rb.endedAt && rb.launchedAt < ra.endedAt, "\(label): the processes did not overlap",
                          file: file, line: line)
            for r in [ra, rb] {
                XCTAssertTrue(r.exitedNormally, "\(label): \(r.transcript)", file: file, line: line)
                XCTAssertEqual(r.status, 0, "\(label): \(r.transcript)", file: file, line: line)
                XCTAssertFalse(r.stderr.contains("hangar: "), "\(label): no errors or repairs expected: \(r.transcript)",
                               file: file, line: line)
            }
            // Neither may give up early: the later one waits for the lock (so it cannot end before the first's copy
            // could have), unless it found nothing to upgrade before the first one finished.
            for r in [ra, rb] where r.endedAt - min(ra.launchedAt, rb.launchedAt) < Self.minimumCopySeconds {
                XCTAssertTrue(r.stdout.contains("no upgrade available"), "\(label): ended before any copy could finish: \(r.transcript)",
                              file: file, line: line)
            }
            let texts = ra.stdout + ra.stderr + rb.stdout + rb.stderr
            if texts.contains("already at") || texts.contains("no upgrade available") { alreadyDone += 1 }
            if texts.components(separatedBy: "downloading ").count == 3 { twoCopies += 1 }
            XCTAssertEqual(site.state(of: "foo", old: v1, new: v2), .new, label, file: file, line: line)
            XCTAssertEqual(site.leftovers(), [], label, file: file, line: line)
            XCTAssertEqual(site.backendEntries(), ["foo"], label, file: file, line: line)
            let check = try site.run(["check", "--json"], gallery: gallery)
            XCTAssertEqual(check.stdout.trimmingCharacters(in: .whitespacesAndNewlines), "{}", "\(label): \(check.transcript)",
                           file: file, line: line)
        }
        print("  race \(first.joined(separator: " ")) vs \(second.joined(separator: " ")): in \(Self.iterations) runs, "
              + "\(alreadyDone) times the waiting one found the work done, \(twoCopies) times both copied in turn")
    }

    func testTwoSimultaneousUpgradesOfOneBackend() throws {
        try race(["upgrade", "foo"], ["upgrade", "foo"])
    }

    func testUpgradeRacingReinstall() throws {
        try race(["upgrade", "foo"], ["reinstall", "foo"])
    }

    func testUpgradeAllRacingUpgradeByAlias() throws {
        try race(["upgrade"], ["upgrade", "fooalias"])
    }

    /// `recover` and `list` (which recovers first) run over and over while upgrades are in flight: they must never
    /// take a live transaction's staging directory or journal for a leftover.
    func testRecoveryRunningDuringAnUpgradeLeavesItAlone() throws {
        let v1 = try sandbox.source("foo", "1.0.0", payloadBytes: Self.payloadBytes)
        let v2 = try sandbox.source("foo", "2.0.0", payloadBytes: Self.payloadBytes)
        let gallery = try sandbox.gallery("index.yaml", [.concrete("foo", v2)])
        for iteration in 0..<3 {
            let fallback = iteration == 1
            let label = "iteration \(iteration) (\(fallback ? "rename fallback" : "exchange"))"
            let site = try sandbox.site("recover-during-\(iteration)")
            defer { try? FileManager.default.removeItem(atPath: site.root) }
            try site.installCopy(v1, as: "foo", gallery: gallery)
            var env = ["HANGAR_COPY_LIMIT": Self.copyLimit]
            if fallback { env["HANGAR_FORCE_RENAME_FALLBACK"] = "1" }
            let upgrade = try site.start(["upgrade", "foo"], gallery: gallery, env: env)
            var probes = 0
            while upgrade.isRunning && probes < 200 {
                probes += 1
                let r = try site.run(probes % 2 == 0 ? ["recover"] : ["list", "--json"], gallery: gallery)
                XCTAssertEqual(r.status, 0, "\(label): \(r.transcript)")
                XCTAssertFalse(r.stdout.contains("staging") || r.stderr.contains("staging"), "\(label): touched live staging: \(r.transcript)")
                XCTAssertFalse(r.stdout.contains("interrupted") || r.stderr.contains("interrupted"), "\(label): \(r.transcript)")
            }
            let result = upgrade.wait(timeout: 30)
            XCTAssertEqual(result.status, 0, "\(label): \(result.transcript)")
            XCTAssertTrue(result.exitedNormally, "\(label): \(result.transcript)")
            XCTAssertGreaterThan(probes, 1, "\(label): the probes did not run while the upgrade did")
            XCTAssertEqual(site.state(of: "foo", old: v1, new: v2), .new, label)
            XCTAssertEqual(site.leftovers(), [], label)
        }
    }

    /// The process holding the lock is SIGKILLed mid-copy while a second one waits: the lock dies with it, the
    /// waiter upgrades, and the killed one's staging copy is gone after the next recovery.
    func testKillingTheLockHolderLetsTheWaiterFinish() throws {
        let v1 = try sandbox.source("foo", "1.0.0", payloadBytes: Self.payloadBytes)
        let v2 = try sandbox.source("foo", "2.0.0", payloadBytes: Self.payloadBytes)
        let gallery = try sandbox.gallery("index.yaml", [.concrete("foo", v2)])
        var leftBehind = 0
        for iteration in 0..<4 {
            let label = "iteration \(iteration)"
            let site = try sandbox.site("kill-holder-\(iteration)")
            defer { try? FileManager.default.removeItem(atPath: site.root) }
            try site.installCopy(v1, as: "foo", gallery: gallery)
            let env = ["HANGAR_COPY_LIMIT": Self.copyLimit, "HANGAR_FORCE_RENAME_FALLBACK": iteration % 2 == 0 ? "0" : "1"]
            let holder = try site.start(["upgrade", "foo"], gallery: gallery, env: env)
            // Let the holder take the lock and start copying before the waiter arrives.
            usleep(120_000)
            let waiter = try site.start(["upgrade", "foo"], gallery: gallery, env: env)
            usleep(80_000)
            holder.killNow()
            let killed = holder.wait(timeout: 10)
            let finished = waiter.wait(timeout: 30)
            XCTAssertTrue(killed.diedBySIGKILL, "\(label): \(killed.transcript)")
            XCTAssertEqual(finished.status, 0, "\(label): \(finished.transcript)")
            XCTAssertTrue(finished.stderr.contains("upgraded foo v1.0.0 → v2.0.0"), "\(label): \(finished.transcript)")
            XCTAssertEqual(site.state(of: "foo", old: v1, new: v2), .new, label)
            if !site.leftovers().isEmpty { leftBehind += 1 }
            let repair = try site.run(["recover"], gallery: gallery)
            XCTAssertEqual(repair.status, 0, "\(label): \(repair.transcript)")
            XCTAssertEqual(site.leftovers(), [], label)
            XCTAssertEqual(site.state(of: "foo", old: v1, new: v2), .new, label)
        }
        print("  killed lock holder: its staging copy outlived the waiter's upgrade \(leftBehind) of 4 times (removed by the next recovery)")
    }
}
