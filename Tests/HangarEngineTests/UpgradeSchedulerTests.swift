import Dispatch
import Foundation
import Synchronization
import XCTest
@testable import HangarEngine

/// The background upgrade checker (spec §6, issue 4 "Auto-upgrade") on a real temp backends dir and local gallery.
final class UpgradeSchedulerTests: XCTestCase {
    /// piper installed at 0.8.0 with 0.9.0 in the gallery; kokoro 1.0.0 installed, its 1.1.0 has no run.sh.
    private func upgradableSite(payloadBytes: Int = 0) throws -> EngineFixture {
        let f = try EngineFixture()
        let piperNew = try f.source("piper-0.9.0", files: ["VERSION": "0.9.0"])
        if payloadBytes > 0 {
            try Data(repeating: 7, count: payloadBytes).write(to: URL(fileURLWithPath: piperNew + "/model.bin"))
        }
        let kokoroNew = try f.source("kokoro-1.1.0", runScript: false, files: ["VERSION": "1.1.0"])
        try f.gallery("""
            ---
            - {name: piper, uri: "\(piperNew)", version: "0.9.0"}
            - {name: kokoro, uri: "\(kokoroNew)", version: "1.1.0"}

            """)
        try f.installed("piper", BackendMetadata(name: "piper", installedAt: "2026-01-01T00:00:00Z", version: "0.8.0", uri: "/old/piper"))
        try f.installed("kokoro", BackendMetadata(name: "kokoro", installedAt: "2026-01-01T00:00:00Z", version: "1.0.0", uri: "/old/kokoro"))
        return f
    }

    /// Collects every status the checker publishes.
    private final class StatusLog: Sendable {
        let statuses = Mutex<[UpgradeCheckStatus]>([])
        let queue = DispatchQueue(label: "test.status-log")
        init(_ checker: UpgradeScheduler) {
            checker.subscribe(on: queue) { [self] status in statuses.withLock { $0.append(status) } }
        }
        /// Times at which a check finished.
        var finishedChecks: [Date] {
            let all = statuses.withLock { $0 }
            var dates: [Date] = []
            for status in all where !status.isChecking {
                if let date = status.lastCheck, dates.last != date { dates.append(date) }
            }
            return dates
        }
    }

    /// The upgradable site with auto-upgrade set as given in runtime_settings.json, and a checker (not started).
    private func checkedSite(autoUpgrade: Bool) throws -> (EngineFixture, Engine, UpgradeScheduler, StatusLog) {
        let f = try upgradableSite()
        let engine = try f.engine()
        try engine.setAutoUpgrade(autoUpgrade)
        let checker = UpgradeScheduler(engine: engine, interval: { 3600 })
        return (f, engine, checker, StatusLog(checker))
    }

    func testChecksAfterTheInitialDelayThenEveryInterval() throws {
        let f = try upgradableSite()
        let engine = try f.engine()
        let started = Date()
        let checker = UpgradeScheduler(engine: engine, interval: { 0.2 }, initialDelay: 0.3)
        let log = StatusLog(checker)
        checker.start()
        defer { checker.stop() }
        eventually("four checks") { log.finishedChecks.count >= 4 }
        checker.stop()
        let checks = log.finishedChecks
        XCTAssertGreaterThanOrEqual(checks[0].timeIntervalSince(started), 0.29, "the first check waits for the initial delay")
        for (earlier, later) in zip(checks, checks.dropFirst()) {
            XCTAssertGreaterThanOrEqual(later.timeIntervalSince(earlier), 0.19, "checks are an interval apart: \(checks)")
        }
        let status = checker.status
        XCTAssertNil(status.error)
        XCTAssertEqual(status.report?.upgrades["piper"]?.availableVersion, "0.9.0")
        XCTAssertEqual(status.report?.upgrades["kokoro"]?.installedVersion, "1.0.0")

        // Stopped means stopped: no further rounds.
        let count = log.finishedChecks.count
        usleep(500_000)
        XCTAssertLessThanOrEqual(log.finishedChecks.count, count + 1, "at most the round under way when stop() came")
    }

    func testIntervalIsReadEachRound() throws {
        let f = try upgradableSite()
        let interval = Mutex(0.1)
        let checker = UpgradeScheduler(engine: try f.engine(), interval: { interval.withLock { $0 } })
        let log = StatusLog(checker)
        checker.start()
        defer { checker.stop() }
        eventually("two quick checks") { log.finishedChecks.count >= 2 }
        interval.withLock { $0 = 3600 }
        eventually("the round scheduled with the old interval") { log.finishedChecks.count >= 3 }
        let count = log.finishedChecks.count
        usleep(400_000)
        XCTAssertEqual(log.finishedChecks.count, count, "the new one-hour interval applies from the next round")
    }

