import Foundation
import HangarFixtures
import XCTest

/// `hangar history`: what every operation of every hangar process did, newest first, as a user and a script read it.
final class HistoryCommandTests: CLITestCase {
    func testEveryOperationOfEveryProcessIsListedNewestFirstWithItsChange() throws {
        let site = try sandbox.site()
        let v1 = try sandbox.source("foo", "1.0.0")
        let v2 = try sandbox.source("foo", "2.0.0")
        let broken = try sandbox.source("bar", "2.0.0", runScript: false)
        let barOld = try sandbox.source("bar", "1.0.0")
        let gallery = try sandbox.gallery("index.yaml", [.concrete("foo", v2), .concrete("bar", broken)])
        try site.installCopy(v1, as: "foo", gallery: gallery)
        try site.installCopy(barOld, as: "bar", gallery: gallery)

        XCTAssertEqual(try site.run(["upgrade", "foo"], gallery: gallery).status, 0)
        XCTAssertEqual(try site.run(["upgrade", "bar"], gallery: gallery).status, 1)
        // Several processes at once: none of their records is lost.
        let runs = try (0..<4).map { i in try site.start(["uninstall", "missing-\(i)"], gallery: gallery) }
        for run in runs { XCTAssertEqual(run.wait(timeout: 30).status, 1) }

        let r = try site.run(["history", "--json"], gallery: gallery)
        XCTAssertEqual(r.status, 0, r.transcript)
        let rows = try JSON.array(r.stdout)
        XCTAssertEqual(rows.count, 6, r.stdout)
        XCTAssertEqual(Set(rows.prefix(4).compactMap { $0["backend"] as? String }),
                       ["missing-0", "missing-1", "missing-2", "missing-3"], "the newest first")
        let foo = try XCTUnwrap(rows.first { $0["backend"] as? String == "foo" })
        XCTAssertEqual(foo["operation"] as? String, "upgrade")
        XCTAssertEqual(foo["outcome"] as? String, "done")
        XCTAssertEqual(foo["from_version"] as? String, "1.0.0")
        XCTAssertEqual(foo["to_version"] as? String, "2.0.0")
        XCTAssertEqual(foo["origin"] as? String, "cli")
        XCTAssertGreaterThan(foo["bytes"] as? Int ?? 0, 0)
        XCTAssertNotNil(foo["duration_ms"] as? Int)
        let bar = try XCTUnwrap(rows.first { $0["backend"] as? String == "bar" })
        XCTAssertEqual(bar["outcome"] as? String, "rolled_back")
        XCTAssertTrue((bar["message"] as? String ?? "").contains("v1.0.0 restored"), "\(bar)")

        let table = try site.run(["history", "foo"], gallery: gallery)
        XCTAssertEqual(table.status, 0, table.transcript)
        let lines = table.stdout.split(separator: "\n")
        XCTAssertEqual(lines.count, 2, table.stdout)
        XCTAssertTrue(lines[1].contains("v1.0.0 → v2.0.0") && lines[1].contains("done") && lines[1].contains("cli"), table.stdout)

        XCTAssertEqual(try JSON.array(try site.run(["history", "--since", "1h", "--json"], gallery: gallery).stdout).count, 6)
        XCTAssertEqual(try JSON.array(try site.run(["history", "--since", "2999-01-01", "--json"], gallery: gallery).stdout).count, 0)
        XCTAssertEqual(try site.run(["history", "--since", "2999-01-01"], gallery: gallery).stdout, "No operations recorded.\n")
    }

    func testBadInputIsOneLineAndChangesNothing() throws {
        let site = try sandbox.site()
        let since = try site.run(["history", "--since", "last tuesday"], gallery: nil)
        XCTAssertEqual(since.status, 2)
        XCTAssertEqual(since.stderr.split(separator: "\n").count, 1, since.stderr)
        XCTAssertTrue(since.stderr.contains("--since \"last tuesday\" is not a date or an age"), since.stderr)

        try FileManager.default.createDirectory(atPath: site.backends + "/.hangar", withIntermediateDirectories: true)
        let garbage = "garbage\n{\"job\":\n\u{1}\u{2}\n"
        try writeFile(site.backends + "/.hangar/history.jsonl", garbage, mode: 0o644)
        let corrupt = try site.run(["history"], gallery: nil)
        XCTAssertEqual(corrupt.status, 1, corrupt.transcript)
        XCTAssertEqual(corrupt.stderr.split(separator: "\n").count, 1, corrupt.stderr)
        XCTAssertTrue(corrupt.stderr.contains("no readable record (3 unreadable lines)"), corrupt.stderr)
        XCTAssertEqual(try String(contentsOfFile: site.backends + "/.hangar/history.jsonl", encoding: .utf8), garbage,
                       "reading never rewrites the file")

        // One good record after the garbage: shown, with a warning for the rest.
        XCTAssertEqual(try site.run(["uninstall", "nothing"], gallery: nil).status, 1)
        let partial = try site.run(["history"], gallery: nil)
        XCTAssertEqual(partial.status, 0, partial.transcript)
        XCTAssertTrue(partial.stdout.contains("nothing"), partial.stdout)
        XCTAssertTrue(partial.stderr.contains("3 unreadable lines in the history skipped"), partial.stderr)
    }

    func testTheNewestAreShownByDefaultAndAllOrALimitOnRequest() throws {
        let site = try sandbox.site()
        try FileManager.default.createDirectory(atPath: site.backends + "/.hangar", withIntermediateDirectories: true)
        var lines = ""
        for i in 0..<130 {
            lines += "{\"job\":\(i),\"operation\":\"upgrade\",\"backend\":\"b\(i % 3)\",\"finished_at_ms\":\(1_780_000_000_000 + i * 1000),"
                + "\"outcome\":\"done\",\"message\":\"upgraded \(i)\",\"bytes\":0,\"origin\":\"cli\"}\n"
        }
        try writeFile(site.backends + "/.hangar/history.jsonl", lines, mode: 0o644)

        let standard = try site.run(["history", "--json"], gallery: nil)
        let rows = try JSON.array(standard.stdout)
        XCTAssertEqual(rows.count, 100)
        XCTAssertEqual(rows.first?["message"] as? String, "upgraded 129", "newest first")
        XCTAssertTrue(standard.stderr.contains("the newest 100 operations; --all lists every one"), standard.stderr)
        XCTAssertEqual(try JSON.array(try site.run(["history", "--json", "--all"], gallery: nil).stdout).count, 130)
        let named = try JSON.array(try site.run(["history", "b1", "--json", "--limit", "7"], gallery: nil).stdout)
        XCTAssertEqual(named.map { $0["message"] as? String }, (0..<7).map { "upgraded \(127 - 3 * $0)" })
        let table = try site.run(["history", "--limit", "5"], gallery: nil)
        XCTAssertEqual(table.stdout.split(separator: "\n").count, 6, table.stdout)
        XCTAssertEqual(try site.run(["history", "--limit", "0"], gallery: nil).status, 2)
    }
}
