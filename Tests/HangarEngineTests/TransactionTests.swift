import Foundation
import HangarFixtures
import XCTest
@testable import HangarEngine

final class TransactionNameTests: XCTestCase {
    func testSafeNameTable() {
        let accepted = ["llama-cpp", "cpu-llama-cpp", "cuda12-whisper", "foo.bar", "a", "x..y", "name with space",
                        "ünïcode", "foo-backup", "foo.backups", String(repeating: "a", count: 200)]
        for name in accepted {
            XCTAssertEqual(try BackendName.validate(name), name, "should accept \(name)")
        }
        let refused: [(String, String)] = [
            ("", "must not be empty"),
            (".", "single path component"),
            ("..", "single path component"),
            ("../x", "single path component"),
            ("a/b", "single path component"),
            ("/abs", "single path component"),
            (".hidden", "single path component"),
            (".hangar", "single path component"),
            ("nul\0byte", "NUL or control"),
            ("new\nline", "NUL or control"),
            (String(repeating: "a", count: 201), "at most 200 bytes"),
            (String(repeating: "é", count: 101), "at most 200 bytes"),
            ("foo.install-tmp", "reserved for LocalAI"),
            ("foo.install-backup", "reserved for LocalAI"),
            ("foo.upgrade-tmp", "reserved for LocalAI"),
            ("foo.backup", "reserved for LocalAI"),
            ("foo.install-tmp.partial", "reserved for LocalAI"),
        ]
        for (name, reason) in refused {
            XCTAssertThrowsError(try BackendName.validate(name), "should refuse \(name.debugDescription)") { error in
                guard let error = error as? HangarError else { return XCTFail("not a HangarError: \(error)") }
                XCTAssertEqual(error.category, .configuration)
                XCTAssertTrue(error.message.contains(reason), error.message)
                XCTAssertTrue(error.message.hasPrefix("invalid backend name \""), error.message)
                XCTAssertTrue(error.message.hasSuffix("; choose another name"), error.message)
                XCTAssertFalse(error.message.contains("\n"), "one line: \(error.message)")
            }
        }
        XCTAssertThrowsError(try BackendName.validate("../x")) { error in
            XCTAssertEqual("\(error)", #"invalid backend name "../x": a backend name must be a single path component (no "/", no "..", no leading "."); choose another name"#)
        }
    }

    func testUnsafeNameRefusedBeforeTouchingDisk() throws {
        let base = try makeTemporaryDirectory("txn")
        defer { removeTree(base) }
        let root = BackendsRoot(base + "/backends")
        let locks = BackendLocks(root: root)
        XCTAssertThrowsError(try locks.lock(["../escape"], mode: .wait))
        XCTAssertThrowsError(try BackendRemoval.remove("..", root: root))
        XCTAssertFalse(FileManager.default.fileExists(atPath: root.path), "nothing may be created for a refused name")
    }
}

final class TransactionTests: XCTestCase {
    func testExchangeReplacesTreeWithoutLeftovers() throws {
        let box = try TransactionSandbox()
        let live = box.root.backendPath("foo")
        try box.makeTree(live, version: "1")
        let source = try box.makeTree(box.path + "/src", version: "2", extraFiles: 1)
        try box.write(live + "/only-in-old.so", "stale")
        let result = try box.install("foo", from: source)
        XCTAssertEqual(result.method, .exchange)
        XCTAssertTrue(result.replacedPrevious)
        XCTAssertEqual(result.warnings, [])
        XCTAssertEqual(box.read(live + "/VERSION"), "2")
        XCTAssertFalse(box.exists(live + "/only-in-old.so"), "files absent from the new version must disappear")
        XCTAssertEqual(box.listing(live).filter { !$0.contains("metadata.json") }, box.listing(source))
        XCTAssertEqual(box.read(live + "/metadata.json"), BackendMetadata(name: "foo", version: "test").encoded())
        XCTAssertEqual(box.leftovers(), [])
    }

    func testForcedFallbackTwoRenameSwap() throws {
        let box = try TransactionSandbox()
        let live = box.root.backendPath("foo")
        try box.makeTree(live, version: "1")
        let source = try box.makeTree(box.path + "/src", version: "2")
        let result = try box.install("foo", from: source, fallback: true)
        XCTAssertEqual(result.method, .twoRenames)
        XCTAssertEqual(box.read(live + "/VERSION"), "2")
        XCTAssertEqual(box.leftovers(), [])
    }

