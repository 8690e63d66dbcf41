/// A parsed image reference, the way container tools read one (distribution's `reference` grammar, spec §5.1/§5.2):
/// `[registry/]repository[:tag][@sha256:hex]`, with the `oci://` prefix stripped and Docker Hub defaults applied.
public struct ImageReference: Sendable, Equatable, CustomStringConvertible {
    /// The registry as written or defaulted: `docker.io`, `quay.io`, `127.0.0.1:5000`, `localhost`.
    public let registry: String
    /// The repository path inside the registry, e.g. `library/ubuntu` or `go-skynet/local-ai-backends`.
    public let repository: String
    /// The tag; `latest` when neither a tag nor a digest was given.
    public let tag: String?
    /// `sha256:<hex>` when the reference pins a digest.
    public let digest: String?

    /// The host the registry API is served from (`registry-1.docker.io` for Docker Hub).
    public var apiHost: String { registry == "docker.io" ? "registry-1.docker.io" : registry }

    /// What goes after `/manifests/`: the digest when pinned, else the tag.
    public var manifestReference: String { digest ?? tag ?? "latest" }

    /// `registry/repository[:tag][@digest]`, fully qualified.
    public var description: String {
        var text = registry + "/" + repository
        if let tag { text += ":" + tag }
        if let digest { text += "@" + digest }
        return text
    }

    /// The host without a port (`[::1]` keeps its brackets), for the loopback and insecure-registry rules.
    public var hostName: String {
        if registry.hasPrefix("[") {
            if let close = registry.firstIndex(of: "]") { return String(registry[...close]) }
            return registry
        }
        return registry.split(separator: ":", maxSplits: 1).first.map(String.init) ?? registry
    }

    /// Whether the registry is on this machine (127.0.0.0/8, `localhost`, `[::1]`): the only hosts plain http is used for by default.
    public var isLoopback: Bool {
        let host = hostName.lowercased()
        if host == "localhost" || host == "[::1]" || host == "::1" { return true }
        let octets = host.split(separator: ".", omittingEmptySubsequences: false)
        return octets.count == 4 && octets[0] == "127" && octets.allSatisfy { UInt8($0) != nil }
    }

    /// `http` for loopback registries and the ones listed as insecure (matched as `host:port` or `host`), else `https`.
    public func scheme(insecureRegistries: [String]) -> String {
        if isLoopback { return "http" }
        let listed = insecureRegistries.contains { $0 == registry || $0 == hostName || $0 == apiHost }
        return listed ? "http" : "https"
    }

    /// A reference from its parts as `parse` splits them (no validation; `parse` is the checked way in).
    public init(registry: String, repository: String, tag: String?, digest: String?) {
        self.registry = registry
        self.repository = repository
        self.tag = tag
        self.digest = digest
    }

    /// The same repository under another tag (used for `latest-` → `master-` style fallbacks and cross-checks).
    public func withTag(_ tag: String) -> ImageReference {
        ImageReference(registry: registry, repository: repository, tag: tag, digest: nil)
    }

    /// Parses `text` (optionally `oci://`-prefixed). Errors name the reference and what is wrong with it.
    public static func parse(_ text: String) throws -> ImageReference {
        var rest = Substring(text)
        if rest.hasPrefix("oci://") { rest = rest.dropFirst("oci://".count) }
        func bad(_ why: String) -> HangarError {
            HangarError.configuration("image reference \"\(text)\" is invalid: \(why) (expected [registry/]repository[:tag][@sha256:digest])")
        }
        if rest.isEmpty { throw bad("it is empty") }
        if rest.contains("://") { throw bad("it has a URL scheme hangar does not pull images from") }

        var digest: String?
        if let at = rest.firstIndex(of: "@") {
            let value = String(rest[rest.index(after: at)...])
            guard isDigest(value) else { throw bad("the digest must be sha256: followed by 64 lower-case hex digits") }
            digest = value
            rest = rest[..<at]
        }

        var components = rest.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        var registry = "docker.io"
        if components.count > 1, let first = components.first,
           first.contains(".") || first.contains(":") || first == "localhost" {
            registry = first
            components.removeFirst()
            guard isRegistryHost(registry) else { throw bad("the registry host \"\(registry)\" is malformed") }
        }
        guard !components.isEmpty else { throw bad("the repository is missing") }

        var tag: String?
        var last = components.removeLast()
        if let colon = last.lastIndex(of: ":") {
            let value = String(last[last.index(after: colon)...])
            guard isTag(value) else { throw bad("the tag \"\(value)\" is not a valid tag") }
            tag = value
            last = String(last[..<colon])
        }
        components.append(last)
        for component in components where !isPathComponent(component) {
            throw bad(component.isEmpty ? "it has an empty path component"
                      : "\"\(component)\" must be lower-case letters, digits and . _ - separators")
        }
        if registry == "index.docker.io" || registry == "registry-1.docker.io" { registry = "docker.io" }
        if registry == "docker.io" && components.count == 1 { components.insert("library", at: 0) }
        if tag == nil && digest == nil { tag = "latest" }
        return ImageReference(registry: registry, repository: components.joined(separator: "/"), tag: tag, digest: digest)
    }

