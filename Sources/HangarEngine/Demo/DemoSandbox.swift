import Foundation

/// The built-in demo: a self-contained LocalAI installation on disk (backends, system backends, config dir and a
/// local gallery of fourteen small generated backends, directories and sha256-checked `.tar.gz` tarballs) with
/// upgrades waiting, a meta, aliases, a system backend, an unversioned install, entries to install from the catalog,
/// a build for another capability, a development build, and one backend whose new version is broken, so upgrading
/// it shows a rollback. Needs no network.
public struct DemoSandbox: Sendable {
    public let directory: String
    /// Bytes per "MiB" of demo payload: 1 MiB for the real demo; tests pass a small unit so a sandbox builds at once.
    public let payloadUnit: Int

    public init(directory: String, payloadUnit: Int = 1 << 20) {
        self.directory = normalizePath(directory)
        self.payloadUnit = max(1, payloadUnit)
    }

    public var backendsPath: String { directory + "/backends" }
    public var systemBackendsPath: String { directory + "/system-backends" }
    public var configDir: String { directory + "/configuration" }
    public var galleryPath: String { directory + "/gallery/index.yaml" }
    /// Shell lines that point hangar (and LocalAI) at the sandbox.
    public var environmentFile: String { directory + "/env" }
    public var galleriesJSON: String { "[{\"name\":\"demo\",\"url\":\"file://\(galleryPath)\"}]" }

    /// The environment a hangar process needs to work on the sandbox.
    public var environment: [String: String] {
        ["LOCALAI_BACKENDS_PATH": backendsPath, "LOCALAI_BACKENDS_SYSTEM_PATH": systemBackendsPath,
         "LOCALAI_CONFIG_DIR": configDir, "LOCALAI_BACKEND_GALLERIES": galleriesJSON,
         "LOCALAI_FORCE_META_BACKEND_CAPABILITY": "default", "HANGAR_COPY_LIMIT": "8388608"]
    }

    /// Whether a sandbox was already built here.
    public var exists: Bool { FileManager.default.fileExists(atPath: environmentFile) }

    /// One generated backend: run.sh (unless broken), VERSION and an incompressible payload, as a directory or a tarball.
    struct Build {
        enum Packaging { case directory, tarball }
        var name: String
        var version: String
        var payloadMiB: Int = 1
        var hasRunScript = true
        var packaging: Packaging = .directory
        var directoryName: String { "\(name)-\(version)" }
        var sourceName: String { packaging == .tarball ? directoryName + ".tar.gz" : directoryName }
    }

    /// What is installed before the gallery moves on: old versions, installed the way a user would have.
    static let installedBuilds: [Build] = [
        Build(name: "cpu-llama-cpp", version: "1.3.0", payloadMiB: 4),
        Build(name: "cpu-whisper", version: "2.1.0"),
        Build(name: "piper", version: "0.8.0", packaging: .tarball),
        Build(name: "kokoro", version: "1.0.0"),
        Build(name: "stablediffusion-ggml", version: "2.9.0", payloadMiB: 6),
        Build(name: "silero-vad", version: "5.0"),
    ]
    /// The gallery as it is now: upgrades for most of the above (kokoro's is broken: no run.sh), and more to install.
    static let galleryBuilds: [Build] = [
        Build(name: "cpu-llama-cpp", version: "1.4.0", payloadMiB: 24, packaging: .tarball),
        Build(name: "cpu-llama-cpp-development", version: "1.5.0-rc1", payloadMiB: 24),
        Build(name: "cuda12-llama-cpp", version: "1.4.0"),
        Build(name: "cpu-whisper", version: "2.1.0"),
        Build(name: "piper", version: "0.9.0", payloadMiB: 12, packaging: .tarball),
        Build(name: "kokoro", version: "1.1.0", payloadMiB: 8, hasRunScript: false, packaging: .tarball),
        Build(name: "stablediffusion-ggml", version: "3.0.0", payloadMiB: 32),
        Build(name: "silero-vad", version: "5.0"),
        Build(name: "bark", version: "0.3.0", payloadMiB: 8, packaging: .tarball),
        Build(name: "rerankers", version: "0.2.1", payloadMiB: 4),
        Build(name: "faster-whisper", version: "1.0.3", payloadMiB: 6, packaging: .tarball),
        Build(name: "coqui", version: "0.22.0", payloadMiB: 6),
    ]

