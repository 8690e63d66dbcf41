/// Applies one image layer (a tar, gzip/xz/zstd or plain) pulled from `read` onto `root` with OCI whiteouts,
/// through the safe extractor: the one place the OCI code meets it.
enum LayerApplier {
    /// Extracts the whole stream; returns the bytes written. `alreadyExtracted` (earlier layers) counts against
    /// `limit`. Throws on unsafe entries, a corrupt or truncated stream, the cap exceeded, or cancellation.
    static func apply(read: @escaping (UnsafeMutableRawBufferPointer) throws -> Int, into root: String, limit: Int64,
                      alreadyExtracted: Int64, isCancelled: @escaping @Sendable () -> Bool, what: String) throws -> Int64 {
        do {
            let summary = try ArchiveExtractor.extract(
                reading: read, into: root, options: .ociLayer(maxBytes: limit, bytesAlreadyExtracted: alreadyExtracted),
                checkCancelled: { if isCancelled() { throw CancelledError() } }, progress: { _ in })
            return summary.bytes
        } catch let error as HangarError {
            throw HangarError(error.category, "\(what): \(error.message)")
        }
    }
}
