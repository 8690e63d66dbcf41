import Foundation
import HangarEngine
import HangarFixtures
import XCTest

/// A `LocalAISite` whose source trees and gallery files are shared by any number of `Site`s (each a separate
/// LocalAI installation beside it). Sources and galleries are only read by hangar, so sites can run in parallel.
final class CLISandbox: Sendable {
    let shared: LocalAISite
    var root: String { shared.root }

    init() throws {
        shared = try LocalAISite("cli")
        try FileManager.default.createDirectory(atPath: ioDirectory, withIntermediateDirectories: true)
    }

    func remove() { shared.remove() }

    /// Where process output files go while a process runs.
    var ioDirectory: String { root + "/io" }

    /// A new, empty LocalAI installation (backends, system backends, config dir, HOME) inside the sandbox.
    func site(_ label: String = "site") throws -> Site {
        Site(installation: try shared.beside(label), sandbox: self)
    }

    /// A backend source directory `sources/<name>-<version>` in the shape of an extracted backend image:
    /// run.sh (unless `runScript` is false), a version file, a file only this version has, a library with a
    /// relative symlink to it, a private bin/ dir with an executable, and `payloadBytes` of filler (for throttled
    /// copies). Contents depend on name and version, so two versions never share a file body.
    @discardableResult
    func source(_ name: String, _ version: String, runScript: Bool = true, payloadBytes: Int = 0) throws -> SourceTree {
        var tree = BackendTree().directory("lib").directory("bin", mode: 0o750)
        if runScript { tree = tree.runScript("echo \"\(name) \(version) $*\"\n") }
        tree = tree.file("VERSION", "\(name) \(version)\n")
            .file("only-\(version).txt", "present only in \(name) \(version)\n", mode: 0o600)
            .file("lib/lib\(name).so", "\(name) library build \(version)\n")
            .symlink("lib/current.so", to: "lib\(name).so")
            .file("bin/helper", "#!/bin/sh\necho helper \(version)\n", mode: 0o700)
        if payloadBytes > 0 {
            var bytes = [UInt8](repeating: 0, count: payloadBytes)
            let seed = version.utf8.reduce(UInt8(1)) { $0 &+ $1 } | 1
            for i in bytes.indices { bytes[i] = UInt8(truncatingIfNeeded: i &* 131) &+ seed }
            tree = tree.file("lib/payload.bin", bytes: Data(bytes))
        }
        let path = try shared.source("\(name)-\(version)", tree)
        let snapshot = try XCTUnwrap(TreeSnapshot.take(path))
        // run.sh, VERSION, only-*, lib/, lib/*.so, the symlink, bin/, bin/helper: a snapshot that saw them all.
        XCTAssertGreaterThanOrEqual(snapshot.entries.count, runScript ? 8 : 7, "snapshot of \(path) is incomplete")
        return SourceTree(path: path, version: version, tree: snapshot)
    }

    /// Writes the gallery `galleries/<fileName>` with `entries`; its `json` is the value for LOCALAI_BACKEND_GALLERIES.
    @discardableResult
    func gallery(_ fileName: String, _ entries: [GalleryItem], galleryName: String = "t") throws -> GalleryFile {
        try shared.gallery(entries, file: fileName, name: galleryName)
    }
}

extension GalleryItem {
    /// The entry installing `source` (its path as the uri, its version).
    static func concrete(_ name: String, _ source: SourceTree, alias: String = "", tags: [String] = [],
                         description: String = "") -> GalleryItem {
        GalleryItem(name: name, uri: source.path, version: source.version, alias: alias, tags: tags, description: description)
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
    let installation: LocalAISite
    let sandbox: CLISandbox

    var root: String { installation.root }
    var backends: String { installation.backends }
    var system: String { installation.system }
    var config: String { installation.config }
    var home: String { installation.home }

    /// The complete environment of a hangar process: nothing inherited from the test runner (no stray LOCALAI_*).
    func environment(gallery: GalleryFile?, _ extra: [String: String] = [:]) -> [String: String] {
        var overrides: [String: String?] = ["XDG_DATA_HOME": home + "/.local/share"]
        for (k, v) in extra { overrides[k] = v == Site.unset ? String?.none : v }
        return installation.environment(galleries: gallery.map { [$0] } ?? [], overrides)
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

    func path(_ name: String) -> String { installation.path(name) }

    /// Puts `source` in place as an installed backend `name`, as a previous install would have left it: a copy of
    /// the tree (modes and symlinks kept) plus LocalAI's metadata.json. Faster than running an install per case.
    func installCopy(_ source: SourceTree, as name: String, alias: String = "", gallery: GalleryFile? = nil) throws {
        try installation.installCopy(of: source.path, as: name, metadata: BackendMetadata(
            alias: alias, name: name, galleryURL: gallery?.url ?? "", installedAt: "2026-01-02T03:04:05Z",
            version: source.version, uri: source.path))
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

    /// The kept generations of `name` judged against the two trees they may be, and what is wrong with any of them
    /// (a half-written one, stray files, a tree of neither version).
    func generations(of name: String, old: SourceTree?, new: SourceTree?) -> (states: [BackendState], problems: [String]) {
        let dir = backends + "/.hangar/generations/" + name
        var states: [BackendState] = []
        var problems: [String] = []
        for entry in ((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []).sorted() {
            guard Int(entry) != nil else {
                problems.append("stray entry .hangar/generations/\(name)/\(entry)")
                continue
            }
            let contents = ((try? FileManager.default.contentsOfDirectory(atPath: dir + "/" + entry)) ?? []).sorted()
            if contents != ["generation.json", "tree"] {
                problems.append("generation \(entry) of \(name) holds \(contents), not generation.json and tree")
                continue
            }
            let state = BackendState.classify(dir + "/" + entry + "/tree", old: old, new: new)
            if state != .old && state != .new { problems.append("generation \(entry) of \(name) is \(state)") }
            states.append(state)
        }
        return (states, problems)
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
}

/// Writes `text` to `path` with exactly `mode` (the shared helper, under the name the CLI tests use).
func writeFile(_ path: String, _ text: String, mode: mode_t) throws {
    try write(path: path, text: text, mode: mode)
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
