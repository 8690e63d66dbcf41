import Foundation
import HangarEngine

/// A LocalAI installation in a temp dir, laid out as a real one: `backends/`, `system/` (system backends),
/// `configuration/` (runtime_settings.json), `home/`, plus `sources/` (backend trees an install copies from) and
/// `galleries/` (gallery YAML files). Every test target's site and the bench's are built with it.
public final class LocalAISite: Sendable {
    public let root: String
    /// Holds `sources/` and `galleries/`: this site's root, or the root of the site it was made `beside`.
    public let sharedRoot: String
    /// The site this one was made `beside`: kept alive while this one is, since removing it removes this one too.
    private let parent: LocalAISite?

    public var backends: String { root + "/backends" }
    public var system: String { root + "/system" }
    public var config: String { root + "/configuration" }
    public var home: String { root + "/home" }
    public var sources: String { sharedRoot + "/sources" }
    public var galleries: String { sharedRoot + "/galleries" }

    /// A new site in `<temp>/hangar-<label>-XXXXXX`, removed on deinit (or earlier by `remove()`).
    public convenience init(_ label: String = "site") throws {
        try self.init(root: try makeTemporaryDirectory(label), parent: nil)
    }

    private init(root: String, parent: LocalAISite?) throws {
        self.root = root
        self.sharedRoot = parent?.sharedRoot ?? root
        self.parent = parent
        var dirs = [backends, system, config, home]
        if parent == nil { dirs += [sources, galleries] }
        for dir in dirs { try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true) }
    }

    // A site made `beside` another lives inside it and goes with it.
    deinit { if parent == nil { removeTree(root) } }

    /// Removes the whole site now (idempotent).
    public func remove() { removeTree(root) }

    /// Another installation (own backends, system, configuration, home) in `sites/<label>-XXXXXX` below this one,
    /// sharing its sources and galleries: any number of them can run hangar in parallel on the same trees.
    public func beside(_ label: String) throws -> LocalAISite {
        let safe = String(label.map { $0.isLetter || $0.isNumber || $0 == "-" ? $0 : "_" })
        return try LocalAISite(root: root + "/sites/\(safe)-\(UUID().uuidString.prefix(6))", parent: self)
    }

    /// `<backends>/<name>`.
    public func path(_ name: String) -> String { backends + "/" + name }

    // MARK: Backend trees

    /// Writes `tree` as the source directory `sources/<directory>` and returns its path.
    @discardableResult
    public func source(_ directory: String, _ tree: BackendTree) throws -> String {
        let path = sources + "/" + directory
        try tree.write(to: path)
        return path
    }

    /// An installed backend `<base>/<name>` (base: the backends dir unless given): `tree` plus, unless nil,
    /// metadata.json with exactly `metadataJSON` (raw, so a test can write a broken one).
    @discardableResult
    public func install(_ name: String, _ tree: BackendTree = .runScript(), metadataJSON: String?,
                        in base: String? = nil) throws -> LocalAISite {
        let dir = (base ?? backends) + "/" + name
        try tree.write(to: dir)
        if let metadataJSON { try HangarFixtures.write(path: dir + "/metadata.json", text: metadataJSON) }
        return self
    }

    /// An installed backend with LocalAI's metadata.json for `metadata` (its bytes exactly as LocalAI writes them).
    @discardableResult
    public func install(_ name: String, _ tree: BackendTree = .runScript(), metadata: BackendMetadata,
                        in base: String? = nil) throws -> LocalAISite {
        try install(name, tree, metadataJSON: metadata.encoded(), in: base)
    }

    /// An installed backend as a previous install left it: a copy of the directory `source` (modes and symlinks
    /// kept), the top directory 0750 as hangar's staging makes it, and LocalAI's metadata.json. Faster than an install.
    @discardableResult
    public func installCopy(of source: String, as name: String, metadata: BackendMetadata) throws -> LocalAISite {
        let dir = path(name)
        try copyTree(source, to: dir)
        chmod(dir, 0o750)
        try HangarFixtures.write(path: dir + "/metadata.json", text: metadata.encoded())
        return self
    }

    /// `tar czf <sources>/<name>` of the directory `directory` (its last component as the archive's top entry)
    /// and returns the tarball's path.
    @discardableResult
    public func tarball(_ name: String, of directory: String) throws -> String {
        let out = sources + "/" + name
        let tar = try Process.run(URL(fileURLWithPath: "/usr/bin/tar"), arguments: [
            "-czf", out, "-C", (directory as NSString).deletingLastPathComponent, (directory as NSString).lastPathComponent,
        ])
        tar.waitUntilExit()
        guard tar.terminationStatus == 0 else { throw FixtureError("tar -czf \(out) failed: \(tar.terminationStatus)") }
        return out
    }

    // MARK: Galleries and settings

    /// Writes the gallery `galleries/<file>` with `items` (a `---` document, as LocalAI's index is).
    @discardableResult
    public func gallery(_ items: [GalleryItem], file: String = "index.yaml", name: String = "t") throws -> GalleryFile {
        try gallery(yaml: "---\n" + items.map(\.yaml).joined(), file: file, name: name)
    }

    /// Writes the gallery `galleries/<file>` with exactly `yaml` (for hand-written or malformed galleries).
    @discardableResult
    public func gallery(yaml: String, file: String = "index.yaml", name: String = "t") throws -> GalleryFile {
        let path = galleries + "/" + file
        try HangarFixtures.write(path: path, text: yaml)
        return GalleryFile(path: path, name: name)
    }

    /// Writes `configuration/runtime_settings.json` with exactly `json`, mode 0600 as LocalAI writes it.
    @discardableResult
    public func runtimeSettings(_ json: String) throws -> LocalAISite {
        try HangarFixtures.write(path: config + "/runtime_settings.json", text: json, mode: 0o600)
        return self
    }

    // MARK: Running hangar on the site

    /// The complete environment of a hangar process on this site, nothing inherited (so no stray LOCALAI_* from
    /// the runner): PATH, HOME, LANG and LocalAI's paths, galleries and capability. `extra` adds, replaces or, with
    /// nil, removes variables.
    public func environment(galleries: [GalleryFile], _ extra: [String: String?] = [:]) -> [String: String] {
        var env = [
            "PATH": "/usr/local/bin:/usr/bin:/bin",
            "HOME": home,
            "LANG": "C.UTF-8",
            "LOCALAI_BACKENDS_PATH": backends,
            "LOCALAI_BACKENDS_SYSTEM_PATH": system,
            "LOCALAI_CONFIG_DIR": config,
            "LOCALAI_FORCE_META_BACKEND_CAPABILITY": "default",
            "LOCALAI_BACKEND_GALLERIES": GalleryFile.json(galleries),
        ]
        for (key, value) in extra { env[key] = value }
        return env
    }

    /// The engine configuration `hangar --backends-path … --config-dir … [--capability …]` resolves on this site.
    public func configuration(galleries: [GalleryFile], capability: String? = "default",
                              environment extra: [String: String] = [:]) throws -> HangarConfiguration {
        var env = ["LOCALAI_BACKEND_GALLERIES": GalleryFile.json(galleries)]
        for (key, value) in extra { env[key] = value }
        return try HangarConfiguration.resolve(
            flags: .init(backendsPath: backends, systemBackendsPath: system, configDir: config, capability: capability),
            environment: env, workingDirectory: root)
    }
}

