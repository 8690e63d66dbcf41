/// Validation of backend names coming from galleries or the command line, before anything touches the disk.
public enum BackendName {
    /// Longest accepted name in UTF-8 bytes: 255 (NAME_MAX) minus room for hangar's staging/journal suffixes.
    public static let maxLength = 200

    /// Suffixes LocalAI gives its transient directories and files (spec §3.1); a backend named like that would be
    /// mistaken for, or clobbered as, LocalAI's leftover.
    public static let reservedSuffixes = [".install-tmp", ".install-backup", ".upgrade-tmp", ".backup", ".partial"]

    /// Returns `name` unchanged if it is a single safe path component; otherwise throws a `.configuration` error
    /// that names the bad name and says why.
    public static func validate(_ name: String) throws -> String {
        if let reason = problem(with: name) {
            throw HangarError.configuration("invalid backend name \(quoted(name)): \(reason); choose another name")
        }
        return name
    }

    /// Whether `name` would pass `validate`.
    public static func isValid(_ name: String) -> Bool { problem(with: name) == nil }

    static func problem(with name: String) -> String? {
        if name.isEmpty { return "a backend name must not be empty" }
        if name.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7f }) {
            return "a backend name must not contain NUL or control characters"
        }
        if name.contains("/") || name == "." || name == ".." || name.hasPrefix(".") {
            return "a backend name must be a single path component (no \"/\", no \"..\", no leading \".\")"
        }
        let bytes = name.utf8.count
        if bytes > maxLength {
            return "a backend name must be at most \(maxLength) bytes long (this one has \(bytes))"
        }
        if let suffix = reservedSuffixes.first(where: { name.hasSuffix($0) }) {
            return "names ending in \"\(suffix)\" are reserved for LocalAI's staging directories"
        }
        return nil
    }

    /// The name in double quotes with NUL and control characters escaped, safe to print on one line.
    static func quoted(_ name: String) -> String {
        var out = "\""
        for scalar in name.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case _ where scalar.value < 0x20 || scalar.value == 0x7f:
                out += "\\u{\(String(scalar.value, radix: 16))}"
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }
}
