import Foundation
import XCTest
@testable import HangarEngine

/// ArchiveExtractor on real archives: what a backend tarball or image layer may hold is kept, everything that could
/// write or point outside the root is refused with a one-line error naming the entry, and nothing leaks outside.
final class ExtractionTests: XCTestCase {
    private var box: ExtractionSandbox!

    override func setUpWithError() throws { box = try ExtractionSandbox() }
    override func tearDown() { box = nil }

    private let backendTree: [TestArchive.Entry] = [
        .directory("./"),
        .file("./run.sh", "#!/bin/sh\nexec ./bin/tool \"$@\"\n", mode: 0o755),
        .directory("bin"),
        .file("bin/tool", "tool\n", mode: 0o755),
        .hardlink("bin/tool2", to: "bin/tool"),
        .symlink("bin/lib", to: "../lib"),
        .directory("lib", mode: 0o750),
        .file("lib/libfoo.so.1", "elf\n"),
        .symlink("lib/libfoo.so", to: "libfoo.so.1"),
        .file("lib/suid", "x\n", mode: 0o4755),
        .directory("ro", mode: 0o555),
        .file("ro/data", "data\n", mode: 0o444),
    ]

    func testNormalTreeKeepsModesExecBitsLinksAndMtimes() throws {
        let summary = try box.extract(backendTree)
        XCTAssertEqual(summary.entries, backendTree.count)
        XCTAssertEqual(summary.bytes, Int64(["#!/bin/sh\nexec ./bin/tool \"$@\"\n", "tool\n", "elf\n", "x\n", "data\n"]
            .reduce(0) { $0 + $1.utf8.count }))
        XCTAssertEqual(box.tree(), ["bin", "bin/lib", "bin/tool", "bin/tool2", "lib", "lib/libfoo.so", "lib/libfoo.so.1",
                                    "lib/suid", "ro", "ro/data", "run.sh"])
        XCTAssertEqual(box.read("run.sh"), "#!/bin/sh\nexec ./bin/tool \"$@\"\n")
        let mode = { (path: String) in try XCTUnwrap(self.box.lstat(path)).st_mode & 0o7777 }
        XCTAssertEqual(try mode("run.sh"), 0o755)
        XCTAssertEqual(try mode("bin/tool"), 0o755)
        XCTAssertEqual(try mode("lib/libfoo.so.1"), 0o644)
        XCTAssertEqual(try mode("lib/suid"), 0o755, "setuid is dropped, exec bits kept")
        XCTAssertEqual(try mode("lib"), 0o750)
        XCTAssertEqual(try mode("ro"), 0o755, "directories keep owner rwx so hangar can replace them")
        XCTAssertEqual(try mode("ro/data"), 0o444)
        let tool = try XCTUnwrap(box.lstat("bin/tool")), tool2 = try XCTUnwrap(box.lstat("bin/tool2"))
        XCTAssertEqual(tool.st_ino, tool2.st_ino, "hardlink kept as a hardlink")
        XCTAssertEqual(tool.st_mtim.tv_sec, TestArchive.mtime)
        XCTAssertEqual(try FileManager.default.destinationOfSymbolicLink(atPath: box.root + "/lib/libfoo.so"), "libfoo.so.1")
        XCTAssertEqual(box.read("bin/lib/libfoo.so"), "elf\n", "relative symlinks resolve inside the tree")
    }

    func testEveryCompressionIsDetected() throws {
        for compression in ["", "gz", "xz", "bz2", "zst"] {
            let dir = "c-" + (compression.isEmpty ? "plain" : compression)
            try box.extract([.file(dir + "/run.sh", compression + "\n", mode: 0o755)], compression: compression)
            XCTAssertEqual(box.read(dir + "/run.sh"), compression + "\n", "compression \(compression)")
        }
    }

