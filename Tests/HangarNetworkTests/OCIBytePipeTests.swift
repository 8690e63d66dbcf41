import Foundation
import HangarEngine
import Synchronization
import XCTest

/// The ring buffer between the blob transfer and the extraction thread.
final class OCIBytePipeTests: XCTestCase {
    func testBytesArriveInOrderAcrossWrapAroundsWithUnevenChunks() throws {
        let pipe = BytePipe(capacity: 1000)
        let input = (0..<200_000).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ $0 >> 8) }
        let producer = Thread {
            var offset = 0
            var size = 1
            while offset < input.count {
                let n = min(size, input.count - offset)
                input.withUnsafeBytes { try? pipe.write(UnsafeRawBufferPointer(rebasing: $0[offset..<offset + n])) }
                offset += n
                size = size % 1700 + 37
            }
            pipe.finish()
        }
        producer.start()
        var output: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 613)
        while true {
            let n = try buffer.withUnsafeMutableBytes { try pipe.read(into: $0) }
            if n == 0 { break }
            output += buffer[0..<n]
        }
        XCTAssertEqual(output, input)
    }

    func testProducerFailureReachesTheReaderAndReaderFailureStopsTheProducer() throws {
        struct Boom: Error {}
        let failing = BytePipe(capacity: 16)
        failing.fail(Boom())
        var buffer = [UInt8](repeating: 0, count: 8)
        XCTAssertThrowsError(try buffer.withUnsafeMutableBytes { try failing.read(into: $0) }) { XCTAssertTrue($0 is Boom) }

        let stopped = BytePipe(capacity: 16)
        stopped.closeReading(error: Boom())
        XCTAssertThrowsError(try [UInt8](repeating: 1, count: 64).withUnsafeBytes { try stopped.write($0) }) {
            XCTAssertTrue($0 is BytePipe.ReaderStopped)
        }

        // A reader that finished cleanly: the rest is dropped without blocking the producer.
        let done = BytePipe(capacity: 16)
        done.closeReading(error: nil)
        XCTAssertNoThrow(try [UInt8](repeating: 1, count: 64).withUnsafeBytes { try done.write($0) })
    }

    func testAProducerBlockedOnAFullPipeIsReleasedWhenTheReaderFails() {
        struct Boom: Error {}
        let pipe = BytePipe(capacity: 16)
        let outcome = Mutex<(any Error)?>(nil)
        let released = DispatchSemaphore(value: 0)
        Thread {
            do { try [UInt8](repeating: 1, count: 64).withUnsafeBytes { try pipe.write($0) } } catch { outcome.withLock { $0 = error } }
            released.signal()
        }.start()
        XCTAssertEqual(released.wait(timeout: .now() + 0.2), .timedOut, "64 bytes do not fit in 16: the producer waits")
        pipe.closeReading(error: Boom())
        XCTAssertEqual(released.wait(timeout: .now() + 5), .success)
        XCTAssertTrue(outcome.withLock { $0 } is BytePipe.ReaderStopped)
    }

    func testAReaderBlockedOnAnEmptyPipeIsReleasedWhenTheProducerFails() {
        struct Boom: Error {}
        let pipe = BytePipe(capacity: 16)
        let outcome = Mutex<(any Error)?>(nil)
        let released = DispatchSemaphore(value: 0)
        Thread {
            var buffer = [UInt8](repeating: 0, count: 8)
            do { _ = try buffer.withUnsafeMutableBytes { try pipe.read(into: $0) } } catch { outcome.withLock { $0 = error } }
            released.signal()
        }.start()
        XCTAssertEqual(released.wait(timeout: .now() + 0.2), .timedOut, "nothing written: the reader waits")
        pipe.fail(Boom())
        XCTAssertEqual(released.wait(timeout: .now() + 5), .success)
        XCTAssertTrue(outcome.withLock { $0 } is Boom)
    }
}
