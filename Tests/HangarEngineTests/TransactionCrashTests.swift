import Foundation
import XCTest
@testable import HangarEngine

/// Real kill -9 at every crash point: a child process (this test binary, running `testChildScenario`) performs a
/// transaction with `HANGAR_CRASH_AT` set and SIGKILLs itself there; the parent checks the state it left and what
/// recovery makes of it.
final class TransactionCrashTests: XCTestCase {
    enum Expect: String {
        case old, new, absent
    }

    struct Case {
        let scenario: String
        let point: String
        let fallback: Bool
        let expect: Expect
    }

    static let cases: [Case] = {
        var cases: [Case] = []
        for point in ["stage.created", "commit.before-journal", "journal.temp-written", "swap.before-exchange"] {
            cases.append(Case(scenario: "upgrade", point: point, fallback: false, expect: .old))
        }
        for point in ["swap.after-exchange", "cleanup.old-in-trash", "cleanup.journal-removed", "trash.mid-delete"] {
            cases.append(Case(scenario: "upgrade", point: point, fallback: false, expect: .new))
        }
        for point in ["stage.created", "journal.temp-written", "swap.before-first-rename"] {
            cases.append(Case(scenario: "upgrade", point: point, fallback: true, expect: .old))
        }
        for point in ["swap.between-renames", "swap.after-second-rename", "cleanup.old-in-trash", "cleanup.journal-removed", "trash.mid-delete"] {
            cases.append(Case(scenario: "upgrade", point: point, fallback: true, expect: .new))
        }
        for fallback in [false, true] {
            for point in ["stage.created", "commit.before-journal", "journal.temp-written", "swap.before-noreplace-rename"] {
                cases.append(Case(scenario: "install", point: point, fallback: fallback, expect: .absent))
            }
            for point in ["swap.after-noreplace-rename", "cleanup.old-in-trash", "cleanup.journal-removed"] {
                cases.append(Case(scenario: "install", point: point, fallback: fallback, expect: .new))
            }
        }
        cases.append(Case(scenario: "abort", point: "abort.mid-delete", fallback: false, expect: .old))
        cases.append(Case(scenario: "uninstall", point: "uninstall.moved-to-trash", fallback: false, expect: .absent))
        cases.append(Case(scenario: "uninstall", point: "trash.mid-delete", fallback: false, expect: .absent))
        cases.append(Case(scenario: "recover", point: "recovery.before-journal-remove", fallback: true, expect: .new))
        // An upgrade keeping the old tree as a generation: killed while keeping it, the new version is in place.
        for fallback in [false, true] {
            for point in ["generation.incoming-written", "generation.tree-moved", "generation.published"] {
                cases.append(Case(scenario: "keep", point: point, fallback: fallback, expect: .new))
            }
        }
        // A kept upgrade to 2 (not killed), then a rollback to 1 killed: before the swap 2 stays, after it 1.
        for fallback in [false, true] {
            for point in ["rollback.tree-staged"] {
                cases.append(Case(scenario: "rollback", point: point, fallback: fallback, expect: .new))
            }
            cases.append(Case(scenario: "rollback", point: "rollback.before-consume", fallback: fallback, expect: .old))
        }
        return cases
    }()

    func testEveryCrashPointIsCovered() {
        XCTAssertEqual(Set(Self.cases.map(\.point)), Set(CrashPoint.allPoints))
    }

    func testRealKillAtEveryCrashPoint() throws {
        for testCase in Self.cases {
            try run(testCase)
        }
    }