    func testFallbackForcedByEnvironmentFlagIsRead() {
        // The variable is not set in the test process; the child-process crash tests set it.
        XCTAssertFalse(BackendTransaction.renameFallbackForcedByEnvironment)
    }

    func testFreshInstallUsesNoReplaceRename() throws {
        let box = try TransactionSandbox()
        let source = try box.makeTree(box.path + "/src", version: "1")
        let result = try box.install("fresh", from: source, operation: "install")
        XCTAssertEqual(result.method, .noReplaceRename)
        XCTAssertFalse(result.replacedPrevious)
        XCTAssertEqual(box.read(box.root.backendPath("fresh") + "/VERSION"), "1")
        let again = try box.install("fresh2", from: source, operation: "install", fallback: true)
        XCTAssertEqual(again.method, .plainRename)
        XCTAssertEqual(box.leftovers(), [])
    }

    func testLegacyFlatFileUnderTheNameIsReplaced() throws {
        let box = try TransactionSandbox()
        try box.write(box.root.backendPath("foo"), "legacy flat layout")
        let source = try box.makeTree(box.path + "/src", version: "2")
        XCTAssertEqual(try box.install("foo", from: source).method, .exchange)
        XCTAssertEqual(box.read(box.root.backendPath("foo") + "/VERSION"), "2")
        XCTAssertEqual(box.leftovers(), [])
    }

    func testConcurrentThreadsSerializeOnOneBackend() throws {
        let box = try TransactionSandbox()
        let root = box.root
        let sources = [try box.makeTree(box.path + "/a", version: "a"), try box.makeTree(box.path + "/b", version: "b")]
        let failures = OrderLog()
        DispatchQueue.concurrentPerform(iterations: 4) { index in
            do {
                let locks = BackendLocks(root: root)
                for _ in 0..<3 {
                    guard let lock = try locks.lock(["foo"], mode: .wait) else { return failures.append("no lock") }
                    let transaction = try BackendTransaction.begin(root: root, name: "foo", operation: "upgrade", lock: lock,
                                                                   forceRenameFallback: index % 2 == 0)
                    try FileTree.copyContents(of: sources[index % 2], into: transaction.stagingPath)
                    try transaction.commit()
                    lock.release()
                }
            } catch {
                failures.append("\(error)")
            }
        }
        XCTAssertEqual(failures.entries, [])
        let listing = box.listing(root.backendPath("foo"))
        XCTAssertTrue(listing == box.listing(sources[0]) || listing == box.listing(sources[1]))
        XCTAssertEqual(box.leftovers(), [])
    }

    func testAbortLeavesOldTreeIdentical() throws {
        let box = try TransactionSandbox()
        let live = box.root.backendPath("foo")
        try box.makeTree(live, version: "1")
        let before = box.listing(live)
        let identity = box.identity(live)
        let lock = try XCTUnwrap(try box.locks.lock(["foo"], mode: .wait))
        let transaction = try BackendTransaction.begin(root: box.root, name: "foo", operation: "reinstall", lock: lock)
        XCTAssertTrue(transaction.stagingPath.hasPrefix(box.root.stagingPath + "/foo.reinstall.\(getpid())."))
        try FileTree.copyContents(of: try box.makeTree(box.path + "/src", version: "2"), into: transaction.stagingPath)
        try transaction.validate()
        XCTAssertEqual(transaction.abort(), "the previous install of foo was kept unchanged")
        XCTAssertEqual(box.listing(live), before)
        XCTAssertEqual(box.identity(live), identity)
        XCTAssertEqual(box.leftovers(), [])
        XCTAssertThrowsError(try transaction.commit(), "an aborted transaction cannot commit")
    }

