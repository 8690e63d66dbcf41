import Foundation
import HangarEngine
import HangarFixtures
import XCTest

/// Versioned builds beside the floating tag, against a real docker-registry: `versions` lists them (through
/// pagination), `install --tag` installs exactly one and pins it, and a pinned backend is checked against its tag.
final class VersionPinTests: RegistryTestCase {
    private let repo = "localai/backends"

    /// latest-cpu-foo moves to 1.10.0; older versioned builds stay; another backend's tags share the repository.
    private func publish() throws -> (latest: String, v110: String, v12rc: String, v19: String) {
        let registry = try self.registry
        let v19 = try pusher.push(directory: try site.source("foo-1.9.0"), repository: repo, tag: "v1.9.0-cpu-foo", index: true)
        let v110 = try pusher.push(directory: try site.source("foo-1.10.0"), repository: repo, tag: "v1.10.0-cpu-foo", index: true)
        let rc = try pusher.push(directory: try site.source("foo-1.12.0-rc1"), repository: repo, tag: "v1.12.0-rc1-cpu-foo", index: true)
        _ = try pusher.push(directory: try site.source("foo-1.10.0"), repository: repo, tag: "latest-cpu-foo", index: true)
        _ = try pusher.push(directory: try site.source("bar-2.0.0"), repository: repo, tag: "v2.0.0-cuda12-bar", index: true)
        _ = try pusher.push(directory: try site.source("foo-dev"), repository: repo, tag: "master-cpu-foo", index: true)
        try site.writeGallery([("foo", "oci://\(registry.address)/\(repo):latest-cpu-foo", [])])
        return ("latest-cpu-foo", v110.digest, rc.digest, v19.digest)
    }

    func testVersionsListsTheSuffixsBuildsNewestFirstThroughEveryPage() throws {
        let registry = try self.registry
        _ = try publish()
        let r = try site.hangar(["versions", "foo", "--json"])
        XCTAssertEqual(r.status, 0, r.transcript)
        let listing = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        XCTAssertEqual(listing["tags"] as? [String], ["v1.12.0-rc1-cpu-foo", "v1.10.0-cpu-foo", "v1.9.0-cpu-foo"],
                       "versions sort as numbers, other backends' and floating tags are left out")
        XCTAssertEqual(listing["suffix"] as? String, "cpu-foo")

        // The registry pages a tags list by n and Link: two tags a page still finds every one.
        let client = RegistryClient(http: HTTPClient(), credentials: RegistryCredentials.load(environment: [:]))
        let all = try client.tags(ImageReference.parse("\(registry.address)/\(repo):latest-cpu-foo"), pageSize: 2)
        XCTAssertEqual(Set(all), ["v1.9.0-cpu-foo", "v1.10.0-cpu-foo", "v1.12.0-rc1-cpu-foo", "latest-cpu-foo",
                                   "v2.0.0-cuda12-bar", "master-cpu-foo"])
        XCTAssertEqual(all.count, 6, "no page read twice")
    }

