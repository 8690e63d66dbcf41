import Foundation
import HangarFixtures
import HangarEngine
import XCTest

/// Real SIGKILLs at every named point of the transaction code (`HANGAR_CRASH_AT`), for every operation that passes
/// the point, with the RENAME_EXCHANGE swap and with the forced two-rename fallback. After each kill, recovery (the
/// `recover` command, or just the next `list`, which recovers first) must leave the backend complete at its old or
/// its new version, never missing or mixed, and no hangar leftovers.
final class CrashPointTests: CLITestCase {
    /// The operations driven into a crash; each names the backend it works on.
    enum Operation: String, CaseIterable, Sendable {
        case upgrade, reinstall, freshInstall, uninstall
        /// An upgrade whose new version has no run.sh: validation fails and the staged copy is aborted.
        case failedUpgrade
        /// A rollback of foo 2.0.0 to its kept generation 1.0.0 (made by an upgrade that was not killed).
        case rollback
    }

    /// How the state is repaired after the kill.
    enum Route: String, CaseIterable, Sendable {
        case recoverCommand = "hangar recover"
        case listCommand = "hangar list"
    }

    static let preJournal = ["stage.created", "commit.before-journal", "journal.temp-written"]
    static let afterSwap = ["cleanup.old-in-trash", "cleanup.journal-removed"]
    /// Keeping the replaced tree as a generation (upgrades, reinstalls and rollbacks keep one by default).
    static let keeping = ["generation.incoming-written", "generation.tree-moved", "generation.published"]
    static let recoveryPoint = "recovery.before-journal-remove"

    /// The points each operation passes (asserted: a point listed here that does not kill the process fails).
    static func points(_ operation: Operation, fallback: Bool) -> [String] {
        switch operation {
        case .upgrade, .reinstall:
            let swap = fallback ? ["swap.before-first-rename", "swap.between-renames", "swap.after-second-rename"]
                                : ["swap.before-exchange", "swap.after-exchange"]
            return preJournal + swap + keeping + afterSwap
        case .freshInstall:
            return preJournal + ["swap.before-noreplace-rename", "swap.after-noreplace-rename"] + afterSwap
        case .uninstall:
            return ["uninstall.moved-to-trash", "trash.mid-delete"]
        case .failedUpgrade:
            return ["stage.created", "abort.mid-delete"]
        case .rollback:
            let swap = fallback ? ["swap.before-first-rename", "swap.between-renames", "swap.after-second-rename"]
                                : ["swap.before-exchange", "swap.after-exchange"]
            return ["stage.created", "rollback.tree-staged", "commit.before-journal",
                    "journal.temp-written"] + swap + keeping + afterSwap + ["rollback.before-consume", "trash.mid-delete"]
        }
    }

    /// Points after which a journal is left behind, so that the following recovery passes `recovery.before-journal-remove`.
    static let journaledPoints: [(Operation, Bool, String)] = [
        (.upgrade, false, "swap.before-exchange"), (.upgrade, false, "swap.after-exchange"),
        (.upgrade, false, "cleanup.old-in-trash"),
        (.upgrade, true, "swap.before-first-rename"), (.upgrade, true, "swap.between-renames"),
        (.upgrade, true, "swap.after-second-rename"), (.upgrade, true, "cleanup.old-in-trash"),
        (.freshInstall, false, "swap.before-noreplace-rename"), (.freshInstall, false, "swap.after-noreplace-rename"),
        (.freshInstall, true, "cleanup.old-in-trash"),
        (.rollback, false, "swap.before-exchange"), (.rollback, false, "generation.tree-moved"),
        (.rollback, true, "swap.between-renames"),
    ]

    /// Shared, read-only sources and gallery: foo 1.0.0 → 2.0.0, and "broken" whose 2.0.0 lacks run.sh.
    struct Fixture: Sendable {
        let sandbox: CLISandbox
        let foo1: SourceTree, foo2: SourceTree, broken1: SourceTree, broken2: SourceTree
        let gallery: GalleryFile

        init(sandbox: CLISandbox) throws {
            self.sandbox = sandbox
            foo1 = try sandbox.source("foo", "1.0.0")
            foo2 = try sandbox.source("foo", "2.0.0")
            broken1 = try sandbox.source("broken", "1.0.0")
            broken2 = try sandbox.source("broken", "2.0.0", runScript: false)
            gallery = try sandbox.gallery("index.yaml", [.concrete("foo", foo2, alias: "fooalias"), .concrete("broken", broken2)])
        }
    }

