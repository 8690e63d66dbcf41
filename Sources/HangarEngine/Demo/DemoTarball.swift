import CLibArchive
import Foundation

/// Writes the demo's `.tar.gz` backends with libarchive (no `tar` binary needed) and returns their sha256, so the
/// demo gallery can carry the digest that TarballSource verifies.
enum DemoTarball {
    /// Packs `directory` as `<basename>/…` (the usual `tar czf x.tar.gz x/`) into `archive`; returns the hex sha256.
    static func write(directory: String, to archive: String) throws -> String {
        guard let writer = archive_write_new() else { throw HangarError.operation("libarchive: cannot create a writer") }
        defer { archive_write_free(writer) }
        func check(_ code: Int32, _ step: String) throws {
            guard code == ARCHIVE_OK else {
                let reason = archive_error_string(writer).map { String(cString: $0) } ?? "error \(code)"
                throw HangarError.operation("cannot write the demo tarball \(archive): \(step): \(reason)")
            }
        }
        try check(archive_write_add_filter_gzip(writer), "gzip")
        // The payload is incompressible on purpose (so downloads take visible time): spend no effort on it.
        try check(archive_write_set_filter_option(writer, "gzip", "compression-level", "1"), "compression level")
        try check(archive_write_set_format_pax_restricted(writer), "format")
        try check(archive_write_open_filename(writer, archive), "open")

        let top = (directory as NSString).lastPathComponent
        var paths = [""]
        paths += (FileManager.default.subpaths(atPath: directory) ?? []).sorted()
        var buffer = [UInt8](repeating: 0, count: 1 << 20)
        for relative in paths {
            let source = relative.isEmpty ? directory : directory + "/" + relative
            var info = stat()
            guard lstat(source, &info) == 0 else { throw HangarError.operation("cannot read \(source) for the demo tarball") }
            guard let entry = archive_entry_new() else { throw HangarError.operation("libarchive: cannot create an entry") }
            defer { archive_entry_free(entry) }
            archive_entry_set_pathname(entry, relative.isEmpty ? top + "/" : top + "/" + relative)
            archive_entry_set_perm(entry, info.st_mode & 0o7777)
            archive_entry_set_mtime(entry, info.st_mtim.tv_sec, 0)
            let isDirectory = info.st_mode & S_IFMT == S_IFDIR
            archive_entry_set_filetype(entry, UInt32(isDirectory ? Glibc.S_IFDIR : Glibc.S_IFREG))
            archive_entry_set_size(entry, isDirectory ? 0 : Int64(info.st_size))
            try check(archive_write_header(writer, entry), "header of \(relative)")
            if isDirectory { continue }
            let input = open(source, O_RDONLY | O_CLOEXEC)
            guard input >= 0 else { throw HangarError.operation("cannot read \(source) for the demo tarball") }
            defer { close(input) }
            while true {
                let count = buffer.withUnsafeMutableBytes { read(input, $0.baseAddress, $0.count) }
                if count < 0 && errno == EINTR { continue }
                guard count >= 0 else { throw HangarError.operation("cannot read \(source) for the demo tarball") }
                if count == 0 { break }
                let written = buffer.withUnsafeBytes { archive_write_data(writer, $0.baseAddress, count) }
                guard written == count else { try check(ARCHIVE_FATAL, "data of \(relative)"); break }
            }
        }
        try check(archive_write_close(writer), "close")
        return try sha256(of: archive)
    }

    /// Hex sha256 of a file, streamed.
    static func sha256(of path: String) throws -> String {
        guard let handle = FileHandle(forReadingAtPath: path) else { throw HangarError.operation("cannot read \(path)") }
        defer { try? handle.close() }
        var hasher = SHA256()
        while let chunk = try handle.read(upToCount: 1 << 20), !chunk.isEmpty { hasher.update(chunk) }
        return hasher.finalizeHex()
    }
}
