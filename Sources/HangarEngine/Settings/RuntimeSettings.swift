/// LocalAI's `<config dir>/runtime_settings.json` (spec §7), read and written without losing keys
/// hangar does not know about and without ever replacing a file it could not parse.
public struct RuntimeSettingsFile: Sendable {
    public static let fileName = "runtime_settings.json"

    public let configDir: String

    public init(configDir: String) { self.configDir = configDir }

    public var path: String {
        configDir.hasSuffix("/") ? configDir + Self.fileName : configDir + "/" + Self.fileName
    }

    /// The file's top-level object; a missing or blank file is an empty object, as in LocalAI.
    public func read() throws -> JSONObject {
        try SettingsFileIO.readObject(path, named: "\(Self.fileName) at \(path)")
    }

    /// The typed backend-related keys of the file.
    public func readSettings() throws -> RuntimeSettings {
        try RuntimeSettings(try read(), source: "\(Self.fileName) at \(path)")
    }

    /// Read-modify-write: sets (non-nil) or removes (nil) each key, keeps every other key and the order;
    /// new keys are appended in name order. The file is replaced by an fsynced 0600 temp file renamed
    /// over it, which LocalAI's fsnotify watcher sees as a Create. A malformed file is never replaced.
    public func update(_ changes: [String: JSONValue?]) throws {
        var object = try read()
        for (key, value) in changes.sorted(by: { $0.key < $1.key }) {
            object[key] = value
        }
        let text = JSONValue.object(object).goIndented()
        try SettingsFileIO.createDirectories(configDir, mode: 0o700)
        try SettingsFileIO.replaceAtomically(path, contents: Array(text.utf8), mode: 0o600)
    }
}

/// Names of the backend-related keys of runtime_settings.json.
public enum RuntimeSettingKey: String, Sendable, CaseIterable {
    case autoUpgradeBackends = "auto_upgrade_backends"
    case preferDevelopmentBackends = "prefer_development_backends"
    case backendGalleries = "backend_galleries"
    case autoloadBackendGalleries = "autoload_backend_galleries"
    case maxActiveBackends = "max_active_backends"
    case enableBackendLogging = "enable_backend_logging"
}

/// Typed view of runtime_settings.json's backend keys; nil means absent (or `null`), as LocalAI's
/// pointer fields do. Types are checked as strictly as Go's `json.Unmarshal` would.
public struct RuntimeSettings: Sendable, Equatable {
    public var autoUpgradeBackends: Bool?
    public var preferDevelopmentBackends: Bool?
    public var backendGalleries: [GalleryConfig]?
    public var autoloadBackendGalleries: Bool?
    public var maxActiveBackends: Int?
    public var enableBackendLogging: Bool?

    public init(autoUpgradeBackends: Bool? = nil, preferDevelopmentBackends: Bool? = nil,
                backendGalleries: [GalleryConfig]? = nil, autoloadBackendGalleries: Bool? = nil,
                maxActiveBackends: Int? = nil, enableBackendLogging: Bool? = nil) {
        self.autoUpgradeBackends = autoUpgradeBackends
        self.preferDevelopmentBackends = preferDevelopmentBackends
        self.backendGalleries = backendGalleries
        self.autoloadBackendGalleries = autoloadBackendGalleries
        self.maxActiveBackends = maxActiveBackends
        self.enableBackendLogging = enableBackendLogging
    }

    /// Decodes `object`; `source` names the file in errors (a wrong type is a configuration error).
    public init(_ object: JSONObject, source: String) throws {
        func bool(_ key: RuntimeSettingKey) throws -> Bool? {
            guard let value = RuntimeSettings.field(object, key) else { return nil }
            guard case .bool(let flag) = value else {
                throw HangarError.configuration(
                    "\(source): \"\(key.rawValue)\" must be true or false, found \(value.typeNameForErrors): fix the file")
            }
            return flag
        }
        autoUpgradeBackends = try bool(.autoUpgradeBackends)
        preferDevelopmentBackends = try bool(.preferDevelopmentBackends)
        autoloadBackendGalleries = try bool(.autoloadBackendGalleries)
        enableBackendLogging = try bool(.enableBackendLogging)
        if let value = RuntimeSettings.field(object, .backendGalleries) {
            backendGalleries = try GalleryConfig.parseList(value, source: "\(source): \"backend_galleries\"")
        }
        if let value = RuntimeSettings.field(object, .maxActiveBackends) {
            guard case .number(let text) = value, let count = Int(text) else {
                throw HangarError.configuration(
                    "\(source): \"max_active_backends\" must be a whole number, found \(value.compact()): fix the file")
            }
            maxActiveBackends = count
        }
    }