    func testInstallByTagPinsThatBuildAndChecksCompareWithThePinnedTag() throws {
        let published = try publish()
        let install = try site.hangar(["install", "foo", "--tag", "v1.9.0-cpu-foo"])
        XCTAssertEqual(install.status, 0, install.transcript)
        XCTAssertEqual(site.read("foo/VERSION"), "foo-1.9.0\n")
        let metadata = try site.metadata("foo")
        XCTAssertEqual(metadata["version"] as? String, "1.9.0")
        XCTAssertEqual(metadata["digest"] as? String, published.v19)
        XCTAssertTrue((metadata["uri"] as? String ?? "").hasSuffix(":v1.9.0-cpu-foo"))
        XCTAssertTrue(try site.hangar(["hold"]).stdout.contains("pinned to v1.9.0-cpu-foo"))

        // latest-cpu-foo is a newer build, but a pinned backend is compared with its own tag: up to date.
        XCTAssertEqual(try site.hangar(["check", "--json"]).stdout.trimmingCharacters(in: .whitespacesAndNewlines), "{}")
        let upgrade = try site.hangar(["upgrade"])
        XCTAssertEqual(upgrade.status, 0, upgrade.transcript)
        XCTAssertEqual(site.read("foo/VERSION"), "foo-1.9.0\n", "upgrade (all) leaves the pin alone")

        // The pinned tag itself is re-pushed: now the check flags it, against the pinned tag's new digest.
        let moved = try pusher.push(directory: try site.source("foo-1.9.0-rebuilt"), repository: repo, tag: "v1.9.0-cpu-foo", index: true)
        let check = try site.hangar(["check", "--json"])
        let report = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(check.stdout.utf8)) as? [String: Any])
        XCTAssertEqual((report["foo"] as? [String: Any])?["available_digest"] as? String, moved.digest, check.stdout)

        XCTAssertEqual(try site.hangar(["unhold", "foo"]).status, 0)
        XCTAssertEqual(try site.hangar(["upgrade", "foo"]).status, 0)
        XCTAssertEqual(site.read("foo/VERSION"), "foo-1.10.0\n", "released, it follows the gallery's floating tag again")
    }

    func testATagThatDoesNotExistIsOneLineAndChangesNothing() throws {
        _ = try publish()
        XCTAssertEqual(try site.hangar(["install", "foo", "--tag", "v1.9.0-cpu-foo"]).status, 0)
        let before = site.snapshot("foo")
        let missing = try site.hangar(["install", "foo", "--tag", "v9.9.9-cpu-foo"])
        XCTAssertEqual(missing.status, 1, missing.transcript)
        XCTAssertTrue(missing.stderr.contains("tag v9.9.9-cpu-foo does not exist in"), missing.stderr)
        XCTAssertTrue(missing.stderr.contains("hangar versions foo lists the builds"), missing.stderr)
        XCTAssertEqual(site.snapshot("foo"), before, "the pinned build is untouched")
        let bad = try site.hangar(["install", "foo", "--tag", "../etc"])
        XCTAssertEqual(bad.status, 2, bad.transcript)
        XCTAssertTrue(bad.stderr.contains("is not an image tag"), bad.stderr)
        XCTAssertEqual(site.snapshot("foo"), before)
    }

    func testDetailsVersionsListInstallsTheChosenBuildPinnedUnderTmux() throws {
        _ = try publish()
        XCTAssertEqual(try site.hangar(["install", "foo"]).status, 0)
        let command = "cd \(shellQuote(site.root)) && " + envCommand(site.environment(["TERM": "xterm-256color", "LC_ALL": "C.UTF-8"]),
                                                                     [try HangarExecutable.path()])
        let ui = try TmuxSession(command: command, width: 120, height: 35, scratch: site.root)
        defer { _ = try? ui.tmux(["kill-server"]) }
        func wait(_ what: String, _ done: () -> Bool) {
            let deadline = Date().addingTimeInterval(20)
            while !done() && Date() < deadline { usleep(50_000) }
            XCTAssertTrue(done(), "\(what)\n\(ui.screen())")
        }
        wait("the first frame") { ui.screen().contains("foo") }
        try ui.send("Enter")
        wait("Detail") { ui.screen().contains("installed_at") }
        try ui.send("v")
        wait("the versions") { ui.screen().contains("v1.12.0-rc1-cpu-foo") && ui.screen().contains("v1.9.0-cpu-foo") }
        let listed = ui.lines.filter { $0.contains("-cpu-foo") && $0.contains(" v1.") }
        XCTAssertTrue(listed[0].contains("v1.12.0-rc1-cpu-foo") && listed[2].contains("v1.9.0-cpu-foo"), listed.joined(separator: "\n"))
        try ui.send("j")
        try ui.send("j")
        try ui.send("Enter")
        wait("the question") { ui.screen().contains("Install v1.9.0-cpu-foo?") }
        try ui.send("y")
        wait("the pinned build on disk") { self.site.read("foo/VERSION") == "foo-1.9.0\n" }
        wait("the pin on the row") { ui.lines.contains { $0.contains("foo") && $0.contains("pinned to v1.9.0-cpu-foo") } }
        XCTAssertTrue(try site.hangar(["hold", "--json"]).stdout.contains("pinned to v1.9.0-cpu-foo"))
    }
}