    private func run(_ testCase: Case) throws {
        let label = "\(testCase.scenario) at \(testCase.point)\(testCase.fallback ? " (two-rename fallback)" : "")"
        let box = try TransactionSandbox()
        let live = box.root.backendPath("foo")
        let source = try box.makeTree(box.path + "/src", version: "2", extraFiles: 6)
        if testCase.scenario != "install" { try box.makeTree(live, version: "1", extraFiles: 6) }
        let oldListing = box.listing(live)
        let newListing = box.listing(source)

        if testCase.scenario == "recover" {
            // First leave the worst state there is: killed between the two renames, the name missing.
            let first = try spawn(scenario: "upgrade", point: "swap.between-renames", fallback: true, box: box, source: source)
            XCTAssertTrue(first.killed, "\(label): setup child was not killed: \(first.output)")
            XCTAssertFalse(box.exists(live))
        }
        let child = try spawn(scenario: testCase.scenario, point: testCase.point, fallback: testCase.fallback, box: box, source: source)
        XCTAssertTrue(child.killed, "\(label): the crash point was not reached: \(child.output)")

        // Right after the kill: with RENAME_EXCHANGE the backend is never missing and never mixed.
        let present = box.exists(live)
        if testCase.scenario == "upgrade" && !testCase.fallback {
            XCTAssertTrue(present, "\(label): backend missing right after the kill")
        }
        if present && testCase.scenario != "install" && testCase.scenario != "rollback" {
            let now = withoutMetadata(box.listing(live))
            XCTAssertTrue(now == oldListing || now == newListing, "\(label): live tree is mixed: \(now)")
        }

        let report = Recovery(root: box.root, options: RecoveryOptions(localAIBackupMinAge: 0, localAITempMinAge: 0)).run()
        XCTAssertEqual(report.problems, [], "\(label)")
        XCTAssertEqual(report.skipped, [], "\(label)")
        switch testCase.expect {
        case .old: XCTAssertEqual(box.listing(live), oldListing, "\(label): expected the old version; report: \(report.lines)")
        case .new: XCTAssertEqual(withoutMetadata(box.listing(live)), newListing, "\(label): expected the new version; report: \(report.lines)")
        case .absent: XCTAssertFalse(box.exists(live), "\(label): expected no backend; report: \(report.lines)")
        }
        if testCase.expect == .new {
            XCTAssertEqual(box.read(live + "/metadata.json"), BackendMetadata(name: "foo", version: "2").encoded(), label)
        }
        XCTAssertEqual(box.leftovers(), [], "\(label): leftovers after recovery; report: \(report.lines)")
        // Every generation left is whole: a numbered dir with its record and a tree of one of the two versions.
        for generation in Generations.list(root: box.root, name: "foo") {
            let tree = withoutMetadata(box.listing(generation.path + "/tree"))
            XCTAssertTrue(tree == withoutMetadata(oldListing) || tree == newListing, "\(label): generation \(generation.id) is mixed")
        }
        let entries = ((try? Sys.listDirectoryIfPresent(box.root.generationsPath + "/foo")) ?? nil) ?? []
        XCTAssertEqual(entries.filter { Int($0) == nil }, [], "\(label): half-written generations")
        XCTAssertEqual(entries.count, Generations.list(root: box.root, name: "foo").count, "\(label): a generation is not whole")
        if testCase.scenario == "rollback" && testCase.expect == .new {
            XCTAssertEqual(Generations.list(root: box.root, name: "foo").count, 1, "\(label): the rollback's generation is lost")
        }
        XCTAssertTrue(Recovery(root: box.root).run().isEmpty, "\(label): a second recovery must have nothing to do")

        // And the backend is usable for the next transaction.
        try box.install("foo", from: source, operation: "reinstall")
        XCTAssertEqual(withoutMetadata(box.listing(live)), newListing, label)
    }

    private func withoutMetadata(_ listing: [String]) -> [String] {
        listing.filter { !$0.hasPrefix("f metadata.json ") }
    }

