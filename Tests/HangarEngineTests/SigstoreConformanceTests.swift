import Foundation
import HangarEngine
import XCTest

/// Every case of `../shared/fixtures/sigstore/cases.json`, decided through the entry point installs use
/// (`SigstoreVerifier.verify(bundle:digest:policy:)` with the gallery policy type). Tiers core, policy, oci and
/// selfmade must match `expect`, and so must legacy-entry (optional in the fixtures, supported by hangar); the
/// public-key and rekor-v2 tiers are run and counted but not required.
final class SigstoreConformanceTests: XCTestCase {
    static let fixtures: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("shared/fixtures/sigstore")
    static let mustPass: Set<String> = ["core", "policy", "oci", "selfmade", "legacy-entry"]

    struct Outcome {
        let id: String
        let tier: String
        let expect: String
        let got: String
        let detail: String
    }

    static func runCases() throws -> [Outcome] {
        let casesURL = fixtures.appendingPathComponent("cases.json")
        guard FileManager.default.fileExists(atPath: casesURL.path) else {
            throw XCTSkip("\(casesURL.path) is absent; the sigstore conformance cases need ../shared/fixtures")
        }
        let document = try JSONValue.parse(Array(try Data(contentsOf: casesURL)))
        var outcomes: [Outcome] = []
        for testCase in document["cases"]?.arrayValue ?? [] {
            let id = testCase["id"]?.stringValue ?? "?"
            let tier = testCase["tier"]?.stringValue ?? "?"
            let expect = testCase["expect"]?.stringValue ?? "?"
            var got = "pass", detail = ""
            do {
                let root = try SigstoreTrustedRoot(path: fixtures.appendingPathComponent(testCase["trusted_root"]!.stringValue!).path)
                let policyJSON = testCase["policy"]!
                if policyJSON["public_key"] != nil { throw SigstoreError("key-based policies are not supported") }
                let policy = try SigstorePolicy(GalleryVerification(
                    issuer: policyJSON["issuer"]?.stringValue, issuerRegex: policyJSON["issuer_regex"]?.stringValue,
                    identity: policyJSON["identity"]?.stringValue, identityRegex: policyJSON["identity_regex"]?.stringValue,
                    notBefore: policyJSON["not_before"]?.stringValue), gallery: "conformance")
                let digest: [UInt8]
                if let artifact = testCase["artifact"]?.stringValue {
                    digest = Self.sha256(Array(try Data(contentsOf: fixtures.appendingPathComponent(artifact))))
                } else {
                    let text = testCase["artifact_digest"]!.stringValue!
                    digest = Self.bytes(hex: String(text.dropFirst("sha256:".count)))
                }
                let bundle = Array(try Data(contentsOf: fixtures.appendingPathComponent(testCase["bundle"]!.stringValue!)))
                let result = try SigstoreVerifier(root: root).verify(bundle: bundle, digest: digest, policy: policy)
                detail = "\(result.identity) (\(result.issuer)) log \(result.logIndex) at \(result.signedAt)"
            } catch let error as SigstoreError {
                got = "fail"
                detail = error.message
            }
            outcomes.append(Outcome(id: id, tier: tier, expect: expect, got: got, detail: detail))
        }
        return outcomes
    }

    func testEveryMustPassCaseIsDecidedAsExpected() throws {
        let outcomes = try Self.runCases()
        XCTAssertEqual(outcomes.count, 57, "cases.json should hold 57 cases")
        var tally: [String: (ok: Int, total: Int)] = [:]
        for outcome in outcomes {
            let ok = outcome.got == outcome.expect
            tally[outcome.tier, default: (0, 0)].total += 1
            if ok { tally[outcome.tier, default: (0, 0)].ok += 1 }
            print("sigstore case \(ok ? "ok  " : "MISS") [\(outcome.tier)] \(outcome.id): expect \(outcome.expect), got \(outcome.got): \(outcome.detail)")
            if Self.mustPass.contains(outcome.tier) {
                XCTAssertEqual(outcome.got, outcome.expect, "\(outcome.id): \(outcome.detail)")
            }
        }
        for (tier, counts) in tally.sorted(by: { $0.key < $1.key }) {
            print("sigstore tier \(tier): \(counts.ok)/\(counts.total) as expected")
        }
        for tier in Self.mustPass { XCTAssertNotNil(tally[tier], "no case of tier \(tier) ran") }
    }

    static func sha256(_ data: [UInt8]) -> [UInt8] {
        var hasher = SHA256()
        hasher.update(data)
        return bytes(hex: hasher.finalizeHex())
    }

    static func bytes(hex: String) -> [UInt8] {
        var out: [UInt8] = []
        var index = hex.startIndex
        while index < hex.endIndex {
            let next = hex.index(index, offsetBy: 2)
            out.append(UInt8(hex[index..<next], radix: 16)!)
            index = next
        }
        return out
    }
}
