import CLibArchive
import Foundation

/// Applies one image layer (a tar, gzip/xz/zstd or plain) pulled chunk by chunk from `read` onto `root`, with OCI
/// whiteouts. The one place the OCI code meets the extractor.
enum LayerApplier {
    /// Extracts until the archive ends; returns the bytes written. Throws on unsafe entries, a corrupt stream,
    /// `limit` exceeded, or cancellation.
    static func apply(read: @escaping () throws -> [UInt8]?, into root: String, limit: Int64,
                      isCancelled: @escaping @Sendable () -> Bool, what: String) throws -> Int64 {
        try PendingExtractor.extract(read: read, into: root, limit: limit, isCancelled: isCancelled, what: what)
    }
}

// TEMPORARY until the extract branch lands: a minimal libarchive extraction with whiteouts. Replaced by
// ArchiveExtractor on merge.
private final class PullSource {
    let read: () throws -> [UInt8]?
    var current: [UInt8] = []
    var error: (any Error)?
    init(read: @escaping () throws -> [UInt8]?) { self.read = read }
}

private enum PendingExtractor {
    static func extract(read: @escaping () throws -> [UInt8]?, into root: String, limit: Int64,
                        isCancelled: @escaping @Sendable () -> Bool, what: String) throws -> Int64 {
        guard let a = archive_read_new(), let disk = archive_write_disk_new() else {
            throw HangarError.operation("libarchive could not start")
        }
        defer { archive_read_free(a); archive_write_free(disk) }
        archive_read_support_filter_all(a)
        archive_read_support_format_tar(a)
        archive_write_disk_set_options(disk, ARCHIVE_EXTRACT_PERM | ARCHIVE_EXTRACT_TIME | ARCHIVE_EXTRACT_SECURE_SYMLINKS
                                       | ARCHIVE_EXTRACT_SECURE_NODOTDOT
                                       | ARCHIVE_EXTRACT_UNLINK)
        let source = PullSource(read: read)
        let box = Unmanaged.passRetained(source)
        defer { box.release() }
        let opened = archive_read_open(a, box.toOpaque(), nil, { _, user, buffer in
            let s = Unmanaged<PullSource>.fromOpaque(user!).takeUnretainedValue()
            do {
                guard let chunk = try s.read() else { return 0 }
                s.current = chunk
                s.current.withUnsafeBufferPointer { buffer?.pointee = UnsafeRawPointer($0.baseAddress) }
                return chunk.count
            } catch {
                s.error = error
                return -1
            }
        }, nil)
        func fail(_ context: String) -> any Error {
            if let e = source.error { return e }
            return HangarError.operation("\(what): \(context): \(String(cString: archive_error_string(a) ?? archive_error_string(disk)))")
        }
        guard opened == ARCHIVE_OK else { throw fail("not a readable archive") }
        var written: Int64 = 0
        var entry: OpaquePointer?
        while true {
            if isCancelled() { throw CancelledError() }
            let r = archive_read_next_header(a, &entry)
            if r == ARCHIVE_EOF { break }
            guard r == ARCHIVE_OK || r == ARCHIVE_WARN, let entry else { throw fail("corrupt archive") }
            let name = String(cString: archive_entry_pathname(entry))
            let parts = name.split(separator: "/").filter { $0 != "." }
            if parts.contains("..") || name.hasPrefix("/") { throw HangarError.operation("\(what): refused entry \(name) (escapes the target)") }
            let base = parts.last.map(String.init) ?? ""
            let dir = root + "/" + parts.dropLast().joined(separator: "/")
            if base == ".wh..wh..opq" {
                for child in (try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? [] {
                    try? FileManager.default.removeItem(atPath: dir + "/" + child)
                }
                continue
            }
            if base.hasPrefix(".wh.") {
                try? FileManager.default.removeItem(atPath: dir + "/" + base.dropFirst(4))
                continue
            }
            archive_entry_set_pathname(entry, root + "/" + parts.joined(separator: "/"))
            if let link = archive_entry_hardlink(entry) {
                let target = String(cString: link)
                if target.hasPrefix("/") || target.split(separator: "/").contains("..") {
                    throw HangarError.operation("\(what): refused hard link \(name) → \(target)")
                }
                archive_entry_set_hardlink(entry, root + "/" + target)
            }
            let type = archive_entry_filetype(entry) & 0o170000
            if type != 0o100000 && type != 0o040000 && type != 0o120000 {
                throw HangarError.operation("\(what): refused \(name): devices and FIFOs are not allowed")
            }
            guard archive_write_header(disk, entry) >= ARCHIVE_WARN else { throw fail("cannot write \(name)") }
            var block: UnsafeRawPointer?
            var size = 0
            var offset: Int64 = 0
            while true {
                let d = archive_read_data_block(a, &block, &size, &offset)
                if d == ARCHIVE_EOF { break }
                guard d >= ARCHIVE_WARN else { throw fail("corrupt data in \(name)") }
                written += Int64(size)
                if written > limit {
                    throw HangarError.operation("\(what) unpacks to more than \(formatBytes(limit)): refused (raise --max-extract-size if it is genuine)")
                }
                guard archive_write_data_block(disk, block, size, offset) >= ARCHIVE_WARN else { throw fail("cannot write \(name)") }
            }
            archive_write_finish_entry(disk)
        }
        return written
    }
}
