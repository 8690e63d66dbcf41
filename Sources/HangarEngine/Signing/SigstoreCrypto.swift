import CLazyLibraries
import Foundation

/// One line naming the sigstore check that refused a signature (e.g. "inclusion proof invalid").
public struct SigstoreError: Error, CustomStringConvertible, Sendable, Equatable {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// An X.509 certificate held by libcrypto (through CLazyLibraries' sigstore_crypto.c). Not shared across tasks.
final class SigstoreCertificate {
    let der: [UInt8]
    let handle: UnsafeMutableRawPointer
    let notBefore: Int64
    let notAfter: Int64

    /// Parses exactly one DER certificate, or throws naming `what`.
    init(der: [UInt8], what: String) throws(SigstoreError) {
        if let missing = hangar_lazy_library_error(HANGAR_LIB_CRYPTO) { throw SigstoreError(String(cString: missing)) }
        guard let handle = der.withUnsafeBufferPointer({ hangar_x509_parse($0.baseAddress, $0.count) }) else {
            throw SigstoreError("\(what) is not a DER X.509 certificate")
        }
        var start: Int64 = 0, end: Int64 = 0
        guard hangar_x509_validity(handle, &start, &end) == 1 else {
            hangar_x509_free(handle)
            throw SigstoreError("\(what) has an unreadable validity period")
        }
        self.der = der
        self.handle = handle
        self.notBefore = start
        self.notAfter = end
    }

    deinit { hangar_x509_free(handle) }

    var publicKey: [UInt8]? { Self.bytes { hangar_x509_public_key(handle, $0, $1) } }
    var isCA: Bool { hangar_x509_is_ca(handle) == 1 }
    var hasCodeSigningEKU: Bool { hangar_x509_has_code_signing_eku(handle) == 1 }
    var precertificateTBS: [UInt8]? { Self.bytes { hangar_x509_precert_tbs(handle, $0, $1) } }

    /// The contents of extension `oid`'s extnValue, or nil when the certificate has none.
    func extensionValue(_ oid: String) -> [UInt8]? { Self.bytes { hangar_x509_extension(handle, oid, $0, $1) } }

    /// The first SAN of a kind: 0 URI, 1 email, 2 otherName `otherOID` (a UTF8String).
    func subjectAlternativeName(kind: Int32, otherOID: String = "") -> String? {
        Self.bytes { hangar_x509_san(handle, kind, otherOID, $0, $1) }.map { String(decoding: $0, as: UTF8.self) }
    }

    /// Whether this certificate chains to `chain` (issuer first, anchor last) with every validity checked at `time`.
    func chains(to chain: [SigstoreCertificate], at time: Int64) -> String? {
        var reason = [UInt8](repeating: 0, count: 256)
        let handles: [UnsafeMutableRawPointer?] = chain.map { $0.handle }
        let ok = handles.withUnsafeBufferPointer { list in
            reason.withUnsafeMutableBufferPointer { buffer in
                buffer.withMemoryRebound(to: CChar.self) {
                    hangar_x509_verify_chain(handle, list.baseAddress, list.count, time, $0.baseAddress, $0.count)
                }
            }
        }
        return withExtendedLifetime(chain) {
            ok == 1 ? nil : String(decoding: reason.prefix { $0 != 0 }, as: UTF8.self)
        }
    }

    /// Calls a sigstore_crypto.c function that returns malloc()ed bytes.
    static func bytes(_ call: (UnsafeMutablePointer<UnsafeMutablePointer<UInt8>?>, UnsafeMutablePointer<Int>) -> Int32) -> [UInt8]? {
        var out: UnsafeMutablePointer<UInt8>? = nil
        var count = 0
        guard call(&out, &count) == 1, let out else { return nil }
        defer { free(out) }
        return Array(UnsafeBufferPointer(start: out, count: count))
    }
}

/// Small byte helpers for sigstore: SHA-256, signatures, base64, hex, PEM and the DER strings Fulcio uses.
enum SigstoreBytes {
    static func sha256(_ bytes: [UInt8]) -> [UInt8] {
        var digest = [UInt8](repeating: 0, count: 32)
        bytes.withUnsafeBufferPointer { hangar_sha256($0.baseAddress, $0.count, &digest) }
        return digest
    }

    /// 1 valid, 0 invalid, -1 unusable key (see hangar_signature_verify).
    static func verify(key spki: [UInt8], signature: [UInt8], message: [UInt8], prehashed: Bool = false) -> Int32 {
        if let _ = hangar_lazy_library_error(HANGAR_LIB_CRYPTO) { return -1 }
        return spki.withUnsafeBufferPointer { key in
            signature.withUnsafeBufferPointer { sig in
                message.withUnsafeBufferPointer { msg in
                    hangar_signature_verify(key.baseAddress, key.count, sig.baseAddress, sig.count, msg.baseAddress,
                                            msg.count, prehashed ? 1 : 0)
                }
            }
        }
    }

