import Foundation
import HangarYAML

/// A colour as a theme names it: the terminal's default, one of the 16 ANSI colours, or `#rrggbb`.
public enum ThemeColor: Sendable, Equatable {
    case terminalDefault
    case ansi(Int)
    case rgb(UInt8, UInt8, UInt8)

    static let names = ["black", "red", "green", "yellow", "blue", "magenta", "cyan", "white"]

    /// `default`, `red`, `bright-red` (also `brightred`, `bright_red`, `grey`/`gray` = bright black), `#rrggbb`.
    public static func parse(_ text: String) -> ThemeColor? {
        let name = text.lowercased().replacingOccurrences(of: "_", with: "-")
        if name == "default" || name == "none" { return .terminalDefault }
        if name == "grey" || name == "gray" { return .ansi(8) }
        if let i = names.firstIndex(of: name) { return .ansi(i) }
        for prefix in ["bright-", "bright"] where name.hasPrefix(prefix) {
            if let i = names.firstIndex(of: String(name.dropFirst(prefix.count))) { return .ansi(8 + i) }
        }
        guard name.hasPrefix("#"), name.count == 7, let value = UInt32(name.dropFirst(), radix: 16) else { return nil }
        return .rgb(UInt8(value >> 16), UInt8((value >> 8) & 0xFF), UInt8(value & 0xFF))
    }

    /// The colour number for a terminal with `colors` colours (-1 = the terminal's default): the nearest
    /// xterm-256 cube or grey entry on 256-colour terminals, the nearest ANSI colour on 8/16-colour ones.
    public func index(colors: Int) -> Int {
        switch self {
        case .terminalDefault: return -1
        // On 8 colours a bright colour folds onto its base; bright black (grey) onto white, not onto black.
        case .ansi(let n): return n < colors ? n : (n == 8 ? 7 : n % 8)
        case .rgb(let r, let g, let b):
            if colors >= 256 { return Self.nearest256(Int(r), Int(g), Int(b)) }
            let palette = colors >= 16 ? Self.ansiRGB : Array(Self.ansiRGB.prefix(8))
            return Self.nearestIndex(in: palette, Int(r), Int(g), Int(b))
        }
    }

    /// xterm's RGB values for the 16 ANSI colours.
    static let ansiRGB: [(Int, Int, Int)] = [
        (0, 0, 0), (205, 0, 0), (0, 205, 0), (205, 205, 0), (0, 0, 238), (205, 0, 205), (0, 205, 205), (229, 229, 229),
        (127, 127, 127), (255, 0, 0), (0, 255, 0), (255, 255, 0), (92, 92, 255), (255, 0, 255), (0, 255, 255), (255, 255, 255),
    ]

    private static func nearestIndex(in palette: [(Int, Int, Int)], _ r: Int, _ g: Int, _ b: Int) -> Int {
        var best = 0
        var bestDistance = Int.max
        for (i, c) in palette.enumerated() {
            let d = (c.0 - r) * (c.0 - r) + (c.1 - g) * (c.1 - g) + (c.2 - b) * (c.2 - b)
            if d < bestDistance { best = i; bestDistance = d }
        }
        return best
    }

    private static func nearest256(_ r: Int, _ g: Int, _ b: Int) -> Int {
        let levels = [0, 95, 135, 175, 215, 255]
        func level(_ v: Int) -> Int { levels.indices.min { abs(levels[$0] - v) < abs(levels[$1] - v) }! }
        let (lr, lg, lb) = (level(r), level(g), level(b))
        let cube = (levels[lr], levels[lg], levels[lb])
        let grey = max(0, min(23, ((r + g + b) / 3 - 8 + 5) / 10))
        let greyValue = 8 + 10 * grey
        func distance(_ c: (Int, Int, Int)) -> Int { (c.0 - r) * (c.0 - r) + (c.1 - g) * (c.1 - g) + (c.2 - b) * (c.2 - b) }
        return distance((greyValue, greyValue, greyValue)) < distance(cube) ? 232 + grey : 16 + 36 * lr + 6 * lg + lb
    }
}

/// How one role looks.
public struct RoleStyle: Sendable, Equatable {
    public var foreground: ThemeColor
    public var background: ThemeColor
    public var attributes: CellAttributes

    public init(foreground: ThemeColor = .terminalDefault, background: ThemeColor = .terminalDefault,
                attributes: CellAttributes = []) {
        self.foreground = foreground
        self.background = background
        self.attributes = attributes
    }
}