    /// The engine hangar runs on the sandbox (`Engine.live`), throttled by `HANGAR_COPY_LIMIT` when `throttled`.
    /// `base` is the environment the sandbox's variables are laid over. Nothing is recovered: the caller decides.
    public func engine(base: [String: String] = [:], throttled: Bool = true, origin: String = "ui") throws -> Engine {
        var env = base.merging(environment) { $1 }
        if !throttled { env["HANGAR_COPY_LIMIT"] = nil }
        let configuration = try HangarConfiguration.resolve(flags: .init(), environment: env, workingDirectory: directory)
        return Engine.live(configuration: configuration, recover: false, origin: origin).engine
    }

    /// Builds the sandbox (from scratch when `reset` or when absent). Installs the old builds through a real engine.
    public func create(reset: Bool) throws {
        let fm = FileManager.default
        if reset || !exists {
            if fm.fileExists(atPath: directory) {
                // Only ever remove a directory that is recognisably a hangar demo.
                guard exists || ((try? fm.contentsOfDirectory(atPath: directory))?.isEmpty ?? true) else {
                    throw HangarError.configuration(
                        "\(directory) exists and is not a hangar demo: choose another --dir or remove it")
                }
                try fm.removeItem(atPath: directory)
            }
        } else {
            return
        }
        for dir in [backendsPath, systemBackendsPath, configDir, directory + "/gallery", directory + "/sources"] {
            try fm.createDirectory(atPath: dir, withIntermediateDirectories: true)
        }
        var digests: [String: String] = [:]
        for build in Self.installedBuilds + Self.galleryBuilds {
            digests[build.sourceName] = try writeBuild(build)
        }
        // A system backend: read-only for LocalAI and hangar.
        try fm.createDirectory(atPath: systemBackendsPath + "/system-vllm", withIntermediateDirectories: true)
        try writeRunScript(at: systemBackendsPath + "/system-vllm/run.sh", name: "system-vllm", version: "system")

        // Install the old versions through the engine, from the gallery as it was, exactly as a user would have.
        try galleryYAML(Self.installedBuilds, digests: digests).write(toFile: galleryPath, atomically: true, encoding: .utf8)
        let engine = try engine(throttled: false, origin: "demo set-up")
        var ids: [JobID] = []
        for name in ["llama-cpp", "cpu-whisper", "piper", "kokoro", "stablediffusion-ggml", "silero-vad"] {
            ids.append(try engine.install(name, force: false))
        }
        for id in ids {
            switch engine.jobs.wait(id) {
            case .failed(let error), .rolledBack(let error, _): throw error
            default: break
            }
        }
        // An installed backend recorded before versions existed: upgrade detection must still flag it.
        try BackendMetadata(name: "silero-vad", installedAt: RFC3339.localNow())
            .encoded().write(toFile: backendsPath + "/silero-vad/metadata.json", atomically: true, encoding: .utf8)
        // The demo starts with an empty operation history: the installs above are its set-up, not the user's.
        engine.history.flush()
        try? fm.removeItem(atPath: backendsPath + "/.hangar/" + OperationHistory.fileName)

        // Now the gallery moves on: new versions are published.
        try galleryYAML(Self.galleryBuilds, digests: digests).write(toFile: galleryPath, atomically: true, encoding: .utf8)
        try RuntimeSettingsFile(configDir: configDir).update(["auto_upgrade_backends": .bool(false)])
        let lines = environment.keys.sorted().map { "export \($0)='\(environment[$0]!)'" }
        try (lines.joined(separator: "\n") + "\n").write(toFile: environmentFile, atomically: true, encoding: .utf8)
    }

