import CLazyLibraries
import CLibCrypto

/// SHA-256 over OpenSSL's libcrypto (EVP), for cache file names, blob digests and tarball checksums.
///
/// A value type: copying a hasher and feeding both copies gives two independent digests
/// (the shared EVP context is duplicated on first write after a copy).
public struct SHA256: Sendable {
    private var context: DigestContext

    public init() {
        context = DigestContext()
    }

    /// Feeds more bytes.
    public mutating func update<C: Collection>(_ bytes: C) where C.Element == UInt8 {
        if let done = bytes.withContiguousStorageIfAvailable({ update(UnsafeRawBufferPointer($0)) }) { return done }
        update(Array(bytes))
    }

    /// Feeds more bytes without copying them (the streaming fast path).
    public mutating func update(_ bytes: UnsafeRawBufferPointer) {
        guard bytes.count > 0, let base = bytes.baseAddress else { return }
        uniqueContext().update(base, bytes.count)
    }

    /// The digest as 64 lower-case hex characters. The hasher starts over afterwards.
    public mutating func finalizeHex() -> String {
        let digest = uniqueContext().finalize()
        context = DigestContext()
        let hexDigits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(64)
        for byte in digest {
            out.append(hexDigits[Int(byte >> 4)])
            out.append(hexDigits[Int(byte & 0xf)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// One-shot hex digest of a string's UTF-8 bytes (cache file names). Plain C, not libcrypto: naming the gallery
    /// cache must not load libcrypto into commands that hash nothing else (`list --available`).
    public static func hex(_ string: String) -> String {
        var digest = [UInt8](repeating: 0, count: 32)
        let bytes = Array(string.utf8)
        bytes.withUnsafeBufferPointer { input in hangar_sha256(input.baseAddress, input.count, &digest) }
        let hexDigits = Array("0123456789abcdef".utf8)
        return String(decoding: digest.flatMap { [hexDigits[Int($0 >> 4)], hexDigits[Int($0 & 0xf)]] }, as: UTF8.self)
    }

    private mutating func uniqueContext() -> DigestContext {
        if !isKnownUniquelyReferenced(&context) { context = context.copy() }
        return context
    }
}

/// Owns one EVP_MD_CTX. Only mutated through a uniquely referenced `SHA256`, hence the unchecked Sendable.
private final class DigestContext: @unchecked Sendable {
    private let pointer: OpaquePointer

    init() {
        // Allocation or init failing means libcrypto itself is broken; nothing sensible can continue.
        guard let ctx = EVP_MD_CTX_new() else { fatalError("libcrypto: EVP_MD_CTX_new failed") }
        guard EVP_DigestInit_ex(ctx, EVP_sha256(), nil) == 1 else { fatalError("libcrypto: EVP_DigestInit_ex(sha256) failed") }
        pointer = ctx
    }

    private init(copying other: OpaquePointer) {
        guard let ctx = EVP_MD_CTX_new(), EVP_MD_CTX_copy_ex(ctx, other) == 1 else { fatalError("libcrypto: EVP_MD_CTX_copy_ex failed") }
        pointer = ctx
    }

    deinit { EVP_MD_CTX_free(pointer) }

    func copy() -> DigestContext { DigestContext(copying: pointer) }

    func update(_ base: UnsafeRawPointer, _ count: Int) {
        _ = EVP_DigestUpdate(pointer, base, count)
    }

    func finalize() -> [UInt8] {
        var digest = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
        var length: UInt32 = 0
        _ = EVP_DigestFinal_ex(pointer, &digest, &length)
        return Array(digest.prefix(Int(length)))
    }
}