/// A theme file that cannot be used: names the file and the line, and what to write instead.
public struct ThemeError: Error, CustomStringConvertible, Sendable, Equatable {
    public var file: String
    /// 1-based; 0 when the problem has no line (e.g. a theme that does not exist).
    public var line: Int
    public var message: String

    public var description: String {
        line > 0 ? "theme \(file), line \(line): \(message)" : "theme \(file): \(message)"
    }
}

/// Semantic roles mapped to colours; read from `themes/NAME.yaml`.
public struct Theme: Sendable, Equatable {
    public var name: String
    /// The file it was read from, or `built-in`.
    public var source: String
    public var styles: [StyleRole: RoleStyle]

    public func style(_ role: StyleRole) -> RoleStyle { styles[role] ?? RoleStyle() }

    /// The dark default, compiled in so an installed binary without the themes directory still has a theme.
    /// `themes/default.yaml` holds the same text (a test keeps them equal).
    public static let builtInDefaultYAML = """
        # hangar theme: default (dark terminals)
        # Roles map to a colour name (default, black, red, green, yellow, blue, magenta, cyan, white,
        # bright-<name>, grey) or #rrggbb, as `role: colour` or `role: {fg: …, bg: …, bold: true, reverse: true, underline: true}`.
        name: default
        roles:
          text: default
          dim: grey
          accent: {fg: cyan, bold: true}
          selection: {fg: black, bg: cyan, bold: true}
          border: grey
          ok: green
          warning: yellow
          error: {fg: bright-red, bold: true}
          upgrade: {fg: bright-yellow, bold: true}
          progress_fill: cyan
          progress_empty: grey
          header: {fg: black, bg: "#5f87af"}
          footer: {fg: black, bg: "#8a8a8a"}

        """

    public static let builtInDefault: Theme = {
        do { return try parse(builtInDefaultYAML, file: "built-in") } catch { fatalError("built-in theme: \(error)") }
    }()

    /// Parses a theme file. Unknown roles, unknown colours and wrong shapes are errors naming the line;
    /// roles the file leaves out look as in the built-in default.
    public static func parse(_ text: String, file: String, fallback: Theme? = nil) throws(ThemeError) -> Theme {
        let root: YAMLNode?
        do {
            root = try YAMLParser.parse(text, limits: YAMLLimits(maxNodes: 10_000, maxDepth: 8, maxInputBytes: 256 << 10))
        } catch {
            throw ThemeError(file: file, line: error.line, message: error.message)
        }
        guard let root, let top = root.mapping else {
            throw ThemeError(file: file, line: root?.mark.line ?? 1, message: "expected a mapping with name: and roles:")
        }
        var theme = fallback ?? Theme(name: "", source: file, styles: [:])
        theme.source = file
        for pair in top {
            switch pair.key {
            case "name":
                guard let name = pair.value.string else {
                    throw ThemeError(file: file, line: pair.value.mark.line, message: "name must be text")
                }
                theme.name = name
            case "roles":
                guard let roles = pair.value.mapping else {
                    throw ThemeError(file: file, line: pair.value.mark.line, message: "roles must be a mapping of role: colour")
                }
                for rolePair in roles {
                    guard let role = StyleRole(rawValue: rolePair.key) else {
                        let known = StyleRole.allCases.map(\.rawValue).joined(separator: ", ")
                        throw ThemeError(file: file, line: rolePair.keyMark.line,
                                         message: "unknown role \"\(rolePair.key)\": use one of \(known)")
                    }
                    theme.styles[role] = try parseStyle(rolePair.value, file: file)
                }
            default:
                throw ThemeError(file: file, line: pair.keyMark.line, message: "unknown key \"\(pair.key)\": a theme has name: and roles:")
            }
        }
        return theme
    }

    private static func parseStyle(_ node: YAMLNode, file: String) throws(ThemeError) -> RoleStyle {
        if let text = node.string { return RoleStyle(foreground: try color(text, node, file: file)) }
        guard let fields = node.mapping else {
            throw ThemeError(file: file, line: node.mark.line, message: "expected a colour or {fg: …, bg: …, bold: …}")
        }
        var style = RoleStyle()
        for field in fields {
            let value = field.value.string ?? ""
            switch field.key {
            case "fg": style.foreground = try color(value, field.value, file: file)
            case "bg": style.background = try color(value, field.value, file: file)
            case "bold", "reverse", "underline":
                guard let on = ["true": true, "false": false, "yes": true, "no": false][value.lowercased()] else {
                    throw ThemeError(file: file, line: field.value.mark.line, message: "\(field.key) must be true or false, not \"\(value)\"")
                }
                let attribute: CellAttributes = field.key == "bold" ? .bold : field.key == "reverse" ? .reverse : .underline
                if on { style.attributes.insert(attribute) } else { style.attributes.remove(attribute) }
            default:
                throw ThemeError(file: file, line: field.keyMark.line,
                                 message: "unknown field \"\(field.key)\": use fg, bg, bold, reverse or underline")
            }
        }
        return style
    }