    /// Standard base64 (protojson's encoding); padding may be omitted. Nil on anything else.
    static func base64(_ text: String) -> [UInt8]? {
        var padded = text
        if padded.utf8.count % 4 != 0 { padded += String(repeating: "=", count: 4 - padded.utf8.count % 4) }
        return Data(base64Encoded: padded).map { [UInt8]($0) }
    }

    static func base64String(_ bytes: [UInt8]) -> String { Data(bytes).base64EncodedString() }

    static func hex(_ bytes: [UInt8]) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count * 2)
        for byte in bytes { out.append(digits[Int(byte >> 4)]); out.append(digits[Int(byte & 0xf)]) }
        return String(decoding: out, as: UTF8.self)
    }

    static func fromHex(_ text: String) -> [UInt8]? {
        let chars = Array(text.lowercased().utf8)
        guard chars.count % 2 == 0 else { return nil }
        func nibble(_ c: UInt8) -> UInt8? {
            switch c {
            case 48...57: return c - 48
            case 97...102: return c - 87
            default: return nil
            }
        }
        var out: [UInt8] = []
        out.reserveCapacity(chars.count / 2)
        var i = 0
        while i < chars.count {
            guard let high = nibble(chars[i]), let low = nibble(chars[i + 1]) else { return nil }
            out.append(high << 4 | low)
            i += 2
        }
        return out
    }

    /// The DER inside the first PEM block (certificate or public key), or nil.
    static func pemBlock(_ pem: [UInt8]) -> [UInt8]? {
        let text = String(decoding: pem, as: UTF8.self)
        let lines = text.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }
        guard let begin = lines.firstIndex(where: { $0.hasPrefix("-----BEGIN ") }),
              let end = lines[begin...].firstIndex(where: { $0.hasPrefix("-----END ") }) else { return nil }
        return base64(lines[(begin + 1)..<end].joined())
    }

    static func derUTF8String(_ der: [UInt8]) -> String? {
        SigstoreCertificate.bytes { out, count in
            der.withUnsafeBufferPointer { hangar_der_utf8string($0.baseAddress, $0.count, out, count) }
        }.map { String(decoding: $0, as: UTF8.self) }
    }

    static func derOctetString(_ der: [UInt8]) -> [UInt8]? {
        SigstoreCertificate.bytes { out, count in
            der.withUnsafeBufferPointer { hangar_der_octet_string($0.baseAddress, $0.count, out, count) }
        }
    }

    /// RFC 3339 (`2025-01-31T00:00:00Z`, fractions and numeric offsets allowed) to Unix seconds, as a Double so
    /// `.999` end times stay inclusive. Parsed by hand: a formatter costs more than the whole check.
    static func rfc3339(_ text: String) -> Double? {
        let b = Array(text.utf8)
        func number(_ from: Int, _ count: Int) -> Int? {
            guard from + count <= b.count else { return nil }
            var value = 0
            for byte in b[from..<(from + count)] {
                guard byte >= 48 && byte <= 57 else { return nil }
                value = value * 10 + Int(byte - 48)
            }
            return value
        }
        guard b.count >= 20, b[4] == 45, b[7] == 45, b[10] == 84 || b[10] == 116, b[13] == 58, b[16] == 58,
              let year = number(0, 4), let month = number(5, 2), let day = number(8, 2), let hour = number(11, 2),
              let minute = number(14, 2), let second = number(17, 2),
              (1...12).contains(month), (1...31).contains(day), hour < 24, minute < 60, second < 61 else { return nil }
        var i = 19
        var fraction = 0.0
        if b[i] == 46 {
            var scale = 0.1
            i += 1
            let start = i
            while i < b.count, b[i] >= 48 && b[i] <= 57 { fraction += Double(b[i] - 48) * scale; scale /= 10; i += 1 }
            guard i > start else { return nil }
        }
        var offset = 0
        if i < b.count, b[i] == 90 || b[i] == 122 {
            i += 1
        } else if i + 6 == b.count, b[i] == 43 || b[i] == 45, b[i + 3] == 58, let h = number(i + 1, 2), let m = number(i + 4, 2) {
            offset = (h * 3600 + m * 60) * (b[i] == 45 ? -1 : 1)
            i += 6
        } else {
            return nil
        }
        guard i == b.count else { return nil }
        // Days from the civil date (Howard Hinnant's algorithm), so no calendar or formatter is involved.
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let mp = (month + 9) % 12
        let doy = (153 * mp + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        let days = era * 146097 + doe - 719468
        return Double(days * 86400 + hour * 3600 + minute * 60 + second - offset) + fraction
    }
}
