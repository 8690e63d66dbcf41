/// Where hangar finds LocalAI's state and how it installs, resolved from flags, then LocalAI's
/// environment variables, then `runtime_settings.json` (galleries only), then LocalAI's defaults (spec §2.1, §2.7).
public struct HangarConfiguration: Sendable, Equatable {
    public var backendsPath: String
    public var systemBackendsPath: String
    public var configDir: String
    public var galleries: [GalleryConfig]
    /// Where each resolved value came from (`--backends-path`, `LOCALAI_BACKENDS_PATH`, `default`, ...), by setting name.
    public var sources: [String: String]
    public var releaseTag: String
    public var branchTag: String
    public var devSuffix: String
    public var preferDevelopment: Bool
    /// `--capability` (hangar's own flag); LocalAI's force variable is read by capability detection.
    public var forcedCapability: String?
    public var requireIntegrity: Bool
    /// Largest total size one archive or image may unpack to (`--max-extract-size`, `HANGAR_MAX_EXTRACT_SIZE`).
    public var maxExtractSize: Int64 = HangarConfiguration.defaultMaxExtractSize
    /// Registries (`host` or `host:port`, lower-cased) that may be reached over plain http besides loopback
    /// (`--insecure-registry`, `HANGAR_INSECURE_REGISTRIES`).
    public var insecureRegistries: [String] = []
    /// How many registry digest HEADs an upgrade check runs at once (`HANGAR_CHECK_CONCURRENCY`, 1…64, default 8).
    public var checkConcurrency: Int = HangarConfiguration.defaultCheckConcurrency
    /// The sigstore trusted root file signatures are checked against (`--trusted-root`,
    /// `HANGAR_SIGSTORE_TRUSTED_ROOT`); nil: the public-good root hangar ships.
    public var trustedRootPath: String?
    /// The environment the configuration was resolved from; capability detection reads it too.
    public var environment: [String: String]
    /// Problems that did not stop resolution (e.g. an unreadable runtime_settings.json), to show the user.
    public var warnings: [String] = []
    /// The LocalAI server managed instead of a local directory (`--server`, `HANGAR_SERVER`); nil in local mode.
    public var server: LocalAIServerConfig?
    /// Link mode: the LocalAI server that runs on the local backends directory, told about hangar's disk work
    /// (`--server` with an explicitly given `--backends-path`/`LOCALAI_BACKENDS_PATH`, without `--via-server`).
    public var linkedServer: LocalAIServerConfig?

    /// Values given on the command line; nil means "not given".
    public struct Flags: Sendable, Equatable {
        public var backendsPath: String?
        public var systemBackendsPath: String?
        public var backendGalleries: String?
        public var configDir: String?
        public var capability: String?
        public var requireIntegrity: Bool?
        public var preferDevelopment: Bool?
        /// `--max-extract-size` as typed (`16MiB`, `2GiB`, plain bytes).
        public var maxExtractSize: String?
        /// Every `--insecure-registry`; nil or empty means "not given".
        public var insecureRegistries: [String]?
        /// `--trusted-root FILE`.
        public var trustedRoot: String?
        /// `--server URL`: manage that LocalAI server through its API.
        public var server: String?
        /// `--api-key-file FILE`: the server's API key, read from a file (never given on the command line).
        public var apiKeyFile: String?
        /// `--via-server`: with a local backends path and a server, let the server do the work (remote mode).
        public var viaServer: Bool?

        public init(backendsPath: String? = nil, systemBackendsPath: String? = nil, backendGalleries: String? = nil,
                    configDir: String? = nil, capability: String? = nil, requireIntegrity: Bool? = nil,
                    preferDevelopment: Bool? = nil, maxExtractSize: String? = nil, insecureRegistries: [String]? = nil,
                    trustedRoot: String? = nil, server: String? = nil, apiKeyFile: String? = nil, viaServer: Bool? = nil) {
            self.viaServer = viaServer
            self.backendsPath = backendsPath
            self.systemBackendsPath = systemBackendsPath
            self.backendGalleries = backendGalleries
            self.configDir = configDir
            self.capability = capability
            self.requireIntegrity = requireIntegrity
            self.preferDevelopment = preferDevelopment
            self.maxExtractSize = maxExtractSize
            self.insecureRegistries = insecureRegistries
            self.trustedRoot = trustedRoot
            self.server = server
            self.apiKeyFile = apiKeyFile
        }
    }