    /// One crash case: what to set up, which command to kill, and which outcomes are allowed.
    struct Case: Sendable, CustomStringConvertible {
        let operation: Operation
        let point: String
        let fallback: Bool
        let route: Route
        /// Also kill the first recovery at `recovery.before-journal-remove`.
        var crashRecovery = false

        var description: String {
            "\(operation.rawValue) killed at \(point) (\(fallback ? "rename fallback" : "exchange"))"
                + (crashRecovery ? ", recovery killed at \(CrashPointTests.recoveryPoint)" : "") + ", repaired by \(route.rawValue)"
        }
    }


    /// Runs one case in its own site; returns failure messages (empty when it held) and the outcome.
    static func run(_ c: Case, fixture: Fixture) -> (failures: [String], outcome: String) {
        var failures: [String] = []
        func fail(_ message: String) { failures.append("\(c): \(message)") }
        do {
            let site = try fixture.sandbox.site("\(c.operation.rawValue)-\(c.point)")
            defer { try? FileManager.default.removeItem(atPath: site.root) }
            let name: String, args: [String], old: SourceTree?, new: SourceTree?, allowed: [BackendState]
            switch c.operation {
            case .upgrade:
                name = "foo"; args = ["upgrade", "foo"]; old = fixture.foo1; new = fixture.foo2; allowed = [.old, .new]
            case .reinstall:
                name = "foo"; args = ["reinstall", "foo"]; old = fixture.foo1; new = fixture.foo2; allowed = [.old, .new]
            case .freshInstall:
                name = "foo"; args = ["install", "foo"]; old = nil; new = fixture.foo2; allowed = [.missing, .new]
            case .uninstall:
                name = "foo"; args = ["uninstall", "foo"]; old = fixture.foo1; new = nil; allowed = [.missing, .old]
            case .failedUpgrade:
                name = "broken"; args = ["upgrade", "broken"]; old = fixture.broken1; new = fixture.broken2; allowed = [.old]
            case .rollback:
                name = "foo"; args = ["rollback", "foo"]; old = fixture.foo2; new = fixture.foo1; allowed = [.old, .new]
            }
            if c.operation == .rollback {
                try site.installCopy(fixture.foo1, as: name, alias: "fooalias", gallery: fixture.gallery)
                let upgrade = try site.run(["upgrade", "foo"], gallery: fixture.gallery)
                if upgrade.status != 0 { fail("the upgrade making the generation failed: \(upgrade.transcript)") }
            } else if let old {
                try site.installCopy(old, as: name, alias: name == "foo" ? "fooalias" : "", gallery: fixture.gallery)
            }

            var env = ["HANGAR_CRASH_AT": c.point]
            if c.fallback { env["HANGAR_FORCE_RENAME_FALLBACK"] = "1" }
            let crash = try site.run(args, gallery: fixture.gallery, env: env)
            guard crash.diedBySIGKILL else {
                fail("expected death by SIGKILL at the crash point, got \(crash.transcript)")
                return (failures, "not reached")
            }

            if c.crashRecovery {
                let killed = try site.run(["recover"], gallery: fixture.gallery, env: ["HANGAR_CRASH_AT": recoveryPoint])
                if !killed.diedBySIGKILL { fail("recovery was expected to die at \(recoveryPoint): \(killed.transcript)") }
            }

            switch c.route {
            case .recoverCommand:
                let r = try site.run(["recover", "--json"], gallery: fixture.gallery)
                if r.status != 0 || !r.exitedNormally { fail("recover failed: \(r.transcript)") }
                let report = (try? JSONSerialization.jsonObject(with: Data(r.stdout.utf8))) as? [String: Any]
                if (report?["problems"] as? [Any])?.isEmpty != true { fail("recover reported problems: \(r.stdout)") }
            case .listCommand:
                let r = try site.run(["list", "--json"], gallery: fixture.gallery)
                if r.status != 0 || !r.exitedNormally { fail("list (recovering first) failed: \(r.transcript)") }
                let rows = (try? JSONSerialization.jsonObject(with: Data(r.stdout.utf8))) as? [[String: Any]]
                if rows == nil { fail("list --json printed no JSON array: \(r.transcript)") }
            }

            let state = site.state(of: name, old: old, new: new)
            if !allowed.contains(state) { fail("backend is \(state); allowed: \(allowed)") }
            // No generation is half-written: each is a numbered dir with its record and a whole tree of one version.
            let kept = site.generations(of: name, old: old, new: new)
            for problem in kept.problems { fail(problem) }
            if c.operation == .rollback && state == .old && !kept.states.contains(.new) {
                fail("the rollback did not happen, but its generation (\(fixture.foo1.version)) is gone: \(kept.states)")
            }
            // Past the swap, the replaced build is kept (by the commit, or by recovery finishing it).
            if [.upgrade, .reinstall, .rollback].contains(c.operation) && state == .new && !kept.states.contains(.old) {
                fail("the replaced build is not kept as a generation: \(kept.states)")
            }
            let leftovers = site.leftovers()
            if !leftovers.isEmpty { fail("leftovers after recovery: \(leftovers)") }
            let entries = site.backendEntries()
            let expected: Set<String> = state == .missing ? [] : [name]
            if entries != expected { fail("backends dir holds \(entries.sorted()), expected \(expected.sorted())") }

            let again = try site.run(["recover", "--json"], gallery: fixture.gallery)
            let report = (try? JSONSerialization.jsonObject(with: Data(again.stdout.utf8))) as? [String: Any]
            if again.status != 0 || (report?["repairs"] as? [Any])?.isEmpty != true || (report?["problems"] as? [Any])?.isEmpty != true {
                fail("a second recover still had work: \(again.transcript)")
            }
            return (failures, "\(state)")
        } catch {
            fail("\(error)")
            return (failures, "error")
        }
    }

