import Foundation
import XCTest
@testable import HangarEngine

/// Recovery from on-disk states built by hand, one per situation a kill can leave behind.
final class TransactionRecoveryTests: XCTestCase {
    private let entry = "foo.upgrade.4242.0123456789abcdef"
    private let now = RecoveryOptions(localAIBackupMinAge: 0, localAITempMinAge: 0)

    private func writeJournal(_ box: TransactionSandbox, old: FileIdentity?, new: FileIdentity?, operation: String = "upgrade") throws {
        let journal = TransactionJournal(format: 1, name: "foo", operation: operation, staging: entry, aside: entry + ".old",
                                         old: old, new: try XCTUnwrap(new), pid: 4242, startedAt: 0)
        try journal.write(in: box.root)
    }

    /// Builds old (v1, live) and new (v2, staged) trees and returns their listings and identities.
    private func prepare(_ box: TransactionSandbox) throws -> (old: [String], new: [String], oldID: FileIdentity?, newID: FileIdentity?) {
        let live = try box.makeTree(box.root.backendPath("foo"), version: "1")
        let staged = try box.makeTree(box.root.stagingEntry(entry), version: "2")
        return (box.listing(live), box.listing(staged), box.identity(live), box.identity(staged))
    }

    func testNothingToDoIsEmpty() throws {
        let box = try TransactionSandbox()
        try box.makeTree(box.root.backendPath("foo"), version: "1")
        XCTAssertTrue(Recovery(root: box.root).run().isEmpty)
        XCTAssertTrue(Recovery.run(root: BackendsRoot(box.path + "/does-not-exist")).isEmpty)
        XCTAssertFalse(box.exists(box.path + "/does-not-exist"), "recovery must not create a missing backends dir")
    }

    func testJournalWithExchangeNotDoneRollsBack() throws {
        // Killed at swap.before-exchange (or swap.before-first-rename).
        let box = try TransactionSandbox()
        let trees = try prepare(box)
        try writeJournal(box, old: trees.oldID, new: trees.newID)
        let report = Recovery(root: box.root).run()
        XCTAssertEqual(report.repairs, ["restored foo from an interrupted upgrade (old version kept)"])
        XCTAssertEqual(box.listing(box.root.backendPath("foo")), trees.old)
        XCTAssertEqual(box.leftovers(), [])
    }

    func testJournalWithExchangeDoneRollsForward() throws {
        // Killed at swap.after-exchange: the name holds the new tree, the staging path the old one.
        let box = try TransactionSandbox()
        let trees = try prepare(box)
        try writeJournal(box, old: trees.oldID, new: trees.newID)
        XCTAssertEqual(Sys.renameat2(box.root.stagingEntry(entry), box.root.backendPath("foo"), flags: 2), 0, "RENAME_EXCHANGE")
        let report = Recovery(root: box.root).run()
        XCTAssertEqual(report.repairs, ["completed interrupted upgrade of foo"])
        XCTAssertEqual(box.listing(box.root.backendPath("foo")), trees.new)
        XCTAssertEqual(box.leftovers(), [])
    }

    func testTwoRenameHalfDoneRollsForward() throws {
        // Killed at swap.between-renames: the name is MISSING, old parked aside, new still staged.
        let box = try TransactionSandbox()
        let trees = try prepare(box)
        try writeJournal(box, old: trees.oldID, new: trees.newID)
        try Sys.rename(box.root.backendPath("foo"), box.root.stagingEntry(entry + ".old"))
        let report = Recovery(root: box.root).run()
        XCTAssertEqual(report.repairs, ["completed interrupted upgrade of foo"])
        XCTAssertEqual(box.listing(box.root.backendPath("foo")), trees.new)
        XCTAssertEqual(box.leftovers(), [])
    }

    func testTwoRenameWithNewTreeGoneRestoresOld() throws {
        let box = try TransactionSandbox()
        let trees = try prepare(box)
        try writeJournal(box, old: trees.oldID, new: trees.newID)
        try Sys.rename(box.root.backendPath("foo"), box.root.stagingEntry(entry + ".old"))
        try FileTree.removeTree(box.root.stagingEntry(entry), within: box.root.stagingPath)
        let report = Recovery(root: box.root).run()
        XCTAssertEqual(report.repairs, ["restored foo from an interrupted upgrade (old version kept)"])
        XCTAssertEqual(box.listing(box.root.backendPath("foo")), trees.old)
        XCTAssertEqual(box.leftovers(), [])
    }