    func testStreamingReaderMatchesFileAndIsReadToTheEnd() throws {
        let path = box.archive("stream.tar.gz")
        try TestArchive.write(backendTree, to: path)
        let bytes = try XCTUnwrap(FileManager.default.contents(atPath: path))
        var offset = 0
        var lastProgress: Int64 = 0
        let summary = try ArchiveExtractor.extract(reading: { buffer in
            let count = min(777, bytes.count - offset, buffer.count)
            bytes.withUnsafeBytes { buffer.copyMemory(from: UnsafeRawBufferPointer(rebasing: $0[offset..<offset + count])) }
            offset += count
            return count
        }, into: box.root, options: ExtractionOptions(), checkCancelled: {}, progress: { lastProgress = $0 })
        XCTAssertEqual(offset, bytes.count, "the whole stream was consumed, so a caller's digest covers every byte")
        XCTAssertEqual(lastProgress, Int64(bytes.count))
        XCTAssertEqual(summary.entries, backendTree.count)
        XCTAssertEqual(box.read("ro/data"), "data\n")
    }

    // MARK: - Refused

    func testTraversalIsRefused() throws {
        let message = try box.refusal([.file("ok", "1"), .file("../sentinel/x", "pwned")])
        XCTAssertEqual(message, "archive entry \"../sentinel/x\" refused: path contains a '..' component")
        box.assertSentinelUntouched()
        let nested = try box.refusal([.file("a/../../sentinel/y", "pwned")])
        XCTAssertTrue(nested.contains("\"a/../../sentinel/y\" refused"), nested)
        box.assertSentinelUntouched()
    }

    func testAbsolutePathIsRefused() throws {
        let message = try box.refusal([.file(box.sentinel + "/abs", "pwned")])
        XCTAssertEqual(message, "archive entry \"\(box.sentinel)/abs\" refused: path is absolute")
        box.assertSentinelUntouched()
    }

    func testEscapingSymlinksAreRefused() throws {
        let absolute = try box.refusal([.symlink("lib", to: "/etc")])
        XCTAssertEqual(absolute, "archive entry \"lib\" refused: symlink to the absolute path \"/etc\"")
        let climbing = try box.refusal([.symlink("a/lib", to: "../../sentinel")])
        XCTAssertEqual(climbing, "archive entry \"a/lib\" refused: symlink to \"../../sentinel\" points outside the extraction directory")
        let dotted = try box.refusal([.symlink("self", to: "."), .symlink("out", to: "self/..")])
        XCTAssertTrue(dotted.contains("\"out\" refused: symlink target \"self/..\" has '..' after a name"), dotted)
        XCTAssertNil(box.lstat("lib"))
        XCTAssertNil(box.lstat("a/lib"))
        box.assertSentinelUntouched()
    }

    func testFileThroughSymlinkIsRefusedEvenWhenTheLinkStaysInside() throws {
        let message = try box.refusal([.directory("real"), .symlink("link", to: "real"), .file("link/evil", "x")])
        XCTAssertEqual(message, "archive entry \"link/evil\" refused: path goes through the symlink \"link\"")
        XCTAssertEqual(box.tree(box.root + "/real"), [])
    }

    func testSymlinkLeftByAnEarlierLayerIsNeverFollowed() throws {
        // As if an earlier layer (or anything else) had left a symlink to outside in the tree.
        try FileManager.default.createSymbolicLink(atPath: box.root + "/planted", withDestinationPath: box.sentinel)
        let message = try box.refusal([.file("planted/pwned", "x")], options: .ociLayer(maxBytes: 1 << 20))
        XCTAssertEqual(message, "archive entry \"planted/pwned\" refused: path goes through the symlink \"planted\"")
        // Replacing the symlink itself unlinks it rather than writing through it.
        try box.extract([.file("planted", "now a file\n")])
        XCTAssertEqual(box.read("planted"), "now a file\n")
        box.assertSentinelUntouched()
    }