    func testValidationFailureKeepsOldTree() throws {
        let box = try TransactionSandbox()
        let live = box.root.backendPath("foo")
        try box.makeTree(live, version: "1")
        let before = box.listing(live)
        let lock = try XCTUnwrap(try box.locks.lock(["foo"], mode: .wait))
        let transaction = try BackendTransaction.begin(root: box.root, name: "foo", operation: "upgrade", lock: lock)
        try box.makeTree(transaction.stagingPath, version: "2", runScript: false)
        XCTAssertThrowsError(try transaction.validate(what: "quay.io/x:y")) { error in
            XCTAssertEqual((error as? HangarError)?.message, "not a valid backend: run.sh missing in quay.io/x:y")
        }
        // Even a caller that skips validate cannot commit a tree without run.sh.
        XCTAssertThrowsError(try transaction.commit()) { error in
            let rolledBack = error as? RolledBackError
            XCTAssertEqual(rolledBack?.error.message, "not a valid backend: run.sh missing in quay.io/x:y")
            XCTAssertEqual(rolledBack?.restored, "the previous install of foo was kept unchanged")
        }
        XCTAssertEqual(box.listing(live), before)
        XCTAssertEqual(box.leftovers(), [])
    }

    func testMetaTransactionNeedsOnlyMetadata() throws {
        let box = try TransactionSandbox()
        let lock = try XCTUnwrap(try box.locks.lock(["llama-cpp"], mode: .wait))
        let transaction = try BackendTransaction.begin(root: box.root, name: "llama-cpp", operation: "meta", lock: lock)
        XCTAssertThrowsError(try transaction.validate())
        try transaction.writeMetadata(BackendMetadata(name: "llama-cpp"))
        try transaction.commit()
        XCTAssertEqual(box.listing(box.root.backendPath("llama-cpp")).count, 1)
        XCTAssertEqual(box.leftovers(), [])
    }

    func testWriteMetadataReplacesSymlinkWithoutFollowingIt() throws {
        let box = try TransactionSandbox()
        try box.write(box.path + "/outside.json", "precious")
        let lock = try XCTUnwrap(try box.locks.lock(["foo"], mode: .wait))
        let transaction = try BackendTransaction.begin(root: box.root, name: "foo", operation: "install", lock: lock)
        try box.makeTree(transaction.stagingPath, version: "1")
        XCTAssertEqual(symlink(box.path + "/outside.json", transaction.stagingPath + "/metadata.json"), 0)
        try transaction.writeMetadata(BackendMetadata(name: "foo"))
        try transaction.commit()
        XCTAssertEqual(box.read(box.path + "/outside.json"), "precious")
        let st = try XCTUnwrap(try Sys.lstatIfPresent(box.root.backendPath("foo") + "/metadata.json"))
        XCTAssertTrue(Sys.isRegular(st))
    }

    func testResetStagingEmptiesTheSameDirectory() throws {
        let box = try TransactionSandbox()
        let lock = try XCTUnwrap(try box.locks.lock(["foo"], mode: .wait))
        let transaction = try BackendTransaction.begin(root: box.root, name: "foo", operation: "install", lock: lock)
        try box.makeTree(transaction.stagingPath, version: "partial")
        XCTAssertEqual(chmod(transaction.stagingPath + "/lib", 0o555), 0)
        try transaction.resetStaging()
        XCTAssertEqual(box.listing(transaction.stagingPath), [])
        try box.makeTree(transaction.stagingPath, version: "2")
        try transaction.commit()
        XCTAssertEqual(box.read(box.root.backendPath("foo") + "/VERSION"), "2")
    }

    func testBeginRequiresTheLock() throws {
        let box = try TransactionSandbox()
        XCTAssertThrowsError(try BackendTransaction.begin(root: box.root, name: "foo", operation: "install"))
        XCTAssertThrowsError(try BackendTransaction.begin(root: box.root, name: "foo", operation: "Bad.Op",
                                                          lock: try XCTUnwrap(try box.locks.lock(["foo"], mode: .wait))))
        // Without an explicit handle, a lock this process holds on the name is enough.
        let lock = try XCTUnwrap(try box.locks.lock(["foo"], mode: .wait))
        let transaction = try BackendTransaction.begin(root: box.root, name: "foo", operation: "install")
        transaction.abort()
        lock.release()
        XCTAssertEqual(box.leftovers(), [])
    }