    /// Writes one build under `sources/`; returns the tarball's sha256 (empty for a directory).
    private func writeBuild(_ build: Build) throws -> String {
        let sources = directory + "/sources/"
        let dir = sources + (build.packaging == .tarball ? ".pack/" : "") + build.directoryName
        let fm = FileManager.default
        try fm.createDirectory(atPath: dir + "/lib", withIntermediateDirectories: true)
        if build.hasRunScript {
            try writeRunScript(at: dir + "/run.sh", name: build.name, version: build.version)
        }
        try "\(build.name) \(build.version)\n".write(toFile: dir + "/VERSION", atomically: true, encoding: .utf8)
        try writePayload(dir + "/lib/model-runtime.bin", units: build.payloadMiB, seed: build.directoryName)
        guard build.packaging == .tarball else { return "" }
        let digest = try DemoTarball.write(directory: dir, to: sources + build.sourceName)
        try fm.removeItem(atPath: sources + ".pack")
        return digest
    }

    /// Pseudo-random bytes (xorshift, seeded by the build): incompressible, so a throttled tarball download takes the
    /// time its size says, and different per build, so an upgrade really changes the files.
    private func writePayload(_ path: String, units: Int, seed: String) throws {
        guard FileManager.default.createFile(atPath: path, contents: nil),
              let handle = FileHandle(forWritingAtPath: path) else {
            throw HangarError.operation("cannot write the demo payload \(path): check free space and permissions")
        }
        defer { try? handle.close() }
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        for byte in seed.utf8 { state = (state ^ UInt64(byte)) &* 0x1000_0000_01B3 }
        var words = [UInt64](repeating: 0, count: max(1, payloadUnit / 8))
        for _ in 0..<units {
            for i in words.indices {
                state ^= state << 13
                state ^= state >> 7
                state ^= state << 17
                words[i] = state
            }
            try handle.write(contentsOf: words.withUnsafeBytes { Data($0) })
        }
    }

    private func writeRunScript(at path: String, name: String, version: String) throws {
        let script = "#!/bin/sh\n# demo backend \(name) \(version): a real LocalAI backend would serve gRPC on --addr\necho \"\(name) \(version) $*\"\n"
        try script.write(toFile: path, atomically: true, encoding: .utf8)
        chmod(path, 0o755)
    }

    /// The gallery YAML, written the way LocalAI's index is: a meta as an anchor, concretes merging it.
    private func galleryYAML(_ builds: [Build], digests: [String: String]) -> String {
        var yaml = """
            ---
            ## demo gallery generated by `hangar demo`
            - &llamacpp
              name: "llama-cpp"
              alias: "llama-cpp"
              license: mit
              description: |
                LLM inference in C/C++ (demo build)
              tags: [text-to-text, LLM, CPU, GPU, CUDA]
              capabilities:
                default: "cpu-llama-cpp"
                nvidia: "cuda12-llama-cpp"
            - !!merge <<: *llamacpp
              name: "llama-cpp-development"
              capabilities:
                default: "cpu-llama-cpp-development"

            """
        for build in builds {
            let source = directory + "/sources/" + build.sourceName
            if build.name.contains("llama-cpp") {
                yaml += "- !!merge <<: *llamacpp\n  name: \"\(build.name)\"\n"
            } else {
                yaml += "- name: \"\(build.name)\"\n  alias: \"\(build.name.replacingOccurrences(of: "cpu-", with: ""))\"\n"
                yaml += "  license: apache-2.0\n  description: \"\(build.name) (demo build, \(build.packaging == .tarball ? "tar.gz" : "directory"))\"\n"
                yaml += "  tags: [demo]\n"
            }
            yaml += "  uri: \"\(source)\"\n  version: \"\(build.version)\"\n"
            if let digest = digests[build.sourceName], !digest.isEmpty { yaml += "  sha256: \"\(digest)\"\n" }
        }
        return yaml
    }
}
