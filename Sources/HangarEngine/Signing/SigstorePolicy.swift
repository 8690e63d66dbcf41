import Foundation

/// Who must have signed (LocalAI's gallery `verification:` block, spec §1.1), validated with LocalAI's messages.
public struct SigstorePolicy: Sendable {
    public let issuer: String?
    public let issuerRegex: String?
    public let identity: String?
    public let identityRegex: String?
    /// Unix seconds; the earliest verified signing time must be at or after it.
    public let notBefore: Double?
    let notBeforeText: String?

    /// Validates `verification` the way LocalAI's cosignverify.NewVerifier does; errors carry LocalAI's wording,
    /// prefixed by `gallery "<name>" verification policy:` as LocalAI wraps them.
    public init(_ verification: GalleryVerification, gallery: String) throws(SigstoreError) {
        func nonEmpty(_ s: String?) -> String? { (s?.isEmpty ?? true) ? nil : s }
        let prefix = "gallery \"\(gallery)\" verification policy: "
        issuer = nonEmpty(verification.issuer)
        issuerRegex = nonEmpty(verification.issuerRegex)
        identity = nonEmpty(verification.identity)
        identityRegex = nonEmpty(verification.identityRegex)
        guard issuer != nil || issuerRegex != nil else {
            throw SigstoreError(prefix + "cosignverify: policy must set Issuer or IssuerRegex")
        }
        guard identity != nil || identityRegex != nil else {
            throw SigstoreError(prefix + "cosignverify: policy must set Identity or IdentityRegex")
        }
        notBeforeText = nonEmpty(verification.notBefore)
        if let text = notBeforeText {
            // Go's time.RFC3339 accepts fractional seconds too.
            guard let seconds = SigstoreBytes.rfc3339(text) else {
                throw SigstoreError(prefix + "not_before \"\(text)\": not an RFC 3339 time (e.g. 2025-01-31T00:00:00Z)")
            }
            notBefore = seconds
        } else {
            notBefore = nil
        }
        for pattern in [issuerRegex, identityRegex].compactMap({ $0 }) {
            if let problem = SigstoreRegex.problem(pattern) {
                throw SigstoreError("cosignverify: building identity policy: \(problem)")
            }
        }
    }

    /// Checks the certificate's identity and issuer; the message says which one failed and with what value.
    func check(identity san: String, issuer certIssuer: String) throws(SigstoreError) {
        // ICU's `$` also matches before a final newline, RE2's does not: a control character is never legitimate.
        if san.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) {
            throw SigstoreError("certificate identity contains control characters")
        }
        if certIssuer.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) {
            throw SigstoreError("certificate issuer contains control characters")
        }
        if let issuer, certIssuer != issuer {
            throw SigstoreError("issuer \"\(certIssuer)\" does not match \"\(issuer)\"")
        }
        if let issuerRegex, !SigstoreRegex.search(issuerRegex, in: certIssuer) {
            throw SigstoreError("issuer \"\(certIssuer)\" does not match issuer_regex \"\(issuerRegex)\"")
        }
        if let identity, san != identity {
            throw SigstoreError("identity \"\(san)\" does not match \"\(identity)\"")
        }
        if let identityRegex, !SigstoreRegex.search(identityRegex, in: san) {
            throw SigstoreError("identity \"\(san)\" does not match identity_regex \"\(identityRegex)\"")
        }
    }
}

/// RE2-style regular expressions on Foundation's ICU engine: unanchored search (Go's MatchString), and the
/// constructs RE2 lacks (backreferences, lookaround, atomic groups, possessive quantifiers) refused up front,
/// so a pattern means the same here as in LocalAI or it is not accepted at all.
enum SigstoreRegex {
    /// Why `pattern` is not accepted, or nil.
    static func problem(_ pattern: String) -> String? {
        guard pattern.utf8.count <= 4096 else { return "regex is longer than 4096 bytes" }
        let chars = Array(pattern.unicodeScalars)
        var i = 0
        var inClass = false
        var afterQuantifier = false
        while i < chars.count {
            let c = chars[i]
            let wasQuantifier = afterQuantifier
            afterQuantifier = false
            if c == "\\" {
                guard i + 1 < chars.count else { return "error parsing regexp: trailing backslash at end of expression" }
                let next = chars[i + 1]
                if !inClass, ("1"..."9").contains(next) || next == "k" || next == "g" {
                    return "error parsing regexp: invalid escape sequence: `\\\(next)` (RE2 has no backreferences)"
                }
                i += 2
                continue
            }
            if inClass {
                if c == "]" { inClass = false }
            } else if c == "[" {
                inClass = true
                if i + 1 < chars.count, chars[i + 1] == "]" { i += 1 }
            } else if c == "(", i + 1 < chars.count, chars[i + 1] == "?" {
                let rest = String(String.UnicodeScalarView(chars[(i + 2)...].prefix(3)))
                if rest.hasPrefix("=") || rest.hasPrefix("!") || rest.hasPrefix("<=") || rest.hasPrefix("<!") || rest.hasPrefix(">") {
                    return "error parsing regexp: invalid or unsupported Perl syntax: `(?\(rest.prefix(2))` (RE2 has no lookaround or atomic groups)"
                }
            } else if c == "+" && wasQuantifier {
                return "error parsing regexp: invalid nested repetition operator (RE2 has no possessive quantifiers)"
            } else if ["*", "+", "?", "}"].contains(c) {
                // `*?` is lazy (RE2 has it); only `+` after a quantifier is possessive.
                afterQuantifier = c != "?" || !wasQuantifier
            }
            i += 1
        }
        do { _ = try NSRegularExpression(pattern: pattern) } catch {
            return "error parsing regexp: `\(pattern)` does not compile"
        }
        return nil
    }

    /// Unanchored search, as Go's regexp.MatchString.
    static func search(_ pattern: String, in text: String) -> Bool {
        guard problem(pattern) == nil, let regex = try? NSRegularExpression(pattern: pattern) else { return false }
        return regex.firstMatch(in: text, range: NSRange(text.startIndex..., in: text)) != nil
    }
}