    func testHardlinksOutsideOrToSymlinksAreRefused() throws {
        let outside = try box.refusal([.hardlink("h", to: "../sentinel/secret")])
        XCTAssertEqual(outside, "archive entry \"h\" refused: hardlink target \"../sentinel/secret\" contains a '..' component")
        let absolute = try box.refusal([.hardlink("h", to: box.sentinel + "/secret")])
        XCTAssertEqual(absolute, "archive entry \"h\" refused: hardlink target \"\(box.sentinel)/secret\" is absolute")
        let viaSymlink = try box.refusal([.symlink("s", to: "."), .file("f", "x"), .hardlink("h", to: "s/f")])
        XCTAssertEqual(viaSymlink, "archive entry \"h\" refused: path goes through the symlink \"s\"")
        let toSymlink = try box.refusal([.directory("d"), .symlink("d/up", to: ".."), .hardlink("h", to: "d/up")])
        XCTAssertEqual(toSymlink, "archive entry \"h\" refused: hardlink target \"d/up\" is a symlink, not a regular file")
        XCTAssertNil(box.lstat("h"))
        box.assertSentinelUntouched()
    }

    func testDeviceNodesAndFIFOsAreRefusedInTarballsAndSkippedInLayers() throws {
        XCTAssertEqual(try box.refusal([.characterDevice("dev/null")]),
                       "archive entry \"dev/null\" refused: character device (a backend archive may only hold files, directories and links)")
        XCTAssertEqual(try box.refusal([.fifo("pipe")]),
                       "archive entry \"pipe\" refused: FIFO (a backend archive may only hold files, directories and links)")
        let summary = try box.extract([.characterDevice("dev/null"), .fifo("pipe"), .file("run.sh", "x")],
                                      options: .ociLayer(maxBytes: 1 << 20))
        XCTAssertEqual(summary.skippedSpecialFiles, 2)
        XCTAssertNil(box.lstat("pipe"))
        XCTAssertNil(box.lstat("dev/null"))
        XCTAssertEqual(box.read("run.sh"), "x")
    }

    func testDecompressionBombStopsEarlyAtTheCap() throws {
        let path = box.archive("bomb.tar.gz")
        try TestArchive.write([.file("run.sh", "x"), .zeros("zeros", size: 200 << 20)], to: path)
        XCTAssertLessThan(try XCTUnwrap(FileManager.default.attributesOfItem(atPath: path)[.size] as? Int), 2 << 20)
        var compressedRead: Int64 = 0
        XCTAssertThrowsError(try ArchiveExtractor.extract(file: path, into: box.root, options: ExtractionOptions(maxBytes: 16 << 20),
                                                          checkCancelled: {}, progress: { compressedRead = $0 })) { error in
            XCTAssertEqual("\(error)", "archive expands beyond --max-extract-size 16MiB (at entry \"zeros\"): raise it with --max-extract-size 64MiB if this backend is legitimately that large")
        }
        XCTAssertLessThan(compressedRead, 1 << 20, "refused from the header, long before the 200 MiB were inflated")
        XCTAssertNil(box.lstat("zeros"))
    }

    func testCapCountsWrittenBytesAcrossLayers() throws {
        // Headers within the cap each, but together beyond it: the running total stops the second layer.
        try box.extract([.zeros("one", size: 600 << 10)], options: ExtractionOptions(maxBytes: 1 << 20))
        XCTAssertThrowsError(try box.extract([.zeros("two", size: 600 << 10)],
                                             options: ExtractionOptions(maxBytes: 1 << 20, bytesAlreadyExtracted: 600 << 10))) {
            XCTAssertTrue("\($0)".hasPrefix("archive expands beyond --max-extract-size 1MiB (at entry \"two\")"), "\($0)")
        }
        XCTAssertThrowsError(try box.extract((0..<20).map { .file("f\($0)", "x") }, options: ExtractionOptions(maxEntries: 10))) {
            XCTAssertEqual("\($0)", "archive has more than 10 entries: refusing it as an archive bomb")
        }
    }

