/// One backend setting as LocalAI would apply it, with where the value came from.
public struct EffectiveSetting: Sendable, Equatable {
    public enum Source: Sendable, Equatable {
        case file
        /// The environment variable that set it.
        case environment(String)
        case `default`
    }

    public let key: String
    /// The value in effect (normalised: `true`, `3`, a gallery list as Go writes it).
    public let value: JSONValue
    public let source: Source
    /// The file's value for the key as written (nil when absent or `null`), even when not in effect.
    public let fileValue: JSONValue?
    /// The file holds a value that the environment shadows, so editing the file changes nothing.
    public let overriddenByEnvironment: Bool
    /// The variable's text when `source` is `.environment`.
    public let environmentText: String?

    public init(key: String, value: JSONValue, source: Source, fileValue: JSONValue?,
                overriddenByEnvironment: Bool, environmentText: String? = nil) {
        self.key = key
        self.value = value
        self.source = source
        self.fileValue = fileValue
        self.overriddenByEnvironment = overriddenByEnvironment
        self.environmentText = environmentText
    }

    /// e.g. `LOCALAI_AUTO_UPGRADE_BACKENDS=true overrides the file`; nil when the environment is not in effect.
    public var environmentNote: String? {
        guard case .environment(let variable) = source, let text = environmentText else { return nil }
        return overriddenByEnvironment ? "\(variable)=\(text) overrides the file" : "set by \(variable)=\(text)"
    }
}

/// The backend settings in effect: runtime_settings.json combined with LocalAI's environment variables
/// under LocalAI's startup rule (§7): a file value applies only while the live value still equals the
/// built-in default, so an environment value different from the default wins, and one equal to the
/// default is indistinguishable from unset.
public struct EffectiveRuntimeSettings: Sendable, Equatable {
    /// Every backend key of ``RuntimeSettingKey``, in that order.
    public let settings: [EffectiveSetting]
    public let autoUpgradeBackends: Bool
    public let preferDevelopmentBackends: Bool
    public let backendGalleries: [GalleryConfig]
    public let autoloadBackendGalleries: Bool
    public let maxActiveBackends: Int
    public let enableBackendLogging: Bool

    /// Environment names per key, LocalAI's kong order (first non-empty wins).
    public static let environmentNames: [RuntimeSettingKey: [String]] = [
        .autoUpgradeBackends: ["LOCALAI_AUTO_UPGRADE_BACKENDS", "AUTO_UPGRADE_BACKENDS"],
        .preferDevelopmentBackends: ["LOCALAI_PREFER_DEV_BACKENDS", "PREFER_DEV_BACKENDS"],
        .backendGalleries: ["LOCALAI_BACKEND_GALLERIES", "BACKEND_GALLERIES"],
        .autoloadBackendGalleries: ["LOCALAI_AUTOLOAD_BACKEND_GALLERIES", "AUTOLOAD_BACKEND_GALLERIES"],
        .maxActiveBackends: ["LOCALAI_MAX_ACTIVE_BACKENDS", "MAX_ACTIVE_BACKENDS"],
        // File-authoritative in LocalAI: no variable.
        .enableBackendLogging: [],
    ]

    /// LocalAI's option-less baseline for each key.
    public static let defaults: [RuntimeSettingKey: JSONValue] = [
        .autoUpgradeBackends: .bool(false),
        .preferDevelopmentBackends: .bool(false),
        .backendGalleries: GalleryConfig.listJSON(GalleryConfig.localAIDefault),
        .autoloadBackendGalleries: .bool(true),
        .maxActiveBackends: .number("0"),
        .enableBackendLogging: .bool(false),
    ]