    func testStagingPathsAreUniquePerAttempt() throws {
        let box = try TransactionSandbox()
        let lock = try XCTUnwrap(try box.locks.lock(["foo"], mode: .wait))
        let first = try BackendTransaction.begin(root: box.root, name: "foo", operation: "upgrade", lock: lock)
        let second = try BackendTransaction.begin(root: box.root, name: "foo", operation: "upgrade", lock: lock)
        XCTAssertNotEqual(first.stagingPath, second.stagingPath)
        XCTAssertEqual(Recovery.stagingOwner(Sys.lastComponent(first.stagingPath)), "foo")
        first.abort()
        second.abort()
    }

    func testDroppedTransactionRemovesItsStaging() throws {
        let box = try TransactionSandbox()
        let lock = try XCTUnwrap(try box.locks.lock(["foo"], mode: .wait))
        var staging = ""
        do {
            let transaction = try BackendTransaction.begin(root: box.root, name: "foo", operation: "install", lock: lock)
            staging = transaction.stagingPath
            try box.makeTree(staging, version: "1")
        }
        XCTAssertFalse(box.exists(staging))
    }

    func testBeginFinishesAJournalLeftByAKilledAttempt() throws {
        let box = try TransactionSandbox()
        let live = box.root.backendPath("foo")
        try box.makeTree(live, version: "1")
        let staged = box.root.stagingEntry("foo.upgrade.1.00000000000000aa")
        try box.makeTree(staged, version: "2")
        let journal = TransactionJournal(format: 1, name: "foo", operation: "upgrade", staging: "foo.upgrade.1.00000000000000aa",
                                         aside: "foo.upgrade.1.00000000000000aa.old", old: box.identity(live),
                                         new: try XCTUnwrap(box.identity(staged)), pid: 1, startedAt: 0)
        try journal.write(in: box.root)
        let lock = try XCTUnwrap(try box.locks.lock(["foo"], mode: .wait))
        let transaction = try BackendTransaction.begin(root: box.root, name: "foo", operation: "reinstall", lock: lock)
        XCTAssertEqual(transaction.recoveredBeforeStart, ["restored foo from an interrupted upgrade (old version kept)"])
        XCTAssertFalse(box.exists(staged))
        transaction.abort()
        XCTAssertEqual(box.read(live + "/VERSION"), "1")
    }

    func testCancelledCopyLeavesOnlyStagingWhichAbortRemoves() throws {
        let box = try TransactionSandbox()
        let live = box.root.backendPath("foo")
        try box.makeTree(live, version: "1")
        let before = box.listing(live)
        let source = try box.makeTree(box.path + "/src", version: "2")
        try box.write(source + "/big.bin", String(repeating: "z", count: 5 << 20))
        let lock = try XCTUnwrap(try box.locks.lock(["foo"], mode: .wait))
        let transaction = try BackendTransaction.begin(root: box.root, name: "foo", operation: "upgrade", lock: lock)
        var calls = 0
        XCTAssertThrowsError(try FileTree.copyContents(of: source, into: transaction.stagingPath, checkCancelled: {
            calls += 1
            if calls > 3 { throw CancelledError() }
        })) { error in
            XCTAssertTrue(error is CancelledError, "\(error)")
        }
        XCTAssertLessThan(calls, 10, "cancellation must stop the copy promptly")
        transaction.abort()
        XCTAssertEqual(box.listing(live), before)
        XCTAssertEqual(box.leftovers(), [])
    }

    func testUninstallMovesToTrashThenDeletes() throws {
        let box = try TransactionSandbox()
        let live = box.root.backendPath("foo")
        try box.makeTree(live, version: "1")
        XCTAssertEqual(chmod(live + "/lib", 0o555), 0)
        let lock = try XCTUnwrap(try box.locks.lock(["foo"], mode: .wait))
        let freed = try BackendRemoval.remove("foo", root: box.root, lock: lock)
        XCTAssertGreaterThan(freed.bytes, 9000)
        XCTAssertFalse(box.exists(live))
        XCTAssertEqual(box.leftovers(), [])
        XCTAssertThrowsError(try BackendRemoval.remove("foo", root: box.root, lock: lock)) { error in
            XCTAssertEqual((error as? HangarError)?.category, .notFound)
        }
        lock.release()
        XCTAssertThrowsError(try BackendRemoval.remove("bar", root: box.root), "needs the lock")
    }
}
