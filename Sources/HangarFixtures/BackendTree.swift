import Foundation

/// The contents of one backend directory (a source tree, an image's files, an installed copy), built fluently and
/// written in the order given: `BackendTree.runScript("echo 1.0\n").file("VERSION", "1.0").symlink("lib/x", to: "y")`.
public struct BackendTree: Sendable {
    enum Entry: Sendable {
        case file(Data, mode: mode_t)
        case directory(mode: mode_t)
        case symlink(String)
    }

    private var entries: [(path: String, entry: Entry)] = []

    /// An empty tree (no run.sh: LocalAI's "not a valid backend").
    public init() {}

    /// A tree holding only run.sh (mode 0755): `#!/bin/sh` followed by `body`.
    public static func runScript(_ body: String = "") -> BackendTree { BackendTree().runScript(body) }

    /// Adds run.sh (mode 0755): `#!/bin/sh` followed by `body`.
    public func runScript(_ body: String = "") -> BackendTree { file("run.sh", "#!/bin/sh\n" + body, mode: 0o755) }

    /// Adds a text file at the relative `path` (parent directories are made as needed).
    public func file(_ path: String, _ text: String, mode: mode_t = 0o644) -> BackendTree {
        adding(path, .file(Data(text.utf8), mode: mode))
    }

    /// Adds a file of raw bytes.
    public func file(_ path: String, bytes: Data, mode: mode_t = 0o644) -> BackendTree {
        adding(path, .file(bytes, mode: mode))
    }

    /// Adds a directory with exactly `mode` (directories made for a file's parent get the umask's default).
    public func directory(_ path: String, mode: mode_t = 0o755) -> BackendTree { adding(path, .directory(mode: mode)) }

    /// Adds a symlink whose target is `target`, as given (relative targets stay relative).
    public func symlink(_ path: String, to target: String) -> BackendTree { adding(path, .symlink(target)) }

    /// Writes every entry below `directory`, which is created when missing.
    public func write(to directory: String) throws {
        let fm = FileManager.default
        try fm.createDirectory(atPath: directory, withIntermediateDirectories: true)
        for (path, entry) in entries {
            let full = directory + "/" + path
            switch entry {
            case .file(let bytes, let mode):
                try HangarFixtures.write(path: full, bytes: bytes, mode: mode)
            case .directory(let mode):
                try fm.createDirectory(atPath: full, withIntermediateDirectories: true)
                chmod(full, mode)
            case .symlink(let target):
                try fm.createDirectory(atPath: (full as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
                try fm.createSymbolicLink(atPath: full, withDestinationPath: target)
            }
        }
    }

    private func adding(_ path: String, _ entry: Entry) -> BackendTree {
        var copy = self
        copy.entries.append((path, entry))
        return copy
    }
}
