import ArgumentParser
import Foundation
import HangarEngine

/// Options every subcommand takes; each falls back to LocalAI's environment variable, then its default.
struct GlobalOptions: ParsableArguments {
    @Option(name: .customLong("backends-path"), help: "LocalAI backends directory (env LOCALAI_BACKENDS_PATH; default ./backends).")
    var backendsPath: String?

    @Option(name: .customLong("backends-system-path"),
            help: "System backends directory (env LOCALAI_BACKENDS_SYSTEM_PATH; default /var/lib/local-ai/backends).")
    var backendsSystemPath: String?

    @Option(name: .customLong("backend-galleries"),
            help: "Backend galleries as a JSON list, e.g. '[{\"name\":\"local\",\"url\":\"file:///srv/index.yaml\"}]' (env LOCALAI_BACKEND_GALLERIES).")
    var backendGalleries: String?

    @Option(name: .customLong("config-dir"), help: "LocalAI config dir holding runtime_settings.json (env LOCALAI_CONFIG_DIR; default ./configuration).")
    var configDir: String?

    @Option(name: .customLong("capability"),
            help: "Force the host capability used to pick builds (e.g. default, nvidia-cuda-12, amd, disable); env LOCALAI_FORCE_META_BACKEND_CAPABILITY.")
    var capability: String?

    // LocalAI's flag name, and the shorter one the network issue uses.
    @Flag(name: [.customLong("require-backend-integrity"), .customLong("require-integrity")],
          help: "Refuse sources whose integrity cannot be verified (env LOCALAI_REQUIRE_BACKEND_INTEGRITY).")
    var requireIntegrity = false

    @Option(name: .customLong("max-extract-size"),
            help: "Largest size one backend archive or image may unpack to, e.g. 16MiB, 2GiB (env HANGAR_MAX_EXTRACT_SIZE; default 64GiB).")
    var maxExtractSize: String?

    @Option(name: .customLong("insecure-registry"),
            help: "Allow plain http for this registry HOST[:PORT]; repeatable (env HANGAR_INSECURE_REGISTRIES, comma-separated). Loopback registries need no flag.")
    var insecureRegistries: [String] = []

    @Option(name: .customLong("trusted-root"),
            help: "Sigstore trusted_root.json to verify backend signatures against (env HANGAR_SIGSTORE_TRUSTED_ROOT; default: the public-good root hangar ships).")
    var trustedRoot: String?
    @Option(name: .customLong("server"),
            help: "Manage the LocalAI server at this URL through its API instead of a local directory (env HANGAR_SERVER), e.g. http://gpu-box:8080; with --backends-path (or LOCALAI_BACKENDS_PATH) hangar works on that directory and tells this server (link mode).")
    var server: String?

    @Option(name: .customLong("api-key-file"),
            help: "File holding the LocalAI server's API key (otherwise env LOCALAI_API_KEY); a key is never taken on the command line.")
    var apiKeyFile: String?

    @Flag(name: .customLong("via-server"),
          help: "With --backends-path and --server: let the server do the work through its API (remote mode) instead of hangar on the directory (link mode).")
    var viaServer = false

    /// The resolved configuration, or a configuration error naming the bad value.
    func configuration() throws -> HangarConfiguration {
        try HangarConfiguration.resolve(
            flags: .init(backendsPath: backendsPath, systemBackendsPath: backendsSystemPath,
                         backendGalleries: backendGalleries, configDir: configDir, capability: capability,
                         requireIntegrity: requireIntegrity ? true : nil, maxExtractSize: maxExtractSize,
                         insecureRegistries: insecureRegistries, trustedRoot: trustedRoot, server: server,
                         apiKeyFile: apiKeyFile, viaServer: viaServer ? true : nil),
            environment: ProcessInfo.processInfo.environment,
            workingDirectory: FileManager.default.currentDirectoryPath)
    }

    /// An engine on an existing backends directory, after recovering what an interrupted hangar left behind.
    /// `requireBackends: false` is for commands that only touch the config dir (settings); `origin` names the
    /// front end in the operation history.
    func engine(requireBackends: Bool = true, origin: String = "cli") throws -> Engine {
        let configuration = try configuration()
        if requireBackends && configuration.server == nil { try configuration.requireBackendsDirectory() }
        let live = Engine.live(configuration: configuration, origin: origin)
        for warning in live.warnings { Output.stderr("hangar: warning: \(warning)") }
        if let recovery = live.recovery { Output.printRecovery(recovery) }
        return live.engine
    }
}
