import Foundation

// The one set of file, temp-dir, polling and shell helpers every test target and the bench use. No XCTest here:
// the bench links this module, so assertions stay in the test targets (their `eventually` wraps `waitUntil`).

/// A new, empty directory `<temp>/hangar-<label>-XXXXXX` (mkdtemp: unique and created atomically).
public func makeTemporaryDirectory(_ label: String) throws -> String {
    let base = FileManager.default.temporaryDirectory.path
    var template = Array("\(base)/hangar-\(label)-XXXXXX".utf8CString)
    guard let made = mkdtemp(&template) else { throw FixtureError("mkdtemp in \(base) failed: errno \(errno)") }
    return String(cString: made)
}

/// Removes `path` and everything below it, even directories an archive or a test left read-only.
public func removeTree(_ path: String) {
    var st = stat()
    guard lstat(path, &st) == 0 else { return }
    if st.st_mode & S_IFMT == S_IFDIR {
        // A directory without u+wx cannot be emptied; open it up before descending.
        chmod(path, (st.st_mode & 0o7777) | 0o700)
        for name in (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? [] { removeTree(path + "/" + name) }
        rmdir(path)
    } else {
        unlink(path)
    }
}

/// Writes `text` to `path` with exactly `mode` (chmod after the write, so the umask does not interfere), creating
/// missing parent directories.
public func write(path: String, text: String, mode: mode_t = 0o644) throws {
    try write(path: path, bytes: Data(text.utf8), mode: mode)
}

/// Writes `bytes` to `path` with exactly `mode`, creating missing parent directories.
public func write(path: String, bytes: Data, mode: mode_t = 0o644) throws {
    let parent = (path as NSString).deletingLastPathComponent
    if !parent.isEmpty { try FileManager.default.createDirectory(atPath: parent, withIntermediateDirectories: true) }
    try bytes.write(to: URL(fileURLWithPath: path))
    guard chmod(path, mode) == 0 else { throw FixtureError("chmod \(String(mode, radix: 8)) \(path): errno \(errno)") }
}

/// The UTF-8 text of `path`, or nil when it cannot be read.
public func readText(_ path: String) -> String? { try? String(contentsOfFile: path, encoding: .utf8) }

/// Polls `condition` every `interval` seconds until it holds (true) or `timeout` passes (false). Test targets wrap
/// it in an `eventually` that reports the timeout with XCTFail.
public func waitUntil(timeout: TimeInterval, interval: TimeInterval = 0.05, _ condition: () throws -> Bool) rethrows -> Bool {
    let end = Date().addingTimeInterval(timeout)
    repeat {
        if try condition() { return true }
        usleep(useconds_t(interval * 1_000_000))
    } while Date() < end
    return false
}

/// `text` as one single-quoted word for /bin/sh.
public func shellQuote(_ text: String) -> String { "'" + text.replacingOccurrences(of: "'", with: "'\\''") + "'" }

/// `env -i K=V … COMMAND ARGS` for a shell: the command runs with exactly `environment`, nothing inherited.
public func envCommand(_ environment: [String: String], _ command: [String]) -> String {
    let assignments = environment.keys.sorted().map { shellQuote("\($0)=\(environment[$0]!)") }
    return (["env", "-i"] + assignments + command.map(shellQuote)).joined(separator: " ")
}