    private static func color(_ text: String, _ node: YAMLNode, file: String) throws(ThemeError) -> ThemeColor {
        guard let color = ThemeColor.parse(text) else {
            throw ThemeError(file: file, line: node.mark.line,
                             message: "unknown colour \"\(text)\": use default, a name like cyan or bright-red, or #rrggbb")
        }
        return color
    }
}

/// Where themes are looked up, in order: `$HANGAR_THEMES_DIR`, `~/.config/hangar/themes` (XDG),
/// `<prefix>/share/hangar/themes` of an installed binary, the `themes/` directory of the source tree the executable
/// was built in, then the built-in default.
public struct ThemeLibrary: Sendable {
    public var directories: [String]

    public init(directories: [String]) { self.directories = directories }

    /// The standard search path for this process.
    public static func standard(environment: [String: String], executablePath: String? = Self.currentExecutable()) -> ThemeLibrary {
        var dirs: [String] = []
        if let dir = environment["HANGAR_THEMES_DIR"], !dir.isEmpty { dirs.append(dir) }
        let config = environment["XDG_CONFIG_HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? ((environment["HOME"] ?? "") + "/.config")
        dirs.append(config + "/hangar/themes")
        if let exe = executablePath {
            // An installed binary (`scripts/install.sh`) runs from <prefix>/bin/hangar, its themes in
            // <prefix>/share/hangar/themes: found from any working directory, as the real path of the binary.
            let installed = (((exe as NSString).deletingLastPathComponent as NSString).deletingLastPathComponent as NSString)
                .appendingPathComponent("share/hangar/themes")
            if FileManager.default.fileExists(atPath: installed + "/default.yaml") { dirs.append(installed) }
            // A build in a checkout runs from <repo>/.build/<config>/hangar: look for <repo>/themes upwards.
            var dir = (exe as NSString).deletingLastPathComponent
            for _ in 0..<5 where dir.count > 1 {
                if FileManager.default.fileExists(atPath: dir + "/themes/default.yaml") { dirs.append(dir + "/themes"); break }
                dir = (dir as NSString).deletingLastPathComponent
            }
        }
        return ThemeLibrary(directories: dirs)
    }

    /// The running binary's real path (Linux `/proc/self/exe`), to find the source tree's themes next to a build.
    public static func currentExecutable() -> String? {
        try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")
    }

    /// Loads a theme by name (`light`) or by path (`./mine.yaml`). `default` falls back to the built-in copy.
    public func load(_ nameOrPath: String) throws(ThemeError) -> Theme {
        if nameOrPath.contains("/") { return try read(nameOrPath) }
        guard nameOrPath.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" }), !nameOrPath.isEmpty else {
            throw ThemeError(file: nameOrPath, line: 0, message: "not a theme name: use letters, digits, - and _, or a path to a .yaml file")
        }
        for dir in directories {
            let path = dir + "/" + nameOrPath + ".yaml"
            if FileManager.default.fileExists(atPath: path) { return try read(path) }
        }
        if nameOrPath == "default" { return Theme.builtInDefault }
        let known = availableNames().joined(separator: ", ")
        throw ThemeError(file: nameOrPath, line: 0, message: "no such theme (looked in \(directories.joined(separator: ", "))); available: \(known)")
    }

    /// Every theme name found on the search path, plus `default`, sorted.
    public func availableNames() -> [String] {
        var names: Set<String> = ["default"]
        for dir in directories {
            for file in (try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? [] where file.hasSuffix(".yaml") {
                names.insert(String(file.dropLast(5)))
            }
        }
        return names.sorted()
    }

    private func read(_ path: String) throws(ThemeError) -> Theme {
        guard let data = FileManager.default.contents(atPath: path), data.count <= 256 << 10 else {
            throw ThemeError(file: path, line: 0, message: "cannot read the file (missing, unreadable or over 256 KiB)")
        }
        return try Theme.parse(String(decoding: data, as: UTF8.self), file: path, fallback: Theme.builtInDefault)
    }
}
