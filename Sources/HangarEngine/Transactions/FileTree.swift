import CHangarSystem

/// Sizes of a directory tree's regular files.
public struct TreeSize: Sendable, Equatable {
    /// Sum of file sizes (hard-linked files counted once).
    public var bytes: Int64 = 0
    /// Allocated bytes on disk (st_blocks × 512; sparse files count less, hard links once): the UI's "size on disk".
    public var diskBytes: Int64 = 0
    /// Number of regular files (hard links counted once).
    public var files: Int = 0

    public init(bytes: Int64 = 0, diskBytes: Int64 = 0, files: Int = 0) {
        self.bytes = bytes
        self.diskBytes = diskBytes
        self.files = files
    }
}

/// Directory-tree copy, removal and sizing done with *at() calls on descriptors, never following symlinks inside.
public enum FileTree {
    /// Copies everything inside `source` into the existing directory `destination`: directories, regular files and
    /// symlinks (as symlinks, never followed), with permission bits and mtimes; no chown; hard links become copies;
    /// FIFOs, sockets and device nodes are skipped (a backend never needs them and creating them may need root).
    /// `progress` gets cumulative and total regular-file bytes; `checkCancelled` is called between files and
    /// between 1 MiB chunks and may throw to stop (what was copied so far stays in `destination`).
    public static func copyContents(
        of source: String,
        into destination: String,
        progress: (_ bytesCopied: Int64, _ totalBytes: Int64) -> Void = { _, _ in },
        checkCancelled: () throws -> Void = {}
    ) throws {
        let sourceFD = try Sys.openDirectory(source)
        defer { close(sourceFD) }
        let destinationFD = try Sys.openDirectory(destination)
        defer { close(destinationFD) }
        let total = try copyTotal(sourceFD, path: source)
        progress(0, total)
        try withoutActuallyEscaping(progress) { progress in
            try withoutActuallyEscaping(checkCancelled) { checkCancelled in
                var copier = Copier(total: total, progress: progress, checkCancelled: checkCancelled)
                try copier.copyDirectory(from: sourceFD, to: destinationFD, path: source)
            }
        }
    }

    /// Removes `path` (file, symlink or whole tree) without ever following a symlink, after checking that it lies
    /// strictly inside `root` (both resolved with realpath). A missing path is not an error.
    public static func removeTree(_ path: String, within root: String) throws {
        try removeTree(path, within: root, crashPoint: nil)
    }

    static func removeTree(_ path: String, within root: String, crashPoint: String?) throws {
        let name = Sys.lastComponent(path)
        if name.isEmpty || name == "." || name == ".." {
            throw HangarError.operation("refusing to remove \(path): not a plain path inside \(root)")
        }
        guard let realRoot = realPath(root) else {
            throw HangarError.operation("refusing to remove \(path): \(root) cannot be resolved")
        }
        guard let realParent = realPath(Sys.parentPath(path)) else { return }
        let inside = realRoot == "/" ? realParent.hasPrefix("/") : (realParent == realRoot || realParent.hasPrefix(realRoot + "/"))
        guard inside else {
            throw HangarError.operation("refusing to remove \(path): it is outside \(root)")
        }
        let parentFD = try Sys.openDirectory(realParent)
        defer { close(parentFD) }
        var deleted = 0
        try removeEntry(parentFD, name, path: path, crashPoint: crashPoint, deleted: &deleted)
    }

    /// Sizes of the regular files under `path` (the top level may be a symlink to a directory; nothing inside is
    /// followed). Unreadable subdirectories are skipped: a size for display should not fail on one bad corner.
    public static func treeSize(_ path: String) throws -> TreeSize {
        var st = stat()
        if stat(path, &st) != 0 { throw Sys.failure("cannot inspect", path, errno) }
        var size = TreeSize()
        if Sys.isRegular(st) {
            size.bytes = Int64(st.st_size)
            size.diskBytes = Int64(st.st_blocks) * 512
            size.files = 1
            return size
        }
        let fd = try Sys.openDirectory(path)
        defer { close(fd) }
        var seen = Set<FileIdentity>()
        measure(fd, path: path, into: &size, seen: &seen)
        return size
    }

    // MARK: - internals

