import Foundation
import HangarFixtures
import XCTest

#if canImport(Glibc)
import Glibc
#endif

/// A temp directory holding backend source trees and gallery files, shared by any number of `Site`s (each a
/// separate LocalAI installation). Sources and galleries are only read by hangar, so sites can run in parallel.
final class CLISandbox: Sendable {
    let root: String

    init() throws {
        root = FileManager.default.temporaryDirectory.path + "/hangar-cli-\(UUID().uuidString.prefix(8))"
        for dir in [root + "/sources", root + "/galleries", root + "/sites", root + "/io"] {
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        }
    }

    func remove() { try? FileManager.default.removeItem(atPath: root) }

    /// Where process output files go while a process runs.
    var ioDirectory: String { root + "/io" }

    /// A new, empty LocalAI installation (backends, system backends, config dir) inside the sandbox.
    func site(_ label: String = "site") throws -> Site {
        let safe = String(label.map { $0.isLetter || $0.isNumber || $0 == "-" ? $0 : "_" })
        let site = Site(root: root + "/sites/\(safe)-\(UUID().uuidString.prefix(6))", sandbox: self)
        for dir in [site.backends, site.system, site.config, site.home] {
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        }
        return site
    }

    /// A backend source directory `sources/<name>-<version>` in the shape of an extracted backend image:
    /// run.sh (unless `runScript` is false), a version file, a file only this version has, a library with a
    /// relative symlink to it, a private bin/ dir with an executable, and `payloadBytes` of filler (for throttled
    /// copies). Contents depend on name and version, so two versions never share a file body.
    @discardableResult
    func source(_ name: String, _ version: String, runScript: Bool = true, payloadBytes: Int = 0) throws -> SourceTree {
        let path = root + "/sources/\(name)-\(version)"
        let fm = FileManager.default
        try fm.createDirectory(atPath: path + "/lib", withIntermediateDirectories: true)
        try fm.createDirectory(atPath: path + "/bin", withIntermediateDirectories: true)
        chmod(path + "/bin", 0o750)
        if runScript { try writeFile(path + "/run.sh", "#!/bin/sh\necho \"\(name) \(version) $*\"\n", mode: 0o755) }
        try writeFile(path + "/VERSION", "\(name) \(version)\n", mode: 0o644)
        try writeFile(path + "/only-\(version).txt", "present only in \(name) \(version)\n", mode: 0o600)
        try writeFile(path + "/lib/lib\(name).so", "\(name) library build \(version)\n", mode: 0o644)
        try fm.createSymbolicLink(atPath: path + "/lib/current.so", withDestinationPath: "lib\(name).so")
        try writeFile(path + "/bin/helper", "#!/bin/sh\necho helper \(version)\n", mode: 0o700)
        if payloadBytes > 0 {
            var bytes = [UInt8](repeating: 0, count: payloadBytes)
            let seed = version.utf8.reduce(UInt8(1)) { $0 &+ $1 } | 1
            for i in bytes.indices { bytes[i] = UInt8(truncatingIfNeeded: i &* 131) &+ seed }
            try Data(bytes).write(to: URL(fileURLWithPath: path + "/lib/payload.bin"))
        }
        let tree = try XCTUnwrap(TreeSnapshot.take(path))
        // run.sh, VERSION, only-*, lib/, lib/*.so, the symlink, bin/, bin/helper: a snapshot that saw them all.
        XCTAssertGreaterThanOrEqual(tree.entries.count, runScript ? 8 : 7, "snapshot of \(path) is incomplete")
        return SourceTree(path: path, version: version, tree: tree)
    }

    /// Writes a gallery YAML file with `entries` and returns its `file://` URL's JSON list for LOCALAI_BACKEND_GALLERIES.
    @discardableResult
    func gallery(_ fileName: String, _ entries: [GalleryItem], galleryName: String = "t") throws -> GalleryFile {
        let path = root + "/galleries/" + fileName
        var yaml = "---\n"
        for entry in entries { yaml += entry.yaml }
        try writeFile(path, yaml, mode: 0o644)
        return GalleryFile(path: path, name: galleryName)
    }
}