    private func spawn(scenario: String, point: String, fallback: Bool, box: TransactionSandbox,
                       source: String) throws -> (killed: Bool, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/proc/self/exe")
        process.arguments = ["HangarEngineTests.TransactionCrashTests/testChildScenario"]
        var environment = ProcessInfo.processInfo.environment
        environment["HANGAR_TXN_CHILD_SCENARIO"] = scenario
        environment["HANGAR_TXN_CHILD_ROOT"] = box.root.path
        environment["HANGAR_TXN_CHILD_SOURCE"] = source
        environment["HANGAR_CRASH_AT"] = point
        environment["HANGAR_FORCE_RENAME_FALLBACK"] = fallback ? "1" : "0"
        process.environment = environment
        let output = box.path + "/child-output.txt"
        _ = FileManager.default.createFile(atPath: output, contents: nil)
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: output))
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
        process.waitUntilExit()
        try handle.close()
        let text = box.read(output) ?? ""
        let killed = process.terminationReason == .uncaughtSignal && process.terminationStatus == SIGKILL
        return (killed, String(text.suffix(2000)))
    }

    /// LocalAI #11720: two processes upgrading the same backend at once must serialize, never share staging, and
    /// leave one complete version.
    func testTwoProcessesUpgradingTheSameBackendSerialize() throws {
        let box = try TransactionSandbox()
        let live = box.root.backendPath("foo")
        try box.makeTree(live, version: "1")
        let source = try box.makeTree(box.path + "/src", version: "2", extraFiles: 20)
        var children: [Process] = []
        for index in 0..<2 {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/proc/self/exe")
            process.arguments = ["HangarEngineTests.TransactionCrashTests/testChildScenario"]
            var environment = ProcessInfo.processInfo.environment
            environment["HANGAR_TXN_CHILD_SCENARIO"] = "upgrade"
            environment["HANGAR_TXN_CHILD_ROOT"] = box.root.path
            environment["HANGAR_TXN_CHILD_SOURCE"] = source
            environment["HANGAR_TXN_CHILD_REPEAT"] = "8"
            environment["HANGAR_CRASH_AT"] = ""
            environment["HANGAR_FORCE_RENAME_FALLBACK"] = index == 0 ? "1" : "0"
            process.environment = environment
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            try process.run()
            children.append(process)
        }
        for child in children {
            child.waitUntilExit()
            XCTAssertEqual(child.terminationStatus, 0)
        }
        XCTAssertEqual(withoutMetadata(box.listing(live)), box.listing(source))
        XCTAssertEqual(box.leftovers(), [])
    }

    /// The child's side; does nothing when run as an ordinary test.
    func testChildScenario() throws {
        let environment = ProcessInfo.processInfo.environment
        guard let scenario = environment["HANGAR_TXN_CHILD_SCENARIO"], let rootPath = environment["HANGAR_TXN_CHILD_ROOT"],
              let source = environment["HANGAR_TXN_CHILD_SOURCE"] else { return }
        let root = BackendsRoot(rootPath)
        let locks = BackendLocks(root: root)
        do {
            switch scenario {
            case "recover":
                _ = Recovery(root: root, locks: locks).run()
            case "uninstall":
                guard let lock = try locks.lock(["foo"], mode: .wait) else { exit(4) }
                try BackendRemoval.remove("foo", root: root, lock: lock)
            default:
                let repeats = Int(environment["HANGAR_TXN_CHILD_REPEAT"] ?? "1") ?? 1
                for _ in 0..<repeats {
                    guard let lock = try locks.lock(["foo"], mode: .wait) else { exit(4) }
                    let operation = scenario == "abort" || scenario == "keep" || scenario == "rollback" ? "upgrade" : scenario
                    let policy = scenario == "keep" || scenario == "rollback" ? GenerationPolicy(keep: 1) : nil
                    let transaction = try BackendTransaction.begin(root: root, name: "foo", operation: operation, lock: lock,
                                                                   keepGenerations: policy)
                    try FileTree.copyContents(of: source, into: transaction.stagingPath)
                    try transaction.validate(what: source)
                    try transaction.writeMetadata(BackendMetadata(name: "foo", version: "2"))
                    if scenario == "abort" {
                        transaction.abort()
                    } else {
                        try transaction.commit()
                    }
                    if scenario == "rollback", let generation = Generations.list(root: root, name: "foo").first {
                        var warnings: [String] = []
                        _ = try Generations.rollBack("foo", to: generation, root: root, policy: GenerationPolicy(keep: 1),
                                                 lock: lock, warnings: &warnings)
                    }
                    lock.release()
                }
            }
        } catch {
            FileHandle.standardError.write(Data("child failed: \(error)\n".utf8))
            exit(3)
        }
        exit(0)
    }
}
