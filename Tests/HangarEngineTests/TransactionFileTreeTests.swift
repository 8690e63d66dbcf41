import Foundation
import XCTest
@testable import HangarEngine

final class TransactionFileTreeTests: XCTestCase {
    func testCopyPreservesModesSymlinksAndContents() throws {
        let box = try TransactionSandbox()
        let source = try box.makeTree(box.path + "/src", version: "1")
        try box.write(source + "/empty", "")
        XCTAssertEqual(symlink("/etc/hostname", source + "/absolute-link"), 0)
        XCTAssertEqual(symlink("does/not/exist", source + "/dangling"), 0)
        XCTAssertEqual(symlink("lib", source + "/dir-link"), 0)
        try Sys.ensureDirectories(source + "/sealed")
        try box.write(source + "/sealed/inside", "in sealed")
        XCTAssertEqual(chmod(source + "/sealed", 0o555), 0)
        XCTAssertEqual(link(source + "/VERSION", source + "/hardlink"), 0)
        let destination = box.path + "/dst"
        try Sys.ensureDirectories(destination)
        var reports: [(Int64, Int64)] = []
        try FileTree.copyContents(of: source, into: destination, progress: { reports.append(($0, $1)) })
        XCTAssertEqual(box.listing(destination), box.listing(source))
        let runScript = try XCTUnwrap(try Sys.lstatIfPresent(destination + "/run.sh"))
        XCTAssertEqual(runScript.st_mode & 0o777, 0o755, "exec bits must survive")
        XCTAssertTrue(Sys.isSymlink(try XCTUnwrap(try Sys.lstatIfPresent(destination + "/dir-link"))), "symlinks copied as symlinks")
        let total = try FileTree.treeSize(source)
        XCTAssertEqual(reports.first?.0, 0)
        XCTAssertEqual(reports.last?.0, reports.last?.1)
        XCTAssertEqual(reports.last?.1, total.bytes + Int64(1), "hard links are copied, so counted per path")
        XCTAssertNotEqual(box.identity(destination + "/hardlink"), box.identity(destination + "/VERSION"))
    }

    func testTreeSizeCountsHardLinksOnce() throws {
        let box = try TransactionSandbox()
        let dir = box.path + "/t"
        try Sys.ensureDirectories(dir + "/sub")
        try box.write(dir + "/a", String(repeating: "a", count: 10_000))
        try box.write(dir + "/sub/b", "bb")
        XCTAssertEqual(link(dir + "/a", dir + "/sub/a-again"), 0)
        XCTAssertEqual(symlink("/usr", dir + "/usr-link"), 0)
        let size = try FileTree.treeSize(dir)
        XCTAssertEqual(size.bytes, 10_002)
        XCTAssertEqual(size.files, 2)
        XCTAssertGreaterThanOrEqual(size.diskBytes, 10_000)
    }

    func testRemoveTreeNeverFollowsSymlinks() throws {
        let box = try TransactionSandbox()
        let outside = box.path + "/outside"
        try Sys.ensureDirectories(outside + "/deep")
        try box.write(outside + "/deep/keep.txt", "keep")
        let victim = box.path + "/area/victim"
        try Sys.ensureDirectories(victim + "/d")
        XCTAssertEqual(symlink(outside, victim + "/link-to-dir"), 0)
        XCTAssertEqual(symlink(outside + "/deep/keep.txt", victim + "/d/link-to-file"), 0)
        try box.write(victim + "/d/own", "own")
        XCTAssertEqual(chmod(victim + "/d", 0o500), 0)
        try FileTree.removeTree(victim, within: box.path + "/area")
        XCTAssertFalse(box.exists(victim))
        XCTAssertEqual(box.read(outside + "/deep/keep.txt"), "keep")

        // A symlink as the path itself: only the link goes.
        XCTAssertEqual(symlink(outside, box.path + "/area/top-link"), 0)
        try FileTree.removeTree(box.path + "/area/top-link", within: box.path + "/area")
        XCTAssertFalse(box.exists(box.path + "/area/top-link"))
        XCTAssertEqual(box.read(outside + "/deep/keep.txt"), "keep")
        XCTAssertNoThrow(try FileTree.removeTree(box.path + "/area/missing", within: box.path + "/area"))
    }

    func testRemoveTreeRefusesPathsOutsideItsRoot() throws {
        let box = try TransactionSandbox()
        let area = box.path + "/area"
        try Sys.ensureDirectories(area + "/inner")
        try Sys.ensureDirectories(box.path + "/precious")
        try box.write(box.path + "/precious/file", "x")
        XCTAssertEqual(symlink(box.path, area + "/up"), 0)
        for bad in [box.path + "/precious", area + "/../precious", area + "/up/precious", area, area + "/..", area + "/."] {
            XCTAssertThrowsError(try FileTree.removeTree(bad, within: area), "must refuse \(bad)")
        }
        XCTAssertEqual(box.read(box.path + "/precious/file"), "x")
        XCTAssertTrue(box.exists(area + "/inner"))
    }

    func testRemoveTreeHandlesUnreadableDirectories() throws {
        let box = try TransactionSandbox()
        let victim = box.path + "/area/v"
        try Sys.ensureDirectories(victim + "/closed/deeper")
        try box.write(victim + "/closed/deeper/f", "f")
        XCTAssertEqual(chmod(victim + "/closed/deeper", 0o000), 0)
        XCTAssertEqual(chmod(victim + "/closed", 0o000), 0)
        try FileTree.removeTree(victim, within: box.path + "/area")
        XCTAssertFalse(box.exists(victim))
    }
}
