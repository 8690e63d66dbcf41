import CHangarSystem

/// Creates archive entries below one root directory, refusing anything that could write or point outside it.
///
/// Every path is walked from the root's descriptor one component at a time with `O_NOFOLLOW`, so no symlink is
/// ever followed — not one planted by an earlier entry of the same archive, not one from an earlier layer. Symlink
/// targets are checked lexically from the symlink's own (real) directory: absolute targets, targets climbing out
/// of the root and targets with `..` after a name (`x/..`, whose meaning depends on what `x` links to) are refused.
struct SafeTreeWriter {
    private let rootFD: Int32
    private let root: String
    private let options: ExtractionOptions
    private(set) var summary = ExtractionSummary()
    /// Paths this extraction created or walked into (only kept for whiteouts: they never hide this layer's files).
    private var touched: Set<String> = []
    private var opaqueDirectories: [[String]] = []
    /// Directory modes and mtimes, applied at the end so a read-only directory can still receive its entries.
    private var directoryAttributes: [[String]: (mode: mode_t, mtime: timespec?)] = [:]
    /// The last parent directory opened; entries of one directory usually come together.
    private var cachedParent: (components: ArraySlice<String>, fd: Int32)?

    init(root: String, options: ExtractionOptions) throws {
        rootFD = try Sys.openDirectory(root)
        self.root = root
        self.options = options
    }

    /// Closes the descriptors; call once, also after a failure.
    mutating func closeDescriptors() {
        dropCachedParent()
        close(rootFD)
    }

    // MARK: - Entries

    /// Creates one entry; `data` streams a regular file's blocks (with their offsets) into the sink it is given.
    mutating func apply(_ entry: ArchiveEntryView,
                        data: ((UnsafeRawBufferPointer, Int64) throws -> Void) throws -> Void) throws {
        summary.entries += 1
        if summary.entries > options.maxEntries {
            throw HangarError.operation("archive has more than \(options.maxEntries) entries: refusing it as an archive bomb")
        }
        let components = try Self.components(of: entry.path, entry: entry.path)
        guard let name = components.last else { return }  // "./": the root itself keeps its own mode
        if options.applyWhiteouts && name.hasPrefix(".wh.") {
            return try applyWhiteout(components, entry: entry.path)
        }
        if options.applyWhiteouts { noteTouched(components) }

        if let target = entry.hardlinkTarget, !target.isEmpty {
            return try createHardlink(components, target: target, entry: entry.path)
        }
        switch entry.fileType {
        case S_IFDIR:
            try createDirectory(components, entry: entry)
        case S_IFREG:
            try createFile(components, entry: entry, data: data)
        case S_IFLNK:
            try createSymlink(components, target: entry.symlinkTarget ?? "", entry: entry.path)
        default:
            if options.skipSpecialFiles {
                summary.skippedSpecialFiles += 1
                return
            }
            throw refusal(entry.path, "\(Self.describeType(entry.fileType)) (a backend archive may only hold files, directories and links)")
        }
    }

    private mutating func createDirectory(_ components: [String], entry: ArchiveEntryView) throws {
        let parent = try openParent(components, entry: entry.path)
        let name = components[components.count - 1]
        if let st = try Sys.statAt(parent, name, followSymlinks: false) {
            if !Sys.isDirectory(st) { try makeRoom(parent, name, path: entry.path) }
        }
        if mkdirat(parent, name, 0o700) != 0 && errno != EEXIST {
            throw Sys.failure("cannot create directory", join(components), errno)
        }
        directoryAttributes[components] = (entry.permissions | 0o700, entry.mtime)
    }

    private mutating func createFile(_ components: [String], entry: ArchiveEntryView,
                                     data: ((UnsafeRawBufferPointer, Int64) throws -> Void) throws -> Void) throws {
        if let size = entry.size { try charge(0, declared: size, entry: entry.path) }
        let parent = try openParent(components, entry: entry.path)
        let name = components[components.count - 1]
        try makeRoom(parent, name, path: entry.path)
        let fd = hangar_openat(parent, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600)
        if fd < 0 { throw Sys.failure("cannot create", join(components), errno) }
        defer { close(fd) }
        var end: Int64 = 0
        try data { block, offset in
            let blockEnd = offset + Int64(block.count)
            if blockEnd > end {
                try charge(blockEnd - end, declared: nil, entry: entry.path)
                end = blockEnd
            }
            try Self.writeAll(fd, block, at: offset, path: entry.path)
        }
        if let size = entry.size, size > end {
            // A sparse tail: the size counts as written, as a later copy of the tree would write it.
            try charge(size - end, declared: nil, entry: entry.path)
            if ftruncate(fd, off_t(size)) != 0 { throw Sys.failure("cannot extend", entry.path, errno) }
        }
        // After the data: writing would clear set-id bits anyway, and those are dropped here too.
        if fchmod(fd, entry.permissions) != 0 { throw Sys.failure("cannot set mode of", entry.path, errno) }
        if let mtime = entry.mtime { Self.setTimes(fd, mtime) }
    }

