import Foundation
import HangarFixtures
import XCTest

/// `scripts/install.sh` for real, into a temp prefix: the installed binary runs from another directory and finds
/// its themes, the completions parse, the man page comes from the parser, the user unit points at the installed
/// binary, and `--uninstall` leaves the prefix exactly as it was before.
final class InstallScriptTests: XCTestCase {
    private var root = ""
    private let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().path

    override func setUpWithError() throws {
        root = FileManager.default.temporaryDirectory.path + "/hangar-install-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: root + "/elsewhere/backends", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: root + "/home", withIntermediateDirectories: true)
    }

    override func tearDown() { try? FileManager.default.removeItem(atPath: root) }

    /// The binary to install: the release build when it is at least as new as the test's own build (what a user
    /// installs), otherwise the test's build. The script itself cannot build here: `swift test` holds the build
    /// directory for as long as the tests run.
    private func builtBinary() throws -> String {
        let tested = try HangarExecutable.path()
        let release = packageRoot + "/.build/release/hangar"
        func modified(_ path: String) -> Date? {
            (try? FileManager.default.attributesOfItem(atPath: path))?[.modificationDate] as? Date
        }
        if let releaseDate = modified(release), let testedDate = modified(tested), releaseDate >= testedDate { return release }
        return tested
    }

