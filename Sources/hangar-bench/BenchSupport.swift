import Foundation

/// Command-line options shared by every section.
struct BenchOptions {
    var galleryPath: String
    var iterations = 50
    var json = false
    /// `--only ID`: run just the section with this id (e.g. `check_latency`); nil runs every section.
    var only: String?

    /// What the command line asks for: a run, or an exit (after usage was printed) with this status.
    enum Parsed {
        case run(BenchOptions)
        case exit(Int32)
    }

    /// Parses `--gallery PATH`, `--iterations N`, `--json`, `--only ID`, `--help`.
    static func parse(_ arguments: [String], defaultGallery: String) -> Parsed {
        var options = BenchOptions(galleryPath: defaultGallery)
        var rest = arguments[...]
        while let argument = rest.popFirst() {
            switch argument {
            case "--gallery":
                guard let path = rest.popFirst() else { return usage("--gallery needs a path") }
                options.galleryPath = path
            case "--iterations":
                guard let text = rest.popFirst(), let n = Int(text), n > 0 else {
                    return usage("--iterations needs a positive number")
                }
                options.iterations = n
            case "--json":
                options.json = true
            case "--only":
                guard let id = rest.popFirst(), !id.isEmpty else { return usage("--only needs a section id") }
                options.only = id
            case "-h", "--help":
                print(usageText)
                return .exit(0)
            default:
                return usage("unknown argument \(argument)")
            }
        }
        return .run(options)
    }

    static let usageText = """
        usage: hangar-bench [--gallery PATH] [--iterations N] [--json] [--only ID]
          --gallery PATH    gallery index to parse (default: ../shared/fixtures/localai-backend-index.yaml)
          --iterations N    timed iterations per measurement (default 50)
          --json            print all figures as one JSON object
          --only ID         run one section, by the id --json keys it with, e.g. check_latency
        """

    private static func usage(_ problem: String) -> Parsed {
        printError("hangar-bench: \(problem)\n\(usageText)")
        return .exit(2)
    }
}

/// One timed quantity: its samples in milliseconds.
struct Timing {
    /// Stable key for `--json`.
    let id: String
    let label: String
    var samples: [Double] = []

    init(id: String, _ label: String) {
        self.id = id
        self.label = label
    }

    var median: Double { percentile(0.5) }
    var p90: Double { percentile(0.9) }

    /// Nearest-rank percentile.
    func percentile(_ p: Double) -> Double {
        guard !samples.isEmpty else { return .nan }
        let sorted = samples.sorted()
        let rank = Int((p * Double(sorted.count)).rounded(.up))
        return sorted[min(max(rank, 1), sorted.count) - 1]
    }

    /// Runs `body` once and records its wall time.
    mutating func measure<T>(_ body: () throws -> T) rethrows -> T {
        let clock = ContinuousClock()
        let start = clock.now
        let result = try body()
        samples.append(milliseconds(clock.now - start))
        return result
    }
}

/// A goal a section checks, e.g. "parse ≤ 2.0× bare scan".
struct BenchCheck {
    /// Stable key for `--json`.
    let id: String
    let label: String
    let value: Double
    let goal: Double
    /// How the value is printed, e.g. "×" or " ms".
    let unit: String
    /// Set for an informational figure: `goal` is then the reference it is read against (e.g. an ideal ceiling),
    /// this text says how it compares, and the check never fails the run.
    var info: String? = nil
    var passed: Bool { info != nil || value <= goal }
}

/// What one section reports: timings, goals and free-form facts (counts that show the work was real).
struct BenchReport {
    /// Stable key for `--json`.
    let id: String
    let section: String
    var timings: [Timing] = []
    var checks: [BenchCheck] = []
    var facts: [(String, String)] = []
}

/// A benchmark section. Add new ones to `sections` in main.swift.
protocol BenchSection {
    /// Stable key for `--json`, e.g. "gallery_parse".
    var id: String { get }
    var title: String { get }
    func run(_ options: BenchOptions) throws -> BenchReport
}