    private mutating func createSymlink(_ components: [String], target: String, entry: String) throws {
        try Self.checkSymlinkTarget(target, at: components, entry: entry)
        let parent = try openParent(components, entry: entry)
        let name = components[components.count - 1]
        try makeRoom(parent, name, path: entry)
        if symlinkat(target, parent, name) != 0 { throw Sys.failure("cannot create symlink", entry, errno) }
    }

    private mutating func createHardlink(_ components: [String], target: String, entry: String) throws {
        let targetComponents = try Self.components(of: target, entry: entry, label: "hardlink target \"\(target)\"")
        guard let targetName = targetComponents.last else { throw refusal(entry, "hardlink to the extraction root") }
        if targetComponents == components { return }
        guard let targetParent = try openExistingDirectory(targetComponents.dropLast(), entry: entry) else {
            throw refusal(entry, "hardlink target \"\(target)\" does not exist in the archive")
        }
        defer { close(targetParent) }
        guard let st = try Sys.statAt(targetParent, targetName, followSymlinks: false) else {
            throw refusal(entry, "hardlink target \"\(target)\" does not exist in the archive")
        }
        // A hardlinked symlink would resolve from its new directory, so only regular files may be linked.
        guard Sys.isRegular(st) else {
            throw refusal(entry, "hardlink target \"\(target)\" is a \(Self.describeType(st.st_mode & S_IFMT)), not a regular file")
        }
        let parent = try openParent(components, entry: entry)
        let name = components[components.count - 1]
        try makeRoom(parent, name, path: entry)
        if linkat(targetParent, targetName, parent, name, 0) != 0 { throw Sys.failure("cannot create hardlink", entry, errno) }
    }

    // MARK: - Whiteouts (OCI image layers)

    private mutating func applyWhiteout(_ components: [String], entry: String) throws {
        let name = components[components.count - 1]
        let directory = Array(components.dropLast())
        if name == ".wh..wh..opq" {
            // Applied at the end, so it clears earlier layers' files whatever the order of entries in this layer.
            noteTouched(directory)
            if !directory.isEmpty { close(try openDirectory(directory[...], entry: entry)) }
            opaqueDirectories.append(directory)
            return
        }
        let hidden = String(name.dropFirst(4))
        if hidden.isEmpty || hidden == "." || hidden == ".." || hidden.hasPrefix(".wh.") {
            throw refusal(entry, "malformed whiteout")
        }
        let path = directory + [hidden]
        // A whiteout only hides lower layers: when this layer itself added the path (before the whiteout), what it
        // added stays and only a directory's lower contents go, at the end, like an opaque directory.
        if touched.contains(join(path)) {
            opaqueDirectories.append(path)
            return
        }
        guard let parent = try openExistingDirectory(directory[...], entry: entry) else { return }
        defer { close(parent) }
        dropCachedParent()
        var deleted = 0
        try FileTree.removeEntry(parent, hidden, path: join(path), crashPoint: nil, deleted: &deleted)
    }

    /// Empties opaque directories of everything this layer did not add, then sets directory modes and mtimes.
    mutating func finish() throws {
        dropCachedParent()
        for directory in opaqueDirectories {
            guard let fd = try openIfDirectory(directory) else { continue }
            defer { close(fd) }
            try clearUntouched(fd, directory)
        }
        // Deepest first: setting a parent read-only never blocks a child's update.
        for (components, attributes) in directoryAttributes.sorted(by: { $0.key.count > $1.key.count }) {
            guard let fd = try openIfDirectory(components) else { continue }
            defer { close(fd) }
            if fchmod(fd, attributes.mode) != 0 { throw Sys.failure("cannot set mode of", join(components), errno) }
            if let mtime = attributes.mtime { Self.setTimes(fd, mtime) }
        }
    }

