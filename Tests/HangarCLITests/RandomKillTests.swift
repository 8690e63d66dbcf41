import Foundation
import HangarEngine
import HangarFixtures
import XCTest

/// SIGKILL at random moments of a throttled upgrade (not only at the named crash points): whatever instant the
/// kill lands on, recovery must leave the backend complete at its old or new version with no leftovers.
final class RandomKillTests: CLITestCase {

    /// 3 MiB at 2.5 MB/s: the copy takes about 1.2 s, so kills land before, during and after it.
    private static let payloadBytes = 3 << 20
    private static let copyLimit = 2_500_000
    private static let iterations = 15
    /// Stop starting iterations after this long, so the suite stays inside its CI budget on a slow machine.
    private static let budgetSeconds = 40.0

    func testRandomKillsDuringAThrottledUpgradeAlwaysRecoverToOldOrNew() throws {
        let v1 = try sandbox.source("foo", "1.0.0", payloadBytes: Self.payloadBytes)
        let v2 = try sandbox.source("foo", "2.0.0", payloadBytes: Self.payloadBytes)
        let gallery = try sandbox.gallery("index.yaml", [.concrete("foo", v2)])
        let expectedCopy = Double(Self.payloadBytes) / Double(Self.copyLimit)
        let started = MonotonicClock.now()
        var outcomes: [String] = []
        var generator = SystemRandomNumberGenerator()

        for iteration in 0..<Self.iterations {
            if MonotonicClock.now() - started > Self.budgetSeconds {
                print("  random kills: stopped after \(iteration) iterations (time budget)")
                break
            }
            let fallback = iteration % 2 == 1
            // Half the kills anywhere, half near the end of the copy, where validation, the swap and the cleanup run.
            let delay = iteration % 2 == 0 ? Double.random(in: 0.0...(expectedCopy * 1.25), using: &generator)
                                           : Double.random(in: (expectedCopy - 0.02)...(expectedCopy + 0.08), using: &generator)
            let label = "iteration \(iteration) (\(fallback ? "rename fallback" : "exchange"), kill after \(String(format: "%.3f", delay)) s)"
            let site = try sandbox.site("random-\(iteration)")
            defer { try? FileManager.default.removeItem(atPath: site.root) }
            try site.installCopy(v1, as: "foo", gallery: gallery)

            var env = ["HANGAR_COPY_LIMIT": String(Self.copyLimit)]
            if fallback { env["HANGAR_FORCE_RENAME_FALLBACK"] = "1" }
            let upgrade = try site.start(["upgrade", "foo"], gallery: gallery, env: env)
            usleep(UInt32(delay * 1_000_000))
            upgrade.killNow()
            let result = upgrade.wait(timeout: 20)
            XCTAssertFalse(result.timedOut, "\(label): \(result.transcript)")
            XCTAssertTrue(result.diedBySIGKILL || (result.exitedNormally && result.status == 0),
                          "\(label): killed or finished, nothing else: \(result.transcript)")

            // Alternate the repair path: the explicit command, and the recovery every command runs first.
            let repair = try site.run(iteration % 4 < 2 ? ["recover"] : ["list", "--json"], gallery: gallery)
            XCTAssertEqual(repair.status, 0, "\(label): \(repair.transcript)")
            let state = site.state(of: "foo", old: v1, new: v2)
            XCTAssertTrue(state == .old || state == .new, "\(label): backend is \(state)")
            XCTAssertEqual(site.leftovers(), [], label)
            XCTAssertEqual(site.backendEntries(), ["foo"], label)
            let again = try site.run(["recover"], gallery: gallery)
            XCTAssertEqual(again.stdout, "Nothing to recover.\n", "\(label): \(again.transcript)")
            outcomes.append("\(String(format: "%.2f", delay))s→\(state)\(result.diedBySIGKILL ? "" : " (finished)")")
        }
        print("  random kills: " + outcomes.joined(separator: ", "))
    }
}
