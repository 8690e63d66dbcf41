/// The registry pieces an engine needs, built once from the configuration: one client (token cache shared by
/// installs and checks), the image sources and the digest resolver.
public struct RegistrySetup: Sendable {
    public let client: RegistryClient
    public let source: OCISource
    public let resolver: RegistryDigestResolver
    /// `ocifile://` tarballs (no registry involved, but the same image format).
    public let fileSource: OCIFileSource
    /// Problems with the Docker credentials file (pulls continue anonymously).
    public let warnings: [String]

    /// The image sources, in the order the engine should try them.
    public var sources: [any BackendSource] { [fileSource, source] }

    /// Plain http is allowed for `configuration.insecureRegistries`; layers may unpack to `configuration.maxExtractSize`.
    /// Reads `DOCKER_CONFIG`/`HOME` for logins; test-only knobs: `HANGAR_FAKE_FREE_BYTES` (pretend free space),
    /// `HANGAR_RETRY_BACKOFF` (comma-separated seconds between attempts), `HANGAR_DOWNLOAD_LIMIT` (bytes/s).
    public init(configuration: HangarConfiguration, http: HTTPClient) {
        let insecureRegistries = configuration.insecureRegistries
        let maxExtractBytes = configuration.maxExtractSize
        let env = configuration.environment
        let credentials = RegistryCredentials.load(environment: env)
        let backoff = env["HANGAR_RETRY_BACKOFF"].map { $0.split(separator: ",").compactMap { Double($0) } } ?? [1, 3, 9]
        client = RegistryClient(http: http, credentials: credentials, insecureRegistries: insecureRegistries, retryBackoff: backoff)
        source = OCISource(client: client, maxExtractBytes: maxExtractBytes,
                           fakeFreeBytes: env["HANGAR_FAKE_FREE_BYTES"].flatMap { Int64($0) }, retryBackoff: backoff,
                           throttleBytesPerSecond: env["HANGAR_DOWNLOAD_LIMIT"].flatMap { Int64($0) },
                           trust: SigstoreTrust(trustedRootPath: configuration.trustedRootPath))
        resolver = RegistryDigestResolver(client: client)
        fileSource = OCIFileSource(maxExtractBytes: maxExtractBytes)
        warnings = credentials.warnings
    }
}
