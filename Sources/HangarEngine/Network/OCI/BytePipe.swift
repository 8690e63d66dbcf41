import Foundation

/// A bounded byte queue between a push producer (curl's write callback) and a pull consumer (libarchive's read
/// callback) on another thread, so a layer is extracted while it downloads. It is one fixed ring buffer of
/// `capacity` bytes: memory stays flat however large the layer, and nothing is allocated per chunk.
///
/// Either side can stop the other: `fail` (producer: e.g. digest mismatch) makes the next `read` throw;
/// `closeReading(error:)` (consumer: extraction failed) makes the next `write` throw. A consumer that finished
/// cleanly before the stream ended lets later writes be dropped.
public final class BytePipe: @unchecked Sendable {
    // All state below is guarded by `condition`.
    private let condition = NSCondition()
    private let storage: UnsafeMutableRawBufferPointer
    private var start = 0
    private var count = 0
    private var finished = false
    private var producerError: (any Error)?
    private var readerClosed = false
    private var readerError: (any Error)?

    /// Thrown to the producer when the consumer stopped with an error (the consumer reports the real one).
    public struct ReaderStopped: Error, CustomStringConvertible {
        public var description: String { "extraction stopped" }
    }

    /// A pipe buffering at most `capacity` bytes (at least 1).
    public init(capacity: Int = 4 << 20) {
        storage = UnsafeMutableRawBufferPointer.allocate(byteCount: max(1, capacity), alignment: 16)
    }

    deinit { storage.deallocate() }

    /// The ring's size in bytes: how far the download may run ahead of the extraction.
    public var capacity: Int { storage.count }

    /// Copies `bytes` in, waiting while the buffer is full. Throws once the consumer failed.
    public func write(_ bytes: UnsafeRawBufferPointer) throws {
        var offset = 0
        condition.lock()
        defer { condition.unlock() }
        while offset < bytes.count {
            while count == storage.count && !readerClosed { condition.wait() }
            if readerError != nil { throw ReaderStopped() }
            if readerClosed { return }
            let n = min(storage.count - count, bytes.count - offset)
            copyIn(UnsafeRawBufferPointer(rebasing: bytes[offset..<offset + n]), at: (start + count) % storage.count)
            count += n
            offset += n
            condition.broadcast()
        }
    }

    /// End of stream: the consumer reads what is buffered, then 0.
    public func finish() {
        condition.lock()
        finished = true
        condition.broadcast()
        condition.unlock()
    }

    /// Ends the stream with an error the consumer's next read throws.
    public func fail(_ error: any Error) {
        condition.lock()
        producerError = error
        condition.broadcast()
        condition.unlock()
    }

    /// Fills `buffer` with the next buffered bytes (waiting for some), returns the count; 0 at the end of the stream.
    /// Throws the producer's error.
    public func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        condition.lock()
        defer { condition.unlock() }
        while count == 0 && !finished && producerError == nil { condition.wait() }
        if let producerError { throw producerError }
        let n = min(count, buffer.count)
        let first = min(n, storage.count - start)
        buffer.baseAddress!.copyMemory(from: storage.baseAddress! + start, byteCount: first)
        if n > first { (buffer.baseAddress! + first).copyMemory(from: storage.baseAddress!, byteCount: n - first) }
        start = (start + n) % storage.count
        count -= n
        condition.broadcast()
        return n
    }

    /// The consumer is done: with an error the producer stops; without, the producer's remaining bytes are dropped.
    public func closeReading(error: (any Error)?) {
        condition.lock()
        readerClosed = true
        readerError = error
        count = 0
        condition.broadcast()
        condition.unlock()
    }

    /// Copies `bytes` into the ring at `position`, wrapping at the end.
    private func copyIn(_ bytes: UnsafeRawBufferPointer, at position: Int) {
        let first = min(bytes.count, storage.count - position)
        (storage.baseAddress! + position).copyMemory(from: bytes.baseAddress!, byteCount: first)
        if bytes.count > first {
            storage.baseAddress!.copyMemory(from: bytes.baseAddress! + first, byteCount: bytes.count - first)
        }
    }
}