    func testCheckNowCoalescesPendingRequests() throws {
        let f = try upgradableSite()
        let checker = UpgradeScheduler(engine: try f.engine(), interval: { 3600 })
        let log = StatusLog(checker)
        for _ in 0..<20 { checker.checkNow() }
        eventually("a check") { log.finishedChecks.count >= 1 }
        usleep(300_000)
        XCTAssertLessThanOrEqual(log.finishedChecks.count, 2, "twenty requests: the one running and at most one pending")
        XCTAssertEqual(checker.status.report?.upgrades.keys.sorted(), ["kokoro", "piper"])

        // A later request is a new check.
        let before = log.finishedChecks.count
        checker.checkNow()
        eventually("another check") { log.finishedChecks.count == before + 1 }
    }

    func testAutoUpgradeOffUpgradesNothing() throws {
        let (f, engine, checker, log) = try checkedSite(autoUpgrade: false)
        checker.start()
        defer { checker.stop() }
        eventually("a check") { log.finishedChecks.count >= 1 }
        engine.jobs.waitAll()
        XCTAssertEqual(checker.status.autoUpgradeJobs, [])
        XCTAssertEqual(checker.status.report?.upgrades.count, 2)
        XCTAssertEqual(try f.metadata("piper").version, "0.8.0")
        XCTAssertNil(engine.lastOperation(for: "piper"))
    }

    func testAutoUpgradeOnUpgradesFlaggedBackendsThenChecksAgain() throws {
        let (f, engine, checker, log) = try checkedSite(autoUpgrade: true)
        let events = Mutex<[JobEvent]>([])
        engine.jobs.subscribe(on: DispatchQueue(label: "test.jobs")) { event in events.withLock { $0.append(event) } }
        checker.start()
        defer { checker.stop() }
        eventually("the check, the auto-upgrades and the refresh") { log.finishedChecks.count >= 2 }
        let status = checker.status
        XCTAssertEqual(status.autoUpgradeJobs.count, 2, "one job per flagged backend")

        // piper is upgraded on disk; kokoro's broken new version rolled back and 1.0.0 stays.
        let piper = try f.metadata("piper")
        XCTAssertEqual(piper.version, "0.9.0")
        XCTAssertEqual(f.read(f.backends + "/piper/VERSION"), "0.9.0")
        XCTAssertEqual(try f.metadata("kokoro").version, "1.0.0")
        XCTAssertTrue(f.exists("kokoro/run.sh"))
        XCTAssertEqual(engine.lastOperation(for: "piper")?.outcome, "done")
        XCTAssertEqual(engine.lastOperation(for: "kokoro")?.outcome, "rolled_back")

        // The jobs went through the queue like any other: queued, phases, an end.
        let upgradeJobs = Set(events.withLock { $0 }.filter { $0.operation == .upgrade }.map(\.job))
        XCTAssertEqual(upgradeJobs, Set(status.autoUpgradeJobs))
        // The refresh after the jobs no longer lists piper, but still kokoro.
        XCTAssertEqual(status.report?.upgrades.keys.sorted(), ["kokoro"])
    }

    func testAFailedAutoUpgradeIsNotRetriedForTheSameVersion() throws {
        let (f, engine, checker, log) = try checkedSite(autoUpgrade: true)
        checker.checkNow()
        eventually("check and refresh") { log.finishedChecks.count >= 2 }
        XCTAssertEqual(engine.lastOperation(for: "kokoro")?.outcome, "rolled_back")

        checker.checkNow()
        eventually("a third check") { log.finishedChecks.count >= 3 }
        engine.jobs.waitAll()
        let status = checker.status
        XCTAssertEqual(status.autoUpgradeJobs, [], "nothing new to try")
        XCTAssertTrue(status.autoUpgradeSkipped["kokoro"]?.contains("failed before") == true, "\(status)")
        XCTAssertEqual(try f.metadata("kokoro").version, "1.0.0")
    }

    func testChecksDuringAutoUpgradesStartNoSecondUpgradeOfTheSameBackend() throws {
        let f = try upgradableSite(payloadBytes: 500_000)
        let engine = Engine(configuration: try f.configuration(),
                            sources: [DirectorySource(throttleBytesPerSecond: 1_000_000)])
        try engine.setAutoUpgrade(true)
        let checker = UpgradeScheduler(engine: engine, interval: { 0.05 })
        let log = StatusLog(checker)
        checker.start()
        defer { checker.stop() }
        eventually("piper upgraded") { (try? f.metadata("piper").version) == "0.9.0" }
        eventually("several checks after it") { log.finishedChecks.count >= 12 }
        checker.stop()
        engine.jobs.waitAll()
        engine.history.flush()
        let upgrades = engine.operationHistory().records.map(\.backend)
        XCTAssertEqual(upgrades.sorted(), ["kokoro", "piper"], "one upgrade each, however many checks ran meanwhile")
    }

