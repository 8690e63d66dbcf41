import Foundation
import HangarFixtures
import XCTest

/// The real binary maps libcurl, libarchive, libcrypto and their dependencies only when it uses them: `--version`,
/// `list` and `list --available` on a local gallery never do; a network fetch or a tarball install does. Read from
/// the process's own `/proc/self/maps`, which `HANGAR_DEBUG_MAPS_FILE` copies out at exit.
final class BinaryFootprintTests: CLITestCase {
    /// Shared libraries that only the network, archive and hashing code needs (libcurl's and libarchive's
    /// dependency trees on Debian included).
    static let heavyLibraries = ["libcurl", "libarchive", "libcrypto", "libssl", "libnghttp2", "libxml2", "liblzma",
                                 "libzstd", "libbz2", "liblz4", "libgssapi", "libkrb5", "libk5crypto", "libldap",
                                 "libssh2", "libpsl", "libidn2", "libbrotli", "librtmp", "libnettle", "libacl"]

    /// The file names of the shared objects a run of `arguments` had mapped when it exited.
    private func mappedLibraries(_ site: Site, _ arguments: [String], gallery: GalleryFile?,
                                 env extra: [String: String] = [:]) throws -> (run: RunResult, libraries: Set<String>) {
        let mapsFile = site.root + "/maps-\(UUID().uuidString.prefix(6))"
        var env = extra
        env["HANGAR_DEBUG_MAPS_FILE"] = mapsFile
        let run = try site.run(arguments, gallery: gallery, env: env)
        let maps = try String(contentsOfFile: mapsFile, encoding: .utf8)
        var libraries = Set<String>()
        for line in maps.split(separator: "\n") {
            guard let path = line.split(separator: " ", omittingEmptySubsequences: true).last, path.hasPrefix("/"),
                  path.contains(".so") else { continue }
            libraries.insert(String(path.split(separator: "/").last!))
        }
        // The dump is real: the libraries every hangar links are in it.
        XCTAssertTrue(libraries.contains { $0.hasPrefix("libc.so") }, "no libc in the maps of \(run.transcript)")
        XCTAssertTrue(libraries.contains { $0.hasPrefix("libyaml") }, "no libyaml in the maps of \(run.transcript)")
        return (run, libraries)
    }

    private func heavy(_ libraries: Set<String>) -> [String] {
        libraries.filter { name in Self.heavyLibraries.contains { name.hasPrefix($0 + ".") || name.hasPrefix($0 + "-") } }.sorted()
    }

    func testVersionAndListNeverLoadNetworkOrArchiveLibraries() throws {
        let site = try sandbox.site()
        let source = try sandbox.source("piper", "1.0.0")
        try site.installCopy(source, as: "piper")
        let realGallery = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("shared/fixtures/localai-backend-index.yaml").path
        let gallery = FileManager.default.fileExists(atPath: realGallery)
            ? GalleryFile(path: realGallery, name: "localai")
            : try sandbox.gallery("g.yaml", [.concrete("piper", source)])

        for arguments in [["--version"], ["list"], ["list", "--json"], ["list", "--available", "--json"], ["check"]] {
            let (run, libraries) = try mappedLibraries(site, arguments, gallery: gallery)
            XCTAssertEqual(run.status, 0, run.transcript)
            XCTAssertEqual(heavy(libraries), [], "hangar \(arguments.joined(separator: " ")) mapped them")
        }
    }

    func testTarballInstallLoadsArchiveAndCrypto() throws {
        let site = try sandbox.site()
        let source = try sandbox.source("bark", "0.3.0")
        let tarball = sandbox.root + "/galleries/bark-0.3.0.tar.gz"
        let tar = Process()
        tar.executableURL = URL(fileURLWithPath: "/bin/tar")
        tar.arguments = ["-czf", tarball, "-C", source.path, "."]
        try tar.run()
        tar.waitUntilExit()
        XCTAssertEqual(tar.terminationStatus, 0)
        let gallery = try sandbox.gallery("g.yaml", [GalleryItem(name: "bark", uri: tarball, version: "0.3.0")])

        let (run, libraries) = try mappedLibraries(site, ["install", "bark"], gallery: gallery)
        XCTAssertEqual(run.status, 0, run.transcript)
        XCTAssertTrue(FileManager.default.fileExists(atPath: site.path("bark") + "/run.sh"), run.transcript)
        let loaded = heavy(libraries)
        XCTAssertTrue(loaded.contains { $0.hasPrefix("libarchive.") }, "no libarchive after an install: \(loaded)")
        XCTAssertTrue(loaded.contains { $0.hasPrefix("libcrypto.") }, "no libcrypto after an install: \(loaded)")
        XCTAssertFalse(loaded.contains { $0.hasPrefix("libcurl.") }, "a local tarball needs no libcurl: \(loaded)")
    }

