import CLibArchive
import CHangarSystem
import CLazyLibraries

/// Limits and semantics of one extraction.
struct ExtractionOptions: Sendable, Equatable {
    /// Cap on the bytes written by all extractions into the same tree (`--max-extract-size`), counting what
    /// `bytesAlreadyExtracted` says earlier layers wrote.
    public var maxBytes: Int64
    /// Cap on the number of archive entries (a million empty files is a bomb too).
    public var maxEntries: Int
    /// OCI layer semantics: `.wh.<name>` removes `<name>` of earlier layers, `.wh..wh..opq` empties a directory of
    /// what earlier layers put there; neither is written.
    public var applyWhiteouts: Bool
    /// Skip device nodes, FIFOs and sockets (counted in the summary) instead of refusing the archive. OCI layers of
    /// base images carry `/dev` entries a backend never needs; a backend tarball has no reason to.
    public var skipSpecialFiles: Bool
    /// Bytes earlier extractions (previous layers) already wrote into the tree, counted against `maxBytes`.
    public var bytesAlreadyExtracted: Int64

    /// Options for one extraction; the defaults suit a backend tarball (no whiteouts, special files refused).
    public init(maxBytes: Int64 = HangarConfiguration.defaultMaxExtractSize, maxEntries: Int = 1_000_000, applyWhiteouts: Bool = false,
                skipSpecialFiles: Bool = false, bytesAlreadyExtracted: Int64 = 0) {
        self.maxBytes = maxBytes
        self.maxEntries = maxEntries
        self.applyWhiteouts = applyWhiteouts
        self.skipSpecialFiles = skipSpecialFiles
        self.bytesAlreadyExtracted = bytesAlreadyExtracted
    }

    /// What an OCI image layer needs: whiteouts applied, device nodes/FIFOs/sockets skipped rather than refused.
    public static func ociLayer(maxBytes: Int64, bytesAlreadyExtracted: Int64 = 0) -> ExtractionOptions {
        ExtractionOptions(maxBytes: maxBytes, applyWhiteouts: true, skipSpecialFiles: true,
                          bytesAlreadyExtracted: bytesAlreadyExtracted)
    }

    /// `16MiB`, `2GiB`, `1500B`: a size the way `--max-extract-size` takes it.
    public static func flagValue(_ bytes: Int64) -> String {
        for (shift, unit) in [(40, "TiB"), (30, "GiB"), (20, "MiB"), (10, "KiB")] where bytes >= Int64(1) << shift {
            if bytes % (Int64(1) << shift) == 0 { return "\(bytes >> shift)\(unit)" }
        }
        if bytes >= 1 << 20 { return "\((bytes + (1 << 20) - 1) >> 20)MiB" }
        return "\(bytes)B"
    }
}

/// What an extraction did.
struct ExtractionSummary: Sendable, Equatable {
    /// Archive entries read (including whiteouts and skipped special files).
    public var entries: Int
    /// Bytes written by this extraction (file contents; sparse holes count as written).
    public var bytes: Int64
    /// Device nodes, FIFOs and sockets skipped under `skipSpecialFiles`.
    public var skippedSpecialFiles: Int

    public init(entries: Int = 0, bytes: Int64 = 0, skippedSpecialFiles: Int = 0) {
        self.entries = entries
        self.bytes = bytes
        self.skippedSpecialFiles = skippedSpecialFiles
    }
}

/// Safe tar extraction over libarchive: the archive is only read by libarchive; every entry is created by
/// `SafeTreeWriter` with descriptor-relative calls that never follow a symlink.
enum ArchiveExtractor {
    /// Extracts a tar (plain, gzip, xz, zstd, bzip2 — auto-detected) into `root`, an existing directory, refusing
    /// unsafe entries. `progress` gets the compressed bytes read so far.
    public static func extract(file path: String, into root: String, options: ExtractionOptions,
                               checkCancelled: () throws -> Void,
                               progress: (_ compressedBytesRead: Int64) -> Void) throws -> ExtractionSummary {
        let fd = hangar_openat(AT_FDCWD, path, O_RDONLY | O_CLOEXEC, 0)
        if fd < 0 { throw Sys.failure("cannot open archive", path, errno) }
        defer { close(fd) }
        return try extract(fileDescriptor: fd, path: path, into: root, options: options, checkCancelled: checkCancelled,
                           progress: progress)
    }

