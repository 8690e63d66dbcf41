import Foundation
import HangarEngine

/// Writing to stdout/stderr and the exit-status contract, in one place.
enum Output {
    static func stdout(_ line: String) {
        FileHandle.standardOutput.write(Data((line + "\n").utf8))
    }

    static func stderr(_ line: String) {
        FileHandle.standardError.write(Data((line + "\n").utf8))
    }

    /// Prints `value` as pretty JSON (two-space indent, as LocalAI writes).
    static func json(_ value: JSONValue) {
        var bytes = value.goIndentedBytes()
        bytes.append(0x0A)
        // Straight to the descriptor: a listing's JSON is hundreds of KiB, and each String or Data copy of it costs.
        bytes.withUnsafeBytes { raw in
            var offset = 0
            while offset < raw.count {
                let written = write(STDOUT_FILENO, raw.baseAddress! + offset, raw.count - offset)
                if written < 0 && errno == EINTR { continue }
                guard written > 0 else { return }
                offset += written
            }
        }
    }

    /// Holds `values` until the process exits: a command that prints a large result and ends would otherwise spend
    /// its last milliseconds freeing, one by one, what the kernel reclaims at once.
    static func keepUntilExit(_ values: Any...) {
        keptUntilExit.append(contentsOf: values)
    }

    /// Only the command's own thread calls `keepUntilExit`, once, just before it returns.
    nonisolated(unsafe) private static var keptUntilExit: [Any] = []

    /// One line on stderr, then exit 2 for configuration errors and 1 for failed operations.
    static func fail(_ error: HangarError) -> Never {
        stderr("hangar: \(error.message)")
        exit(error.category == .configuration ? 2 : 1)
    }

    static func exit(_ code: Int32) -> Never {
        Foundation.exit(code)
    }

    /// Whether stdout is a terminal (progress lines and colour only then).
    static var stderrIsTerminal: Bool { isatty(STDERR_FILENO) == 1 }

    /// Standard output in 1 MiB writes, for long outputs (a history of 100,000 records) that must not cost a system
    /// call or a string copy per line.
    struct Buffered {
        private var bytes: [UInt8] = []

        mutating func write(_ text: String) {
            bytes.append(contentsOf: text.utf8)
            if bytes.count >= 1 << 20 { flush() }
        }

        /// Appends raw bytes made by `body` (a record's JSON).
        mutating func append(_ body: (inout [UInt8]) -> Void) {
            body(&bytes)
            if bytes.count >= 1 << 20 { flush() }
        }

        mutating func flush() {
            guard !bytes.isEmpty else { return }
            FileHandle.standardOutput.write(Data(bytes))
            bytes.removeAll(keepingCapacity: true)
        }
    }

    /// What the automatic recovery before a command did, on stderr.
    static func printRecovery(_ report: RecoveryReport) {
        for line in report.repairs { stderr("hangar: recovered: \(line)") }
        for line in report.problems { stderr("hangar: could not recover: \(line)") }
    }

}