    func testFirstNetworkUseLoadsCurl() throws {
        let site = try sandbox.site()
        // Port 1 on loopback: nothing listens, the fetch fails fast, but libcurl had to be loaded to try.
        let env = ["LOCALAI_BACKEND_GALLERIES": #"[{"name":"net","url":"http://127.0.0.1:1/index.yaml"}]"#,
                   "HANGAR_RETRY_BACKOFF": "0.01,0.01"]
        let (run, libraries) = try mappedLibraries(site, ["list", "--available"], gallery: nil, env: env)
        XCTAssertTrue(run.exitedNormally, run.transcript)
        XCTAssertTrue(run.stderr.contains("127.0.0.1:1"), run.transcript)
        XCTAssertTrue(heavy(libraries).contains { $0.hasPrefix("libcurl.") }, "no libcurl after a fetch: \(heavy(libraries))")
    }

    /// A library that cannot be loaded is never a crash: where the Swift code can, it is that operation's error
    /// (libcurl, libarchive); elsewhere (libcrypto under a hash) one line and status 2. Both name the library and
    /// the Debian package that provides it.
    func testUnloadableLibraryIsAnErrorNamingItsPackage() throws {
        let site = try sandbox.site()
        let check = try site.run(["check"], gallery: nil, env: [
            "LOCALAI_BACKEND_GALLERIES": #"[{"name":"net","url":"http://127.0.0.1:1/index.yaml"}]"#,
            "HANGAR_RETRY_BACKOFF": "0.01,0.01",
            "HANGAR_TEST_UNLOADABLE_LIBRARY": "curl",
        ])
        XCTAssertTrue(check.exitedNormally, check.transcript)
        XCTAssertEqual(check.status, 1, check.transcript)
        XCTAssertTrue(check.stderr.contains("cannot load libcurl.so.4") && check.stderr.contains("libcurl4"), check.transcript)

        let source = try sandbox.source("bark", "0.3.0")
        let tarball = sandbox.root + "/galleries/bark-0.3.0.tar.gz"
        let tar = Process()
        tar.executableURL = URL(fileURLWithPath: "/bin/tar")
        tar.arguments = ["-czf", tarball, "-C", source.path, "."]
        try tar.run()
        tar.waitUntilExit()
        let gallery = try sandbox.gallery("g.yaml", [GalleryItem(name: "bark", uri: tarball, version: "0.3.0")])

        let archive = try site.run(["install", "bark"], gallery: gallery, env: ["HANGAR_TEST_UNLOADABLE_LIBRARY": "archive"])
        XCTAssertTrue(archive.exitedNormally, archive.transcript)
        XCTAssertEqual(archive.status, 1, archive.transcript)
        XCTAssertTrue(archive.stderr.contains("cannot load libarchive.so.13") && archive.stderr.contains("libarchive13"), archive.transcript)
        XCTAssertFalse(FileManager.default.fileExists(atPath: site.path("bark")), archive.transcript)

        let crypto = try site.run(["install", "bark"], gallery: gallery, env: ["HANGAR_TEST_UNLOADABLE_LIBRARY": "crypto"])
        XCTAssertTrue(crypto.exitedNormally, crypto.transcript)
        XCTAssertEqual(crypto.status, 2, crypto.transcript)
        // One line of its own (progress lines from the job's thread may come before or after it).
        XCTAssertEqual(crypto.stderrLines.filter { $0.hasPrefix("hangar: cannot load libcrypto.so.3") && $0.contains("libssl3") }.count,
                       1, crypto.transcript)
        XCTAssertFalse(FileManager.default.fileExists(atPath: site.path("bark")), crypto.transcript)
    }
}
