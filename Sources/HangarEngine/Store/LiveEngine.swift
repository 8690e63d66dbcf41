import Foundation

/// An engine as a user's hangar runs it, and what starting it found worth telling the user.
public struct LiveEngine: Sendable {
    public let engine: Engine
    /// Configuration and registry-credential problems the run goes on despite.
    public let warnings: [String]
    /// What recovery repaired (or could not) before the first command; nil when it did not run.
    public let recovery: RecoveryReport?
}

extension Engine {
    /// The one way front ends (the CLI, the UI, the demo, the benchmarks) wire an engine: the store for the
    /// configuration with every source hangar has (local directories, tarballs over http(s)/file, OCI registries
    /// and `ocifile://`), galleries over http(s)/`github:`, and recovery of what an interrupted hangar left behind
    /// when `recover` and the backends directory exists. `HANGAR_COPY_LIMIT` (bytes/s) in the configuration's
    /// environment slows local copies and tarball reads so progress can be watched (the demo sets it).
    /// `origin` names the front end in the history (`cli`, `ui`, `daemon`).
    public static func live(configuration: HangarConfiguration, recover: Bool = true, origin: String = "cli") -> LiveEngine {
        if let server = configuration.server {
            // Remote mode: the server does the disk work, its recovery included.
            let store = LocalAIServerStore(configuration: configuration, server: server)
            return LiveEngine(engine: Engine(configuration: configuration, store: store, origin: origin),
                              warnings: configuration.warnings, recovery: nil)
        }
        let limit = configuration.environment["HANGAR_COPY_LIMIT"].flatMap { Int64($0) }
        // Registries and tarballs share one client (one connection pool); galleries keep their own for LocalAI's
        // 120 s total timeout on index fetches.
        let http = HTTPClient()
        let registry = RegistrySetup(configuration: configuration, http: http)
        let store = LocalDirectoryStore(
            configuration: configuration, transport: HTTPGalleryTransport(), digestResolver: registry.resolver,
            sources: [DirectorySource(throttleBytesPerSecond: limit),
                      TarballSource(maxExtractSize: configuration.maxExtractSize, throttleBytesPerSecond: limit, client: http)]
                + registry.sources)
        // Link mode: the same local store, whose results are then told to the server running on the directory.
        let engine = Engine(configuration: configuration,
                            store: configuration.linkedServer.map {
                                LinkedStore(local: store, server: $0, environment: configuration.environment) } ?? store,
                            origin: origin)
        var isDirectory: ObjCBool = false
        let hasBackends = FileManager.default.fileExists(atPath: configuration.backendsPath, isDirectory: &isDirectory)
            && isDirectory.boolValue
        return LiveEngine(engine: engine, warnings: configuration.warnings + registry.warnings,
                          recovery: recover && hasBackends ? engine.recover() : nil)
    }
}
