import CHangarSystem

/// Tarball backends (`.tar`, `.tar.gz`/`.tgz`, `.tar.xz`, `.tar.zst`, `.tar.bz2`) over `http(s)://`, `file://` or a
/// local path: downloaded to `<staging>.download` (beside the staging dir, never inside it) while hashing, checked
/// against the entry's `sha256`, then extracted safely into staging. What LocalAI's `sha256:` path intends (§5.5).
///
/// A tarball whose top level is one directory holding `run.sh` (the usual `tar czf x.tar.gz x/`) is unwrapped, so
/// that directory's contents become the backend.
public struct TarballSource: BackendSource {
    /// Name endings this source takes (compared case-insensitively, query and fragment of a URL ignored).
    public static let suffixes = [".tar", ".tar.gz", ".tgz", ".tar.xz", ".tar.zst", ".tar.bz2"]

    /// Cap on the extracted size (`--max-extract-size`).
    public let maxExtractSize: Int64
    /// Bytes per second to download (or copy) at, for the demo's visible progress; nil is full speed.
    public let throttleBytesPerSecond: Int64?
    private let client: HTTPClient

    /// A source extracting at most `maxExtractSize` bytes per tarball, downloading with `client`.
    public init(maxExtractSize: Int64 = HangarConfiguration.defaultMaxExtractSize, throttleBytesPerSecond: Int64? = nil,
                client: HTTPClient = HTTPClient()) {
        self.maxExtractSize = maxExtractSize
        self.throttleBytesPerSecond = throttleBytesPerSecond
        self.client = client
    }

    public func handles(_ uri: String) -> Bool {
        guard let location = Location(uri) else { return false }
        let name = location.name.lowercased()
        return Self.suffixes.contains { name.hasSuffix($0) }
    }

    public func fetch(_ request: FetchRequest, into staging: String, context: JobContext) throws -> String? {
        guard let location = Location(request.uri) else {
            throw HangarError.operation("\(request.uri) is not an http(s)://, file:// or local tarball")
        }
        let downloadPath = staging + ".download"
        let expected = Self.normalizedDigest(request.sha256)
        if expected.isEmpty {
            context.warning("downloading without integrity check: \(request.uri) has no sha256 in the gallery")
        }
        defer { _ = unlink(downloadPath) }
        context.phase(.downloading, request.uri)
        // A tar is at most a little larger than what it holds: a body beyond that is refused before it fills the disk.
        let limit = maxExtractSize.addingSaturated(maxExtractSize / 8).addingSaturated(1 << 20)
        let download = try Download(path: downloadPath, limit: limit, throttle: throttleBytesPerSecond, context: context)
        defer { download.closeFile() }
        switch location {
        case .http(let url): try download.fetch(url: url, client: client)
        case .local(let path): try download.copy(path)
        }

        if !expected.isEmpty {
            context.phase(.verifying, "sha256 \(expected)")
            let actual = download.digest()
            if actual != expected {
                throw HangarError.operation(
                    "sha256 mismatch for \(request.uri): expected \(expected), got \(actual) (nothing was extracted; the download is corrupt or the gallery entry is out of date)")
            }
        }

        context.phase(.extracting, request.uri)
        let size = download.bytes
        // From the descriptor that was hashed, not the path: what is extracted is exactly what was verified.
        _ = try ArchiveExtractor.extract(fileDescriptor: download.fd, path: downloadPath, into: staging,
                                         options: ExtractionOptions(maxBytes: maxExtractSize),
                                         checkCancelled: { try context.checkCancelled() },
                                         progress: { context.progress(bytes: size + $0, total: 2 * size) })
        try Self.unwrapSingleTopDirectory(staging)
        return nil
    }

    /// Gallery `sha256` values are hex, sometimes with a `sha256:` prefix or in upper case.
    static func normalizedDigest(_ value: String) -> String {
        var text = value.filter { !$0.isWhitespace }.lowercased()
        if text.hasPrefix("sha256:") { text.removeFirst("sha256:".count) }
        return text
    }

    /// Moves `staging/<top>/*` up into `staging` when `<top>` is the only entry, a real directory, and holds `run.sh`.
    static func unwrapSingleTopDirectory(_ staging: String) throws {
        let entries = try Sys.listDirectoryIfPresent(staging) ?? []
        guard entries.count == 1, let top = entries.first, top != "run.sh",
              let st = try Sys.lstatIfPresent(staging + "/" + top), Sys.isDirectory(st),
              let run = try Sys.lstatIfPresent(staging + "/" + top + "/run.sh"), !Sys.isDirectory(run) else { return }
        // Symlinks were checked from their place inside `<top>`; one level up, a leading `..` would leave the backend.
        let topFD = try Sys.openDirectory(staging + "/" + top, followSymlink: false)
        defer { close(topFD) }
        do {
            try checkSymlinks(topFD, components: [], path: staging + "/" + top)
        } catch let error as HangarError {
            throw HangarError.operation(error.message + " once the single top directory \(top)/ is unwrapped")
        }
        // Renamed first so a child with the directory's own name cannot collide with it.
        let holder = staging + "/.hangar-unwrap-" + Sys.randomToken()
        try Sys.rename(staging + "/" + top, holder)
        let holderFD = try Sys.openDirectory(holder, followSymlink: false)
        defer { close(holderFD) }
        for child in try Sys.listDirectory(fd: holderFD, path: holder) {
            try Sys.rename(holder + "/" + child, staging + "/" + child)
        }
        if rmdir(holder) != 0 { throw Sys.failure("cannot remove", holder, errno) }
    }