    /// Resolves every setting. Relative paths are made absolute against `workingDirectory`, as kong's `type:"path"` does.
    public static func resolve(flags: Flags, environment: [String: String], workingDirectory: String) throws -> HangarConfiguration {
        var sources: [String: String] = [:]

        func pick(_ setting: String, flag: String?, flagName: String, env names: [String], default value: String) -> String {
            if let flag, !flag.isEmpty { sources[setting] = flagName; return flag }
            for name in names {
                if let v = environment[name], !v.isEmpty { sources[setting] = name; return v }
            }
            sources[setting] = "default"
            return value
        }
        func absolute(_ path: String) -> String {
            let joined = path.hasPrefix("/") ? path : workingDirectory + "/" + path
            return normalizePath(joined)
        }
        func bool(_ setting: String, flag: Bool?, flagName: String, env names: [String]) throws -> Bool {
            if let flag { sources[setting] = flagName; return flag }
            for name in names {
                if let v = environment[name], !v.isEmpty {
                    guard let b = EffectiveRuntimeSettings.parseGoBool(v) else {
                        throw HangarError.configuration("\(name)=\(v) is not a boolean: use true or false")
                    }
                    sources[setting] = name
                    return b
                }
            }
            sources[setting] = "default"
            return false
        }

        let backends = absolute(pick("backends_path", flag: flags.backendsPath, flagName: "--backends-path",
                                     env: ["LOCALAI_BACKENDS_PATH", "BACKENDS_PATH"], default: "backends"))
        let system = absolute(pick("backends_system_path", flag: flags.systemBackendsPath,
                                   flagName: "--backends-system-path",
                                   env: ["LOCALAI_BACKENDS_SYSTEM_PATH", "BACKEND_SYSTEM_PATH"],
                                   default: "/var/lib/local-ai/backends"))
        let configDir = absolute(pick("config_dir", flag: flags.configDir, flagName: "--config-dir",
                                      env: ["LOCALAI_CONFIG_DIR"], default: "configuration"))

        let galleries: [GalleryConfig]
        var settingsWarning: String?
        if let flag = flags.backendGalleries {
            sources["backend_galleries"] = "--backend-galleries"
            galleries = try GalleryConfig.parseList(flag, source: "--backend-galleries")
        } else if let env = ["LOCALAI_BACKEND_GALLERIES", "BACKEND_GALLERIES"].first(where: { environment[$0] != nil }) {
            sources["backend_galleries"] = env
            galleries = try GalleryConfig.parseList(environment[env] ?? "", source: env)
        } else {
            // Like LocalAI, a broken settings file is reported and otherwise ignored here; only `settings` refuses it.
            var fromFile: [GalleryConfig]?
            do {
                fromFile = try galleriesFromSettings(configDir: configDir)
            } catch {
                settingsWarning = "\(error) (using the default galleries meanwhile)"
            }
            if let fromFile {
                sources["backend_galleries"] = "runtime_settings.json"
                galleries = fromFile
            } else {
                sources["backend_galleries"] = "default"
                galleries = GalleryConfig.localAIDefault
            }
        }

        let capability = flags.capability.flatMap { $0.isEmpty ? nil : $0 }
        if capability != nil { sources["capability"] = "--capability" }

        var resolved = HangarConfiguration(
            backendsPath: backends,
            systemBackendsPath: system,
            configDir: configDir,
            galleries: galleries,
            sources: sources,
            releaseTag: pick("release_tag", flag: nil, flagName: "",
                             env: ["LOCALAI_BACKEND_IMAGES_RELEASE_TAG", "BACKEND_IMAGES_RELEASE_TAG"], default: "latest"),
            branchTag: pick("branch_tag", flag: nil, flagName: "",
                            env: ["LOCALAI_BACKEND_IMAGES_BRANCH_TAG", "BACKEND_IMAGES_BRANCH_TAG"], default: "master"),
            devSuffix: pick("dev_suffix", flag: nil, flagName: "",
                            env: ["LOCALAI_BACKEND_DEV_SUFFIX", "BACKEND_DEV_SUFFIX"], default: "development"),
            preferDevelopment: try bool("prefer_development", flag: flags.preferDevelopment,
                                        flagName: "--prefer-development-backends",
                                        env: ["LOCALAI_PREFER_DEV_BACKENDS", "PREFER_DEV_BACKENDS"]),
            forcedCapability: capability,
            requireIntegrity: try bool("require_integrity", flag: flags.requireIntegrity,
                                       flagName: "--require-backend-integrity",
                                       env: ["LOCALAI_REQUIRE_BACKEND_INTEGRITY", "REQUIRE_BACKEND_INTEGRITY"]),
            environment: environment)
        if let settingsWarning { resolved.warnings.append(settingsWarning) }

        let size = pick("max_extract_size", flag: flags.maxExtractSize, flagName: "--max-extract-size",
                        env: ["HANGAR_MAX_EXTRACT_SIZE"], default: "")
        resolved.sources["max_extract_size"] = sources["max_extract_size"]
        if !size.isEmpty {
            guard let bytes = TextFormat.parseBytes(size), bytes > 0 else {
                let given = flags.maxExtractSize?.isEmpty == false ? "--max-extract-size \(size)" : "HANGAR_MAX_EXTRACT_SIZE=\(size)"
                throw HangarError.configuration("\(given) is not a size: use bytes or a unit, e.g. 16MiB or 2GiB")
            }
            guard bytes <= HangarConfiguration.maxAllowedExtractSize else {
                let given = flags.maxExtractSize?.isEmpty == false ? "--max-extract-size \(size)" : "HANGAR_MAX_EXTRACT_SIZE=\(size)"
                throw HangarError.configuration("\(given) is more than hangar allows (1PiB): give a smaller --max-extract-size, e.g. 64GiB")
            }
            resolved.maxExtractSize = bytes
        }
        if let hosts = flags.insecureRegistries, !hosts.isEmpty {
            resolved.sources["insecure_registries"] = "--insecure-registry"
            resolved.insecureRegistries = try hosts.map { try registryHost($0, given: "--insecure-registry \($0)") }
        } else if let list = environment["HANGAR_INSECURE_REGISTRIES"], !list.isEmpty {
            resolved.sources["insecure_registries"] = "HANGAR_INSECURE_REGISTRIES"
            resolved.insecureRegistries = try list.split(separator: ",")
                .map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
                .map { try registryHost($0, given: "HANGAR_INSECURE_REGISTRIES entry \($0)") }
        } else {
            resolved.sources["insecure_registries"] = "default"
        }
        if let path = flags.trustedRoot ?? environment["HANGAR_SIGSTORE_TRUSTED_ROOT"], !path.isEmpty {
            resolved.sources["trusted_root"] = flags.trustedRoot != nil ? "--trusted-root" : "HANGAR_SIGSTORE_TRUSTED_ROOT"
            resolved.trustedRootPath = path.hasPrefix("/") ? path : workingDirectory + "/" + path
        }
        if let text = environment["HANGAR_CHECK_CONCURRENCY"], !text.isEmpty {
            guard let bound = Int(text.trimmingCharacters(in: .whitespaces)), checkConcurrencyRange.contains(bound) else {
                throw HangarError.configuration(
                    "HANGAR_CHECK_CONCURRENCY=\(text) is not a number from \(checkConcurrencyRange.lowerBound) to \(checkConcurrencyRange.upperBound): give how many registry lookups a check runs at once, e.g. 8")
            }
            resolved.sources["check_concurrency"] = "HANGAR_CHECK_CONCURRENCY"
            resolved.checkConcurrency = bound
        } else {
            resolved.sources["check_concurrency"] = "default"
        }
        try resolved.resolveServer(flags: flags, workingDirectory: workingDirectory)
        return resolved
    }