/// One gallery file and the `LOCALAI_BACKEND_GALLERIES` value pointing at it.
struct GalleryFile: Sendable {
    let path: String
    let name: String
    var url: String { "file://" + path }
    var json: String { "[{\"name\":\"\(name)\",\"url\":\"\(url)\"}]" }
}

/// One gallery entry; a meta has `capabilities` and no `uri`.
struct GalleryItem: Sendable {
    var name: String
    var uri: String = ""
    var version: String = ""
    var alias: String = ""
    var tags: [String] = []
    var description: String = ""
    var capabilities: [(String, String)] = []

    static func concrete(_ name: String, _ source: SourceTree, alias: String = "", tags: [String] = [],
                         description: String = "") -> GalleryItem {
        GalleryItem(name: name, uri: source.path, version: source.version, alias: alias, tags: tags, description: description)
    }

    var yaml: String {
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
        return s
    }
}

/// A source directory and its snapshot (what an installed copy must equal, metadata.json aside).
struct SourceTree: Sendable {
    let path: String
    let version: String
    let tree: TreeSnapshot
}

/// A LocalAI installation the tests point hangar at.
struct Site: Sendable {
    let root: String
    let sandbox: CLISandbox

    var backends: String { root + "/backends" }
    var system: String { root + "/system-backends" }
    var config: String { root + "/configuration" }
    var home: String { root + "/home" }

    /// The complete environment of a hangar process: nothing inherited from the test runner (no stray LOCALAI_*).
    func environment(gallery: GalleryFile?, _ extra: [String: String] = [:]) -> [String: String] {
        var env = [
            "PATH": "/usr/local/bin:/usr/bin:/bin",
            "HOME": home,
            "XDG_DATA_HOME": home + "/.local/share",
            "LANG": "C.UTF-8",
            "LOCALAI_BACKENDS_PATH": backends,
            "LOCALAI_BACKENDS_SYSTEM_PATH": system,
            "LOCALAI_CONFIG_DIR": config,
            "LOCALAI_FORCE_META_BACKEND_CAPABILITY": "default",
        ]
        env["LOCALAI_BACKEND_GALLERIES"] = gallery?.json ?? "[]"
        for (k, v) in extra { env[k] = v == Site.unset ? nil : v }
        return env
    }

    /// Pass as a value in `extra` to leave that variable out of the environment.
    static let unset = "\u{0}unset"

    /// Runs hangar to completion (killed after `timeout` seconds).
    func run(_ arguments: [String], gallery: GalleryFile?, env extra: [String: String] = [:], timeout: Double = 30) throws -> RunResult {
        try start(arguments, gallery: gallery, env: extra).wait(timeout: timeout)
    }

    /// Starts hangar and returns at once.
    func start(_ arguments: [String], gallery: GalleryFile?, env extra: [String: String] = [:]) throws -> RunningHangar {
        try RunningHangar(arguments, environment: environment(gallery: gallery, extra), directory: root,
                          outputDirectory: sandbox.ioDirectory)
    }

    func path(_ name: String) -> String { backends + "/" + name }

    /// Puts `source` in place as an installed backend `name`, as a previous install would have left it: a copy of
    /// the tree (modes and symlinks kept) plus LocalAI's metadata.json. Faster than running an install per case.
    func installCopy(_ source: SourceTree, as name: String, alias: String = "", gallery: GalleryFile? = nil) throws {
        let dir = path(name)
        try TreeSnapshot.copyTree(source.path, to: dir)
        chmod(dir, 0o750)
        var fields: [(String, String)] = []
        if !alias.isEmpty { fields.append(("alias", alias)) }
        fields.append(("name", name))
        if let gallery { fields.append(("gallery_url", gallery.url)) }
        fields.append(("installed_at", "2026-01-02T03:04:05Z"))
        fields.append(("version", source.version))
        fields.append(("uri", source.path))
        try writeFile(dir + "/metadata.json", goIndentedObject(fields), mode: 0o644)
    }