/// A test target's own face of a `LocalAISite` (EngineFixture, TUIFixture, RegistrySite): the site's paths come
/// with it, so the veneer only adds what its tests need.
public protocol LocalAISiteVeneer {
    var site: LocalAISite { get }
}

extension LocalAISiteVeneer {
    public var root: String { site.root }
    public var backends: String { site.backends }
    public var system: String { site.system }
    public var config: String { site.config }
    public var home: String { site.home }
}

/// One gallery file and how `LOCALAI_BACKEND_GALLERIES` names it.
public struct GalleryFile: Sendable {
    public let path: String
    public let name: String

    public init(path: String, name: String) {
        self.path = path
        self.name = name
    }

    public var url: String { "file://" + path }
    /// `LOCALAI_BACKEND_GALLERIES` holding just this gallery.
    public var json: String { Self.json([self]) }

    /// `LOCALAI_BACKEND_GALLERIES` listing `galleries` in order (`[]` for none).
    public static func json(_ galleries: [GalleryFile]) -> String {
        "[" + galleries.map { "{\"name\":\"\($0.name)\",\"url\":\"\($0.url)\"}" }.joined(separator: ",") + "]"
    }
}

/// One entry of a backend gallery; a meta has `capabilities` and no `uri`.
public struct GalleryItem: Sendable {
    public var name: String
    public var uri: String
    public var version: String
    public var alias: String
    public var tags: [String]
    public var description: String
    public var capabilities: [(String, String)]
    public var mirrors: [String]

    public init(name: String, uri: String = "", version: String = "", alias: String = "", tags: [String] = [],
                description: String = "", capabilities: [(String, String)] = [], mirrors: [String] = []) {
        self.name = name
        self.uri = uri
        self.version = version
        self.alias = alias
        self.tags = tags
        self.description = description
        self.capabilities = capabilities
        self.mirrors = mirrors
    }

    /// The entry as a YAML list item, every scalar double-quoted.
    public var yaml: String {
        var s = "- name: \"\(name)\"\n"
        if !uri.isEmpty { s += "  uri: \"\(uri)\"\n" }
        if !version.isEmpty { s += "  version: \"\(version)\"\n" }
        if !alias.isEmpty { s += "  alias: \"\(alias)\"\n" }
        if !tags.isEmpty { s += "  tags: [" + tags.joined(separator: ", ") + "]\n" }
        if !description.isEmpty { s += "  description: \"\(description)\"\n" }
        if !capabilities.isEmpty {
            s += "  capabilities:\n"
            for (capability, concrete) in capabilities { s += "    \(capability): \"\(concrete)\"\n" }
        }
        if !mirrors.isEmpty { s += "  mirrors:\n" + mirrors.map { "    - \"\($0)\"\n" }.joined() }
        return s
    }
}

/// Copies the directory `source` to the new directory `destination`: files, directories and symlinks, modes kept.
public func copyTree(_ source: String, to destination: String) throws {
    let fm = FileManager.default
    try fm.createDirectory(atPath: destination, withIntermediateDirectories: true)
    for name in try fm.contentsOfDirectory(atPath: source) {
        let from = source + "/" + name, to = destination + "/" + name
        var st = stat()
        guard lstat(from, &st) == 0 else { continue }
        switch st.st_mode & S_IFMT {
        case S_IFDIR:
            try copyTree(from, to: to)
            chmod(to, st.st_mode & 0o7777)
        case S_IFLNK:
            try fm.createSymbolicLink(atPath: to, withDestinationPath: try fm.destinationOfSymbolicLink(atPath: from))
        default:
            try (fm.contents(atPath: from) ?? Data()).write(to: URL(fileURLWithPath: to))
            chmod(to, st.st_mode & 0o7777)
        }
    }
}
