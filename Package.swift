// swift-tools-version:6.0
import PackageDescription

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
        // libyaml from Debian's libyaml-dev. Not named "CYaml": Yams owns that module name.
        .systemLibrary(name: "CLibYAML", pkgConfig: "yaml-0.1", providers: [.apt(["libyaml-dev"])]),
        // Linux calls Swift's Glibc module does not expose (renameat2 sits behind _GNU_SOURCE).
        .target(name: "CHangarSystem"),

        // libyaml wrapped into a small node tree with anchors, aliases and merge keys.
        .target(name: "HangarYAML", dependencies: ["CLibYAML"]),
        // The engine: galleries, system state, installed backends, operations, jobs, settings. No UI.
        .target(name: "HangarEngine", dependencies: ["HangarYAML", "CHangarSystem"]),
        // The command line: argument parsing and output formatting only.
        .executableTarget(name: "hangar", dependencies: [
            "HangarEngine",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
        .executableTarget(name: "hangar-bench", dependencies: ["HangarEngine", "HangarYAML", "CLibYAML"]),

        .testTarget(name: "HangarYAMLTests", dependencies: ["HangarYAML"]),
        .testTarget(name: "HangarEngineTests", dependencies: ["HangarEngine", "HangarYAML"]),
        // Runs the real `hangar` binary; depends on it so `swift build --build-tests` builds it.
        .testTarget(name: "HangarCLITests", dependencies: ["hangar", "HangarEngine"]),
    ],
    swiftLanguageModes: [.v6]
)
