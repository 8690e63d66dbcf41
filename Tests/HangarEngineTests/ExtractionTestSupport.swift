import Foundation
import HangarFixtures
import XCTest
@testable import HangarEngine

/// Builds real tar archives (plain, gz, xz, bz2, zst), hostile ones included, with python3's tarfile module: it
/// writes whatever names, link targets and types it is given, which `tar` itself refuses to produce.
enum TestArchive {
    enum Entry {
        case file(String, String, mode: Int = 0o644)
        /// `size` zero bytes, streamed (a decompression bomb compresses to almost nothing).
        case zeros(String, size: Int)
        case directory(String, mode: Int = 0o755)
        case symlink(String, to: String)
        case hardlink(String, to: String)
        case fifo(String)
        case characterDevice(String)

        var json: [String: Any] {
            switch self {
            case .file(let path, let text, let mode): return ["kind": "file", "path": path, "text": text, "mode": mode]
            case .zeros(let path, let size): return ["kind": "zeros", "path": path, "size": size]
            case .directory(let path, let mode): return ["kind": "dir", "path": path, "mode": mode]
            case .symlink(let path, let target): return ["kind": "symlink", "path": path, "target": target]
            case .hardlink(let path, let target): return ["kind": "hardlink", "path": path, "target": target]
            case .fifo(let path): return ["kind": "fifo", "path": path]
            case .characterDevice(let path): return ["kind": "chardev", "path": path]
            }
        }
    }

    /// Every entry gets this mtime, so tests can check it was kept.
    static let mtime = 1_700_000_000

    /// Writes the archive; `compression` is "", "gz", "xz", "bz2" or "zst".
    static func write(_ entries: [Entry], to path: String, compression: String = "gz") throws {
        let spec: [String: Any] = ["path": path, "compression": compression, "mtime": mtime, "entries": entries.map(\.json)]
        let input = try JSONSerialization.data(withJSONObject: spec)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", script]
        let stdin = Pipe(), stderr = Pipe()
        process.standardInput = stdin
        process.standardError = stderr
        try process.run()
        stdin.fileHandleForWriting.write(input)
        try stdin.fileHandleForWriting.close()
        process.waitUntilExit()
        let errorText = String(decoding: stderr.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        if process.terminationStatus != 0 { throw HangarError.operation("python3 tarfile failed: \(errorText)") }
    }

    private static let script = #"""
import io, json, subprocess, sys, tarfile
spec = json.load(sys.stdin)
out, comp = spec["path"], spec["compression"]
class Zeros:
    def __init__(self, n): self.left = n
    def read(self, n=-1):
        n = self.left if n < 0 else min(n, self.left)
        self.left -= n
        return bytes(n)
target = out + ".plain" if comp == "zst" else out
mode = "w:" + comp if comp in ("gz", "xz", "bz2") else "w"
kwargs = {"compresslevel": 1} if comp in ("gz", "bz2") else {}
with tarfile.open(target, mode, format=tarfile.PAX_FORMAT, **kwargs) as tar:
    for e in spec["entries"]:
        info = tarfile.TarInfo(e["path"])
        info.mtime = spec["mtime"]
        info.mode = e.get("mode", 0o644)
        kind = e["kind"]
        if kind == "file":
            data = e["text"].encode()
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
            continue
        if kind == "zeros":
            info.size = e["size"]
            tar.addfile(info, Zeros(e["size"]))
            continue
        info.type = {"dir": tarfile.DIRTYPE, "symlink": tarfile.SYMTYPE, "hardlink": tarfile.LNKTYPE,
                     "fifo": tarfile.FIFOTYPE, "chardev": tarfile.CHRTYPE}[kind]
        info.linkname = e.get("target", "")
        if kind == "chardev":
            info.devmajor, info.devminor = 1, 3
        tar.addfile(info)
if comp == "zst":
    subprocess.run(["zstd", "-q", "-f", "--rm", target, "-o", out], check=True)
"""#
}

/// A temp directory with the extraction root and a sentinel directory beside it that no extraction may touch.
final class ExtractionSandbox {
    let base: String
    var root: String { base + "/root" }
    var sentinel: String { base + "/sentinel" }

    init() throws {
        base = try makeTemporaryDirectory("extract")
        for dir in [root, sentinel] { try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true) }
        try HangarFixtures.write(path: sentinel + "/secret", text: "secret\n")
    }

    // `removeTree` opens up the read-only directories archives leave, so cleanup cannot fail on them.
    deinit { removeTree(base) }

    /// Path of a new archive file in the sandbox (outside the root).
    func archive(_ name: String) -> String { base + "/" + name }

    /// Builds an archive and extracts it into the root.
    @discardableResult
    func extract(_ entries: [TestArchive.Entry], compression: String = "gz",
                 options: ExtractionOptions = ExtractionOptions()) throws -> ExtractionSummary {
        let path = archive("a-\(UUID().uuidString.prefix(6)).tar" + (compression.isEmpty ? "" : "." + compression))
        try TestArchive.write(entries, to: path, compression: compression)
        return try ArchiveExtractor.extract(file: path, into: root, options: options, checkCancelled: {}, progress: { _ in })
    }

    /// The error message of an extraction that must fail.
    func refusal(_ entries: [TestArchive.Entry], options: ExtractionOptions = ExtractionOptions(),
                 file: StaticString = #filePath, line: UInt = #line) throws -> String {
        do {
            try extract(entries, options: options)
        } catch let error as HangarError {
            return error.message
        }
        XCTFail("extraction was expected to fail", file: file, line: line)
        return ""
    }

    /// Names below `dir`, recursively, sorted ("a", "a/b", ...).
    func tree(_ dir: String? = nil) -> [String] {
        (FileManager.default.subpaths(atPath: dir ?? root) ?? []).sorted()
    }

    func read(_ relative: String) -> String? { try? String(contentsOfFile: root + "/" + relative, encoding: .utf8) }

    func lstat(_ relative: String) -> stat? {
        var st = stat()
        return Glibc.lstat(root + "/" + relative, &st) == 0 ? st : nil
    }

    /// Fails unless the sentinel still holds exactly its one file, unchanged.
    func assertSentinelUntouched(file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(tree(sentinel), ["secret"], file: file, line: line)
        XCTAssertEqual(try? String(contentsOfFile: sentinel + "/secret", encoding: .utf8), "secret\n", file: file, line: line)
    }
}
