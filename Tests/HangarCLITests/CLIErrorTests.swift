import Foundation
import HangarFixtures
import XCTest

/// Exit codes (0 success, 1 an operation failed, 2 usage or configuration error) and one-line `hangar: ` errors.
final class CLIErrorTests: CLITestCase {

    /// A configuration error: exit 2 and exactly one stderr line starting `hangar: `.
    private func assertConfigurationError(_ r: RunResult, mentions needles: [String] = [],
                                          file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertTrue(r.exitedNormally, r.transcript, file: file, line: line)
        XCTAssertEqual(r.status, 2, r.transcript, file: file, line: line)
        XCTAssertEqual(r.stderrLines.count, 1, "one line: \(r.transcript)", file: file, line: line)
        XCTAssertTrue(r.stderr.hasPrefix("hangar: "), r.transcript, file: file, line: line)
        for needle in needles {
            XCTAssertTrue(r.stderr.contains(needle), "stderr should name \(needle): \(r.stderr)", file: file, line: line)
        }
    }

    func testUnknownSubcommandsFlagsAndArgumentsExitWith2() throws {
        let site = try sandbox.site()
        for args in [["frobnicate"], ["list", "--frobnicate"], ["upgrade", "--nope"], ["check", "extra"],
                     ["settings", "auto-upgrade", "maybe"], ["uninstall"], ["install"]] {
            let r = try site.run(args, gallery: nil)
            XCTAssertTrue(r.exitedNormally, r.transcript)
            XCTAssertEqual(r.status, 2, r.transcript)
            XCTAssertFalse(r.stderr.isEmpty, r.transcript)
            XCTAssertEqual(r.stdout, "", r.transcript)
        }
    }

    func testMissingBackendsDirectoryIsAConfigurationErrorNamingThePathAndTheFlag() throws {
        let site = try sandbox.site()
        let missing = site.root + "/no-such-backends"
        for args in [["list"], ["check", "--json"], ["upgrade"], ["recover"], ["install", "foo"]] {
            let r = try site.run(args, gallery: nil, env: ["LOCALAI_BACKENDS_PATH": missing])
            assertConfigurationError(r, mentions: [missing, "--backends-path"])
        }
        let flag = try site.run(["list", "--backends-path", missing + "-flag"], gallery: nil)
        assertConfigurationError(flag, mentions: [missing + "-flag", "--backends-path"])
        XCTAssertFalse(FileManager.default.fileExists(atPath: missing), "hangar must not create a mistyped backends path")
    }

    func testStrictIntegrityRefusesAnUnverifiableTarballUnderEitherFlagNameBeforeAnyDownload() throws {
        let site = try sandbox.site()
        // Port 9 (discard) on loopback: if hangar tried to download, the error would be a connection failure instead.
        let gallery = try sandbox.gallery("strict.yaml", [GalleryItem(name: "foo", uri: "http://127.0.0.1:9/foo.tar.gz",
                                                                      version: "1.0.0")])
        for flag in ["--require-backend-integrity", "--require-integrity"] {
            let r = try site.run(["install", "foo", flag], gallery: gallery)
            XCTAssertEqual(r.status, 1, r.transcript)
            XCTAssertTrue(r.stderr.contains("strict integrity: backend \"foo\" has no SHA256"), r.transcript)
            XCTAssertFalse(FileManager.default.fileExists(atPath: site.backends + "/foo"), r.transcript)
        }
    }

    func testMalformedGalleriesJSONIsAConfigurationError() throws {
        let site = try sandbox.site()
        assertConfigurationError(try site.run(["list", "--available", "--backend-galleries", "[{"], gallery: nil),
                                 mentions: ["--backend-galleries"])
        assertConfigurationError(try site.run(["check"], gallery: nil, env: ["LOCALAI_BACKEND_GALLERIES": "not json"]),
                                 mentions: ["LOCALAI_BACKEND_GALLERIES"])
    }

    func testUnsafeNamesAreRefusedAndNothingIsCreatedOutsideTheBackendsDirectory() throws {
        let site = try sandbox.site()
        let foo = try sandbox.source("foo", "1.0.0")
        // A gallery trying to smuggle a path through a name, directly and through a meta's capability map.
        let gallery = try sandbox.gallery("evil.yaml", [
            .concrete("foo", foo),
            GalleryItem(name: "../escape", uri: foo.path, version: "1.0.0"),
            GalleryItem(name: "sneaky", capabilities: [("default", "../escape")]),
        ])
        let before = TreeSnapshot.take(site.root)
        let sandboxBefore = Set(try FileManager.default.contentsOfDirectory(atPath: sandbox.root))
        for args in [["install", "../x"], ["install", "../../x"], ["install", "t@../x"], ["reinstall", ".."],
                     ["uninstall", "../x"], ["install", "a/b"], ["install", "../escape"]] {
            assertConfigurationError(try site.run(args, gallery: gallery), mentions: ["name"])
        }
        let sneaky = try site.run(["install", "sneaky"], gallery: gallery)
        XCTAssertEqual(sneaky.status, 1, sneaky.transcript)
        XCTAssertTrue(sneaky.stderr.contains("refused") || sneaky.stderr.contains("name"), sneaky.transcript)

        XCTAssertEqual(Set(try FileManager.default.contentsOfDirectory(atPath: sandbox.root)), sandboxBefore)
        XCTAssertFalse(FileManager.default.fileExists(atPath: site.root + "/x"))
        XCTAssertFalse(FileManager.default.fileExists(atPath: site.root + "/escape"))
        var after = TreeSnapshot.take(site.root) ?? TreeSnapshot()
        // Only hangar's private directory inside the backends dir may have appeared (locks, staging of the refused meta).
        after.entries = after.entries.filter { !$0.key.hasPrefix("backends/.hangar") && !$0.key.hasPrefix("cache") }
        XCTAssertEqual(after, before, (before.map { after.differences(from: $0) }) ?? "")
        XCTAssertEqual(site.backendEntries(), [])
    }

