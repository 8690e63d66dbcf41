import CHangarSystem

/// A file's identity: (device, inode). It survives renames, so it tells an old tree from a new one after a crash.
struct FileIdentity: Sendable, Hashable, Codable, CustomStringConvertible {
    let device: UInt64
    let inode: UInt64

    init(device: UInt64, inode: UInt64) {
        self.device = device
        self.inode = inode
    }

    var description: String { "\(device):\(inode)" }
}

/// Thin wrappers over the POSIX calls the transaction code needs; every failure becomes a one-line `HangarError`.
enum Sys {
    static var errnoValue: Int32 { errno }

    static func errorText(_ code: Int32) -> String { String(cString: strerror(code)) }

    static func failure(_ action: String, _ path: String, _ code: Int32) -> HangarError {
        .operation("\(action) \(path): \(errorText(code))")
    }

    static func isDirectory(_ st: stat) -> Bool { (st.st_mode & S_IFMT) == S_IFDIR }
    static func isRegular(_ st: stat) -> Bool { (st.st_mode & S_IFMT) == S_IFREG }
    static func isSymlink(_ st: stat) -> Bool { (st.st_mode & S_IFMT) == S_IFLNK }

    static func identity(_ st: stat) -> FileIdentity {
        FileIdentity(device: UInt64(st.st_dev), inode: UInt64(st.st_ino))
    }

    /// Seconds since the epoch of the inode change time; rename updates it, so it dates LocalAI's swaps.
    static func changeTime(_ st: stat) -> Double {
        #if os(Linux)
        return Double(st.st_ctim.tv_sec) + Double(st.st_ctim.tv_nsec) / 1e9
        #else
        return Double(st.st_ctimespec.tv_sec) + Double(st.st_ctimespec.tv_nsec) / 1e9
        #endif
    }

