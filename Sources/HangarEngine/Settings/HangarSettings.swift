import Foundation
import Synchronization

/// hangar's own preferences, which LocalAI neither reads nor writes (its settings live in runtime_settings.json).
public struct HangarSettings: Sendable, Equatable {
    /// Seconds between background upgrade checks (LocalAI's 6 hours by default).
    public var checkInterval: Double = HangarSettings.defaultCheckInterval
    /// The UI theme's name; nil means the built-in default.
    public var theme: String?
    /// Replaced builds kept per backend for rollback (`keep_generations`); 0 keeps none.
    public var keepGenerations: Int = HangarSettings.defaultKeepGenerations

    public static let defaultCheckInterval: Double = 6 * 3600
    public static let defaultKeepGenerations = 1
    /// More would mostly fill the disk: each generation is a whole backend tree.
    public static let maxKeepGenerations = 20

    public init(checkInterval: Double = HangarSettings.defaultCheckInterval, theme: String? = nil) {
        self.checkInterval = checkInterval
        self.theme = theme
    }

    /// Parses a duration as Go and systemd users write it: `90`, `45s`, `30m`, `6h`, `1d`, `1h30m`, `1.5h`.
    /// Plain numbers are seconds. Zero, negative and malformed durations are a configuration error naming `what`.
    public static func parseInterval(_ text: String, what: String = "interval") throws -> Double {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        let usage = "\(what) \"\(text)\" is not a duration: write e.g. 30m, 6h or 1h30m"
        if let seconds = Double(trimmed) {
            guard seconds > 0, seconds.isFinite else { throw HangarError.configuration("\(what) must be positive, got \"\(text)\"") }
            return seconds
        }
        var total = 0.0
        var number = ""
        var sawUnit = false
        for character in trimmed {
            if character.isNumber || character == "." {
                number.append(character)
                continue
            }
            let unit: Double
            switch character {
            case "s": unit = 1
            case "m": unit = 60
            case "h": unit = 3600
            case "d": unit = 86400
            default: throw HangarError.configuration(usage)
            }
            guard let value = Double(number) else { throw HangarError.configuration(usage) }
            total += value * unit
            number = ""
            sawUnit = true
        }
        guard sawUnit, number.isEmpty else { throw HangarError.configuration(usage) }
        guard total > 0, total.isFinite else { throw HangarError.configuration("\(what) must be positive, got \"\(text)\"") }
        return total
    }

    /// `6h`, `30m`, `1h30m`, `45s`, `0.5s`: the inverse of `parseInterval`.
    public static func formatInterval(_ seconds: Double) -> String {
        if seconds < 60 && seconds != seconds.rounded() { return String(format: "%gs", seconds) }
        var rest = Int(seconds.rounded())
        if rest <= 0 { return "0s" }
        var text = ""
        for (unit, size) in [("d", 86400), ("h", 3600), ("m", 60), ("s", 1)] where rest >= size {
            text += "\(rest / size)\(unit)"
            rest %= size
        }
        return text
    }
}

/// hangar's own preferences (not LocalAI's): `<config-dir>/hangar.json`, written like runtime_settings.json
/// (temp file + rename, 0600, two-space indent, unknown keys kept in their order).
public struct HangarSettingsFile: Sendable {
    public static let fileName = "hangar.json"
    static let checkIntervalKey = "check_interval_seconds"
    static let themeKey = "theme"
    static let keepGenerationsKey = "keep_generations"

    public let configDir: String

    public init(configDir: String) { self.configDir = configDir }

    public var path: String {
        configDir.hasSuffix("/") ? configDir + Self.fileName : configDir + "/" + Self.fileName
    }

