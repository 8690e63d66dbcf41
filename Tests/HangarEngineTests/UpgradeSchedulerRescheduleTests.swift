import Dispatch
import Foundation
import XCTest
@testable import HangarEngine

/// The checker's schedule changes, user-requested checks and stale indicators (review items 5, 6, 7).
final class UpgradeSchedulerRescheduleTests: XCTestCase {
    /// piper 0.8.0 installed, the gallery offers `version`.
    private func site(offering version: String = "0.9.0") throws -> (EngineFixture, Engine) {
        let f = try EngineFixture()
        try offer(f, version)
        try f.installed("piper", BackendMetadata(name: "piper", installedAt: "2026-01-01T00:00:00Z", version: "0.8.0", uri: "/old/piper"))
        return (f, try f.engine())
    }

    private func offer(_ f: EngineFixture, _ version: String) throws {
        let source = try f.source("piper-\(version)", files: ["VERSION": version])
        try f.gallery("---\n- {name: piper, uri: \"\(source)\", version: \"\(version)\"}\n")
    }

    func testRescheduleWaitsAWholeIntervalInsteadOfCheckingAtOnce() throws {
        let (fixture, engine) = try site()
        defer { withExtendedLifetime(fixture) {} }
        let checker = UpgradeScheduler(engine: engine, interval: { 0.6 })
        checker.start()
        defer { checker.stop() }
        eventually("the first check") { checker.status.lastCheck != nil }
        let first = try XCTUnwrap(checker.status.lastCheck)
        XCTAssertNotNil(checker.status.report?.upgrades["piper"], "\(checker.status)")
        // Four quick interval changes (←/→ in Settings) must not check four times.
        for _ in 0..<4 {
            checker.reschedule()
            usleep(100_000)
        }
        XCTAssertEqual(checker.status.lastCheck, first, "no check right after a schedule change")
        eventually("the check one interval after the last change") { checker.status.lastCheck != first }
    }

    func testRescheduleStartsAStoppedChecker() throws {
        let (fixture, engine) = try site()
        defer { withExtendedLifetime(fixture) {} }
        let checker = UpgradeScheduler(engine: engine, interval: { 0.2 })
        checker.reschedule()
        defer { checker.stop() }
        XCTAssertNil(checker.status.lastCheck)
        eventually("a check one interval later") { checker.status.lastCheck != nil && !checker.status.isChecking }
        XCTAssertNotNil(checker.status.report?.upgrades["piper"], "\(checker.status)")
    }

    func testCheckNowWithRefreshReadsTheGalleryAgain() throws {
        let (f, engine) = try site()
        let checker = UpgradeScheduler(engine: engine, interval: { 3600 })
        checker.checkNow()
        eventually("the first check") { checker.status.lastCheck != nil && !checker.status.isChecking }
        XCTAssertEqual(checker.status.report?.upgrades["piper"]?.availableVersion, "0.9.0")
        try offer(f, "1.0.0")
        let before = checker.status.lastCheck
        checker.checkNow(refreshGalleries: true)
        eventually("the requested check") { checker.status.lastCheck != before && !checker.status.isChecking }
        XCTAssertEqual(checker.status.report?.upgrades["piper"]?.availableVersion, "1.0.0", "not the in-memory copy")
    }

    func testASucceededUpgradeLeavesTheReportWithoutAnotherCheck() throws {
        let (fixture, engine) = try site()
        defer { withExtendedLifetime(fixture) {} }
        let checker = UpgradeScheduler(engine: engine, interval: { 3600 })
        checker.checkNow()
        eventually("the first check") { checker.status.lastCheck != nil && !checker.status.isChecking }
        XCTAssertNotNil(checker.status.report?.upgrades["piper"], "\(checker.status)")
        let checkedAt = checker.status.lastCheck
        XCTAssertTrue(engine.jobs.wait(try engine.upgrade("piper")).isSuccess)
        eventually("piper dropped from the report") { checker.status.report?.upgrades["piper"] == nil }
        XCTAssertEqual(checker.status.lastCheck, checkedAt, "dropped by the job's success, not by a new check")
    }
}
