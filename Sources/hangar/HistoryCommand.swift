import ArgumentParser
import Foundation
import HangarEngine

/// `hangar history [NAME] [--json] [--since WHEN]`: every finished operation of every hangar process, newest first.
struct HistoryCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "history",
        abstract: "Show what every operation did (from the CLI, the UI, the daemon and auto-upgrades), newest first.",
        discussion: """
            Kept in <backends>/.hangar/history.jsonl (rotated to history.1.jsonl past 16 MiB). Each row: when it \
            finished, the operation, the backend, the build before and after, the result, how long it took, the bytes \
            it moved and who started it. A line that cannot be read is skipped with a warning.
            """)

    @OptionGroup var global: GlobalOptions

    @Argument(help: "Only this backend (as it was named in the operation).")
    var name: String?

    @Option(help: "Only operations that finished since WHEN: a date (2026-12-01), a local time (2026-12-01T14:30) or an age (30m, 6h, 7d).")
    var since: String?

    @OptionGroup var output: JSONOutput
    private var json: Bool { output.json }

    @Option(help: "Show the newest N operations (default 100).")
    var limit: Int = 100

    @Flag(help: "Show every operation (with --json: the whole history, streamed).")
    var all = false

    func validate() throws {
        if limit < 1 { throw ValidationError("--limit must be at least 1") }
    }

    func run() throws {
        let cutoff = try since.map { try Self.parseSince($0, now: Date()) }
        let engine = try global.engine()
        let wanted = all ? Int.max : limit
        var out = Output.Buffered()
        var records: [OperationRecord] = []
        var count = 0
        if json { out.write("[") }
        // Newest first from the end of the files: the default view never reads more of a long history than it shows,
        // and --json streams the stored lines without holding the history.
        let unreadable = engine.forEachOperation(backend: name, since: cutoff) { record, line in
            guard count < wanted else { return false }
            if json {
                out.write(count == 0 ? "\n" : ",\n")
                out.append { $0.append(contentsOf: line) }
            } else {
                records.append(record)
            }
            count += 1
            return true
        }
        try Self.checkReadable(engine, unreadable: unreadable)
        let truncated = count == wanted && !all
        if json {
            out.write(count == 0 ? "]\n" : "\n]\n")
            out.flush()
            if truncated { Output.stderr("hangar: the newest \(count) operations; --all lists every one") }
            return
        }
        if records.isEmpty {
            Output.stdout(name.map { "No operations on \($0) recorded." } ?? "No operations recorded.")
            return
        }
        var table = Table(header: ["FINISHED", "OPERATION", "BACKEND", "CHANGE", "RESULT", "TOOK", "BYTES", "BY", "MESSAGE"])
        for record in records {
            table.add([Self.timestamp(record.finishedAt), record.operation.rawValue, record.backend, Self.change(record),
                       record.outcome.replacingOccurrences(of: "_", with: " "),
                       record.duration.map { TextFormat.duration(Int($0.rounded())) } ?? "",
                       record.bytes > 0 ? TextFormat.bytes(record.bytes) : "", record.origin, record.message])
        }
        table.render(into: &out)
        out.flush()
        if truncated { Output.stderr("hangar: the newest \(count) operations; --all lists every one, --limit N more or fewer") }
    }

    /// A history with no readable record at all is an error (exit 1); unreadable lines among good ones a warning.
    static func checkReadable(_ engine: Engine, unreadable: Int) throws {
        guard unreadable > 0 else { return }
        if engine.recentOperations(limit: 1).isEmpty {
            throw HangarError.operation(
                "the history in \(engine.configuration.backendsPath)/.hangar has no readable record (\(unreadable) unreadable lines): move history.jsonl aside to start a new one")
        }
        Output.stderr("hangar: warning: \(unreadable) unreadable line\(unreadable == 1 ? "" : "s") in the history skipped")
    }

    /// `v1.0.0 → v1.1.0`, `→ v1.1.0` for an install, `v1.0.0 →` for an uninstall.
    static func change(_ record: OperationRecord) -> String {
        guard let change = record.change else { return "" }
        return [change.from?.text, "→", change.to?.text].compactMap { $0 }.joined(separator: " ")
    }

    /// `2026-12-03 14:02:11` in local time.
    static func timestamp(_ date: Date) -> String {
        String(RFC3339.format(Int(date.timeIntervalSince1970)).prefix(19)).replacingOccurrences(of: "T", with: " ")
    }

    /// A local date or time, or an age before `now`.
    static func parseSince(_ text: String, now: Date) throws -> Date {
        let usage = "--since \"\(text)\" is not a date or an age: write e.g. 2026-12-01, 2026-12-01T14:30 or 7d"
        if let first = text.first, first.isNumber, text.contains("-") {
            let parts = text.split(whereSeparator: { "-T: ".contains($0) }).map { Int($0) }
            guard (3...6).contains(parts.count), parts.allSatisfy({ $0 != nil }) else { throw HangarError.configuration(usage) }
            let p = parts.map { $0! } + Array(repeating: 0, count: 6 - parts.count)
            guard (1...12).contains(p[1]), (1...31).contains(p[2]), p[3] < 24, p[4] < 60, p[5] < 61 else {
                throw HangarError.configuration(usage)
            }
            var local = tm()
            local.tm_year = Int32(p[0] - 1900); local.tm_mon = Int32(p[1] - 1); local.tm_mday = Int32(p[2])
            local.tm_hour = Int32(p[3]); local.tm_min = Int32(p[4]); local.tm_sec = Int32(p[5]); local.tm_isdst = -1
            let seconds = mktime(&local)
            guard seconds != -1 else { throw HangarError.configuration(usage) }
            return Date(timeIntervalSince1970: Double(seconds))
        }
        do {
            return now.addingTimeInterval(-(try HangarSettings.parseInterval(text, what: "--since")))
        } catch {
            throw HangarError.configuration(usage)
        }
    }
}