    /// Combines the file's object with `environment`; a malformed variable or a wrongly typed file
    /// value is a configuration error naming it. `source` names the file in errors.
    public init(file: JSONObject, environment: [String: String], source: String = RuntimeSettingsFile.fileName) throws {
        let typed = try RuntimeSettings(file, source: source)
        let fileTyped: [RuntimeSettingKey: JSONValue] = [
            .autoUpgradeBackends: typed.autoUpgradeBackends.map(JSONValue.bool),
            .preferDevelopmentBackends: typed.preferDevelopmentBackends.map(JSONValue.bool),
            .backendGalleries: typed.backendGalleries.map(GalleryConfig.listJSON),
            .autoloadBackendGalleries: typed.autoloadBackendGalleries.map(JSONValue.bool),
            .maxActiveBackends: typed.maxActiveBackends.map { JSONValue.number(String($0)) },
            .enableBackendLogging: typed.enableBackendLogging.map(JSONValue.bool),
        ].compactMapValues { $0 }

        var settings: [EffectiveSetting] = []
        for key in RuntimeSettingKey.allCases {
            let fallback = Self.defaults[key]!
            let fileValue = RuntimeSettings.field(file, key)
            var fromEnvironment: (variable: String, text: String, value: JSONValue)?
            for variable in Self.environmentNames[key] ?? [] {
                guard let text = environment[variable], !text.isEmpty else { continue }
                fromEnvironment = (variable, text, try Self.parseEnvironment(key, variable: variable, text: text))
                break
            }
            if let env = fromEnvironment, env.value != fallback {
                settings.append(EffectiveSetting(key: key.rawValue, value: env.value, source: .environment(env.variable),
                                                 fileValue: fileValue, overriddenByEnvironment: fileValue != nil,
                                                 environmentText: env.text))
            } else if let value = fileTyped[key] {
                settings.append(EffectiveSetting(key: key.rawValue, value: value, source: .file,
                                                 fileValue: fileValue, overriddenByEnvironment: false))
            } else {
                settings.append(EffectiveSetting(key: key.rawValue, value: fallback, source: .default,
                                                 fileValue: nil, overriddenByEnvironment: false))
            }
        }
        self.settings = settings

        func value(_ key: RuntimeSettingKey) -> JSONValue { settings.first { $0.key == key.rawValue }!.value }
        autoUpgradeBackends = value(.autoUpgradeBackends).boolValue ?? false
        preferDevelopmentBackends = value(.preferDevelopmentBackends).boolValue ?? false
        autoloadBackendGalleries = value(.autoloadBackendGalleries).boolValue ?? true
        enableBackendLogging = value(.enableBackendLogging).boolValue ?? false
        if case .number(let text) = value(.maxActiveBackends), let count = Int(text) {
            maxActiveBackends = count
        } else {
            maxActiveBackends = 0
        }
        backendGalleries = try GalleryConfig.parseList(value(.backendGalleries), source: "backend_galleries")
    }

    public subscript(key: RuntimeSettingKey) -> EffectiveSetting {
        settings.first { $0.key == key.rawValue }!
    }

    static func parseEnvironment(_ key: RuntimeSettingKey, variable: String, text: String) throws -> JSONValue {
        switch key {
        case .backendGalleries:
            return GalleryConfig.listJSON(try GalleryConfig.parseList(text, source: variable))
        case .maxActiveBackends:
            guard let count = Int(text) else {
                throw HangarError.configuration("\(variable)=\(text) is not a whole number: use e.g. \(variable)=1, or unset it")
            }
            return .number(String(count))
        default:
            guard let flag = parseGoBool(text) else {
                throw HangarError.configuration("\(variable)=\(text) is not a boolean: use true or false, or unset it")
            }
            return .bool(flag)
        }
    }

    /// Go's `strconv.ParseBool`, which kong uses for boolean flags read from the environment.
    public static func parseGoBool(_ text: String) -> Bool? {
        switch text {
        case "1", "t", "T", "TRUE", "true", "True": return true
        case "0", "f", "F", "FALSE", "false", "False": return false
        default: return nil
        }
    }
}

extension RuntimeSettingsFile {
    /// The backend settings in effect for this file under `environment`.
    public func effective(environment: [String: String]) throws -> EffectiveRuntimeSettings {
        try EffectiveRuntimeSettings(file: try read(), environment: environment, source: "\(Self.fileName) at \(path)")
    }
}