    /// The saved preferences; defaults when the file is missing or blank. A malformed file is a configuration
    /// error that names the file and the key.
    public func load() throws -> HangarSettings {
        let object = try read()
        var settings = HangarSettings()
        if let value = object[Self.checkIntervalKey], value != .null {
            guard case .number(let text) = value, let seconds = Double(text), seconds > 0 else {
                throw HangarError.configuration(
                    "\(path): \"\(Self.checkIntervalKey)\" must be a positive number of seconds, found \(value.compact()): fix or remove the key")
            }
            settings.checkInterval = seconds
        }
        if let value = object[Self.themeKey], value != .null {
            guard case .string(let name) = value else {
                throw HangarError.configuration(
                    "\(path): \"\(Self.themeKey)\" must be a theme name, found \(value.compact()): fix or remove the key")
            }
            settings.theme = name.isEmpty ? nil : name
        }
        if let value = object[Self.keepGenerationsKey], value != .null {
            guard case .number(let text) = value, let count = Int(text), (0...HangarSettings.maxKeepGenerations).contains(count) else {
                throw HangarError.configuration(
                    "\(path): \"\(Self.keepGenerationsKey)\" must be a whole number from 0 to \(HangarSettings.maxKeepGenerations), found \(value.compact()): fix or remove the key")
            }
            settings.keepGenerations = count
        }
        return settings
    }

    /// Writes the preferences, keeping every other key; never replaces a file it could not parse.
    public func save(_ settings: HangarSettings) throws {
        guard settings.checkInterval > 0, settings.checkInterval.isFinite else {
            throw HangarError.configuration("check interval must be positive, got \(settings.checkInterval)")
        }
        var object = try read()
        object[Self.checkIntervalKey] = .number(Self.numberText(settings.checkInterval))
        object[Self.themeKey] = settings.theme.map(JSONValue.string)  // nil removes the key: the default theme
        if settings.keepGenerations != HangarSettings.defaultKeepGenerations || object[Self.keepGenerationsKey] != nil {
            object[Self.keepGenerationsKey] = .number(String(max(0, settings.keepGenerations)))
        }
        try SettingsFileIO.createDirectories(configDir, mode: 0o700)
        try SettingsFileIO.replaceAtomically(path, contents: Array(JSONValue.object(object).goIndented().utf8), mode: 0o600)
    }

    private func read() throws -> JSONObject { try SettingsFileIO.readObject(path, named: path) }

    /// Whole seconds without a fraction (`21600`), other values as Swift prints them.
    private static func numberText(_ value: Double) -> String {
        value == value.rounded() && abs(value) < 1e15 ? String(Int64(value)) : String(value)
    }
}

extension HangarSettingsFile {
    /// The check interval as a checker reads it before each round, so an edit of hangar.json (or a change in
    /// Settings) applies from the next check: `fixed` when given, else the file's value; while the file is broken,
    /// the last good value (the default before any), with the problem passed to `warn`.
    public func checkIntervalReader(fixed: Double? = nil,
                                    warn: @escaping @Sendable (String) -> Void = { _ in }) -> @Sendable () -> Double {
        let lastGood = Mutex(HangarSettings.defaultCheckInterval)
        return {
            if let fixed { return fixed }
            do {
                let seconds = try load().checkInterval
                lastGood.withLock { $0 = seconds }
                return seconds
            } catch {
                let kept = lastGood.withLock { $0 }
                warn("\(error); keeping the interval \(HangarSettings.formatInterval(kept))")
                return kept
            }
        }
    }
}

extension Engine {
    /// hangar's own preferences file in LocalAI's config dir.
    public var hangarSettings: HangarSettingsFile { HangarSettingsFile(configDir: configuration.configDir) }
}

extension SettingsFileIO {
    /// A settings file's top-level object; a missing or blank file is an empty object, as in LocalAI. `name` is how
    /// errors name the file.
    static func readObject(_ path: String, named name: String) throws -> JSONObject {
        guard let bytes = try readIfPresent(path) else { return JSONObject() }
        if bytes.allSatisfy({ $0 == 0x20 || $0 == 0x09 || $0 == 0x0A || $0 == 0x0D }) { return JSONObject() }
        let value: JSONValue
        do throws(JSONError) {
            value = try JSONValue.parse(bytes)
        } catch {
            throw HangarError.configuration(
                "\(name) is not valid JSON (line \(error.line), column \(error.column): \(error.reason)): fix or remove the file")
        }
        guard case .object(let object) = value else {
            throw HangarError.configuration("\(name) must hold a JSON object, found \(value.typeNameForErrors): fix or remove the file")
        }
        return object
    }
}
