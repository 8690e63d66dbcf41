// swift-tools-version:6.0
import PackageDescription
import Foundation

let package = Package(
    name: "hangar",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "hangar", targets: ["hangar"]),
        .library(name: "HangarEngine", targets: ["HangarEngine"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.5.0"),
    ],
    targets: [
        // C libraries from Debian's -dev packages, each behind a tiny module map.
        // libyaml. Not named "CYaml": Yams owns that module name.
        .systemLibrary(name: "CLibYAML", pkgConfig: "yaml-0.1", providers: [.apt(["libyaml-dev"])]),
        // libcurl, libarchive and libcrypto: headers only (from libcurl4-openssl-dev, libarchive-dev, libssl-dev).
        // Nothing links them: CLazyLibraries loads each on first use, so commands without network or archives
        // (list, --version, the UI until it downloads) never map them or their dozens of dependencies.
        // libcurl: the one HTTP client (galleries, registries, tarballs).
        .systemLibrary(name: "CCurl"),
        // libarchive: safe extraction of layers and tarballs.
        .systemLibrary(name: "CLibArchive"),
        // OpenSSL's libcrypto (pulled in by libcurl4-openssl-dev): SHA-256 at disk speed.
        .systemLibrary(name: "CLibCrypto"),
        // The functions hangar calls in those three, as trampolines that dlopen() the library on first use.
        .target(name: "CLazyLibraries"),
        // ncursesw. No pkgConfig: its only cflags are -D flags SwiftPM rejects; the shim sets them instead.
        .systemLibrary(name: "CNCursesW", providers: [.apt(["libncurses-dev"])]),
        // Linux calls Swift's Glibc module does not expose (renameat2 sits behind _GNU_SOURCE).
        .target(name: "CHangarSystem"),

        // libyaml wrapped into a small node tree with anchors, aliases and merge keys.
        .target(name: "HangarYAML", dependencies: ["CLibYAML"]),
        // The engine: galleries, system state, registry, installed backends, operations, jobs, settings. No UI.
        .target(name: "HangarEngine", dependencies: ["HangarYAML", "CHangarSystem", "CCurl", "CLibArchive", "CLibCrypto", "CLazyLibraries"]),
        // The terminal UI: widgets on a canvas, screens, themes; ncurses is one canvas. Renders engine state only.
        .target(name: "HangarTUI", dependencies: ["HangarEngine", "HangarYAML", "CNCursesW"]),
        // The command line: argument parsing and output formatting only.
        .executableTarget(name: "hangar", dependencies: [
            "HangarEngine", "HangarTUI",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ], linkerSettings: packedRelocations),
        // Real servers on loopback (docker-registry, HTTP with faults, proxies) shared by tests and benchmarks.
        .target(name: "HangarFixtures", dependencies: ["HangarEngine"]),
        .executableTarget(name: "hangar-bench", dependencies: ["HangarEngine", "HangarTUI", "HangarFixtures", "HangarYAML", "CLibYAML"]),

        .testTarget(name: "HangarYAMLTests", dependencies: ["HangarYAML"]),
        .testTarget(name: "HangarEngineTests", dependencies: ["HangarEngine", "HangarYAML", "HangarFixtures"]),
        // Against a real docker-registry and loopback HTTP servers; depends on `hangar` to drive the real binary too.
        .testTarget(name: "HangarNetworkTests", dependencies: ["hangar", "HangarEngine", "HangarFixtures"]),
        // Widgets and screens on the in-memory canvas.
        .testTarget(name: "HangarTUITests", dependencies: ["HangarTUI", "HangarEngine", "HangarFixtures"]),
        // Runs the real `hangar` binary; depends on it so `swift build --build-tests` builds it.
        .testTarget(name: "HangarCLITests", dependencies: ["hangar", "HangarEngine", "HangarFixtures"]),
        // The real binary under tmux.
        .testTarget(name: "HangarTUIEndToEndTests", dependencies: ["hangar", "HangarEngine", "HangarFixtures"]),
    ],
    swiftLanguageModes: [.v6]
)

/// Packed relative relocations (DT_RELR, glibc ≥ 2.36) for the release binary: the static Swift runtime brings about
/// 78,000 of them, which as RELA are 1.9 MB the loader reads at every start (and keeps resident); packed they are
/// 15 KiB. gold cannot pack them; the toolchain's lld can (and links in a second), so it is used when present.
var packedRelocations: [LinkerSetting] {
    let path = ProcessInfo.processInfo.environment["PATH"] ?? ""
    let hasLLD = path.split(separator: ":").contains { FileManager.default.isExecutableFile(atPath: "\($0)/ld.lld") }
    guard hasLLD else { return [] }
    return [.unsafeFlags(["-use-ld=lld", "-Xlinker", "-z", "-Xlinker", "pack-relative-relocs"], .when(configuration: .release))]
}