    /// Checks every symlink below `fd` as if `components` were its path from the backend root.
    private static func checkSymlinks(_ fd: Int32, components: [String], path: String) throws {
        for name in try Sys.listDirectory(fd: fd, path: path) {
            guard let st = try Sys.statAt(fd, name, followSymlinks: false) else { continue }
            let childPath = path + "/" + name
            if Sys.isSymlink(st) {
                let target = try FileTree.readLink(fd, name, path: childPath)
                try SafeTreeWriter.checkSymlinkTarget(target, at: components + [name], entry: (components + [name]).joined(separator: "/"))
            } else if Sys.isDirectory(st) {
                let child = hangar_openat(fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC, 0)
                if child < 0 { throw Sys.failure("cannot open directory", childPath, errno) }
                defer { close(child) }
                try checkSymlinks(child, components: components + [name], path: childPath)
            }
        }
    }

    /// Where a tarball URI points.
    enum Location {
        case http(String)
        case local(String)

        init?(_ uri: String) {
            if BackendURI.looksLikeHTTP(uri) {
                self = .http(uri)
            } else if uri.hasPrefix("file://") {
                self = .local(String(uri.dropFirst("file://".count)))
            } else if uri.contains("://") || uri.isEmpty {
                return nil
            } else {
                self = .local(uri)
            }
        }

        /// The part that carries the file name: a URL's path without query or fragment, or the local path.
        var name: String {
            switch self {
            case .local(let path): return path
            case .http(let url):
                return String(url.split(separator: "#", maxSplits: 1).first?.split(separator: "?", maxSplits: 1).first ?? "")
            }
        }
    }
}

/// The download file being filled: written at the current offset, hashed as it goes, reported as job progress.
/// Opened read-write so the extraction reads the very bytes that were hashed.
private final class Download {
    let path: String
    let fd: Int32
    private let throttle: Throttle?
    /// Most bytes a download may have (derived from `--max-extract-size`).
    private let limit: Int64
    private let context: JobContext
    private var hasher = SHA256()
    private(set) var bytes: Int64 = 0
    private var total: Int64 = 0

    init(path: String, limit: Int64, throttle: Int64?, context: JobContext) throws {
        self.path = path
        self.limit = limit
        self.throttle = Throttle(bytesPerSecond: throttle)
        self.context = context
        _ = unlink(path)  // a leftover of an earlier candidate of the same transaction
        fd = hangar_openat(AT_FDCWD, path, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600)
        if fd < 0 { throw Sys.failure("cannot create download file", path, errno) }
    }

    func closeFile() { close(fd) }

    func digest() -> String { hasher.finalizeHex() }

    /// Copies a local tarball (so what is verified is exactly what is extracted, whatever happens to the source).
    func copy(_ source: String) throws {
        let input = hangar_openat(AT_FDCWD, source, O_RDONLY | O_CLOEXEC, 0)
        if input < 0 { throw Sys.failure("cannot open tarball", source, errno) }
        defer { close(input) }
        var st = stat()
        if fstat(input, &st) == 0 {
            if Sys.isDirectory(st) { throw HangarError.operation("\(source) is a directory, not a tarball") }
            total = Int64(st.st_size)
        }
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 16)
        defer { buffer.deallocate() }
        while true {
            let count = read(input, buffer.baseAddress, buffer.count)
            if count < 0 {
                if errno == EINTR { continue }
                throw Sys.failure("cannot read tarball", source, errno)
            }
            if count == 0 { return }
            try append(UnsafeRawBufferPointer(rebasing: buffer[0..<count]))
        }
    }

    /// Downloads with retries; a retry after a broken transfer resumes with `Range` from what is on disk already.
    func fetch(url: String, client: HTTPClient) throws {
        let context = self.context
        let isCancelled: @Sendable () -> Bool = { context.isCancelled }
        try HTTPRetry.run(backoff: client.options.retryBackoff, isCancelled: isCancelled) { _ in
            var resumeFrom = bytes > 0 ? bytes : nil
            while true {
                let response = try client.stream(HTTPRequest(url: url, resumeFrom: resumeFrom), isCancelled: isCancelled,
                                                 onResponse: { [self] status, headers in
                                                     // The size makes progress a percentage (no HEAD needed).
                                                     if let length = headers["content-length"].flatMap({ Int64($0) }) {
                                                         total = (status == 206 ? bytes : 0) + length
                                                     }
                                                 }) { try append($0) }
                _ = try response.requireSuccess()
                // A server that ignored Range answered with the body from byte 0, which the client kept from the
                // file: start over at once (this is an answer, not a failure worth a backoff).
                guard let from = resumeFrom, !response.resumes(from: from) else { return }
                context.warning("GET \(url) did not resume at byte \(from) (HTTP \(response.status)): downloading it again from the start")
                try restart()
                resumeFrom = nil
            }
        }
    }

    private func restart() throws {
        if ftruncate(fd, 0) != 0 || lseek(fd, 0, SEEK_SET) != 0 { throw Sys.failure("cannot truncate", path, errno) }
        hasher = SHA256()
        bytes = 0
    }

    private func append(_ chunk: UnsafeRawBufferPointer) throws {
        try context.checkCancelled()
        if bytes + Int64(chunk.count) > limit {
            throw HangarError.operation(
                "tarball is larger than --max-extract-size allows (\(TextFormat.bytes(limit)) downloaded): raise --max-extract-size if this backend is legitimately that large")
        }
        try Sys.writeAll(fd, chunk, path: path)
        hasher.update(chunk)
        bytes += Int64(chunk.count)
        context.progress(bytes: bytes, total: 2 * max(total, bytes))
        throttle?.pace(bytes, isCancelled: { context.isCancelled })
    }
}