    func testTruncatedGzipIsAnError() throws {
        let path = box.archive("full.tar.gz")
        let noisy = (0..<40_000).map { String($0 &* 2_654_435_761 % 1_000_003) }.joined(separator: ",")
        try TestArchive.write([.file("run.sh", "x", mode: 0o755), .file("big", noisy)], to: path)
        let bytes = try XCTUnwrap(FileManager.default.contents(atPath: path))
        let cut = box.archive("cut.tar.gz")
        try bytes.prefix(bytes.count / 2).write(to: URL(fileURLWithPath: cut))
        XCTAssertThrowsError(try ArchiveExtractor.extract(file: cut, into: box.root, options: ExtractionOptions(),
                                                          checkCancelled: {}, progress: { _ in })) { error in
            let message = "\(error)"
            XCTAssertTrue(message.hasPrefix("archive is corrupt or truncated at entry \"big\": "), message)
            XCTAssertFalse(message.contains("\n"))
        }
    }

    func testNotAnArchiveIsAnError() throws {
        let path = box.archive("page.tar.gz")
        try "<html>not found</html>\n".write(toFile: path, atomically: false, encoding: .utf8)
        XCTAssertThrowsError(try ArchiveExtractor.extract(file: path, into: box.root, options: ExtractionOptions(),
                                                          checkCancelled: {}, progress: { _ in })) { error in
            XCTAssertTrue("\(error)".hasPrefix("archive is corrupt or truncated: "), "\(error)")
        }
        XCTAssertEqual(box.tree(), [])
    }

    func testCancelStopsMidExtraction() throws {
        let path = box.archive("big.tar.gz")
        try TestArchive.write((0..<8).map { .zeros("f\($0)", size: 1 << 20) }, to: path)
        var calls = 0
        XCTAssertThrowsError(try ArchiveExtractor.extract(file: path, into: box.root, options: ExtractionOptions(), checkCancelled: {
            calls += 1
            if calls > 3 { throw CancelledError() }
        }, progress: { _ in })) { XCTAssertTrue($0 is CancelledError, "\($0)") }
        XCTAssertLessThan(box.tree().count, 8, "stopped before the end")
    }

    // MARK: - Whiteouts

    func testWhiteoutsAndOpaqueDirectoriesAcrossTwoLayers() throws {
        let layer = ExtractionOptions.ociLayer(maxBytes: 1 << 20)
        try box.extract([
            .file("run.sh", "v1\n", mode: 0o755), .file("old.txt", "old"), .directory("gone"), .file("gone/f", "f"),
            .file("opaque/lower1", "l1"), .directory("opaque/sub"), .file("opaque/sub/lower2", "l2"),
            .file("keep/lower", "kept"),
        ], options: layer)
        // Opaque marker after and before this layer's own files: order inside the layer must not matter.
        let summary = try box.extract([
            .file("opaque/new", "n"), .file("opaque/sub/new2", "n2"), .file("opaque/.wh..wh..opq", ""),
            .file(".wh.old.txt", ""), .file(".wh.gone", ""), .file(".wh.never-existed", ""),
            .file("run.sh", "v2\n", mode: 0o755),
        ], options: layer)
        XCTAssertEqual(summary.entries, 7)
        XCTAssertEqual(box.tree(), ["keep", "keep/lower", "opaque", "opaque/new", "opaque/sub", "opaque/sub/new2", "run.sh"])
        XCTAssertEqual(box.read("run.sh"), "v2\n")
        // Without OCI semantics a `.wh.` file is just a file.
        try box.extract([.file(".wh.keep", "")])
        XCTAssertEqual(box.read("keep/lower"), "kept")
        XCTAssertNotNil(box.lstat(".wh.keep"))
    }

    func testWhiteoutNeverHidesWhatTheSameLayerAdds() throws {
        let layer = ExtractionOptions.ociLayer(maxBytes: 1 << 20)
        try box.extract([.file("d/lower", "l")], options: layer)
        try box.extract([.file("d/mine", "m"), .file(".wh.d", ""), .file("x", "x"), .file(".wh.x", "")], options: layer)
        XCTAssertEqual(box.tree(), ["d", "d/mine", "x"])
        let traversal = try box.refusal([.file("../.wh.sentinel", "")], options: layer)
        XCTAssertTrue(traversal.contains("'..' component"), traversal)
        box.assertSentinelUntouched()
    }
}