    static func now() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
    }

    /// lstat that reports "absent" (ENOENT, ENOTDIR) as nil and other failures as errors.
    static func lstatIfPresent(_ path: String) throws -> stat? {
        var st = stat()
        if lstat(path, &st) == 0 { return st }
        let code = errno
        if code == ENOENT || code == ENOTDIR { return nil }
        throw failure("cannot inspect", path, code)
    }

    /// stat (following symlinks) relative to a directory fd; nil when absent.
    static func statAt(_ dirfd: Int32, _ name: String, followSymlinks: Bool) throws -> stat? {
        var st = stat()
        if fstatat(dirfd, name, &st, followSymlinks ? 0 : AT_SYMLINK_NOFOLLOW) == 0 { return st }
        let code = errno
        if code == ENOENT || code == ENOTDIR { return nil }
        throw failure("cannot inspect", name, code)
    }

    static func identityIfPresent(_ path: String) throws -> FileIdentity? {
        try lstatIfPresent(path).map(identity)
    }

    /// mkdir that treats an existing directory as success.
    static func ensureDirectory(_ path: String, mode: mode_t = 0o750) throws {
        if mkdir(path, mode) == 0 { return }
        let code = errno
        if code == EEXIST, let st = try lstatIfPresent(path), isDirectory(st) { return }
        throw failure("cannot create directory", path, code)
    }

    /// Runs `body` holding an exclusive `flock` on `lockPath` (created with `mode` if missing): the one way hangar's
    /// processes take turns on a state file.
    static func withFileLock<T>(_ lockPath: String, mode: mode_t = 0o644, _ body: () throws -> T) throws -> T {
        let fd = open(lockPath, O_RDWR | O_CREAT | O_CLOEXEC, mode)
        guard fd >= 0 else { throw failure("cannot open", lockPath, errno) }
        defer { close(fd) }
        guard flock(fd, LOCK_EX) == 0 else { throw failure("cannot lock", lockPath, errno) }
        return try body()
    }

    /// mkdir -p.
    static func ensureDirectories(_ path: String, mode: mode_t = 0o750) throws {
        if let st = try lstatIfPresent(path) {
            if isDirectory(st) { return }
            // A symlink to a directory is a legitimate way to place the backends dir elsewhere.
            var target = stat()
            if isSymlink(st), stat(path, &target) == 0, isDirectory(target) { return }
            throw HangarError.operation("cannot create directory \(path): a file of that name exists")
        }
        let parent = parentPath(path)
        if parent != path, !parent.isEmpty { try ensureDirectories(parent, mode: mode) }
        try ensureDirectory(path, mode: mode)
    }

    static func parentPath(_ path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        if slash == path.startIndex { return "/" }
        return String(path[..<slash])
    }

    static func lastComponent(_ path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return path }
        return String(path[path.index(after: slash)...])
    }

    static func openDirectory(_ path: String, followSymlink: Bool = true) throws -> Int32 {
        var flags = O_RDONLY | O_DIRECTORY | O_CLOEXEC
        if !followSymlink { flags |= O_NOFOLLOW }
        let fd = hangar_openat(AT_FDCWD, path, flags, 0)
        if fd < 0 { throw failure("cannot open directory", path, errno) }
        return fd
    }

    /// The names in a directory (without "." and ".."), read through a duplicate so `fd` stays usable.
    static func listDirectory(fd: Int32, path: String) throws -> [String] {
        let copy = dup(fd)
        if copy < 0 { throw failure("cannot read directory", path, errno) }
        guard let dir = fdopendir(copy) else {
            let code = errno
            close(copy)
            throw failure("cannot read directory", path, code)
        }
        defer { closedir(dir) }
        rewinddir(dir)
        var names: [String] = []
        while true {
            errno = 0
            guard let entry = readdir(dir) else {
                if errno != 0 { throw failure("cannot read directory", path, errno) }
                break
            }
            let name = String(cString: hangar_dirent_name(entry))
            if name != "." && name != ".." { names.append(name) }
        }
        return names
    }

    /// The names in a directory; nil when the directory does not exist.
    static func listDirectoryIfPresent(_ path: String) throws -> [String]? {
        let fd = hangar_openat(AT_FDCWD, path, O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0)
        if fd < 0 {
            let code = errno
            if code == ENOENT || code == ENOTDIR { return nil }
            throw failure("cannot open directory", path, code)
        }
        defer { close(fd) }
        return try listDirectory(fd: fd, path: path)
    }

    /// fsync a directory so the renames/unlinks inside it survive a power loss.
    static func syncDirectory(_ path: String) throws {
        let fd = try openDirectory(path)
        defer { close(fd) }
        if fsync(fd) != 0 {
            let code = errno
            // Some filesystems refuse fsync on directories; their entries are then as durable as they get.
            if code == EINVAL || code == EROFS || code == EBADF { return }
            throw failure("cannot sync directory", path, code)
        }
    }

    static func rename(_ from: String, _ to: String) throws {
        if posixRename(from, to) != 0 {
            throw HangarError.operation("cannot rename \(from) to \(to): \(errorText(errno))")
        }
    }

    /// renameat2 with flags; returns 0 or the errno.
    static func renameat2(_ from: String, _ to: String, flags: UInt32) -> Int32 {
        hangar_renameat2(AT_FDCWD, from, AT_FDCWD, to, flags) == 0 ? 0 : errno
    }

    /// Whether a renameat2 failure means "this kernel/filesystem cannot do that flag", so a fallback applies.
    static func isUnsupported(_ code: Int32) -> Bool {
        code == EINVAL || code == ENOSYS || code == EOPNOTSUPP || code == ENOTSUP
    }

    /// Writes a whole buffer to fd, retrying short writes and EINTR.
    static func writeAll(_ fd: Int32, _ bytes: UnsafeRawBufferPointer, path: String) throws {
        var offset = 0
        while offset < bytes.count {
            let n = write(fd, bytes.baseAddress! + offset, bytes.count - offset)
            if n < 0 {
                if errno == EINTR { continue }
                throw failure("cannot write", path, errno)
            }
            offset += n
        }
    }

    /// Creates or truncates a file and writes `contents` (not fsynced; callers decide durability).
    static func writeFile(_ path: String, _ contents: [UInt8], mode: mode_t, exclusive: Bool, sync: Bool) throws {
        var flags = O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW
        flags |= exclusive ? O_EXCL : O_TRUNC
        let fd = hangar_openat(AT_FDCWD, path, flags, UInt32(mode))
        if fd < 0 { throw failure("cannot create", path, errno) }
        var ok = false
        defer {
            close(fd)
            if !ok { unlink(path) }
        }
        try contents.withUnsafeBytes { try writeAll(fd, $0, path: path) }
        if fchmod(fd, mode) != 0 { throw failure("cannot set mode of", path, errno) }
        if sync, fsync(fd) != 0 { throw failure("cannot sync", path, errno) }
        ok = true
    }

    /// The whole file (nil when it does not exist), read into one buffer sized from `fstat`; stops once more than
    /// `limit` bytes were read, so callers see an oversized file as `count > limit`. Symbolic links are refused unless
    /// `followSymlinks` (a gallery file the user names may be one).
    static func readFile(_ path: String, limit: Int = 1 << 20, followSymlinks: Bool = false) throws -> [UInt8]? {
        let fd = hangar_openat(AT_FDCWD, path, O_RDONLY | O_CLOEXEC | (followSymlinks ? 0 : O_NOFOLLOW), 0)
        if fd < 0 {
            if errno == ENOENT { return nil }
            throw failure("cannot open", path, errno)
        }
        defer { close(fd) }
        var info = stat()
        let size = fstat(fd, &info) == 0 && isRegular(info) ? Int(info.st_size) : 64 * 1024
        // One spare byte, so that the end of a file whose size held is seen without growing the buffer.
        var bytes = [UInt8](repeating: 0, count: min(max(size, 0), limit) + 1)
        var filled = 0
        while filled <= limit {
            if filled == bytes.count { bytes.append(contentsOf: repeatElement(0, count: min(bytes.count, limit + 1))) }
            let n = bytes.withUnsafeMutableBytes { read(fd, $0.baseAddress! + filled, $0.count - filled) }
            if n < 0 {
                if errno == EINTR { continue }
                throw failure("cannot read", path, errno)
            }
            if n == 0 { break }
            filled += n
        }
        bytes.removeLast(bytes.count - filled)
        return bytes
    }

    /// 16 random hex digits: staging and trash names must never collide between two attempts.
    static func randomToken() -> String {
        let value = UInt64.random(in: UInt64.min...UInt64.max)
        let hex = String(value, radix: 16)
        return String(repeating: "0", count: 16 - hex.count) + hex
    }

    static var pid: Int32 { getpid() }
}

/// libc's rename(2), reachable from inside `Sys` whose own `rename` would shadow it.
private func posixRename(_ from: String, _ to: String) -> Int32 {
    #if canImport(Glibc)
    return Glibc.rename(from, to)
    #else
    return Darwin.rename(from, to)
    #endif
}
