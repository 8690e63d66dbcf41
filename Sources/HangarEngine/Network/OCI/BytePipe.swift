import Foundation

/// A bounded byte queue between a push producer (curl's write callback) and a pull consumer (libarchive's read
/// callback) on another thread, so a layer is extracted while it downloads with at most `capacity` bytes in memory.
///
/// Either side can stop the other: `fail` (producer: e.g. digest mismatch) makes the next `read` throw;
/// `closeReading(error:)` (consumer: extraction failed) makes the next `write` throw. A consumer that finished
/// cleanly before the stream ended (tar end-of-archive before the gzip trailer) lets later writes be dropped.
public final class BytePipe: @unchecked Sendable {
    // All state below is guarded by `condition`.
    private let condition = NSCondition()
    private var chunks: [[UInt8]] = []
    private var head = 0
    /// Bytes of `chunks[head]` already handed out.
    private var headOffset = 0
    private var buffered = 0
    private var finished = false
    private var producerError: (any Error)?
    private var readerClosed = false
    private var readerError: (any Error)?
    public let capacity: Int

    /// Thrown to the producer when the consumer stopped with an error (the consumer reports the real one).
    public struct ReaderStopped: Error, CustomStringConvertible {
        public var description: String { "extraction stopped" }
    }

    public init(capacity: Int = 8 << 20) {
        self.capacity = max(1, capacity)
    }

    /// Queues a copy of `bytes`, waiting while the queue is full. Throws once the consumer failed.
    public func write(_ bytes: UnsafeRawBufferPointer) throws {
        guard !bytes.isEmpty else { return }
        condition.lock()
        defer { condition.unlock() }
        while buffered >= capacity && !readerClosed { condition.wait() }
        if readerError != nil { throw ReaderStopped() }
        if readerClosed { return }
        chunks.append(Array(bytes))
        buffered += bytes.count
        condition.broadcast()
    }

    /// End of stream: the consumer reads what is queued, then nil.
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

    /// Fills `buffer` with the next queued bytes (waiting for some), returns the count; 0 at the end of the stream.
    /// Throws the producer's error.
    public func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        condition.lock()
        defer { condition.unlock() }
        while head == chunks.count && !finished && producerError == nil { condition.wait() }
        if let producerError { throw producerError }
        var filled = 0
        while filled < buffer.count && head < chunks.count {
            let chunk = chunks[head]
            let count = min(chunk.count - headOffset, buffer.count - filled)
            chunk.withUnsafeBytes { bytes in
                UnsafeMutableRawBufferPointer(rebasing: buffer[filled..<filled + count])
                    .copyMemory(from: UnsafeRawBufferPointer(rebasing: bytes[headOffset..<headOffset + count]))
            }
            filled += count
            headOffset += count
            if headOffset == chunk.count {
                chunks[head] = []
                head += 1
                headOffset = 0
            }
        }
        if head > 64 && head * 2 > chunks.count {
            chunks.removeFirst(head)
            head = 0
        }
        buffered -= filled
        condition.broadcast()
        return filled
    }

    /// The consumer is done: with an error the producer stops; without, the producer's remaining bytes are dropped.
    public func closeReading(error: (any Error)?) {
        condition.lock()
        readerClosed = true
        readerError = error
        chunks = []
        head = 0
        headOffset = 0
        buffered = 0
        condition.broadcast()
        condition.unlock()
    }
}