    /// The directory at `components`, or nil when it is missing or not a directory (a file this layer wrote).
    private func openIfDirectory(_ components: [String]) throws -> Int32? {
        guard let name = components.last else { return dup(rootFD) }
        guard let parent = try openExistingDirectory(components.dropLast(), entry: join(components)) else { return nil }
        defer { close(parent) }
        guard let st = try Sys.statAt(parent, name, followSymlinks: false), Sys.isDirectory(st) else { return nil }
        let fd = hangar_openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC, 0)
        if fd < 0 { throw Sys.failure("cannot open directory", join(components), errno) }
        return fd
    }

    private func clearUntouched(_ fd: Int32, _ directory: [String]) throws {
        for child in try Sys.listDirectory(fd: fd, path: join(directory)) {
            let path = directory + [child]
            if !touched.contains(join(path)) {
                var deleted = 0
                try FileTree.removeEntry(fd, child, path: join(path), crashPoint: nil, deleted: &deleted)
                continue
            }
            guard let st = try Sys.statAt(fd, child, followSymlinks: false), Sys.isDirectory(st) else { continue }
            let childFD = hangar_openat(fd, child, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC, 0)
            if childFD < 0 { throw Sys.failure("cannot open directory", join(path), errno) }
            defer { close(childFD) }
            try clearUntouched(childFD, path)
        }
    }

    private mutating func noteTouched(_ components: [String]) {
        var prefix = ""
        for component in components {
            prefix = prefix.isEmpty ? component : prefix + "/" + component
            touched.insert(prefix)
        }
    }

    // MARK: - Walking

    /// The directory holding the entry's last component, created as needed, never through a symlink.
    private mutating func openParent(_ components: [String], entry: String) throws -> Int32 {
        let parent = components.dropLast()
        if let cachedParent, cachedParent.components == parent { return cachedParent.fd }
        let fd = try openDirectory(parent, entry: entry)
        dropCachedParent()
        cachedParent = (parent, fd)
        return fd
    }

    private mutating func dropCachedParent() {
        if let cachedParent { close(cachedParent.fd) }
        cachedParent = nil
    }

    /// Opens `components` below the root one by one, creating missing directories; a symlink or a non-directory on
    /// the way refuses the entry. Returns a new descriptor.
    private func openDirectory(_ components: ArraySlice<String>, entry: String) throws -> Int32 {
        guard let fd = try walk(components, entry: entry, create: true) else {
            throw Sys.failure("cannot open directory", join(Array(components)), ENOENT)
        }
        return fd
    }

    /// Like `openDirectory` without creating anything; nil when a component is missing.
    private func openExistingDirectory(_ components: ArraySlice<String>, entry: String) throws -> Int32? {
        try walk(components, entry: entry, create: false)
    }

    private func walk(_ components: ArraySlice<String>, entry: String, create: Bool) throws -> Int32? {
        var fd = dup(rootFD)
        if fd < 0 { throw Sys.failure("cannot open directory", root, errno) }
        var walked: [String] = []
        for component in components {
            walked.append(component)
            var next = hangar_openat(fd, component, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC, 0)
            if next < 0 && errno == ENOENT && create {
                if mkdirat(fd, component, 0o700) != 0 && errno != EEXIST {
                    let code = errno
                    close(fd)
                    throw Sys.failure("cannot create directory", join(walked), code)
                }
                next = hangar_openat(fd, component, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC, 0)
            }
            if next < 0 {
                let code = errno
                let st = try? Sys.statAt(fd, component, followSymlinks: false)
                close(fd)
                if let st, Sys.isSymlink(st) { throw refusal(entry, "path goes through the symlink \"\(join(walked))\"") }
                if let st, !Sys.isDirectory(st) { throw refusal(entry, "\"\(join(walked))\" is not a directory") }
                if code == ENOENT && !create { return nil }
                throw Sys.failure("cannot open directory", join(walked), code)
            }
            close(fd)
            fd = next
        }
        return fd
    }

    /// Clears the way for a new entry: an existing file or symlink is unlinked (never written through), an existing
    /// directory removed with its contents, as container layer appliers do.
    private func makeRoom(_ parent: Int32, _ name: String, path: String) throws {
        guard let st = try Sys.statAt(parent, name, followSymlinks: false) else { return }
        if Sys.isDirectory(st) {
            // The cached parent is `parent` itself, never inside what is removed here.
            var deleted = 0
            try FileTree.removeEntry(parent, name, path: path, crashPoint: nil, deleted: &deleted)
        } else if unlinkat(parent, name, 0) != 0 && errno != ENOENT {
            throw Sys.failure("cannot replace", path, errno)
        }
    }

    // MARK: - Checks

    /// Counts bytes against the cap; `declared` checks a header's size before any byte is written.
    private mutating func charge(_ bytes: Int64, declared: Int64?, entry: String) throws {
        // Saturating: a hostile header may declare a size near Int64.max.
        let total = options.bytesAlreadyExtracted.addingSaturated(summary.bytes).addingSaturated(bytes)
            .addingSaturated(max(declared ?? 0, 0))
        if total > options.maxBytes {
            let limit = ExtractionOptions.flagValue(options.maxBytes)
            let raised = ExtractionOptions.flagValue(max(options.maxBytes, 1 << 20).multipliedSaturated(by: 4))
            throw HangarError.operation(
                "archive expands beyond --max-extract-size \(limit) (at entry \"\(entry)\"): raise it with --max-extract-size \(raised) if this backend is legitimately that large")
        }
        summary.bytes += bytes
    }

    /// Most components one path may have: deeper trees would exhaust descriptors when walked or removed.
    static let maxPathComponents = 256
    /// Most bytes one path may have (Linux `PATH_MAX`).
    static let maxPathBytes = 4096

    /// An entry path as components, refusing absolute paths, `..` and over-long or over-deep paths; `.` and empty
    /// components are dropped.
    static func components(of path: String, entry: String, label: String = "path") throws -> [String] {
        // Named by their start only: the whole of a 100 KB name would not be a one-line error.
        let shown = abbreviated(entry), what = abbreviated(label)
        if path.utf8.count > maxPathBytes {
            throw refusal(shown, "\(what) is \(path.utf8.count) bytes long, more than the \(maxPathBytes) a path may have")
        }
        if path.hasPrefix("/") { throw refusal(entry, "\(label) is absolute") }
        let parts = path.split(separator: "/", omittingEmptySubsequences: true).map(String.init).filter { $0 != "." }
        if parts.contains("..") { throw refusal(entry, "\(label) contains a '..' component") }
        if parts.count > maxPathComponents {
            throw refusal(shown, "\(what) has \(parts.count) components, more than the \(maxPathComponents) a path may have")
        }
        return parts
    }

    /// A symlink at `components` may point only inside the root, resolved from its own directory.
    static func checkSymlinkTarget(_ target: String, at components: [String], entry: String) throws {
        if target.isEmpty { throw refusal(entry, "symlink with an empty target") }
        if target.hasPrefix("/") { throw refusal(entry, "symlink to the absolute path \"\(target)\"") }
        var depth = components.count - 1
        var sawName = false
        for part in target.split(separator: "/", omittingEmptySubsequences: true) where part != "." {
            if part == ".." {
                if sawName { throw refusal(entry, "symlink target \"\(target)\" has '..' after a name") }
                depth -= 1
                if depth < 0 { throw refusal(entry, "symlink to \"\(target)\" points outside the extraction directory") }
            } else {
                sawName = true
            }
        }
    }

    /// The first 100 characters of a long name, for messages.
    private static func abbreviated(_ text: String) -> String {
        text.count > 120 ? String(text.prefix(100)) + "…" : text
    }

    private static func refusal(_ entry: String, _ reason: String) -> HangarError {
        HangarError.operation("archive entry \"\(entry)\" refused: \(reason)")
    }

    private func refusal(_ entry: String, _ reason: String) -> HangarError { Self.refusal(entry, reason) }

    private static func describeType(_ type: mode_t) -> String {
        switch type {
        case S_IFCHR: return "character device"
        case S_IFBLK: return "block device"
        case S_IFIFO: return "FIFO"
        case S_IFSOCK: return "socket"
        case S_IFDIR: return "directory"
        case S_IFLNK: return "symlink"
        default: return "special file"
        }
    }

    private func join(_ components: [String]) -> String { components.joined(separator: "/") }

    private static func writeAll(_ fd: Int32, _ bytes: UnsafeRawBufferPointer, at offset: Int64, path: String) throws {
        var done = 0
        while done < bytes.count {
            let n = pwrite(fd, bytes.baseAddress! + done, bytes.count - done, off_t(offset) + off_t(done))
            if n < 0 {
                if errno == EINTR { continue }
                throw Sys.failure("cannot write", path, errno)
            }
            done += n
        }
    }

    /// Best effort, as in `FileTree`: a wrong mtime never makes a backend wrong.
    private static func setTimes(_ fd: Int32, _ mtime: timespec) {
        let times = [mtime, mtime]
        _ = times.withUnsafeBufferPointer { futimens(fd, $0.baseAddress) }
    }
}