    func testAFailedCheckKeepsThePreviousReport() throws {
        let f = try upgradableSite()
        let checker = UpgradeScheduler(engine: try f.engine(), interval: { 3600 })
        let log = StatusLog(checker)
        checker.checkNow()
        eventually("a good check") { log.finishedChecks.count == 1 }
        let good = checker.status
        XCTAssertNil(good.error)
        XCTAssertEqual(good.report?.upgrades.count, 2)

        // The backends dir goes away (an unmounted volume, say): the check fails.
        try FileManager.default.moveItem(atPath: f.backends, toPath: f.root + "/unmounted")
        checker.checkNow()
        eventually("a failed check") { log.finishedChecks.count == 2 }
        let bad = checker.status
        XCTAssertEqual(bad.report, good.report, "the last good report is kept")
        XCTAssertTrue(bad.error?.contains(f.backends) == true, "\(bad)")
        XCTAssertGreaterThan(try XCTUnwrap(bad.lastCheck), try XCTUnwrap(good.lastCheck))
        XCTAssertFalse(bad.isChecking)

        // Back again: the next check succeeds and clears the error.
        try FileManager.default.moveItem(atPath: f.root + "/unmounted", toPath: f.backends)
        checker.checkNow()
        eventually("a good check again") { log.finishedChecks.count == 3 }
        XCTAssertNil(checker.status.error)
    }

    func testAManualUpgradeInProgressMakesTheAutoUpgradeGiveWay() throws {
        // About two seconds of throttled copying: a wide window for the check to find the manual job running.
        let f = try upgradableSite(payloadBytes: 2_500_000)
        let engine = Engine(configuration: try f.configuration(),
                            sources: [DirectorySource(throttleBytesPerSecond: 1_000_000)])
        try engine.setAutoUpgrade(true)
        let downloading = Mutex(false)
        engine.jobs.subscribe(on: DispatchQueue(label: "test.jobs")) { event in
            if case .phase(.downloading, _) = event.kind, event.backend == "piper" { downloading.withLock { $0 = true } }
        }
        let manual = try engine.upgrade("piper")
        eventually("the manual upgrade is copying") { downloading.withLock { $0 } }

        let checker = UpgradeScheduler(engine: engine, interval: { 3600 })
        let log = StatusLog(checker)
        checker.checkNow()
        eventually("the check") { log.finishedChecks.count >= 1 }
        let status = checker.status
        XCTAssertTrue(status.autoUpgradeSkipped["piper"]?.contains("gave way") == true, "\(status)")
        XCTAssertEqual(status.autoUpgradeJobs.count, 1, "only kokoro was submitted")

        XCTAssertTrue(engine.jobs.wait(manual).isSuccess)
        engine.jobs.waitAll()
        XCTAssertEqual(try f.metadata("piper").version, "0.9.0")
        XCTAssertEqual(engine.lastOperation(for: "piper")?.job, manual, "the manual upgrade is piper's last operation")
    }

    func testABackendLockedElsewhereIsSkippedNotWaitedFor() throws {
        let (f, engine, checker, log) = try checkedSite(autoUpgrade: true)
        // Another hangar process (the CLI, say) holds piper: flock plus the in-process table, as a real one would.
        let held = try XCTUnwrap(try BackendLocks(root: BackendsRoot(f.backends)).lock(["piper"], mode: .wait))
        defer { held.release() }
        checker.checkNow()
        eventually("check and refresh") { log.finishedChecks.count >= 2 }
        let piperJob = try XCTUnwrap(checker.status.autoUpgradeJobs.first { engine.lastOperation(for: "piper")?.job == $0 })
        guard case .skipped(let reason) = try XCTUnwrap(engine.jobs.outcome(piperJob)) else {
            return XCTFail("expected skipped, got \(String(describing: engine.jobs.outcome(piperJob)))")
        }
        XCTAssertTrue(reason.contains("busy"), reason)
        XCTAssertEqual(try f.metadata("piper").version, "0.8.0", "nothing changed under the other process's lock")
        XCTAssertEqual(engine.lastOperation(for: "piper")?.outcome, "skipped")
    }
}