    /// `upgrade ../x` must be refused like every other command, not answered with "no upgrade available".
    func testUpgradeRefusesAnUnsafeName() throws {
        let site = try sandbox.site()
        let foo = try sandbox.source("foo", "1.0.0")
        let gallery = try sandbox.gallery("g.yaml", [.concrete("foo", foo)])
        for args in [["upgrade", "../x"], ["upgrade", "foo", "a/b"]] {
            assertConfigurationError(try site.run(args, gallery: gallery), mentions: ["name"])
        }
    }

    func testUnknownBackendsFailWithExit1AndUninstallContinuesPastThem() throws {
        let site = try sandbox.site()
        let foo = try sandbox.source("foo", "1.0.0")
        let gallery = try sandbox.gallery("g.yaml", [.concrete("foo", foo)])
        for args in [["install", "nope"], ["reinstall", "nope"], ["uninstall", "nope"]] {
            let r = try site.run(args, gallery: gallery)
            XCTAssertTrue(r.exitedNormally, r.transcript)
            XCTAssertEqual(r.status, 1, r.transcript)
            XCTAssertTrue(r.stderr.contains("nope"), r.transcript)
        }
        let json = try site.run(["install", "nope", "--json"], gallery: gallery)
        XCTAssertEqual(json.status, 1, json.transcript)
        XCTAssertEqual(try JSON.lines(json.stdout).last?["event"] as? String, "failed", json.stdout)

        try site.installCopy(foo, as: "foo", gallery: gallery)
        let r = try site.run(["uninstall", "nope", "foo"], gallery: gallery)
        XCTAssertEqual(r.status, 1, r.transcript)
        XCTAssertEqual(site.state(of: "foo", old: foo, new: nil), .missing, "foo is removed although nope failed first")
    }

    func testMalformedGalleryYAMLErrorNamesTheLine() throws {
        let site = try sandbox.site()
        let path = sandbox.root + "/galleries/broken.yaml"
        try writeFile(path, "---\n- name: ok\n  uri: /nowhere\n- name: [unclosed\n  uri: /x\n", mode: 0o644)
        let gallery = GalleryFile(path: path, name: "t")
        let listing = try site.run(["list", "--available"], gallery: gallery)
        XCTAssertTrue(listing.exitedNormally, listing.transcript)
        XCTAssertNotNil(listing.stderr.range(of: #"line [45]\b"#, options: .regularExpression), listing.transcript)
        let install = try site.run(["install", "ok"], gallery: gallery)
        XCTAssertEqual(install.status, 1, install.transcript)
        XCTAssertNotNil(install.stderr.range(of: #"line [45]\b"#, options: .regularExpression), install.transcript)
    }

    func testAnUnsafeNameAmongSeveralUninstallsNothing() throws {
        let site = try sandbox.site()
        let v1 = try sandbox.source("foo", "1.0.0")
        let gallery = try sandbox.gallery("several.yaml", [.concrete("foo", v1), .concrete("bar", v1)])
        try site.installCopy(v1, as: "foo", gallery: gallery)
        try site.installCopy(v1, as: "bar", gallery: gallery)
        let r = try site.run(["uninstall", "foo", "bar", "../x"], gallery: gallery)
        assertConfigurationError(r, mentions: ["../x"])
        XCTAssertEqual(site.state(of: "foo", old: v1, new: nil), .old)
        XCTAssertEqual(site.state(of: "bar", old: v1, new: nil), .old)
    }

    func testAMalformedSettingsFileIsAWarningNotABlockForListAndRecover() throws {
        let site = try sandbox.site()
        try site.installation.runtimeSettings("{\"auto_upgrade_backends\": tru")
        for args in [["list"], ["recover"]] {
            // No gallery variable: hangar reads backend_galleries from the (broken) file, as LocalAI does.
            let r = try site.run(args, gallery: nil, env: ["LOCALAI_BACKEND_GALLERIES": Site.unset])
            XCTAssertEqual(r.status, 0, r.transcript)
            XCTAssertTrue(r.stderr.contains("runtime_settings.json"), r.transcript)
        }
        XCTAssertEqual(try site.run(["settings"], gallery: nil).status, 2, "settings itself refuses the broken file")
    }
}