    /// Runs `cases` in parallel and turns every failure into an XCTest failure; logs the outcomes.
    private func check(_ cases: [Case], file: StaticString = #filePath, line: UInt = #line) throws {
        let fixture = try Fixture(sandbox: sandbox)
        let outcomes = Locked<[(Case, String)]>([])
        let failures = runInParallel(cases.count) { index in
            let result = Self.run(cases[index], fixture: fixture)
            outcomes.update { $0.append((cases[index], result.outcome)) }
            return result.failures
        }
        for failure in failures { XCTFail(failure, file: file, line: line) }
        XCTAssertEqual(outcomes.get().count, cases.count, file: file, line: line)
        // One log line per operation and swap method: where each point's recovery ended (both routes agree, or both shown).
        var summary: [String: [String: Set<String>]] = [:]
        for (c, outcome) in outcomes.get() {
            let key = "\(c.operation.rawValue)/\(c.fallback ? "fallback" : "exchange")" + (c.crashRecovery ? "/recovery killed" : "")
            summary[key, default: [:]][c.point, default: []].insert(outcome)
        }
        for key in summary.keys.sorted() {
            let points = summary[key]!.keys.sorted().map { "\($0)→\(summary[key]![$0]!.sorted().joined(separator: "|"))" }
            print("  crash \(key): " + points.joined(separator: ", "))
        }
    }

    private func cases(_ operation: Operation) -> [Case] {
        var all: [Case] = []
        for fallback in [false, true] {
            for point in Self.points(operation, fallback: fallback) {
                for route in Route.allCases { all.append(Case(operation: operation, point: point, fallback: fallback, route: route)) }
            }
        }
        return all
    }

    /// Every point in `CrashPoint.allPoints` is driven by some case below (a new point must get a case).
    func testEveryCrashPointIsExercised() {
        var covered = Set([Self.recoveryPoint])
        for operation in Operation.allCases {
            for fallback in [false, true] { covered.formUnion(Self.points(operation, fallback: fallback)) }
        }
        XCTAssertEqual(covered.subtracting(CrashPoint.allPoints), [], "cases name points that do not exist")
        XCTAssertEqual(Set(CrashPoint.allPoints).subtracting(covered), [], "crash points no case reaches")
    }

    func testKilledUpgradeRecoversToOldOrNew() throws { try check(cases(.upgrade)) }

    func testKilledReinstallRecoversToOldOrNew() throws { try check(cases(.reinstall)) }

    func testKilledFreshInstallRecoversToAbsentOrNew() throws { try check(cases(.freshInstall)) }

    func testKilledUninstallRecoversToAbsentOrPresent() throws { try check(cases(.uninstall)) }

    func testKilledFailedUpgradeKeepsTheOldVersion() throws { try check(cases(.failedUpgrade)) }

    /// Killed anywhere in a rollback: foo ends at 2.0.0 with generation 1.0.0 whole, or at 1.0.0 (2.0.0 kept
    /// unless the kill came between the swap and keeping it).
    func testKilledRollbackRecoversToOldOrNewWithGenerationsWhole() throws { try check(cases(.rollback)) }

    /// A recovery killed before it drops the journal must be finished by the next one.
    func testKilledRecoveryIsFinishedByTheNextOne() throws {
        var all: [Case] = []
        for (operation, fallback, point) in Self.journaledPoints {
            all.append(Case(operation: operation, point: point, fallback: fallback, route: .recoverCommand, crashRecovery: true))
        }
        all.append(Case(operation: .upgrade, point: "swap.between-renames", fallback: true, route: .listCommand, crashRecovery: true))
        try check(all)
    }
}
