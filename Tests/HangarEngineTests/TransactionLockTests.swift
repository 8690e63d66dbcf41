import Foundation
import XCTest
@testable import HangarEngine

final class TransactionLockTests: XCTestCase {
    func testSecondThreadWaitsAndTryLockSkips() throws {
        let box = try TransactionSandbox()
        let locks = box.locks
        let first = try XCTUnwrap(try locks.lock(["foo"], mode: .wait))
        XCTAssertTrue(locks.isHeldInProcess("foo"))

        // A second BackendLocks instance on the same root shares the in-process table.
        XCTAssertNil(try BackendLocks(root: box.root).lock(["foo"], mode: .skipIfBusy))

        let acquired = expectation(description: "second waiter gets the lock")
        let order = OrderLog()
        Thread.detachNewThread {
            let second = try? locks.lock(["foo"], mode: .wait)
            order.append("second acquired")
            XCTAssertNotNil(second)
            second?.release()
            acquired.fulfill()
        }
        let deadline = Date().addingTimeInterval(5)
        while locks.waitingCount(for: "foo") == 0 && Date() < deadline { usleep(1000) }
        XCTAssertEqual(locks.waitingCount(for: "foo"), 1, "the second thread must be waiting")
        XCTAssertNil(try locks.lock(["foo"], mode: .skipIfBusy), "tryLock returns nil while busy")
        order.append("first released")
        first.release()
        wait(for: [acquired], timeout: 5)
        XCTAssertEqual(order.entries, ["first released", "second acquired"])
        XCTAssertEqual(locks.waitingCount(for: "foo"), 0)
        XCTAssertNotNil(try locks.lock(["foo"], mode: .skipIfBusy))
    }

    func testLockIsARealFlockSeenByOtherProcesses() throws {
        let box = try TransactionSandbox()
        let lockFile = box.root.lockFile("foo")
        let held = try XCTUnwrap(try box.locks.lock(["foo"], mode: .wait))
        XCTAssertEqual(try runShell("/usr/bin/flock -n '\(lockFile)' true"), 1, "another process must see the lock")
        held.release()
        XCTAssertEqual(try runShell("/usr/bin/flock -n '\(lockFile)' true"), 0)

        // And the other way round: a lock held by another process makes tryLock give up.
        let holder = Process()
        holder.executableURL = URL(fileURLWithPath: "/bin/sh")
        // The shell execs into sleep while holding fd 9, so terminating it really releases the lock.
        holder.arguments = ["-c", "exec 9>>'\(lockFile)' && /usr/bin/flock 9 && exec sleep 30"]
        try holder.run()
        defer { holder.terminate(); holder.waitUntilExit() }
        let deadline = Date().addingTimeInterval(5)
        var sawBusy = false
        while Date() < deadline {
            if let lock = try box.locks.lock(["foo"], mode: .skipIfBusy) {
                lock.release()
                usleep(10_000)
            } else {
                sawBusy = true
                break
            }
        }
        XCTAssertTrue(sawBusy, "tryLock must return nil while another process holds the flock")
        holder.terminate()
        holder.waitUntilExit()
        let waited = try box.locks.lock(["foo"], mode: .wait)
        XCTAssertNotNil(waited, "after the other process exits, the lock is free")
    }

    func testSeveralNamesAreSortedAndAllOrNothing() throws {
        let box = try TransactionSandbox()
        let pair = try XCTUnwrap(try box.locks.lock(["llama-cpp", "cpu-llama-cpp", "llama-cpp"], mode: .wait))
        XCTAssertEqual(pair.names, ["cpu-llama-cpp", "llama-cpp"])
        XCTAssertNil(try box.locks.lock(["cpu-llama-cpp"], mode: .skipIfBusy))
        XCTAssertNil(try box.locks.lock(["aaa", "llama-cpp"], mode: .skipIfBusy))
        XCTAssertFalse(box.locks.isHeldInProcess("aaa"), "a failed multi-lock must not keep the names it got")
        pair.release()
        pair.release()
        XCTAssertNotNil(try box.locks.lock(["llama-cpp"], mode: .skipIfBusy))
    }

    func testWithLockSkipsWhenBusy() throws {
        let box = try TransactionSandbox()
        let result = try box.locks.withLock(["foo"], mode: .wait) { lock -> Int? in
            XCTAssertTrue(lock.covers("foo", in: box.root))
            return try box.locks.withLock(["foo"], mode: .skipIfBusy) { _ in 1 }
        }
        XCTAssertEqual(result, .some(nil))
        XCTAssertFalse(box.locks.isHeldInProcess("foo"))
    }

    func testAsyncLockPollsUntilFree() async throws {
        let box = try TransactionSandbox()
        let locks = box.locks
        let held = try XCTUnwrap(try locks.lock(["foo"], mode: .wait))
        let waiter = Task { try await locks.lock(["foo"], mode: .wait, pollInterval: .milliseconds(10)) }
        try await Task.sleep(for: .milliseconds(100))
        XCTAssertEqual(locks.waitingCount(for: "foo"), 1)
        held.release()
        let lock = try await waiter.value
        XCTAssertEqual(lock?.names, ["foo"])
        let skipped = try await locks.lock(["foo"], mode: .skipIfBusy, pollInterval: .milliseconds(10))
        XCTAssertNil(skipped)
    }

    func testDroppingTheHandleReleases() throws {
        let box = try TransactionSandbox()
        do {
            let lock = try box.locks.lock(["foo"], mode: .wait)
            XCTAssertNotNil(lock)
        }
        XCTAssertFalse(box.locks.isHeldInProcess("foo"))
    }
}

/// A thread-safe list of events, to check their order.
final class OrderLog: @unchecked Sendable {
    private let lock = NSLock()
    private var items: [String] = []
    func append(_ item: String) { lock.lock(); items.append(item); lock.unlock() }
    var entries: [String] { lock.lock(); defer { lock.unlock() }; return items }
}
