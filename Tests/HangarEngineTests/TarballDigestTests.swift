import XCTest
@testable import HangarEngine

/// The libcrypto-backed SHA256 used to verify tarballs and blobs while they stream.
final class TarballDigestTests: XCTestCase {
    func testStreamingInChunksEqualsOneShot() {
        let data = (0..<100_000).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        var oneShot = SHA256()
        oneShot.update(data)
        var chunked = SHA256()
        var offset = 0
        for size in [1, 63, 64, 65, 4096, 30_000] {
            data[offset..<offset + size].withUnsafeBytes { chunked.update($0) }
            offset += size
        }
        chunked.update(data[offset...])
        XCTAssertEqual(chunked.finalizeHex(), oneShot.finalizeHex())
    }

    func testMillionAsKnownVector() {
        var hasher = SHA256()
        let block = [UInt8](repeating: UInt8(ascii: "a"), count: 1000)
        for _ in 0..<1000 { block.withUnsafeBytes { hasher.update($0) } }
        XCTAssertEqual(hasher.finalizeHex(), "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
    }

    func testCopiesAreIndependent() {
        var first = SHA256()
        first.update(Array("ab".utf8))
        var second = first
        first.update(Array("c".utf8))
        second.update(Array("d".utf8))
        XCTAssertEqual(first.finalizeHex(), SHA256.hex("abc"))
        XCTAssertEqual(second.finalizeHex(), SHA256.hex("abd"))
    }

    func testFinalizeStartsOver() {
        var hasher = SHA256()
        hasher.update(Array("abc".utf8))
        _ = hasher.finalizeHex()
        XCTAssertEqual(hasher.finalizeHex(), SHA256.hex(""))
    }
}
