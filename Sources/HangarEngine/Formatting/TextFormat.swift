import Foundation

/// The short texts hangar shows for sizes, times and digests, in one place so every front end says them alike.
public enum TextFormat {
    /// `512 B`, `1.5 KiB`, `12.3 MiB`: base 1024, one decimal, as LocalAI's progress strings.
    public static func bytes(_ n: Int64) -> String {
        let units = ["B", "KiB", "MiB", "GiB", "TiB"]
        var value = Double(n)
        var unit = 0
        while value >= 1024 && unit < units.count - 1 { value /= 1024; unit += 1 }
        if unit == 0 { return "\(n) B" }
        let tenths = Int((value * 10).rounded())
        return "\(tenths / 10).\(tenths % 10) \(units[unit])"
    }

    /// Parses `16MiB`, `2GiB`, `1.5G`, `500MB` or plain bytes (`K`/`M`/`G`/`T` and `KiB`/... are binary, `KB`/`MB`/...
    /// decimal); nil for anything else or a value that does not fit in an Int64.
    public static func parseBytes(_ text: String) -> Int64? {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        let unitStart = trimmed.firstIndex { !($0.isASCII && ($0.isNumber || $0 == ".")) } ?? trimmed.endIndex
        let numberText = trimmed[..<unitStart]
        let unit = trimmed[unitStart...].trimmingCharacters(in: .whitespaces).lowercased()
        let multipliers: [String: Int64] = [
            "": 1, "b": 1,
            "k": 1 << 10, "kib": 1 << 10, "kb": 1_000,
            "m": 1 << 20, "mib": 1 << 20, "mb": 1_000_000,
            "g": 1 << 30, "gib": 1 << 30, "gb": 1_000_000_000,
            "t": 1 << 40, "tib": 1 << 40, "tb": 1_000_000_000_000,
        ]
        guard !numberText.isEmpty, let multiplier = multipliers[unit] else { return nil }
        if let whole = Int64(numberText) {
            let (bytes, overflow) = whole.multipliedReportingOverflow(by: multiplier)
            return overflow ? nil : bytes
        }
        guard let fraction = Double(numberText) else { return nil }
        let bytes = (fraction * Double(multiplier)).rounded()
        return bytes < 9.2e18 ? Int64(bytes) : nil
    }

    /// `42s`, `5m`, `3h`, `2d`: how old something is.
    public static func age(_ seconds: Int) -> String {
        if seconds < 60 { return "\(seconds)s" }
        if seconds < 3600 { return "\(seconds / 60)m" }
        if seconds < 86400 { return "\(seconds / 3600)h" }
        return "\(seconds / 86400)d"
    }

    /// `3s`, `1m05s`, `2h03m`: how long something took or will take.
    public static func duration(_ seconds: Int) -> String {
        if seconds < 60 { return "\(seconds)s" }
        if seconds < 3600 { return "\(seconds / 60)m\(twoDigits(seconds % 60))s" }
        return "\(seconds / 3600)h\(twoDigits((seconds % 3600) / 60))m"
    }

    /// `02:31:07` in local time.
    public static func clock(_ date: Date) -> String {
        var t = time_t(date.timeIntervalSince1970)
        var parts = tm()
        localtime_r(&t, &parts)
        return "\(twoDigits(Int(parts.tm_hour))):\(twoDigits(Int(parts.tm_min))):\(twoDigits(Int(parts.tm_sec)))"
    }

    /// `sha256:3f2a9c1`: the algorithm and the first seven hex digits.
    public static func shortDigest(_ digest: String) -> String {
        guard let colon = digest.firstIndex(of: ":") else { return String(digest.prefix(7)) }
        return String(digest[...colon]) + String(digest[digest.index(after: colon)...].prefix(7))
    }

    private static func twoDigits(_ n: Int) -> String { n < 10 ? "0\(n)" : "\(n)" }
}

extension Int64 {
    /// `self + other`, clamped to the Int64 range instead of trapping: sizes from flags and archive headers are
    /// user input, and a limit derived from them must not crash hangar.
    func addingSaturated(_ other: Int64) -> Int64 {
        let (sum, overflow) = addingReportingOverflow(other)
        return overflow ? (other > 0 ? .max : .min) : sum
    }

    /// `self * other`, clamped to the Int64 range instead of trapping.
    func multipliedSaturated(by other: Int64) -> Int64 {
        let (product, overflow) = multipliedReportingOverflow(by: other)
        return overflow ? ((self < 0) == (other < 0) ? .max : .min) : product
    }
}