    static func realPath(_ path: String) -> String? {
        guard let resolved = realpath(path, nil) else { return nil }
        defer { free(resolved) }
        return String(cString: resolved)
    }

    private static func measure(_ dirFD: Int32, path: String, into size: inout TreeSize, seen: inout Set<FileIdentity>) {
        guard let names = try? Sys.listDirectory(fd: dirFD, path: path) else { return }
        for name in names {
            guard let st = try? Sys.statAt(dirFD, name, followSymlinks: false) else { continue }
            if Sys.isRegular(st) {
                if st.st_nlink > 1, !seen.insert(Sys.identity(st)).inserted { continue }
                size.bytes += Int64(st.st_size)
                size.diskBytes += Int64(st.st_blocks) * 512
                size.files += 1
            } else if Sys.isDirectory(st) {
                let child = hangar_openat(dirFD, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC, 0)
                if child < 0 { continue }
                measure(child, path: path + "/" + name, into: &size, seen: &seen)
                close(child)
            }
        }
    }

    /// Bytes the copy will write: every path counts, because hard links are copied separately.
    private static func copyTotal(_ dirFD: Int32, path: String) throws -> Int64 {
        var total: Int64 = 0
        for name in try Sys.listDirectory(fd: dirFD, path: path) {
            guard let st = try Sys.statAt(dirFD, name, followSymlinks: false) else { continue }
            if Sys.isRegular(st) {
                total += Int64(st.st_size)
            } else if Sys.isDirectory(st) {
                let child = hangar_openat(dirFD, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC, 0)
                if child < 0 { throw Sys.failure("cannot open directory", path + "/" + name, errno) }
                defer { close(child) }
                total += try copyTotal(child, path: path + "/" + name)
            }
        }
        return total
    }

    private struct Copier {
        let total: Int64
        let progress: (Int64, Int64) -> Void
        let checkCancelled: () throws -> Void
        var copied: Int64 = 0
        var buffer = [UInt8](repeating: 0, count: 1 << 20)

        init(total: Int64, progress: @escaping (Int64, Int64) -> Void, checkCancelled: @escaping () throws -> Void) {
            self.total = total
            self.progress = progress
            self.checkCancelled = checkCancelled
        }

        mutating func copyDirectory(from sourceFD: Int32, to destinationFD: Int32, path: String) throws {
            for name in try Sys.listDirectory(fd: sourceFD, path: path).sorted() {
                try checkCancelled()
                let itemPath = path + "/" + name
                guard let st = try Sys.statAt(sourceFD, name, followSymlinks: false) else { continue }
                if Sys.isDirectory(st) {
                    // Created owner-writable so it can be filled; the real mode is applied once it is complete.
                    if mkdirat(destinationFD, name, 0o700) != 0 { throw Sys.failure("cannot create directory for", itemPath, errno) }
                    let childSource = hangar_openat(sourceFD, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC, 0)
                    if childSource < 0 { throw Sys.failure("cannot open directory", itemPath, errno) }
                    defer { close(childSource) }
                    let childDestination = hangar_openat(destinationFD, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC, 0)
                    if childDestination < 0 { throw Sys.failure("cannot open copy of", itemPath, errno) }
                    defer { close(childDestination) }
                    try copyDirectory(from: childSource, to: childDestination, path: itemPath)
                    if fchmod(childDestination, st.st_mode & 0o7777) != 0 { throw Sys.failure("cannot set mode of copy of", itemPath, errno) }
                    FileTree.copyTimes(st, to: childDestination)
                } else if Sys.isRegular(st) {
                    try copyFile(from: sourceFD, to: destinationFD, name: name, st: st, path: itemPath)
                } else if Sys.isSymlink(st) {
                    let target = try FileTree.readLink(sourceFD, name, path: itemPath)
                    if symlinkat(target, destinationFD, name) != 0 { throw Sys.failure("cannot create symlink for", itemPath, errno) }
                }
            }
        }

