import Foundation
import XCTest

#if canImport(Glibc)
import Glibc
#endif

/// The `hangar` this test run was built with: it sits in the products directory next to the test bundle.
/// Never one from PATH, so a stale install cannot make the suite pass.
enum BuiltProducts {
    static let directory: String? = {
        var dir = Bundle.main.bundleURL.standardizedFileURL
        for _ in 0..<4 {
            if access(dir.appendingPathComponent("hangar").path, X_OK) == 0 { return dir.path }
            dir = dir.deletingLastPathComponent()
        }
        return nil
    }()

    /// Absolute path of the built binary; a failure (not a skip) when missing, so a suite that ran nothing is red.
    static func hangar() throws -> String {
        guard let directory else {
            throw HarnessError("hangar binary not found next to the test bundle: build with swift build --build-tests first")
        }
        return directory + "/hangar"
    }
}

/// A problem of the test set-up itself (missing tool or binary), reported as a failure with the fix.
struct HarnessError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// A process started with posix_spawn, stdin from /dev/null, stdout and stderr into one file. posix_spawn rather than
/// Foundation.Process: Process hands the child a descriptor it watches for exit, which a daemon the child forks (the
/// tmux server) inherits, so waiting would block until that daemon dies.
final class ChildProcess {
    let pid: pid_t
    let outputPath: String
    private var exitStatus: Int32?

    /// `environment` is the child's whole environment: nothing of the test runner's leaks in.
    init(_ argv: [String], environment: [String: String], outputPath: String) throws {
        self.outputPath = outputPath
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, outputPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        let cArgs = argv.map { strdup($0) } + [nil]
        let cEnv = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { (cArgs + cEnv).forEach { free($0) } }
        var pid: pid_t = 0
        let rc = posix_spawn(&pid, argv[0], &actions, nil, cArgs, cEnv)
        guard rc == 0 else { throw POSIXError(POSIXErrorCode(rawValue: rc) ?? .EIO) }
        self.pid = pid
    }

    deinit {
        if exitStatus == nil {
            kill(pid, SIGKILL)
            _ = wait(timeout: 5)
        }
    }

    func signal(_ number: Int32) { kill(pid, number) }

    /// The exit status (128 + signal when killed), or nil if it still runs after `timeout` seconds.
    func wait(timeout: TimeInterval) -> Int32? {
        if let exitStatus { return exitStatus }
        let end = Date().addingTimeInterval(timeout)
        repeat {
            var status: Int32 = 0
            let r = waitpid(pid, &status, WNOHANG)
            if r == pid {
                let code = (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
                exitStatus = code
                return code
            }
            if r < 0 && errno != EINTR { return nil }
            usleep(10_000)
        } while Date() < end
        return nil
    }

    var output: String { (try? String(contentsOfFile: outputPath, encoding: .utf8)) ?? "" }

    /// Runs `argv` to its end (killed after `timeout`) and returns the status and everything it printed.
    static func run(_ argv: [String], environment: [String: String], scratch: String,
                    timeout: TimeInterval = 30) throws -> (status: Int32, output: String) {
        let path = scratch + "/out-\(UUID().uuidString.prefix(8)).txt"
        defer { unlink(path) }
        let child = try ChildProcess(argv, environment: environment, outputPath: path)
        guard let status = child.wait(timeout: timeout) else {
            child.signal(SIGKILL)
            _ = child.wait(timeout: 5)
            return (-1, child.output + "\n[timed out after \(timeout) s]")
        }
        return (status, child.output)
    }
}

/// Polls `condition` every 50 ms until it holds or `timeout` passes; the failure names what was awaited and shows
/// `context()` (typically the screen), so a red test says what the user would have seen.
func eventually(_ what: String, timeout: TimeInterval = 10, file: StaticString = #filePath, line: UInt = #line,
                context: () -> String = { "" }, _ condition: () throws -> Bool) rethrows {
    let end = Date().addingTimeInterval(timeout)
    repeat {
        if try condition() { return }
        usleep(50_000)
    } while Date() < end
    XCTFail("timed out after \(timeout) s waiting for \(what)\n\(context())", file: file, line: line)
}
