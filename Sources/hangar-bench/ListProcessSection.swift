import Foundation

/// Section: the whole `hangar list --available --json` process on the real gallery against a C program that only
/// scans the same file with libyaml (compiled in this run with `cc -O2 … -lyaml`): start-up, parse, resolution,
/// JSON output, everything a user waits for.
struct ListProcessSection: BenchSection {
    let id = "list_process"
    let title = "hangar list --available --json vs a bare libyaml C scan of the same gallery (whole process)"
    /// Issue 11: at most this multiple of the C scan's wall time.
    let goal = 4.0

    func run(_ options: BenchOptions) throws -> BenchReport {
        let hangar = try releaseHangar()
        let bench = try ProcessBench()
        defer { bench.remove() }
        let scanner = bench.directory + "/yaml-scan"
        try bench.compileC(Self.scanSource, output: scanner, libraries: ["yaml"])
        let site = bench.directory + "/site"
        try FileManager.default.createDirectory(atPath: site + "/backends", withIntermediateDirectories: true)
        let environment = [
            "PATH": "/usr/bin:/bin", "HOME": site, "LANG": "C.UTF-8",
            "LOCALAI_BACKENDS_PATH": site + "/backends", "LOCALAI_CONFIG_DIR": site + "/configuration",
            "LOCALAI_FORCE_META_BACKEND_CAPABILITY": "default",
            "LOCALAI_BACKEND_GALLERIES": #"[{"name":"localai","url":"file://\#(options.galleryPath)"}]"#,
        ]
        // Both sides must really have read the gallery: the scan's event count and hangar's row count.
        let rows = try countRows(hangar, environment: environment, directory: site)
        guard rows > 100 else { throw BenchFailure("hangar list --available --json printed only \(rows) rows") }

        let comparison = try ProcessComparison(
            rounds: max(options.iterations, 20),
            baseline: Timing(id: "yaml_scan", "a) C: libyaml event scan of the file"),
            hangar: Timing(id: "list_available", "b) hangar list --available --json"),
            runBaseline: { try bench.measure(scanner, [options.galleryPath]) },
            runHangar: { try bench.measure(hangar, ["list", "--available", "--json"], environment: environment, directory: site) })

        var report = BenchReport(id: id, section: title)
        report.timings = [comparison.baselineTime, comparison.hangarTime]
        report.checks = [
            BenchCheck(id: "ratio", label: "ratio b/a (median wall time)", value: comparison.timeRatio, goal: goal, unit: "×"),
        ]
        report.facts = [
            ("gallery", options.galleryPath),
            ("rows printed by hangar", "\(rows) (capability default)"),
            ("peak RSS (VmHWM via wait4), median", "C scan \(format(comparison.baselineMiB, decimals: 1)) MiB, "
                + "hangar \(format(comparison.hangarMiB, decimals: 1)) MiB"),
        ]
        return report
    }

    private func countRows(_ hangar: String, environment: [String: String], directory: String) throws -> Int {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: hangar)
        process.arguments = ["list", "--available", "--json"]
        process.environment = environment
        process.currentDirectoryURL = URL(fileURLWithPath: directory)
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0, let rows = try JSONSerialization.jsonObject(with: data) as? [Any] else {
            throw BenchFailure("hangar list --available --json failed (status \(process.terminationStatus))")
        }
        return rows.count
    }

    /// Reads the file, parses every libyaml event, keeps nothing, prints the event count.
    static let scanSource = #"""
        #include <stdio.h>
        #include <stdlib.h>
        #include <yaml.h>
        int main(int argc, char **argv) {
            if (argc != 2) return 2;
            FILE *file = fopen(argv[1], "rb");
            if (file == NULL) return 1;
            yaml_parser_t parser;
            yaml_event_t event;
            if (!yaml_parser_initialize(&parser)) return 1;
            yaml_parser_set_input_file(&parser, file);
            long events = 0;
            for (;;) {
                if (!yaml_parser_parse(&parser, &event)) return 1;
                int done = event.type == YAML_STREAM_END_EVENT;
                yaml_event_delete(&event);
                events++;
                if (done) break;
            }
            yaml_parser_delete(&parser);
            fclose(file);
            printf("%ld\n", events);
            return 0;
        }
        """#
}
