import Foundation
@testable import HangarEngine
import XCTest

/// Hostile signatures are refused by their size or shape before any expensive work: the refusal reasons below are
/// the bounds (bytes, depth, counts) that keep memory and time small, not a parse or crypto failure deep inside.
final class SigstoreHostileInputTests: XCTestCase {
    let digest = [UInt8](repeating: 7, count: 32)

    func verify(_ json: [UInt8]) throws -> SigstoreError {
        let verifier = SigstoreVerifier(root: try SigstoreTrustedRoot.publicGood())
        let policy = try SigstorePolicy(GalleryVerification(issuer: "x", identity: "y"), gallery: "g")
        do {
            _ = try verifier.verify(bundle: json, digest: digest, policy: policy)
        } catch {
            return error
        }
        XCTFail("a hostile bundle verified")
        return SigstoreError("")
    }

    func testHugeBundleIsRefusedByItsSize() throws {
        let huge = Array(#"{"mediaType":""#.utf8) + [UInt8](repeating: 0x61, count: 8 << 20) + Array(#""}"#.utf8)
        let error = try verify(huge)
        XCTAssertTrue(error.message.contains("larger than the 1048576-byte limit"), error.message)
    }

    func testDeeplyNestedBundleIsRefusedByItsDepth() throws {
        let nested = Array(String(repeating: "[", count: 100_000).utf8)
        let error = try verify(nested)
        XCTAssertTrue(error.message.contains("deep") || error.message.contains("nest"), error.message)
    }

    func testThousandCertificateChainIsRefusedByItsLength() throws {
        let cert = #"{"rawBytes":"MIIB"}"#
        let chain = Array(repeating: cert, count: 1000).joined(separator: ",")
        let json = #"{"mediaType":"application/vnd.dev.sigstore.bundle+json;version=0.2","verificationMaterial":{"x509CertificateChain":{"certificates":[\#(chain)]},"tlogEntries":[]},"messageSignature":{"messageDigest":{"algorithm":"SHA2_256","digest":"AA=="},"signature":"AA=="}}"#
        let error = try verify(Array(json.utf8))
        XCTAssertTrue(error.message.contains("1000 certificates (at most 10)"), error.message)
    }

    func testGarbageBase64IsRefused() throws {
        let json = #"{"mediaType":"application/vnd.dev.sigstore.bundle.v0.3+json","verificationMaterial":{"certificate":{"rawBytes":"!!!not base64$$$"},"tlogEntries":[]},"messageSignature":{"messageDigest":{"algorithm":"SHA2_256","digest":"AA=="},"signature":"AA=="}}"#
        let error = try verify(Array(json.utf8))
        XCTAssertTrue(error.message.contains("certificate is missing or not base64"), error.message)
        // Base64 that decodes to garbage DER is refused by the certificate parser, not trusted.
        let der = #"{"mediaType":"application/vnd.dev.sigstore.bundle.v0.3+json","verificationMaterial":{"certificate":{"rawBytes":"\#(Data(repeating: 0x30, count: 300).base64EncodedString())"},"tlogEntries":[]},"messageSignature":{"messageDigest":{"algorithm":"SHA2_256","digest":"AA=="},"signature":"AA=="}}"#
        let derError = try verify(Array(der.utf8))
        XCTAssertTrue(derError.message.contains("not a DER X.509 certificate"), derError.message)
    }

    func testManyLogEntriesAreRefusedByTheirCount() throws {
        let entry = #"{"logIndex":"1","logId":{"keyId":"AA=="},"kindVersion":{"kind":"hashedrekord","version":"0.0.1"},"integratedTime":"1","inclusionPromise":{"signedEntryTimestamp":"AA=="},"canonicalizedBody":"AA=="}"#
        let json = #"{"mediaType":"application/vnd.dev.sigstore.bundle.v0.3+json","verificationMaterial":{"certificate":{"rawBytes":"AA=="},"tlogEntries":[\#(Array(repeating: entry, count: 5000).joined(separator: ","))]},"messageSignature":{"messageDigest":{"algorithm":"SHA2_256","digest":"AA=="},"signature":"AA=="}}"#
        let error = try verify(Array(json.utf8))
        XCTAssertTrue(error.message.contains("5000 transparency log entries (at most 32)"), error.message)
    }

    func testTenThousandReferrersAreRefusedByTheirCount() throws {
        let entry = #"{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:\#(String(repeating: "a", count: 64))","size":1,"artifactType":"application/vnd.dev.sigstore.bundle.v0.3+json"}"#
        let index = #"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[\#(Array(repeating: entry, count: 10_000).joined(separator: ","))]}"#
        XCTAssertThrowsError(try ImageSignatureVerifier.indexEntries(Array(index.utf8), what: "referrers")) { error in
            XCTAssertTrue("\(error)".contains("lists 10000 referrers (at most 1000)"), "\(error)")
        }
    }

    func testRegexConstructsRE2LacksAreRefused() throws {
        for pattern in [#"(a)\1"#, "(?=x)", "(?!x)", "(?<=x)", "(?<!x)", "(?>x)", "a++", "a*+"] {
            XCTAssertThrowsError(try SigstorePolicy(GalleryVerification(issuer: "i", identityRegex: pattern), gallery: "g"), pattern) { error in
                XCTAssertTrue("\(error)".hasPrefix("cosignverify: building identity policy: error parsing regexp"), "\(error)")
            }
        }
        for pattern in [#"^https://github\.com/.+$"#, "a+?", "a*?", #"\++"#, "[+*]+", "(?i)abc", "(?:ab)+"] {
            XCTAssertNoThrow(try SigstorePolicy(GalleryVerification(issuer: "i", identityRegex: pattern), gallery: "g"), pattern)
        }
        XCTAssertTrue(SigstoreRegex.search("dangerous", in: "extremely-dangerous-beacon"), "unanchored search")
        XCTAssertFalse(SigstoreRegex.search("^dangerous", in: "extremely-dangerous-beacon"))
    }

    func testLocalAIPolicyValidationMessages() {
        func message(_ v: GalleryVerification) -> String {
            do { _ = try SigstorePolicy(v, gallery: "g"); return "" } catch { return error.message }
        }
        XCTAssertEqual(message(GalleryVerification(identity: "x")),
                       #"gallery "g" verification policy: cosignverify: policy must set Issuer or IssuerRegex"#)
        XCTAssertEqual(message(GalleryVerification(issuer: "x")),
                       #"gallery "g" verification policy: cosignverify: policy must set Identity or IdentityRegex"#)
        XCTAssertTrue(message(GalleryVerification(issuer: "x", identity: "y", notBefore: "yesterday"))
            .hasPrefix(#"gallery "g" verification policy: not_before "yesterday": "#))
    }
}

/// The hand-written RFC 3339 parser against Foundation's formatter.
final class SigstoreTimeTests: XCTestCase {
    func testRFC3339MatchesFoundation() {
        let formatter = ISO8601DateFormatter()
        for text in ["2022-12-31T23:59:59Z", "1970-01-01T00:00:00Z", "2024-02-29T12:34:56Z", "2100-03-01T00:00:00Z",
                     "2025-02-01T00:00:00+02:00", "2025-02-01T00:00:00-05:30", "1999-12-31T23:59:59z"] {
            XCTAssertEqual(SigstoreBytes.rfc3339(text), formatter.date(from: text.uppercased())?.timeIntervalSince1970, text)
        }
        XCTAssertEqual(SigstoreBytes.rfc3339("2022-12-31T23:59:59.999Z")!, 1672531199.999, accuracy: 0.0001)
        for bad in ["", "yesterday", "2025-02-01", "2025-02-01T00:00:00", "2025-13-01T00:00:00Z", "2025-02-01T00:00:00.Z",
                    "2025-02-01T00:00:00Zjunk", "2025-02-01 00:00:00Z"] {
            XCTAssertNil(SigstoreBytes.rfc3339(bad), bad)
        }
    }
}

/// The trusted root: the public-good one compiled in is the shipped file; a configured file that does not load
/// fails verification with its path and is read again once fixed.
final class SigstoreTrustTests: XCTestCase {
    func testEmbeddedRootIsTheShippedFile() throws {
        let shipped = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("sigstore/trusted_root.json")
        let embedded = try XCTUnwrap(SigstoreBytes.base64(SigstoreTrustedRoot.publicGoodBase64.filter { !$0.isNewline }))
        XCTAssertEqual(embedded, Array(try Data(contentsOf: shipped)), "run scripts/update-trusted-root.sh after changing sigstore/trusted_root.json")
        XCTAssertEqual(try SigstoreTrustedRoot.publicGood().tlogs.count, 2)
    }

    func testABrokenRootFileIsNamedAndReadAgainOnceFixed() throws {
        let path = NSTemporaryDirectory() + "hangar-trust-\(UUID().uuidString).json"
        defer { try? FileManager.default.removeItem(atPath: path) }
        let trust = SigstoreTrust(trustedRootPath: path)
        XCTAssertThrowsError(try trust.verifier()) { error in
            XCTAssertTrue("\(error)".contains("cannot read the sigstore trusted root \(path)"), "\(error)")
        }
        try "{\"mediaType\": \"nope\"}".write(toFile: path, atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try trust.verifier()) { error in
            XCTAssertTrue("\(error)".contains("\(path): trusted root: mediaType is not"), "\(error)")
        }
        try Data(try XCTUnwrap(SigstoreBytes.base64(SigstoreTrustedRoot.publicGoodBase64.filter { !$0.isNewline })))
            .write(to: URL(fileURLWithPath: path))
        XCTAssertEqual(try trust.verifier().root.tlogs.count, 2)
    }
}