    /// Remote mode: the server, its key, and plain words for the local-only settings that do not apply there.
    /// The backends path becomes the server's URL, which is what the messages name and no local directory has.
    private mutating func resolveServer(flags: Flags, workingDirectory: String) throws {
        guard let server = try LocalAIServerConfig.resolve(server: flags.server, apiKeyFile: flags.apiKeyFile,
                                                           environment: environment, workingDirectory: workingDirectory) else {
            if flags.viaServer == true {
                throw HangarError.configuration("--via-server needs a server: give --server URL (or HANGAR_SERVER)")
            }
            return
        }
        // The key lives only in `server.apiKey`, whose description hides it: a printed configuration must not show it.
        environment["LOCALAI_API_KEY"] = nil
        if let file = flags.apiKeyFile {
            let path = file.hasPrefix("/") ? file : workingDirectory + "/" + file
            var info = stat()
            if stat(path, &info) == 0, info.st_mode & 0o077 != 0 {
                warnings.append("--api-key-file \(path) can be read by other users: chmod 600 \(path)")
            }
        }
        if sources["backends_path"] != "default", flags.viaServer != true {
            // Link mode: hangar does the disk work on the directory it was pointed at, then tells the server.
            linkedServer = server
            return
        }
        self.server = server
        backendsPath = server.url
        sources["backends_path"] = flags.server?.isEmpty == false ? "--server" : "HANGAR_SERVER"
        let localOnly: [(given: Bool, name: String)] = [
            (flags.backendsPath?.isEmpty == false, "--backends-path"),
            (flags.maxExtractSize?.isEmpty == false, "--max-extract-size"),
            (flags.insecureRegistries?.isEmpty == false, "--insecure-registry"),
            (flags.requireIntegrity == true, "--require-backend-integrity"),
            (flags.backendGalleries != nil, "--backend-galleries"),
        ]
        for option in localOnly where option.given {
            warnings.append("\(option.name) does not apply with --server: the LocalAI server at \(server.url) downloads, verifies and extracts backends itself")
        }
    }