    func testTwoRenameDoneWithOldStillAsideRollsForward() throws {
        // Killed at swap.after-second-rename.
        let box = try TransactionSandbox()
        let trees = try prepare(box)
        try writeJournal(box, old: trees.oldID, new: trees.newID)
        try Sys.rename(box.root.backendPath("foo"), box.root.stagingEntry(entry + ".old"))
        try Sys.rename(box.root.stagingEntry(entry), box.root.backendPath("foo"))
        let report = Recovery(root: box.root).run()
        XCTAssertEqual(report.repairs, ["completed interrupted upgrade of foo"])
        XCTAssertEqual(box.listing(box.root.backendPath("foo")), trees.new)
        XCTAssertEqual(box.leftovers(), [])
    }

    func testFreshInstallBeforeRenameIsRemoved() throws {
        let box = try TransactionSandbox()
        let staged = try box.makeTree(box.root.stagingEntry(entry), version: "2")
        try writeJournal(box, old: nil, new: box.identity(staged), operation: "install")
        let report = Recovery(root: box.root).run()
        XCTAssertEqual(report.repairs, ["removed an incomplete install of foo (it was not installed before)"])
        XCTAssertFalse(box.exists(box.root.backendPath("foo")))
        XCTAssertEqual(box.leftovers(), [])
    }

    func testFreshInstallAfterRenameIsKept() throws {
        let box = try TransactionSandbox()
        let staged = try box.makeTree(box.root.stagingEntry(entry), version: "2")
        let listing = box.listing(staged)
        try writeJournal(box, old: nil, new: box.identity(staged), operation: "install")
        try Sys.rename(staged, box.root.backendPath("foo"))
        let report = Recovery(root: box.root).run()
        XCTAssertEqual(report.repairs, ["completed interrupted install of foo"])
        XCTAssertEqual(box.listing(box.root.backendPath("foo")), listing)
        XCTAssertEqual(box.leftovers(), [])
    }

    func testBackendReplacedByAnotherProgramIsLeftAlone() throws {
        let box = try TransactionSandbox()
        let trees = try prepare(box)
        try writeJournal(box, old: trees.oldID, new: trees.newID)
        // Built before the old tree goes, so it cannot reuse the old tree's inode.
        try box.makeTree(box.path + "/other", version: "localai")
        try FileTree.removeTree(box.root.backendPath("foo"), within: box.root.path)
        try Sys.rename(box.path + "/other", box.root.backendPath("foo"))
        let other = box.root.backendPath("foo")
        let otherListing = box.listing(other)
        let report = Recovery(root: box.root).run()
        XCTAssertEqual(report.repairs.count, 1)
        XCTAssertTrue(report.repairs[0].hasPrefix("kept foo as another program left it"))
        XCTAssertEqual(box.listing(other), otherListing)
        XCTAssertEqual(box.leftovers(), [])
    }

    func testCorruptJournalKeepsStagingForAHuman() throws {
        let box = try TransactionSandbox()
        _ = try prepare(box)
        try box.write(box.root.journalFile("foo"), "{ not json")
        let report = Recovery(root: box.root).run()
        XCTAssertEqual(report.problems.count, 1)
        XCTAssertTrue(report.problems[0].contains("unreadable"), report.problems[0])
        XCTAssertTrue(box.exists(box.root.stagingEntry(entry)), "staging may be the only copy: keep it")
    }

    func testJournalPointingOutsideStagingIsRefused() throws {
        let box = try TransactionSandbox()
        try Sys.ensureDirectories(box.path + "/precious")
        try box.write(box.path + "/precious/f", "x")
        let bad = #"{"aside":"foo.x","format":1,"name":"foo","new":{"device":1,"inode":1},"old":null,"operation":"upgrade","pid":1,"staging":"../../precious","startedAt":0}"#
        try box.write(box.root.journalFile("foo"), bad)
        let report = Recovery(root: box.root).run()
        XCTAssertEqual(report.problems.count, 1)
        XCTAssertEqual(box.read(box.path + "/precious/f"), "x")
    }

    func testStagingTrashAndJournalTempLeftoversAreRemoved() throws {
        // Killed at stage.created / commit.before-journal / journal.temp-written / abort.mid-delete / trash.mid-delete.
        let box = try TransactionSandbox()
        let trees = try prepare(box)
        try box.write(box.root.journalFile("foo") + ".tmp-4242-0123456789abcdef", "{")
        try box.makeTree(box.root.trashEntry("foo.999999999.00000000000000ff"), version: "old")
        try box.makeTree(box.root.stagingEntry("junk-without-pattern"), version: "x")
        let report = Recovery(root: box.root).run()
        XCTAssertEqual(Set(report.repairs), [
            "removed leftover staging dir .hangar/staging/\(entry)",
            "removed leftover staging entry junk-without-pattern",
            "emptied trash: removed foo.999999999.00000000000000ff",
        ])
        XCTAssertEqual(box.listing(box.root.backendPath("foo")), trees.old)
        XCTAssertEqual(box.leftovers(), [])
        XCTAssertTrue(Recovery(root: box.root).run().isEmpty, "a second pass has nothing to do")
    }