    /// Runs a program with a small, explicit environment (no HANGAR_THEMES_DIR, a private HOME) in `directory`.
    private func run(_ program: String, _ arguments: [String], in directory: String) throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: program)
        process.arguments = arguments
        process.currentDirectoryURL = URL(fileURLWithPath: directory)
        process.environment = ["PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": root + "/home", "LANG": "C.UTF-8",
                               "TERM": "xterm-256color", "XDG_CONFIG_HOME": root + "/home/.config"]
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        return (process.terminationStatus, output)
    }

    /// Every file and directory under `path`, relative to it.
    private func tree(_ path: String) -> [String] {
        ((FileManager.default.enumerator(atPath: path)?.allObjects as? [String]) ?? []).sorted()
    }

    func testInstallRunFromElsewhereAndUninstallLeavesNothing() throws {
        let prefix = root + "/prefix"
        // Something of the user's already in the prefix: it must survive the uninstall, and so must `share`.
        try FileManager.default.createDirectory(atPath: prefix + "/share/doc", withIntermediateDirectories: true)
        try Data("mine\n".utf8).write(to: URL(fileURLWithPath: prefix + "/share/doc/keep.txt"))
        let before = tree(prefix)
        let binary = try builtBinary()
        let script = packageRoot + "/scripts/install.sh"
        let elsewhere = root + "/elsewhere"

        // Twice: a reinstall over an install (here with the other unit) must still uninstall completely.
        let first = try run("/bin/bash", [script, "--prefix", prefix, "--binary", binary, "--systemd", "system"], in: elsewhere)
        XCTAssertEqual(first.status, 0, first.output)
        let systemUnit = prefix + "/lib/systemd/system/hangar.service"
        XCTAssertTrue(first.output.contains("installed \(systemUnit)"), first.output)
        let install = try run("/bin/bash", [script, "--prefix", prefix, "--binary", binary, "--systemd", "user"], in: elsewhere)
        XCTAssertEqual(install.status, 0, install.output)
        let manifest = prefix + "/share/hangar/install-manifest.txt"
        let listed = try String(contentsOfFile: manifest, encoding: .utf8).split(separator: "\n")
            .filter { $0.hasPrefix("file ") }.map { String($0.dropFirst(5)) }
        let expected = ["bin/hangar", "share/hangar/themes/default.yaml", "share/hangar/themes/light.yaml",
                        "share/hangar/themes/high-contrast.yaml", "share/hangar/themes/monochrome.yaml",
                        "share/bash-completion/completions/hangar", "share/zsh/site-functions/_hangar",
                        "share/fish/vendor_completions.d/hangar.fish", "share/man/man1/hangar.1",
                        "share/systemd/user/hangar.service"].map { prefix + "/" + $0 } + [systemUnit]
        for path in expected {
            XCTAssertTrue(listed.contains(path), "\(path) not in the manifest:\n\(listed)")
            XCTAssertTrue(FileManager.default.fileExists(atPath: path), "\(path) not installed")
            if path != systemUnit { XCTAssertTrue(install.output.contains("installed \(path)"), "\(path) not printed:\n\(install.output)") }
        }

        // The installed binary, from another directory.
        let hangar = prefix + "/bin/hangar"
        let version = try run(hangar, ["--version"], in: elsewhere)
        XCTAssertEqual(version.status, 0, version.output)
        XCTAssertTrue(version.output.contains("."), version.output)
        // Themes: an unknown theme's error lists where hangar looked and every theme it found there. On a terminal
        // (script gives it one), since the theme is only read by the UI.
        let ui = "\(hangar) ui --backends-path backends --theme no-such-theme"
        let themes = try run("/usr/bin/script", ["-qec", ui, "/dev/null"], in: elsewhere)
        XCTAssertNotEqual(themes.status, 0, themes.output)
        XCTAssertTrue(themes.output.contains(prefix + "/share/hangar/themes"), themes.output)
        XCTAssertTrue(themes.output.contains("available: default, high-contrast, light, monochrome"), themes.output)

        // Completions parse; the man page is the parser's: every command of `--experimental-dump-help` has a section.
        let bash = try run("/bin/bash", ["-n", prefix + "/share/bash-completion/completions/hangar"], in: elsewhere)
        XCTAssertEqual(bash.status, 0, bash.output)
        for (shell, file) in [("zsh", "share/zsh/site-functions/_hangar"), ("fish", "share/fish/vendor_completions.d/hangar.fish")] {
            guard let path = ["/usr/bin/" + shell, "/bin/" + shell].first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else { continue }
            let check = try run(path, ["-n", prefix + "/" + file], in: elsewhere)
            XCTAssertEqual(check.status, 0, "\(shell) -n: \(check.output)")
        }
        let man = try String(contentsOfFile: prefix + "/share/man/man1/hangar.1", encoding: .utf8)
        XCTAssertTrue(man.hasPrefix(".TH HANGAR 1"), String(man.prefix(200)))
        let dump = try run(hangar, ["--experimental-dump-help"], in: elsewhere)
        let info = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(dump.output.utf8)) as? [String: Any])
        let subcommands = try XCTUnwrap((info["command"] as? [String: Any])?["subcommands"] as? [[String: Any]])
        for name in subcommands.compactMap({ $0["commandName"] as? String }) where name != "help" {
            // roff writes a command's hyphens as `\-`.
            let roffName = name.replacingOccurrences(of: "-", with: "\\-")
            XCTAssertTrue(man.contains(".SS hangar \(roffName)\n"), "no section for \(name) in the man page")
        }
        XCTAssertTrue(man.contains("\\-\\-available"), "list --available missing from the man page")
        if FileManager.default.isExecutableFile(atPath: "/usr/bin/groff") {
            let groff = try run("/usr/bin/groff", ["-man", "-Tutf8", "-ww", "-z", prefix + "/share/man/man1/hangar.1"], in: elsewhere)
            XCTAssertEqual(groff.status, 0, groff.output)
            XCTAssertEqual(groff.output, "", "groff warnings")
        }

        // The user unit runs the installed binary.
        let unitPath = prefix + "/share/systemd/user/hangar.service"
        let unit = try String(contentsOfFile: unitPath, encoding: .utf8)
        XCTAssertTrue(unit.contains("\nExecStart=\(hangar) daemon --interval 6h\n"), unit)
        XCTAssertTrue(unit.contains("\nWantedBy=default.target\n"), unit)
        if FileManager.default.isExecutableFile(atPath: "/usr/bin/systemd-analyze") {
            let verify = try run("/usr/bin/systemd-analyze", ["verify", unitPath], in: elsewhere)
            // In a container without a systemd manager, verify cannot start at all: nothing to judge then.
            if !verify.output.contains("Failed to initialize manager") {
                XCTAssertEqual(verify.status, 0, verify.output)
            }
        }

        let uninstall = try run("/bin/bash", [script, "--prefix", prefix, "--uninstall"], in: elsewhere)
        XCTAssertEqual(uninstall.status, 0, uninstall.output)
        for path in expected { XCTAssertTrue(uninstall.output.contains("removed \(path)"), "\(path) not reported:\n\(uninstall.output)") }
        XCTAssertEqual(tree(prefix), before, "the prefix after --uninstall differs from before the install")
    }
}