    /// Same, reading an open file from its start (with `pread`, so the descriptor's offset is left alone): a caller
    /// that verified the bytes through this descriptor extracts exactly those, whatever happens to the path since.
    /// `path` is only for messages. The descriptor stays open.
    public static func extract(fileDescriptor fd: Int32, path: String, into root: String, options: ExtractionOptions,
                               checkCancelled: () throws -> Void,
                               progress: (_ compressedBytesRead: Int64) -> Void) throws -> ExtractionSummary {
        var offset: off_t = 0
        return try extract(reading: { buffer in
            while true {
                let n = pread(fd, buffer.baseAddress, buffer.count, offset)
                if n >= 0 { offset += off_t(n); return n }
                if errno != EINTR { throw Sys.failure("cannot read archive", path, errno) }
            }
        }, into: root, options: options, checkCancelled: checkCancelled, progress: progress)
    }

    /// Same, pulling the compressed bytes from `read` (fill the buffer, return the count; 0 = end; throw to abort) —
    /// for streaming network layers. `read` is called until it returns 0, also past the end-of-archive marker, so a
    /// caller hashing the stream has seen every byte when this returns.
    public static func extract(reading read: @escaping (UnsafeMutableRawBufferPointer) throws -> Int, into root: String,
                               options: ExtractionOptions, checkCancelled: () throws -> Void,
                               progress: (Int64) -> Void) throws -> ExtractionSummary {
        try withoutActuallyEscaping(progress) { progress in
            let input = ArchiveInput(read: read, progress: progress)
            var writer = try SafeTreeWriter(root: root, options: options)
            defer { writer.closeDescriptors() }
            try extractEntries(from: input, with: &writer, checkCancelled: checkCancelled)
            try writer.finish()
            try input.drain(checkCancelled: checkCancelled)
            return writer.summary
        }
    }

    /// A libarchive reader for tar with the decompressors libarchive runs in-process (gzip, bzip2, xz, zstd):
    /// `support_filter_all` would also start external programs. The caller frees it.
    static func newTarReader() throws -> OpaquePointer {
        // libarchive is loaded on first use: a missing one is this operation's error, not a crash.
        if let missing = hangar_lazy_library_error(HANGAR_LIB_ARCHIVE) { throw HangarError.operation(String(cString: missing)) }
        guard let archive = archive_read_new() else { throw HangarError.operation("libarchive: out of memory") }
        _ = archive_read_support_filter_gzip(archive)
        _ = archive_read_support_filter_bzip2(archive)
        _ = archive_read_support_filter_xz(archive)
        _ = archive_read_support_filter_zstd(archive)
        _ = archive_read_support_format_tar(archive)
        return archive
    }

    private static func extractEntries(from input: ArchiveInput, with writer: inout SafeTreeWriter,
                                       checkCancelled: () throws -> Void) throws {
        let archive = try newTarReader()
        defer { archive_read_free(archive) }
        let client = Unmanaged.passUnretained(input).toOpaque()
        let opened = archive_read_open(archive, client, nil, { _, client, buffer -> la_ssize_t in
            let input = Unmanaged<ArchiveInput>.fromOpaque(client!).takeUnretainedValue()
            return input.next(buffer!)
        }, nil)
        if opened != ARCHIVE_OK { throw input.failure ?? readError(archive, entry: nil) }

        while true {
            var entry: OpaquePointer?
            let status = archive_read_next_header(archive, &entry)
            if status == ARCHIVE_EOF { break }
            // ARCHIVE_RETRY (a damaged header, e.g. a bad checksum) is not a warning: libarchive would skip ahead to
            // the next header it recognises and the backend would install partly, so only OK and WARN go on.
            guard status == ARCHIVE_OK || status == ARCHIVE_WARN else { throw input.failure ?? readError(archive, entry: nil) }
            try checkCancelled()
            guard let entry else { throw readError(archive, entry: nil) }
            // No name at all is a header libarchive could not make sense of ("./", the root, has one).
            let view = ArchiveEntryView(entry)
            guard !view.path.isEmpty else {
                throw HangarError.operation("archive is corrupt: an entry has no path (a damaged tar header)")
            }
            try writer.apply(view, data: { sink in
                while true {
                    var block: UnsafeRawPointer?
                    var size = 0
                    var offset: la_int64_t = 0
                    let r = archive_read_data_block(archive, &block, &size, &offset)
                    if r == ARCHIVE_EOF { return }
                    if r < ARCHIVE_WARN { throw input.failure ?? readError(archive, entry: view.path) }
                    try checkCancelled()
                    if let block, size > 0 { try sink(UnsafeRawBufferPointer(start: block, count: size), Int64(offset)) }
                }
            })
        }
    }