    func testTrashOfALiveProcessIsLeftToThatProcess() throws {
        // A running hangar deletes its own trash entries; recovery in another process must not race it.
        let box = try TransactionSandbox()
        let sleeper = Process()
        sleeper.executableURL = URL(fileURLWithPath: "/bin/sleep")
        sleeper.arguments = ["30"]
        try sleeper.run()
        defer { sleeper.terminate(); sleeper.waitUntilExit() }
        let entry = "foo.\(sleeper.processIdentifier).00000000000000aa"
        try box.makeTree(box.root.trashEntry(entry), version: "1")
        XCTAssertEqual(Recovery(root: box.root).run().repairs, [])
        XCTAssertTrue(box.exists(box.root.trashEntry(entry)))
        sleeper.terminate()
        sleeper.waitUntilExit()
        XCTAssertEqual(Recovery(root: box.root).run().repairs, ["emptied trash: removed \(entry)"])
    }

    func testUninstallKilledAfterMoveLeavesNoBackend() throws {
        // uninstall.moved-to-trash: the backend is gone from its name; recovery only empties the trash.
        let box = try TransactionSandbox()
        try box.makeTree(box.root.trashEntry("foo.999999998.0000000000000001"), version: "1")
        let report = Recovery(root: box.root).run()
        XCTAssertEqual(report.repairs, ["emptied trash: removed foo.999999998.0000000000000001"])
        XCTAssertFalse(box.exists(box.root.backendPath("foo")))
        XCTAssertEqual(box.leftovers(), [])
    }

    func testRecoverySkipsABackendWhoseLockIsHeld() throws {
        let box = try TransactionSandbox()
        let trees = try prepare(box)
        try writeJournal(box, old: trees.oldID, new: trees.newID)
        // Held by another process: a real flock from /usr/bin/flock.
        let holder = Process()
        holder.executableURL = URL(fileURLWithPath: "/bin/sh")
        holder.arguments = ["-c", "exec 9>>'\(box.root.lockFile("foo"))' && /usr/bin/flock 9 && echo locked && exec sleep 30"]
        let pipe = Pipe()
        holder.standardOutput = pipe
        try holder.run()
        _ = pipe.fileHandleForReading.availableData
        let report = Recovery(root: box.root).run()
        XCTAssertEqual(report.skipped, ["skipped foo: another hangar process is working on it"])
        XCTAssertEqual(report.repairs, [])
        XCTAssertTrue(box.exists(box.root.journalFile("foo")))
        XCTAssertTrue(box.exists(box.root.stagingEntry(entry)))
        holder.terminate()
        holder.waitUntilExit()

        // Held by another thread of this process.
        let lock = try XCTUnwrap(try box.locks.lock(["foo"], mode: .wait))
        XCTAssertEqual(Recovery(root: box.root, locks: box.locks).run().skipped.count, 1)
        lock.release()
        XCTAssertEqual(Recovery(root: box.root).run().repairs, ["restored foo from an interrupted upgrade (old version kept)"])
        XCTAssertEqual(box.leftovers(), [])
    }

    // MARK: - LocalAI's own leftovers

    func testLocalAIBackupRestoredWhenNameMissing() throws {
        let box = try TransactionSandbox()
        let backup = try box.makeTree(box.root.path + "/foo.backup", version: "1")
        let listing = box.listing(backup)
        try box.makeTree(box.root.path + "/foo.upgrade-tmp", version: "2")
        let young = Recovery(root: box.root).run()
        XCTAssertEqual(young.repairs, [])
        XCTAssertEqual(young.skipped.count, 1, "a fresh backup may be LocalAI mid-swap: \(young.skipped)")
        XCTAssertTrue(box.exists(backup))

        let report = Recovery(root: box.root, options: RecoveryOptions(localAIBackupMinAge: 0)).run()
        XCTAssertEqual(report.repairs, ["restored foo from LocalAI's foo.backup"])
        XCTAssertEqual(box.listing(box.root.backendPath("foo")), listing)
        XCTAssertTrue(box.exists(box.root.path + "/foo.upgrade-tmp"), "a young upgrade-tmp may be in use by LocalAI")

        let later = Recovery(root: box.root, options: now).run()
        XCTAssertEqual(later.repairs, ["removed LocalAI's stale leftover foo.upgrade-tmp"])
        XCTAssertEqual(box.leftovers(), [])
    }