    /// What `<backends>/<name>` holds now, judged against the two trees it may legitimately be.
    func state(of name: String, old: SourceTree?, new: SourceTree?) -> BackendState {
        BackendState.classify(path(name), old: old, new: new)
    }

    /// Entries left in hangar's private staging, trash and journal directories (empty means clean).
    func leftovers() -> [String] {
        var found: [String] = []
        for sub in ["staging", "trash", "journal"] {
            let dir = backends + "/.hangar/" + sub
            for entry in (try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? [] {
                found.append(".hangar/\(sub)/\(entry)")
            }
        }
        return found.sorted()
    }

    /// Entries of the backends directory besides hangar's `.hangar`.
    func backendEntries() -> Set<String> {
        Set(((try? FileManager.default.contentsOfDirectory(atPath: backends)) ?? []).filter { $0 != ".hangar" })
    }
}

/// Which version a backend directory holds.
enum BackendState: Equatable, CustomStringConvertible {
    case missing
    case old
    case new
    /// Neither tree: a mixed, partial or otherwise wrong directory, with the differences.
    case other(String)

    var description: String {
        switch self {
        case .missing: return "missing"
        case .old: return "old"
        case .new: return "new"
        case .other(let detail): return "neither version: \(detail)"
        }
    }

    /// Compares the whole tree at `path` (every file's bytes, mode, symlink target; the top directory's own mode
    /// aside, since staging creates it 0750) with each candidate source tree plus a metadata.json of that version.
    static func classify(_ path: String, old: SourceTree?, new: SourceTree?) -> BackendState {
        guard var tree = TreeSnapshot.take(path) else { return .missing }
        guard let metadata = tree.entries.removeValue(forKey: "metadata.json") else {
            return .other("no metadata.json; entries \(tree.entries.keys.sorted())")
        }
        guard metadata.kind == .file, metadata.mode == 0o644,
              let object = (try? JSONSerialization.jsonObject(with: metadata.content)) as? [String: Any],
              let version = object["version"] as? String else {
            return .other("metadata.json is not a 0644 JSON object with a version")
        }
        var notes: [String] = []
        for (label, candidate, state) in [("old", old, BackendState.old), ("new", new, BackendState.new)] {
            guard let candidate else { continue }
            if tree == candidate.tree && version == candidate.version { return state }
            notes.append("vs \(label) v\(candidate.version): " + tree.differences(from: candidate.tree)
                         + (version == candidate.version ? "" : " metadata version \(version)"))
        }
        return .other(notes.joined(separator: "; "))
    }
}

/// Every entry below a directory: kind, permission bits and bytes (file body or symlink target).
struct TreeSnapshot: Equatable, Sendable {
    enum Kind: Equatable, Sendable { case file, directory, symlink, other }

    struct Entry: Equatable, Sendable {
        var kind: Kind
        var mode: UInt32
        var content: Data
    }

    var entries: [String: Entry] = [:]

    /// The snapshot of `path`'s contents, or nil when `path` does not exist.
    static func take(_ path: String) -> TreeSnapshot? {
        var st = stat()
        guard lstat(path, &st) == 0 else { return nil }
        var snapshot = TreeSnapshot()
        walk(path, prefix: "", into: &snapshot.entries)
        return snapshot
    }

