import Foundation

/// The built-in demo: a self-contained LocalAI installation on disk (backends, system backends, config dir and a
/// local gallery of small generated backends) with upgrades waiting, a meta, an alias, a system backend and one
/// backend whose new version is broken, so upgrading it shows a rollback. Needs no network.
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

    /// One generated backend: a directory with run.sh and a payload, at one version.
    struct Build {
        var name: String
        var version: String
        var payloadMiB: Int = 1
        var hasRunScript = true
        var directoryName: String { "\(name)-\(version)" }
    }

    /// Every build the gallery can point at; the old ones are installed, the new ones are upgrades.
    static let installedBuilds: [Build] = [
        Build(name: "cpu-llama-cpp", version: "1.3.0", payloadMiB: 4),
        Build(name: "cpu-whisper", version: "2.1.0"),
        Build(name: "piper", version: "0.8.0"),
        Build(name: "kokoro", version: "1.0.0"),
        Build(name: "stablediffusion-ggml", version: "2.9.0", payloadMiB: 6),
        Build(name: "silero-vad", version: "5.0"),
    ]
    static let galleryBuilds: [Build] = [
        Build(name: "cpu-llama-cpp", version: "1.4.0", payloadMiB: 24),
        Build(name: "cpu-llama-cpp-development", version: "1.5.0-rc1", payloadMiB: 24),
        Build(name: "cuda12-llama-cpp", version: "1.4.0"),
        Build(name: "cpu-whisper", version: "2.1.0"),
        Build(name: "piper", version: "0.9.0", payloadMiB: 12),
        Build(name: "kokoro", version: "1.1.0", payloadMiB: 8, hasRunScript: false),
        Build(name: "stablediffusion-ggml", version: "3.0.0", payloadMiB: 32),
        Build(name: "silero-vad", version: "5.0"),
        Build(name: "bark", version: "0.3.0", payloadMiB: 8),
        Build(name: "rerankers", version: "0.2.1", payloadMiB: 4),
        Build(name: "faster-whisper", version: "1.0.3", payloadMiB: 6),
        Build(name: "coqui", version: "0.22.0", payloadMiB: 6),
    ]

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
        for build in Self.installedBuilds + Self.galleryBuilds {
            try writeBuild(build)
        }
        // A system backend: read-only for LocalAI and hangar.
        try fm.createDirectory(atPath: systemBackendsPath + "/system-vllm", withIntermediateDirectories: true)
        try writeRunScript(at: systemBackendsPath + "/system-vllm/run.sh", name: "system-vllm", version: "system")

        // Install the old versions through the engine, from an "old" gallery, exactly as a user would have.
        let oldGallery = directory + "/gallery/previous-index.yaml"
        try galleryYAML(Self.installedBuilds).write(toFile: oldGallery, atomically: true, encoding: .utf8)
        var env = environment
        env["LOCALAI_BACKEND_GALLERIES"] = "[{\"name\":\"demo\",\"url\":\"file://\(galleryPath)\"}]"
        try galleryYAML(Self.installedBuilds).write(toFile: galleryPath, atomically: true, encoding: .utf8)
        let configuration = try HangarConfiguration.resolve(flags: .init(), environment: env, workingDirectory: directory)
        let engine = Engine(configuration: configuration)
        var ids: [JobID] = []
        for name in ["llama-cpp", "cpu-whisper", "piper", "kokoro", "stablediffusion-ggml", "silero-vad"] {
            ids.append(try engine.install(name, force: false))
        }
        for id in ids {
            if case .failed(let error) = engine.jobs.wait(id) { throw error }
        }
        try fm.removeItem(atPath: oldGallery)
        // An installed backend recorded before versions existed: upgrade detection must still flag it.
        try BackendMetadata(name: "silero-vad", installedAt: RFC3339.localNow())
            .encoded().write(toFile: backendsPath + "/silero-vad/metadata.json", atomically: true, encoding: .utf8)

        // Now the gallery moves on: new versions are published.
        try galleryYAML(Self.galleryBuilds).write(toFile: galleryPath, atomically: true, encoding: .utf8)
        try RuntimeSettingsFile(configDir: configDir).update(["auto_upgrade_backends": .bool(false)])
        let lines = environment.keys.sorted().map { "export \($0)='\(environment[$0]!)'" }
        try (lines.joined(separator: "\n") + "\n").write(toFile: environmentFile, atomically: true, encoding: .utf8)
    }

    private func writeBuild(_ build: Build) throws {
        let dir = directory + "/sources/" + build.directoryName
        let fm = FileManager.default
        try fm.createDirectory(atPath: dir + "/lib", withIntermediateDirectories: true)
        if build.hasRunScript {
            try writeRunScript(at: dir + "/run.sh", name: build.name, version: build.version)
        }
        try "\(build.name) \(build.version)\n".write(toFile: dir + "/VERSION", atomically: true, encoding: .utf8)
        // Deterministic filler so copies take visible time under the demo's throttle.
        var block = [UInt8](repeating: 0, count: payloadUnit)
        for i in block.indices { block[i] = UInt8(truncatingIfNeeded: i &* 31 &+ build.name.utf8.count) }
        let payload = Data(block)
        guard fm.createFile(atPath: dir + "/lib/model-runtime.bin", contents: nil) else {
            throw HangarError.operation("cannot write the demo payload in \(dir): check free space and permissions")
        }
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: dir + "/lib/model-runtime.bin"))
        for _ in 0..<build.payloadMiB { handle.write(payload) }
        try handle.close()
    }

    private func writeRunScript(at path: String, name: String, version: String) throws {
        let script = "#!/bin/sh\n# demo backend \(name) \(version): a real LocalAI backend would serve gRPC on --addr\necho \"\(name) \(version) $*\"\n"
        try script.write(toFile: path, atomically: true, encoding: .utf8)
        chmod(path, 0o755)
    }

    /// The gallery YAML, written the way LocalAI's index is: a meta as an anchor, concretes merging it.
    private func galleryYAML(_ builds: [Build]) -> String {
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
            let source = directory + "/sources/" + build.directoryName
            if build.name.contains("llama-cpp") {
                yaml += "- !!merge <<: *llamacpp\n  name: \"\(build.name)\"\n"
            } else {
                yaml += "- name: \"\(build.name)\"\n  alias: \"\(build.name.replacingOccurrences(of: "cpu-", with: ""))\"\n"
                yaml += "  license: apache-2.0\n  description: \"\(build.name) (demo build)\"\n  tags: [demo]\n"
            }
            yaml += "  uri: \"\(source)\"\n  version: \"\(build.version)\"\n"
        }
        return yaml
    }
}