    /// libarchive's own message (e.g. "truncated gzip input") as one line naming the entry when there is one.
    private static func readError(_ archive: OpaquePointer, entry: String?) -> HangarError {
        let text = archive_error_string(archive).map { String(cString: $0) } ?? "unknown libarchive error"
        let at = entry.map { " at entry \"\($0)\"" } ?? ""
        return HangarError.operation("archive is corrupt or truncated\(at): \(text)")
    }
}

/// One libarchive entry's fields, read once.
struct ArchiveEntryView {
    let path: String
    let fileType: mode_t
    let permissions: mode_t
    let size: Int64?
    let symlinkTarget: String?
    let hardlinkTarget: String?
    let mtime: timespec?

    init(_ entry: OpaquePointer) {
        // The locale-converted names are nil for non-ASCII names in the C locale; the UTF-8 forms still have them.
        path = Self.string(archive_entry_pathname(entry)) ?? Self.string(archive_entry_pathname_utf8(entry)) ?? ""
        fileType = mode_t(archive_entry_filetype(entry))
        permissions = mode_t(archive_entry_perm(entry)) & 0o777
        size = archive_entry_size_is_set(entry) != 0 ? Int64(archive_entry_size(entry)) : nil
        symlinkTarget = Self.string(archive_entry_symlink(entry)) ?? Self.string(archive_entry_symlink_utf8(entry))
        hardlinkTarget = Self.string(archive_entry_hardlink(entry)) ?? Self.string(archive_entry_hardlink_utf8(entry))
        mtime = archive_entry_mtime_is_set(entry) != 0
            ? timespec(tv_sec: archive_entry_mtime(entry), tv_nsec: Int(archive_entry_mtime_nsec(entry))) : nil
    }

    private static func string(_ pointer: UnsafePointer<CChar>?) -> String? {
        pointer.map { String(cString: $0) }
    }
}

/// The read callback's state: the caller's reader, a buffer libarchive borrows, the byte count and the caller's
/// error (libarchive only sees -1, the original error is rethrown).
private final class ArchiveInput {
    private let read: (UnsafeMutableRawBufferPointer) throws -> Int
    private let progress: (Int64) -> Void
    private let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 16)
    private var total: Int64 = 0
    private(set) var failure: (any Error)?

    init(read: @escaping (UnsafeMutableRawBufferPointer) throws -> Int, progress: @escaping (Int64) -> Void) {
        self.read = read
        self.progress = progress
    }

    deinit { buffer.deallocate() }

    /// Reads what libarchive left after the end-of-archive marker (padding, trailing blocks).
    func drain(checkCancelled: () throws -> Void) throws {
        if let failure { throw failure }
        while true {
            let count = try read(buffer)
            if count <= 0 { return }
            total += Int64(count)
            progress(total)
            try checkCancelled()
        }
    }

    func next(_ out: UnsafeMutablePointer<UnsafeRawPointer?>) -> la_ssize_t {
        do {
            let count = try read(buffer)
            guard count >= 0, count <= buffer.count else {
                throw HangarError.operation("archive reader returned \(count) bytes for a \(buffer.count)-byte buffer")
            }
            out.pointee = UnsafeRawPointer(buffer.baseAddress)
            total += Int64(count)
            if count > 0 { progress(total) }
            return la_ssize_t(count)
        } catch {
            failure = error
            return -1
        }
    }
}