    private static func walk(_ dir: String, prefix: String, into entries: inout [String: Entry]) {
        for name in ((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []).sorted() {
            let full = dir + "/" + name
            let rel = prefix + name
            var st = stat()
            guard lstat(full, &st) == 0 else { continue }
            let mode = UInt32(st.st_mode & 0o7777)
            switch st.st_mode & S_IFMT {
            case S_IFREG:
                entries[rel] = Entry(kind: .file, mode: mode, content: FileManager.default.contents(atPath: full) ?? Data())
            case S_IFDIR:
                entries[rel] = Entry(kind: .directory, mode: mode, content: Data())
                walk(full, prefix: rel + "/", into: &entries)
            case S_IFLNK:
                let target = (try? FileManager.default.destinationOfSymbolicLink(atPath: full)) ?? ""
                entries[rel] = Entry(kind: .symlink, mode: 0, content: Data(target.utf8))
            default:
                entries[rel] = Entry(kind: .other, mode: mode, content: Data())
            }
        }
    }

    /// A short description of how this tree differs from `other`.
    func differences(from other: TreeSnapshot) -> String {
        let mine = Set(entries.keys), theirs = Set(other.entries.keys)
        var parts: [String] = []
        let extra = mine.subtracting(theirs).sorted(), missing = theirs.subtracting(mine).sorted()
        if !extra.isEmpty { parts.append("extra \(extra)") }
        if !missing.isEmpty { parts.append("missing \(missing)") }
        let changed = mine.intersection(theirs).filter { entries[$0] != other.entries[$0] }.sorted()
        if !changed.isEmpty {
            parts.append("changed " + changed.map { key in
                let a = entries[key]!, b = other.entries[key]!
                return a.mode != b.mode ? "\(key) (mode \(String(a.mode, radix: 8)) ≠ \(String(b.mode, radix: 8)))" : "\(key) (content)"
            }.joined(separator: ", "))
        }
        return parts.isEmpty ? "same files" : parts.joined(separator: ", ")
    }

    /// Copies `source` to the new directory `destination`: files, directories and symlinks with their modes.
    static func copyTree(_ source: String, to destination: String) throws {
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
}

/// Writes `text` to `path` with exactly `mode` (chmod after the write, so the umask does not interfere).
func writeFile(_ path: String, _ text: String, mode: mode_t) throws {
    try Data(text.utf8).write(to: URL(fileURLWithPath: path))
    chmod(path, mode)
}

/// A flat JSON object of strings with Go's `json.MarshalIndent(v, "", "  ")` layout, as LocalAI writes metadata.json.
func goIndentedObject(_ fields: [(String, String)]) -> String {
    func quote(_ s: String) -> String {
        var out = "\""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }
    if fields.isEmpty { return "{}" }
    return "{\n" + fields.map { "  \(quote($0.0)): \(quote($0.1))" }.joined(separator: ",\n") + "\n}"
}

/// JSON helpers for assertions on hangar's output.
enum JSON {
    static func parse(_ text: String, file: StaticString = #filePath, line: UInt = #line) throws -> Any {
        do {
            return try JSONSerialization.jsonObject(with: Data(text.utf8), options: [.fragmentsAllowed])
        } catch {
            XCTFail("not JSON: \(error)\n\(text)", file: file, line: line)
            throw error
        }
    }

    static func array(_ text: String, file: StaticString = #filePath, line: UInt = #line) throws -> [[String: Any]] {
        try XCTUnwrap(try parse(text, file: file, line: line) as? [[String: Any]], "not an array of objects: \(text)",
                      file: file, line: line)
    }

    static func object(_ text: String, file: StaticString = #filePath, line: UInt = #line) throws -> [String: Any] {
        try XCTUnwrap(try parse(text, file: file, line: line) as? [String: Any], "not an object: \(text)", file: file, line: line)
    }

    /// JSON Lines: one object per non-empty line.
    static func lines(_ text: String, file: StaticString = #filePath, line: UInt = #line) throws -> [[String: Any]] {
        try text.split(separator: "\n").filter { !$0.isEmpty }.map { try object(String($0), file: file, line: line) }
    }
}

/// Base class of the tests that run the real binary: requires it, and gives each test a fresh sandbox.
class CLITestCase: XCTestCase {
    var sandbox: CLISandbox!

    override func setUpWithError() throws {
        _ = try HangarExecutable.path()
        sandbox = try CLISandbox()
    }

    override func tearDown() {
        sandbox?.remove()
        sandbox = nil
    }
}