    /// 8 HEADs at once: 40 installed backends cost 5 round trips, and a registry sees no burst worth throttling.
    public static let defaultCheckConcurrency = 8
    /// What `HANGAR_CHECK_CONCURRENCY` accepts: each lookup is a thread, and past 64 a registry would see a flood.
    public static let checkConcurrencyRange = 1...64

    /// The default extraction cap: far above any real backend, low enough to stop a decompression bomb.
    public static let defaultMaxExtractSize: Int64 = 64 << 30
    /// Largest `--max-extract-size` taken (1 PiB): far beyond any disk, and limits derived from it stay in range.
    public static let maxAllowedExtractSize: Int64 = 1 << 50

    /// Validates one `HOST[:PORT]` for the insecure-registry list and lower-cases it.
    private static func registryHost(_ value: String, given: String) throws -> String {
        let host = value.lowercased()
        let parts = host.split(separator: ":", omittingEmptySubsequences: false)
        let name = parts.first ?? ""
        let validName = !name.isEmpty
            && name.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "." || $0 == "-") }
        let validPort = parts.count == 1 || (parts.count == 2 && UInt16(parts[1]).map { $0 > 0 } == true)
        guard validName, validPort else {
            throw HangarError.configuration(
                "\(given) is not a registry host: give HOST or HOST:PORT without scheme or path, e.g. registry.local:5000")
        }
        return host
    }

    /// `backend_galleries` from runtime_settings.json, which LocalAI applies when neither flag nor env set it.
    private static func galleriesFromSettings(configDir: String) throws -> [GalleryConfig]? {
        let object = try RuntimeSettingsFile(configDir: configDir).read()
        guard let value = object["backend_galleries"], !value.isNull else { return nil }
        return try GalleryConfig.parseList(value.compact(), source: "backend_galleries in runtime_settings.json")
    }

    /// Fails with the path and the flag to set when the backends directory is missing (LocalAI's listing fails too).
    public func requireBackendsDirectory() throws {
        if server != nil { return }  // remote mode: the server has the directory
        var st = stat()
        guard stat(backendsPath, &st) == 0 else {
            throw HangarError.configuration(
                "backends directory \(backendsPath) does not exist: point --backends-path (or LOCALAI_BACKENDS_PATH) at LocalAI's backends directory, or create it")
        }
        guard (st.st_mode & S_IFMT) == S_IFDIR else {
            throw HangarError.configuration(
                "backends path \(backendsPath) is not a directory: point --backends-path (or LOCALAI_BACKENDS_PATH) at LocalAI's backends directory")
        }
    }

    /// LocalAI's last-known-good gallery cache directory: `<parent of backends>/cache/gallery` (spec §1.6).
    public var galleryCacheDirectory: String {
        parentDirectory(backendsPath) + "/cache/gallery"
    }
}

/// Collapses `.`/`..` and duplicate slashes lexically, as Go's `filepath.Clean` does for absolute paths.
func normalizePath(_ path: String) -> String {
    var parts: [Substring] = []
    for component in path.split(separator: "/", omittingEmptySubsequences: true) {
        if component == "." { continue }
        if component == ".." { if !parts.isEmpty { parts.removeLast() }; continue }
        parts.append(component)
    }
    return "/" + parts.joined(separator: "/")
}

/// The parent of an absolute path (`/` for `/x`).
func parentDirectory(_ path: String) -> String {
    let clean = normalizePath(path)
    guard let slash = clean.lastIndex(of: "/"), slash != clean.startIndex else { return "/" }
    return String(clean[..<slash])
}