    /// Whether `uri` is something hangar pulls from a registry: `oci://…`, or a bare reference such as the official
    /// gallery's Docker Hub mirrors (`localai/localai-backends:tag`), which LocalAI cannot pull (§5.1). URLs, paths,
    /// `ocifile://` and other schemes are not.
    /// A bare reference must name `namespace/repository` and a tag or digest, so a relative path such as
    /// `backends/foo` that happens not to exist is never sent to Docker Hub.
    public static func isPullable(_ uri: String) -> Bool {
        if uri.hasPrefix("oci://") { return true }
        if uri.hasPrefix("/") || uri.hasPrefix(".") || uri.hasPrefix("~") || uri.contains("://") { return false }
        if uri.hasPrefix("github:") || uri.hasPrefix("hf.co/") { return false }
        guard uri.contains("/"), let last = uri.split(separator: "/").last, last.contains(":") || last.contains("@") else {
            return false
        }
        return (try? parse(uri)) != nil
    }

    /// `sha256:` + 64 lower-case hex digits.
    public static func isDigest(_ value: String) -> Bool {
        guard value.hasPrefix("sha256:") else { return false }
        let hex = value.utf8.dropFirst(7)
        return hex.count == 64 && hex.allSatisfy { ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x61 && $0 <= 0x66) }
    }

    /// distribution's tag grammar: `[\w][\w.-]{0,127}`.
    private static func isTag(_ value: String) -> Bool {
        let bytes = Array(value.utf8)
        guard let first = bytes.first, bytes.count <= 128, isWord(first) else { return false }
        return bytes.allSatisfy { isWord($0) || $0 == 0x2E || $0 == 0x2D }
    }

    /// `[a-z0-9]+` runs joined by `.`, `_`, `__` or `-`s.
    private static func isPathComponent(_ value: String) -> Bool {
        let bytes = Array(value.utf8)
        guard let first = bytes.first, let last = bytes.last, isLowerAlnum(first), isLowerAlnum(last) else { return false }
        var i = 0
        while i < bytes.count {
            if isLowerAlnum(bytes[i]) { i += 1; continue }
            // A separator run: one '.', one or two '_', or any number of '-'.
            let start = i
            let sep = bytes[i]
            guard sep == 0x2E || sep == 0x5F || sep == 0x2D else { return false }
            while i < bytes.count && bytes[i] == sep { i += 1 }
            let run = i - start
            if (sep == 0x2E && run > 1) || (sep == 0x5F && run > 2) { return false }
        }
        return true
    }

    /// `host[:port]` or `[ipv6][:port]` with a numeric port.
    private static func isRegistryHost(_ value: String) -> Bool {
        var host = Substring(value)
        var port: Substring?
        if host.hasPrefix("[") {
            guard let close = host.firstIndex(of: "]") else { return false }
            let after = host[host.index(after: close)...]
            if !after.isEmpty {
                guard after.hasPrefix(":") else { return false }
                port = after.dropFirst()
            }
            host = host[...close]
            guard host.count > 2 else { return false }
        } else if let colon = host.firstIndex(of: ":") {
            port = host[host.index(after: colon)...]
            host = host[..<colon]
            guard !host.isEmpty, host.utf8.allSatisfy({ isLowerAlnum($0 | 0x20) || $0 == 0x2E || $0 == 0x2D }) else { return false }
        } else {
            guard host.utf8.allSatisfy({ isLowerAlnum($0 | 0x20) || $0 == 0x2E || $0 == 0x2D }) else { return false }
        }
        if let port {
            guard !port.isEmpty, port.count <= 5, port.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else { return false }
        }
        return true
    }

    private static func isLowerAlnum(_ c: UInt8) -> Bool { (c >= 0x61 && c <= 0x7A) || (c >= 0x30 && c <= 0x39) }
    private static func isWord(_ c: UInt8) -> Bool {
        (c >= 0x61 && c <= 0x7A) || (c >= 0x41 && c <= 0x5A) || (c >= 0x30 && c <= 0x39) || c == 0x5F
    }
}