    /// The member Go's decoder would use: the last one whose key matches exactly or case-insensitively;
    /// `null` counts as absent.
    static func field(_ object: JSONObject, _ key: RuntimeSettingKey) -> JSONValue? {
        guard let member = object.members.last(where: { $0.key == key.rawValue || $0.key.lowercased() == key.rawValue }),
              member.value != .null else { return nil }
        return member.value
    }
}

/// Raw POSIX file access for the settings file: explicit modes, fsync and rename, which Foundation
/// does not expose together.
enum SettingsFileIO {
    static func errorText(_ code: Int32) -> String { String(cString: strerror(code)) }

    /// The whole file, or nil when it does not exist.
    static func readIfPresent(_ path: String) throws -> [UInt8]? {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        if descriptor < 0 {
            let code = errno
            if code == ENOENT { return nil }
            throw HangarError.operation("cannot read \(path): \(errorText(code))")
        }
        defer { close(descriptor) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            let count = chunk.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
            if count < 0 {
                if errno == EINTR { continue }
                throw HangarError.operation("cannot read \(path): \(errorText(errno))")
            }
            if count == 0 { return bytes }
            bytes.append(contentsOf: chunk[0..<count])
        }
    }

    /// `mkdir -p` where only the directories created here get `mode`.
    static func createDirectories(_ path: String, mode: mode_t) throws {
        var prefix = path.hasPrefix("/") ? "" : "."
        for component in path.split(separator: "/") {
            prefix += "/" + component
            if mkdir(prefix, mode) != 0 {
                let code = errno
                var info = stat()
                guard code == EEXIST, stat(prefix, &info) == 0, info.st_mode & S_IFMT == S_IFDIR else {
                    throw HangarError.operation("cannot create directory \(prefix): \(errorText(code))")
                }
            }
        }
    }

    /// Writes a temp file in the same directory, fsyncs it and renames it over `path`.
    static func replaceAtomically(_ path: String, contents: [UInt8], mode: mode_t) throws {
        let slash = path.lastIndex(of: "/")
        let directory = slash.map { String(path[..<$0]) } ?? "."
        let name = slash.map { String(path[path.index(after: $0)...]) } ?? path
        let temporary = "\(directory.isEmpty ? "" : directory)/.\(name).hangar-\(getpid())-\(UInt32.random(in: 0...UInt32.max)).tmp"

        let descriptor = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode)
        guard descriptor >= 0 else {
            throw HangarError.operation("cannot write \(path): creating \(temporary) failed: \(errorText(errno))")
        }
        var renamed = false
        defer { if !renamed { unlink(temporary) } }
        func fail(_ step: String) -> HangarError {
            let code = errno
            close(descriptor)
            return HangarError.operation("cannot write \(path): \(step) failed: \(errorText(code))")
        }
        // The umask may have narrowed the mode; the target mode must be exact.
        guard fchmod(descriptor, mode) == 0 else { throw fail("chmod") }
        // When root edits a file LocalAI's user owns, keep the owner so LocalAI can still rewrite it.
        var existing = stat()
        if geteuid() == 0, stat(path, &existing) == 0, existing.st_uid != 0 || existing.st_gid != 0 {
            guard fchown(descriptor, existing.st_uid, existing.st_gid) == 0 else { throw fail("chown") }
        }
        var offset = 0
        while offset < contents.count {
            let written = contents.withUnsafeBytes { raw in
                write(descriptor, raw.baseAddress! + offset, raw.count - offset)
            }
            if written < 0 {
                if errno == EINTR { continue }
                throw fail("write")
            }
            offset += written
        }
        guard fsync(descriptor) == 0 else { throw fail("fsync") }
        guard close(descriptor) == 0 else {
            throw HangarError.operation("cannot write \(path): close failed: \(errorText(errno))")
        }
        guard rename(temporary, path) == 0 else {
            throw HangarError.operation("cannot write \(path): rename failed: \(errorText(errno))")
        }
        renamed = true
        // Persist the rename itself; best effort, as some filesystems refuse fsync on directories.
        let directoryDescriptor = open(directory.isEmpty ? "/" : directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if directoryDescriptor >= 0 {
            _ = fsync(directoryDescriptor)
            close(directoryDescriptor)
        }
    }
}
