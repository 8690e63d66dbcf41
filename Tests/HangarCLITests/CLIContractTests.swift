import Foundation
import HangarFixtures
import XCTest

/// The command-line contract as a user or a script sees it: JSON shapes, what operations leave on disk, job events.
final class CLIContractTests: CLITestCase {

    private static let rowKeys: Set<String> = ["name", "run_file", "is_meta", "is_system", "is_alias", "metadata"]
    private static let availableKeys: Set<String> = ["name", "gallery", "installed", "is_meta", "compatible", "resolves_to",
                                                     "uri", "version", "alias", "tags", "description"]

    /// A gallery with a concrete (with alias), a meta resolving to a second concrete, and a CUDA-only build.
    private func richGallery() throws -> GalleryFile {
        let foo = try sandbox.source("foo", "1.0.0")
        let llama = try sandbox.source("cpu-llama", "3.1.0")
        let cuda = try sandbox.source("cuda12-llama", "3.1.0")
        return try sandbox.gallery("rich.yaml", [
            .concrete("foo", foo, alias: "fooalias", tags: ["tts", "cpu"], description: "the foo backend"),
            GalleryItem(name: "llm", alias: "llm", description: "meta", capabilities: [("default", "cpu-llama"), ("nvidia", "cuda12-llama")]),
            .concrete("cpu-llama", llama, alias: "llama"),
            .concrete("cuda12-llama", cuda, alias: "llama"),
        ])
    }