    func testLocalAIInstallBackupRestoredAndTempsRemoved() throws {
        let box = try TransactionSandbox()
        try box.makeTree(box.root.path + "/bar.install-backup", version: "1")
        try box.makeTree(box.root.path + "/bar.install-tmp", version: "2")
        try box.write(box.root.path + "/bar.install-tmp.partial", "partial download")
        let report = Recovery(root: box.root, options: now).run()
        XCTAssertEqual(Set(report.repairs), [
            "restored bar from LocalAI's bar.install-backup",
            "removed LocalAI's stale leftover bar.install-tmp",
            "removed LocalAI's stale leftover bar.install-tmp.partial",
        ])
        XCTAssertEqual(box.read(box.root.backendPath("bar") + "/VERSION"), "1")
        XCTAssertEqual(box.leftovers(), [])
    }

    func testLocalAIBackupWithNamePresentIsLeftAloneUntilStale() throws {
        let box = try TransactionSandbox()
        try box.makeTree(box.root.backendPath("foo"), version: "2")
        try box.makeTree(box.root.path + "/foo.backup", version: "1")
        XCTAssertEqual(Recovery(root: box.root, options: RecoveryOptions(localAIBackupMinAge: 0)).run(), RecoveryReport())
        XCTAssertTrue(box.exists(box.root.path + "/foo.backup"))
        let report = Recovery(root: box.root, options: now).run()
        XCTAssertEqual(report.repairs, ["removed LocalAI's stale foo.backup (foo is installed)"])
        XCTAssertEqual(box.read(box.root.backendPath("foo") + "/VERSION"), "2")
        XCTAssertEqual(box.leftovers(), [])
    }

    func testLocalAIBackupWithoutRunScriptIsNotRestored() throws {
        let box = try TransactionSandbox()
        try box.makeTree(box.root.path + "/foo.backup", version: "1", runScript: false)
        try box.makeTree(box.root.path + "/foo.upgrade-tmp", version: "2")
        let report = Recovery(root: box.root, options: RecoveryOptions(localAIBackupMinAge: 0)).run()
        XCTAssertEqual(report.repairs, [])
        XCTAssertEqual(report.problems, ["foo is missing and LocalAI's foo.backup has no run.sh; left it alone"])
        XCTAssertFalse(box.exists(box.root.backendPath("foo")))
        XCTAssertTrue(box.exists(box.root.path + "/foo.backup"))
    }

    func testStaleLocalAIBackupDoesNotResurrectADeletedBackend() throws {
        // LocalAI crashed between its renames only if its staging dir is there too; otherwise the user deleted foo.
        let box = try TransactionSandbox()
        try box.makeTree(box.root.path + "/foo.backup", version: "1")
        let report = Recovery(root: box.root, options: RecoveryOptions(localAIBackupMinAge: 0)).run()
        XCTAssertEqual(report.repairs, [])
        XCTAssertTrue(report.skipped.first?.contains("no foo.upgrade-tmp") == true, "\(report.skipped)")
        XCTAssertFalse(box.exists(box.root.backendPath("foo")))
    }

    func testAutomaticPassLeavesOldLocalAITemporariesAlone() throws {
        let box = try TransactionSandbox()
        try box.makeTree(box.root.path + "/bar.install-tmp", version: "2")
        let automatic = RecoveryOptions(localAIBackupMinAge: 0, localAITempMinAge: 0, removeLocalAITemporaries: false)
        XCTAssertEqual(Recovery(root: box.root, options: automatic).run().repairs, [])
        XCTAssertTrue(box.exists(box.root.path + "/bar.install-tmp"), "a long LocalAI pull may still be filling it")
        XCTAssertEqual(Recovery(root: box.root, options: now).run().repairs, ["removed LocalAI's stale leftover bar.install-tmp"])
    }

    func testStagingOwnerParsing() {
        XCTAssertEqual(Recovery.stagingOwner("foo.upgrade.12.0123456789abcdef"), "foo")
        XCTAssertEqual(Recovery.stagingOwner("foo.bar.install.12.0123456789abcdef.old"), "foo.bar")
        XCTAssertNil(Recovery.stagingOwner("foo.upgrade.12.xyz"))
        XCTAssertNil(Recovery.stagingOwner(".upgrade.12.0123456789abcdef"))
        XCTAssertNil(Recovery.stagingOwner("foo"))
    }
}
