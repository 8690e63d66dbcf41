import Foundation
import HangarFixtures
import XCTest
@testable import HangarEngine

/// A `LocalAISite` for transaction tests: its backends dir as a `BackendsRoot` with locks, removed when the test ends.
final class TransactionSandbox {
    let site: LocalAISite
    var path: String { site.root }
    let root: BackendsRoot
    let locks: BackendLocks

    init() throws {
        site = try LocalAISite("txn")
        root = BackendsRoot(site.backends)
        locks = BackendLocks(root: root)
        try root.ensureDirectories()
    }

    /// Writes a backend-like tree: run.sh (0755), a library, a nested dir, a read-only file, a symlink.
    @discardableResult
    func makeTree(_ dir: String, version: String, runScript: Bool = true, extraFiles: Int = 3) throws -> String {
        // Directories 0750, as the engine's own mkdir makes them.
        try Sys.ensureDirectories(dir)
        var tree = (runScript ? BackendTree.runScript("echo \(version)\n") : BackendTree()).file("VERSION", version)
            .directory("lib", mode: 0o750).directory("lib/python", mode: 0o750)
        for index in 0..<extraFiles {
            tree = tree.file("lib/python/mod\(index).py", "print('\(version) \(index)')\n" + String(repeating: "x", count: 3000))
        }
        try tree.file("lib/secret.key", "\(version)-key", mode: 0o600)
            .file("lib/readonly.txt", "ro \(version)", mode: 0o444)
            .symlink("lib/link.py", to: "python/mod0.py")
            .write(to: dir)
        return dir
    }

    func write(_ path: String, _ text: String, mode: mode_t = 0o644) throws {
        try HangarFixtures.write(path: path, text: text, mode: mode)
    }

    func read(_ path: String) -> String? {
        (try? Sys.readFile(path)).flatMap { $0 }.map { String(decoding: $0, as: UTF8.self) }
    }

    /// Every entry under `dir` with its type, permission bits and content or link target, sorted.
    func listing(_ dir: String) -> [String] {
        var lines: [String] = []
        func walk(_ path: String, _ relative: String) {
            let names = ((try? Sys.listDirectoryIfPresent(path)) ?? nil) ?? []
            for name in names.sorted() {
                let full = path + "/" + name
                let rel = relative.isEmpty ? name : relative + "/" + name
                guard let st = try? Sys.lstatIfPresent(full) else { continue }
                let mode = String(st.st_mode & 0o7777, radix: 8)
                if Sys.isDirectory(st) {
                    lines.append("d \(rel) \(mode)")
                    walk(full, rel)
                } else if Sys.isSymlink(st) {
                    let fd = open(path, O_RDONLY | O_DIRECTORY)
                    defer { close(fd) }
                    lines.append("l \(rel) -> \((try? FileTree.readLink(fd, name, path: full)) ?? "?")")
                } else {
                    lines.append("f \(rel) \(mode) \(read(full) ?? "<unreadable>")")
                }
            }
        }
        walk(dir, "")
        return lines
    }

    /// Entries in `.hangar/{staging,journal,trash}` and LocalAI-style leftovers in the backends dir.
    func leftovers() -> [String] {
        var found: [String] = []
        for sub in [root.stagingPath, root.journalPath, root.trashPath] {
            for entry in ((try? Sys.listDirectoryIfPresent(sub)) ?? nil) ?? [] { found.append(sub + "/" + entry) }
        }
        for entry in ((try? Sys.listDirectoryIfPresent(root.path)) ?? nil) ?? []
        where Recovery.localAIBackupSuffixes.contains(where: entry.hasSuffix) || Recovery.localAITempSuffixes.contains(where: entry.hasSuffix) {
            found.append(entry)
        }
        return found
    }

    func exists(_ path: String) -> Bool { (try? Sys.lstatIfPresent(path)) != nil }

    func identity(_ path: String) -> FileIdentity? { (try? Sys.identityIfPresent(path)) ?? nil }

    /// Stages `source` as a transaction on `name` and commits it, holding the lock for the duration.
    @discardableResult
    func install(_ name: String, from source: String, operation: String = "upgrade", fallback: Bool = false) throws -> BackendTransaction.CommitResult {
        let lock = try XCTUnwrap(try locks.lock([name], mode: .wait))
        defer { lock.release() }
        let transaction = try BackendTransaction.begin(root: root, name: name, operation: operation, lock: lock,
                                                       forceRenameFallback: fallback)
        try FileTree.copyContents(of: source, into: transaction.stagingPath)
        try transaction.validate(what: source)
        try transaction.writeMetadata(BackendMetadata(name: name, version: "test"))
        return try transaction.commit()
    }
}

/// Runs a shell command line and returns its exit status.
@discardableResult
func runShell(_ command: String) throws -> Int32 {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/bin/sh")
    process.arguments = ["-c", command]
    try process.run()
    process.waitUntilExit()
    return process.terminationStatus
}