func milliseconds(_ duration: Duration) -> Double {
    let parts = duration.components
    return Double(parts.seconds) * 1_000 + Double(parts.attoseconds) / 1e15
}

func printError(_ text: String) {
    FileHandle.standardError.write(Data((text + "\n").utf8))
}

// MARK: output

func format(_ value: Double, decimals: Int = 2) -> String {
    value.isFinite ? String(format: "%.\(decimals)f", value) : "n/a"
}

private func pad(_ text: String, _ width: Int, right: Bool = false) -> String {
    let fill = String(repeating: " ", count: max(0, width - text.count))
    return right ? fill + text : text + fill
}

/// A compact table per section.
func renderTable(_ reports: [BenchReport], iterations: Int) -> String {
    var lines: [String] = []
    for report in reports {
        lines.append("== \(report.section) (\(iterations) iterations, alternating)")
        let width = max(28, (report.timings.map(\.label.count).max() ?? 0) + 2)
        lines.append(pad("", width) + pad("median ms", 11, right: true) + pad("p90 ms", 11, right: true))
        for timing in report.timings {
            lines.append(pad(timing.label, width) + pad(format(timing.median), 11, right: true)
                + pad(format(timing.p90), 11, right: true))
        }
        for check in report.checks {
            let verdict = check.info.map { "   vs \(format(check.goal, decimals: 1))\(check.unit): \($0)" }
                ?? "   goal ≤ \(format(check.goal, decimals: 1))\(check.unit)  \(check.passed ? "PASS" : "FAIL")"
            lines.append(pad(check.label, width) + pad(format(check.value) + check.unit, 11, right: true) + verdict)
        }
        for (key, value) in report.facts { lines.append("  \(key): \(value)") }
        lines.append("")
    }
    return lines.joined(separator: "\n")
}

private func jsonString(_ text: String) -> String {
    var out = "\""
    for scalar in text.unicodeScalars {
        switch scalar {
        case "\"": out += "\\\""
        case "\\": out += "\\\\"
        case "\n": out += "\\n"
        case let c where c.value < 0x20:
            let hex = String(c.value, radix: 16)
            out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
        default: out.unicodeScalars.append(scalar)
        }
    }
    return out + "\""
}

private func jsonNumber(_ value: Double) -> String { value.isFinite ? format(value, decimals: 4) : "null" }

/// One JSON object: `{"iterations":N,"pass":B,"sections":{id:{"title":…,"timings":{id:{"label":…,"median_ms":…,"p90_ms":…}},
/// "checks":{id:{"label":…,"value":…,"goal":…,"pass":…[,"info":…]}},"facts":{…}}}}`; an informational check has "info"
/// and its "goal" is the reference value it is read against.
func renderJSON(_ reports: [BenchReport], iterations: Int) -> String {
    let sections = reports.map { report -> String in
        let timings = report.timings.map {
            "\(jsonString($0.id)):{\"label\":\(jsonString($0.label)),\"median_ms\":\(jsonNumber($0.median)),\"p90_ms\":\(jsonNumber($0.p90))}"
        }.joined(separator: ",")
        let checks = report.checks.map { check -> String in
            let info = check.info.map { ",\"info\":\(jsonString($0))" } ?? ""
            return "\(jsonString(check.id)):{\"label\":\(jsonString(check.label)),\"value\":\(jsonNumber(check.value)),\"goal\":\(jsonNumber(check.goal)),\"pass\":\(check.passed)\(info)}"
        }.joined(separator: ",")
        let facts = report.facts.map { "\(jsonString($0.0)):\(jsonString($0.1))" }.joined(separator: ",")
        return "\(jsonString(report.id)):{\"title\":\(jsonString(report.section)),\"timings\":{\(timings)},\"checks\":{\(checks)},\"facts\":{\(facts)}}"
    }
    let pass = reports.allSatisfy { $0.checks.allSatisfy(\.passed) }
    return "{\"iterations\":\(iterations),\"pass\":\(pass),\"sections\":{\(sections.joined(separator: ","))}}"
}