        mutating func copyFile(from sourceFD: Int32, to destinationFD: Int32, name: String, st: stat, path: String) throws {
            let input = hangar_openat(sourceFD, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC, 0)
            if input < 0 { throw Sys.failure("cannot open", path, errno) }
            defer { close(input) }
            let output = hangar_openat(destinationFD, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600)
            if output < 0 { throw Sys.failure("cannot create copy of", path, errno) }
            defer { close(output) }
            while true {
                let count = buffer.withUnsafeMutableBytes { read(input, $0.baseAddress!, $0.count) }
                if count < 0 {
                    if errno == EINTR { continue }
                    throw Sys.failure("cannot read", path, errno)
                }
                if count == 0 { break }
                try buffer.withUnsafeBytes { try Sys.writeAll(output, UnsafeRawBufferPointer(rebasing: $0[0..<count]), path: path) }
                copied += Int64(count)
                progress(copied, max(total, copied))
                try checkCancelled()
            }
            // After the data: writing would clear set-id bits again.
            if fchmod(output, st.st_mode & 0o7777) != 0 { throw Sys.failure("cannot set mode of copy of", path, errno) }
            FileTree.copyTimes(st, to: output)
        }
    }

    /// Best effort: a copy with the wrong mtime is still a correct backend.
    private static func copyTimes(_ st: stat, to fd: Int32) {
        #if os(Linux)
        let times = [st.st_atim, st.st_mtim]
        #else
        let times = [st.st_atimespec, st.st_mtimespec]
        #endif
        _ = times.withUnsafeBufferPointer { futimens(fd, $0.baseAddress) }
    }

    static func readLink(_ dirFD: Int32, _ name: String, path: String) throws -> String {
        var capacity = 256
        while true {
            var buffer = [CChar](repeating: 0, count: capacity)
            let count = readlinkat(dirFD, name, &buffer, capacity)
            if count < 0 { throw Sys.failure("cannot read symlink", path, errno) }
            if count < capacity {
                return String(decoding: buffer[0..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self)
            }
            capacity *= 4
        }
    }

    /// Removes `name` in `parentFD` recursively; ENOENT anywhere is fine because another process (recovery emptying
    /// the trash, say) may be deleting the same tree.
    static func removeEntry(_ parentFD: Int32, _ name: String, path: String, crashPoint: String?, deleted: inout Int) throws {
        guard let st = try Sys.statAt(parentFD, name, followSymlinks: false) else { return }
        if !Sys.isDirectory(st) {
            try unlinkEntry(parentFD, name, path: path, flags: 0)
            noteDeleted(crashPoint, &deleted)
            return
        }
        var fd = hangar_openat(parentFD, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC, 0)
        if fd < 0 && errno == EACCES {
            // A read-only directory from an image (mode 0555/0000): make it ours to empty. fchmodat follows
            // symlinks, so the fstat check below makes sure we opened the directory we inspected.
            _ = fchmodat(parentFD, name, 0o700, 0)
            fd = hangar_openat(parentFD, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC, 0)
        }
        if fd < 0 {
            let code = errno
            if code == ENOENT { return }
            if code == ENOTDIR || code == ELOOP {
                // Replaced by a non-directory since the lstat: remove that entry itself, never what it points to.
                try unlinkEntry(parentFD, name, path: path, flags: 0)
                return
            }
            throw Sys.failure("cannot open directory", path, code)
        }
        defer { close(fd) }
        var opened = stat()
        if fstat(fd, &opened) != 0 || Sys.identity(opened) != Sys.identity(st) {
            throw HangarError.operation("cannot remove \(path): it changed while being removed")
        }
        if opened.st_mode & 0o700 != 0o700 { _ = fchmod(fd, (opened.st_mode & 0o7777) | 0o700) }
        for child in try Sys.listDirectory(fd: fd, path: path) {
            try removeEntry(fd, child, path: path + "/" + child, crashPoint: crashPoint, deleted: &deleted)
        }
        try unlinkEntry(parentFD, name, path: path, flags: AT_REMOVEDIR)
        noteDeleted(crashPoint, &deleted)
    }

    private static func unlinkEntry(_ parentFD: Int32, _ name: String, path: String, flags: Int32) throws {
        if unlinkat(parentFD, name, flags) != 0 {
            let code = errno
            if code == ENOENT { return }
            throw Sys.failure("cannot remove", path, code)
        }
    }

    private static func noteDeleted(_ crashPoint: String?, _ deleted: inout Int) {
        deleted += 1
        if deleted == 1, let crashPoint { CrashPoint.hit(crashPoint) }
    }
}