    func testListJSONRowsHaveExactlyLocalAIsFieldsAndABrokenRowDoesNotHideTheOthers() throws {
        let site = try sandbox.site()
        let gallery = try richGallery()
        for name in ["foo", "llm"] {
            let r = try site.run(["install", name], gallery: gallery)
            XCTAssertEqual(r.status, 0, r.transcript)
        }
        try site.installation.install("sysb", metadataJSON: nil, in: site.system)
            .install("bad", metadataJSON: "{\"name\": \"bad\", ")

        let r = try site.run(["list", "--json"], gallery: gallery)
        XCTAssertEqual(r.status, 0, r.transcript)
        let rows = try JSON.array(r.stdout)
        var byName: [String: [String: Any]] = [:]
        for row in rows {
            let name = try XCTUnwrap(row["name"] as? String)
            byName[name] = row
            let expected = name == "bad" ? Self.rowKeys.union(["broken"]) : Self.rowKeys
            XCTAssertEqual(Set(row.keys), expected, "row \(name)")
            XCTAssertTrue(row["metadata"] is [String: Any] || row["metadata"] is NSNull, "row \(name) metadata")
        }
        XCTAssertEqual(Set(byName.keys), ["foo", "fooalias", "cpu-llama", "llama", "llm", "sysb", "bad"], r.stdout)

        let foo = try XCTUnwrap(byName["foo"])
        XCTAssertEqual(foo["run_file"] as? String, site.path("foo") + "/run.sh")
        XCTAssertEqual(foo["is_meta"] as? Bool, false)
        XCTAssertEqual(foo["is_alias"] as? Bool, false)
        XCTAssertEqual(foo["is_system"] as? Bool, false)
        XCTAssertEqual((foo["metadata"] as? [String: Any])?["version"] as? String, "1.0.0")
        XCTAssertEqual(byName["fooalias"]?["is_alias"] as? Bool, true)
        XCTAssertEqual((byName["fooalias"]?["metadata"] as? [String: Any])?["name"] as? String, "foo")
        let llm = try XCTUnwrap(byName["llm"])
        XCTAssertEqual(llm["is_meta"] as? Bool, true)
        XCTAssertEqual(llm["run_file"] as? String, site.path("cpu-llama") + "/run.sh")
        XCTAssertEqual((llm["metadata"] as? [String: Any])?["meta_backend_for"] as? String, "cpu-llama")
        let sysb = try XCTUnwrap(byName["sysb"])
        XCTAssertEqual(sysb["is_system"] as? Bool, true)
        XCTAssertTrue(sysb["metadata"] is NSNull)
        XCTAssertFalse(((byName["bad"]?["broken"] as? String) ?? "").isEmpty)

        // The meta directory holds only LocalAI's metadata.json, byte for byte as Go's MarshalIndent writes it.
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: site.path("llm")), ["metadata.json"])
        let metaText = try String(contentsOfFile: site.path("llm") + "/metadata.json", encoding: .utf8)
        let metaStamp = try XCTUnwrap((try JSON.object(metaText))["installed_at"] as? String)
        XCTAssertEqual(metaText, goIndentedObject([("meta_backend_for", "cpu-llama"), ("name", "llm"),
                                                   ("gallery_url", gallery.url), ("installed_at", metaStamp),
                                                   ("version", "3.1.0")]))

        let human = try site.run(["list"], gallery: gallery)
        XCTAssertEqual(human.status, 0, human.transcript)
        func line(_ name: String) -> String {
            human.stdoutLines.first { $0.hasPrefix(name + " ") } ?? "<no line for \(name)>"
        }
        XCTAssertTrue(line("llm").contains("meta → cpu-llama"), human.stdout)
        XCTAssertTrue(line("fooalias").contains("alias → foo"), human.stdout)
        XCTAssertTrue(line("sysb").contains("system"), human.stdout)
        XCTAssertTrue(line("bad").contains("broken"), human.stdout)
        XCTAssertEqual(line("foo").contains("→"), false, human.stdout)
    }

    func testListAvailableJSONFields() throws {
        let site = try sandbox.site()
        let gallery = try richGallery()
        XCTAssertEqual(try site.run(["install", "foo"], gallery: gallery).status, 0)

        let r = try site.run(["list", "--available", "--json"], gallery: gallery)
        XCTAssertEqual(r.status, 0, r.transcript)
        let rows = try JSON.array(r.stdout)
        for row in rows { XCTAssertEqual(Set(row.keys), Self.availableKeys, "\(row)") }
        let byName = Dictionary(rows.map { ($0["name"] as? String ?? "?", $0) }, uniquingKeysWith: { a, _ in a })
        XCTAssertEqual(Set(byName.keys), ["foo", "llm", "cpu-llama"], "the CUDA build is hidden on a CPU host")
        let foo = try XCTUnwrap(byName["foo"])
        XCTAssertEqual(foo["gallery"] as? String, "t")
        XCTAssertEqual(foo["installed"] as? Bool, true)
        XCTAssertEqual(foo["is_meta"] as? Bool, false)
        XCTAssertEqual(foo["compatible"] as? Bool, true)
        XCTAssertTrue(foo["resolves_to"] is NSNull)
        XCTAssertEqual(foo["uri"] as? String, sandbox.root + "/sources/foo-1.0.0")
        XCTAssertEqual(foo["version"] as? String, "1.0.0")
        XCTAssertEqual(foo["alias"] as? String, "fooalias")
        XCTAssertEqual(foo["tags"] as? [String], ["tts", "cpu"])
        XCTAssertEqual(foo["description"] as? String, "the foo backend")
        let llm = try XCTUnwrap(byName["llm"])
        XCTAssertEqual(llm["is_meta"] as? Bool, true)
        XCTAssertEqual(llm["installed"] as? Bool, false)
        XCTAssertEqual(llm["resolves_to"] as? String, "cpu-llama")
        XCTAssertEqual(llm["uri"] as? String, "")

        let all = try site.run(["list", "--available", "--all", "--json"], gallery: gallery)
        XCTAssertEqual(all.status, 0, all.transcript)
        let cuda = try XCTUnwrap(try JSON.array(all.stdout).first { $0["name"] as? String == "cuda12-llama" }, all.stdout)
        XCTAssertEqual(cuda["compatible"] as? Bool, false)
    }

    func testCheckJSONIsEmptyObjectWhenUpToDateAndLocalAIsMapOtherwise() throws {
        let site = try sandbox.site()
        let v1 = try sandbox.source("foo", "1.0.0"), v2 = try sandbox.source("foo", "2.0.0")
        let bar = try sandbox.source("bar", "1.0.0")
        let old = try sandbox.gallery("old.yaml", [.concrete("foo", v1), .concrete("bar", bar)])
        let new = try sandbox.gallery("new.yaml", [.concrete("foo", v2), .concrete("bar", bar)])
        try site.installCopy(v1, as: "foo", gallery: old)
        try site.installCopy(bar, as: "bar", gallery: old)

        let upToDate = try site.run(["check", "--json"], gallery: old)
        XCTAssertEqual(upToDate.status, 0, upToDate.transcript)
        XCTAssertEqual(upToDate.stdout.trimmingCharacters(in: .whitespacesAndNewlines), "{}")

        let r = try site.run(["check", "--json"], gallery: new)
        XCTAssertEqual(r.status, 0, r.transcript)
        let map = try JSON.object(r.stdout)
        XCTAssertEqual(Set(map.keys), ["foo"])
        let info = try XCTUnwrap(map["foo"] as? [String: Any])
        XCTAssertEqual(Set(info.keys), ["backend_name", "installed_version", "available_version"])
        XCTAssertEqual(info["backend_name"] as? String, "foo")
        XCTAssertEqual(info["installed_version"] as? String, "1.0.0")
        XCTAssertEqual(info["available_version"] as? String, "2.0.0")

        let human = try site.run(["check"], gallery: new)
        XCTAssertEqual(human.status, 0, human.transcript)
        XCTAssertTrue(human.stdout.contains("foo: v1.0.0 → v2.0.0"), human.stdout)
        XCTAssertEqual(site.state(of: "foo", old: v1, new: v2), .old, "check must not change anything")
    }

    /// Checks a `--json` run printed well-formed JSON Lines job events for `operation` on `backend`, ending in `done`.
    private func assertJobEvents(_ r: RunResult, operation: String, backend: String,
                                 file: StaticString = #filePath, line: UInt = #line) throws {
        XCTAssertEqual(r.status, 0, r.transcript, file: file, line: line)
        let events = try JSON.lines(r.stdout, file: file, line: line)
        XCTAssertFalse(events.isEmpty, r.transcript, file: file, line: line)
        for event in events {
            XCTAssertNotNil(event["job"] as? Int, "\(event)", file: file, line: line)
            XCTAssertEqual(event["operation"] as? String, operation, "\(event)", file: file, line: line)
            XCTAssertEqual(event["backend"] as? String, backend, "\(event)", file: file, line: line)
            XCTAssertNotNil(event["event"] as? String, "\(event)", file: file, line: line)
        }
        XCTAssertEqual(events.last?["event"] as? String, "done", r.stdout, file: file, line: line)
        XCTAssertTrue(events.contains { $0["event"] as? String == "phase" }, r.stdout, file: file, line: line)
        let terminal: Set<String> = ["done", "failed", "rolled_back", "cancelled"]
        XCTAssertEqual(events.filter { terminal.contains($0["event"] as? String ?? "") }.count, 1, r.stdout, file: file, line: line)
    }

    /// metadata.json as LocalAI writes it: two-space indent, LocalAI's key order, RFC 3339 time, no trailing newline.
    private func assertMetadataBytes(_ site: Site, _ name: String, alias: String, gallery: GalleryFile, source: SourceTree,
                                     file: StaticString = #filePath, line: UInt = #line) throws {
        let path = site.path(name) + "/metadata.json"
        let text = try String(contentsOfFile: path, encoding: .utf8)
        let stamp = try XCTUnwrap((try JSON.object(text))["installed_at"] as? String, file: file, line: line)
        XCTAssertNotNil(stamp.range(of: #"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(Z|[+-]\d\d:\d\d)$"#, options: .regularExpression),
                        stamp, file: file, line: line)
        var fields: [(String, String)] = []
        if !alias.isEmpty { fields.append(("alias", alias)) }
        fields += [("name", name), ("gallery_url", gallery.url), ("installed_at", stamp), ("version", source.version),
                   ("uri", source.path)]
        XCTAssertEqual(text, goIndentedObject(fields), file: file, line: line)
        var st = stat()
        XCTAssertEqual(stat(path, &st), 0, file: file, line: line)
        XCTAssertEqual(st.st_mode & 0o777, 0o644, file: file, line: line)
    }

    func testInstallReinstallUpgradeUninstallChangeTheDiskAndPrintJobEvents() throws {
        let site = try sandbox.site()
        let foo1 = try sandbox.source("foo", "1.0.0"), foo2 = try sandbox.source("foo", "2.0.0")
        let bar1 = try sandbox.source("bar", "1.0.0"), bar2 = try sandbox.source("bar", "2.0.0")
        let old = try sandbox.gallery("old.yaml", [.concrete("foo", foo1, alias: "fooalias"), .concrete("bar", bar1)])
        let new = try sandbox.gallery("new.yaml", [.concrete("foo", foo2, alias: "fooalias"), .concrete("bar", bar2)])

        // install
        try assertJobEvents(try site.run(["install", "foo", "--json"], gallery: old), operation: "install", backend: "foo")
        XCTAssertEqual(site.state(of: "foo", old: foo1, new: nil), .old)
        XCTAssertEqual(access(site.path("foo") + "/run.sh", X_OK), 0, "run.sh stays executable")
        try assertMetadataBytes(site, "foo", alias: "fooalias", gallery: old, source: foo1)
        let firstMetadata = try String(contentsOfFile: site.path("foo") + "/metadata.json", encoding: .utf8)

        // install without --force leaves a runnable backend alone
        let again = try site.run(["install", "foo"], gallery: new)
        XCTAssertEqual(again.status, 0, again.transcript)
        XCTAssertTrue((again.stdout + again.stderr).contains("already installed"), again.transcript)
        XCTAssertEqual(site.state(of: "foo", old: foo1, new: foo2), .old)
        XCTAssertEqual(try String(contentsOfFile: site.path("foo") + "/metadata.json", encoding: .utf8), firstMetadata)

        // reinstall replaces the whole tree: files only the old version had are gone
        try assertJobEvents(try site.run(["reinstall", "foo", "--json"], gallery: new), operation: "reinstall", backend: "foo")
        XCTAssertEqual(site.state(of: "foo", old: foo1, new: foo2), .new)
        XCTAssertFalse(FileManager.default.fileExists(atPath: site.path("foo") + "/only-1.0.0.txt"))
        try assertMetadataBytes(site, "foo", alias: "fooalias", gallery: new, source: foo2)

        // upgrade
        XCTAssertEqual(try site.run(["install", "bar"], gallery: old).status, 0)
        XCTAssertEqual(site.state(of: "bar", old: bar1, new: bar2), .old)
        try assertJobEvents(try site.run(["upgrade", "bar", "--json"], gallery: new), operation: "upgrade", backend: "bar")
        XCTAssertEqual(site.state(of: "bar", old: bar1, new: bar2), .new)
        try assertMetadataBytes(site, "bar", alias: "", gallery: new, source: bar2)

        // uninstall by alias removes the directory it names
        try assertJobEvents(try site.run(["uninstall", "fooalias", "--json"], gallery: new), operation: "uninstall", backend: "fooalias")
        XCTAssertEqual(site.state(of: "foo", old: foo1, new: foo2), .missing)
        XCTAssertEqual(site.backendEntries(), ["bar"])
        let rows = try JSON.array(try site.run(["list", "--json"], gallery: new).stdout)
        XCTAssertEqual(rows.compactMap { $0["name"] as? String }, ["bar"])
        XCTAssertEqual(site.leftovers(), [])
    }

    func testUpgradeAllUpgradesEveryFlaggedBackendAndContinuesPastAFailure() throws {
        let site = try sandbox.site()
        var old: [String: SourceTree] = [:], new: [String: SourceTree] = [:]
        for name in ["alpha", "beta", "gamma"] {
            old[name] = try sandbox.source(name, "1.0.0")
            // beta's new version is broken: no run.sh.
            new[name] = try sandbox.source(name, "2.0.0", runScript: name != "beta")
            try site.installCopy(old[name]!, as: name)
        }
        let gallery = try sandbox.gallery("new.yaml", ["alpha", "beta", "gamma"].map { .concrete($0, new[$0]!) })
        let check = try JSON.object(try site.run(["check", "--json"], gallery: gallery).stdout)
        XCTAssertEqual(Set(check.keys), ["alpha", "beta", "gamma"])

        let r = try site.run(["upgrade"], gallery: gallery)
        XCTAssertEqual(r.status, 1, r.transcript)
        XCTAssertTrue(r.stdout.contains("2 of 3 upgrades succeeded."), r.transcript)
        XCTAssertTrue(r.stdout.contains("failed: beta"), r.transcript)
        XCTAssertTrue(r.stderr.contains("run.sh"), "the failure says why: \(r.stderr)")
        XCTAssertEqual(site.state(of: "alpha", old: old["alpha"], new: new["alpha"]), .new)
        XCTAssertEqual(site.state(of: "gamma", old: old["gamma"], new: new["gamma"]), .new)
        XCTAssertEqual(site.state(of: "beta", old: old["beta"], new: new["beta"]), .old, "the failed one is intact")
        XCTAssertEqual(site.leftovers(), [])
        XCTAssertEqual(Set(try JSON.object(try site.run(["check", "--json"], gallery: gallery).stdout).keys), ["beta"])
    }

    func testUpgradeOfABackendWithoutUpgradeSaysSo() throws {
        let site = try sandbox.site()
        let v1 = try sandbox.source("foo", "1.0.0")
        let gallery = try sandbox.gallery("same.yaml", [.concrete("foo", v1)])
        try site.installCopy(v1, as: "foo", gallery: gallery)
        let r = try site.run(["upgrade", "foo"], gallery: gallery)
        XCTAssertEqual(r.status, 0, r.transcript)
        XCTAssertTrue(r.stdout.contains("no upgrade available"), r.transcript)
        let all = try site.run(["upgrade"], gallery: gallery)
        XCTAssertEqual(all.status, 0, all.transcript)
        XCTAssertTrue(all.stdout.contains("All backends are up to date."), all.transcript)
        XCTAssertEqual(site.state(of: "foo", old: v1, new: nil), .old)
        XCTAssertEqual(try String(contentsOfFile: site.path("foo") + "/metadata.json", encoding: .utf8).contains("2026-01-02T03:04:05Z"), true,
                       "nothing was rewritten")
    }

    func testUpgradeJSONSaysWhenThereIsNothingToDo() throws {
        let site = try sandbox.site()
        let v1 = try sandbox.source("foo", "1.0.0")
        let gallery = try sandbox.gallery("same-json.yaml", [.concrete("foo", v1)])
        try site.installCopy(v1, as: "foo", gallery: gallery)
        let named = try site.run(["upgrade", "foo", "--json"], gallery: gallery)
        XCTAssertEqual(named.status, 0, named.transcript)
        XCTAssertEqual(named.stdout.trimmingCharacters(in: .whitespacesAndNewlines),
                       "{\"event\":\"skipped\",\"backend\":\"foo\",\"reason\":\"no upgrade available\"}")
        let all = try site.run(["upgrade", "--json"], gallery: gallery)
        XCTAssertEqual(all.stdout.trimmingCharacters(in: .whitespacesAndNewlines), "{\"event\":\"up_to_date\"}")
    }

    func testUpgradeByMetaOrAliasNameUpgradesTheBuildBehindIt() throws {
        let site = try sandbox.site()
        let v1 = try sandbox.source("cpu-foo", "1.0.0")
        let v2 = try sandbox.source("cpu-foo", "2.0.0")
        let meta = GalleryItem(name: "foo", capabilities: [("default", "cpu-foo")])
        let old = try sandbox.gallery("meta-old.yaml", [meta, .concrete("cpu-foo", v1, alias: "foo")])
        XCTAssertEqual(try site.run(["install", "foo"], gallery: old).status, 0)
        let new = try sandbox.gallery("meta-new.yaml", [meta, .concrete("cpu-foo", v2, alias: "foo")])
        let r = try site.run(["upgrade", "foo"], gallery: new)
        XCTAssertEqual(r.status, 0, r.transcript)
        XCTAssertFalse(r.stdout.contains("no upgrade available"), r.transcript)
        XCTAssertEqual(site.state(of: "cpu-foo", old: v1, new: v2), .new)
    }
}
