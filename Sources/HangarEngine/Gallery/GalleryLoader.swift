import Foundation
import Synchronization

/// Fetches gallery bytes over the network: `HTTPGalleryTransport` in the CLI; local files and LocalAI's
/// last-known-good cache work without one.
public protocol GalleryTransport: Sendable {
    /// GETs `url` and returns the body; a status ≥ 400 is an error.
    func get(url: String) throws -> [UInt8]
    /// Same, throwing `CancelledError` soon after `isCancelled()` turns true (a job cancelled mid-fetch).
    func get(url: String, isCancelled: @escaping @Sendable () -> Bool) throws -> [UInt8]
}

extension GalleryTransport {
    /// Transports that cannot be interrupted finish the fetch; the job notices the cancel right after.
    public func get(url: String, isCancelled: @escaping @Sendable () -> Bool) throws -> [UInt8] { try get(url: url) }
}

/// The transport of an engine created without network access (tests, embedders): it says so, naming the URL
/// and the way around it.
public struct NoNetworkTransport: GalleryTransport {
    public init() {}
    public func get(url: String) throws -> [UInt8] {
        throw HangarError.operation(
            "cannot fetch \(url): this engine was created without network access (pass HTTPGalleryTransport() to Engine), or use a local gallery: --backend-galleries '[{\"name\":\"local\",\"url\":\"file:///path/to/index.yaml\"}]'")
    }
}

/// What loading one configured gallery produced.
public struct GalleryStatus: Sendable, Equatable {
    public var gallery: GalleryConfig
    public var entryCount: Int
    /// The URL, path or cache file that served the entries; nil when nothing did.
    public var servedBy: String?
    /// Seconds since the cached copy was written, when the last-known-good cache served the entries.
    public var cacheAge: Int?
    /// Why the gallery could not be loaded (or why the cache had to be used).
    public var error: String?
}

/// Every entry of every configured gallery, in gallery order then file order, with per-gallery status.
public struct GallerySnapshot: Sendable {
    public var entries: [GalleryEntry]
    public var statuses: [GalleryStatus]

    public init(entries: [GalleryEntry], statuses: [GalleryStatus]) {
        self.entries = entries
        self.statuses = statuses
    }

    /// Every gallery problem worth a warning: failures, and stale cached copies with their age.
    public var warnings: [String] {
        failures + statuses.compactMap { s in
            guard let age = s.cacheAge, let path = s.servedBy else { return nil }
            return "gallery \"\(s.gallery.name)\": using the cached copy \(path), \(TextFormat.age(age)) old, because \(s.error ?? "its sources failed")"
        }
    }

    /// Whether no gallery yielded any entry although some were configured and failed.
    public var allFailed: Bool { entries.isEmpty && !failures.isEmpty }

    /// One line per gallery that failed, for error messages ("gallery X: ...").
    public var failures: [String] {
        statuses.compactMap { s in
            guard s.entryCount == 0, let error = s.error else { return nil }
            // Decoding errors already name the gallery.
            return error.hasPrefix("gallery \"") ? error : "gallery \"\(s.gallery.name)\": \(error)"
        }
    }
}

/// Loads galleries the way LocalAI does (spec §1.5–1.6): candidate chain of URL + mirrors, 10-minute cooldown of
/// failed candidates, a 1-hour in-memory cache, and the last-known-good copy on disk.
public final class GalleryLoader: Sendable {
    /// Parsed entries, so a long-running process or a multi-backend upgrade decodes a gallery once an hour.
    private struct CachedBody { var entries: [GalleryEntry]; var fetchedAt: Double }
    private struct State {
        var memory: [String: CachedBody] = [:]
        var cooldownUntil: [String: Double] = [:]
    }

    private let cacheDirectory: String?
    private let transport: any GalleryTransport
    private let now: @Sendable () -> Double
    private let state = Mutex(State())

    public static let memoryTTL: Double = 3600
    public static let cooldown: Double = 600

    /// `cacheDirectory` is `<parent of backends>/cache/gallery`; it is used only when absolute, as in LocalAI.
    public init(cacheDirectory: String?, transport: any GalleryTransport = NoNetworkTransport(),
                now: @escaping @Sendable () -> Double = { Date().timeIntervalSince1970 }) {
        self.cacheDirectory = cacheDirectory.flatMap { $0.hasPrefix("/") ? $0 : nil }
        self.transport = transport
        self.now = now
    }

    /// Loads every gallery; a failing gallery is reported in its status and contributes no entries. Once
    /// `isCancelled()` is true, fetching stops and the rest report "cancelled" (the caller checks its job next).
    public func load(_ galleries: [GalleryConfig],
                     isCancelled: @escaping @Sendable () -> Bool = { false }) -> GallerySnapshot {
        var entries: [GalleryEntry] = []
        var statuses: [GalleryStatus] = []
        for gallery in galleries {
            let status = loadOne(gallery, into: &entries, isCancelled: isCancelled)
            statuses.append(status)
        }
        return GallerySnapshot(entries: entries, statuses: statuses)
    }

    /// Forgets the in-memory bodies so the next load fetches again (the "check now" path).
    public func invalidate() {
        state.withLock { $0.memory.removeAll() }
    }

    /// The last-known-good file for a gallery URL: `<cache>/<sha256hex(url)>.yaml`.
    public func cachePath(forURL url: String) -> String? {
        cacheDirectory.map { "\($0)/\(SHA256.hex(url)).yaml" }
    }

    private func loadOne(_ gallery: GalleryConfig, into entries: inout [GalleryEntry],
                         isCancelled: @escaping @Sendable () -> Bool) -> GalleryStatus {
        var status = GalleryStatus(gallery: gallery, entryCount: 0, servedBy: nil, cacheAge: nil, error: nil)
        let key = "\(gallery.name)-\(gallery.url)"
        let cached = state.withLock { s -> [GalleryEntry]? in
            guard let body = s.memory[key], now() - body.fetchedAt < Self.memoryTTL else { return nil }
            return body.entries
        }
        if let cached, !cached.isEmpty {
            entries.append(contentsOf: cached)
            status.entryCount = cached.count
            status.servedBy = "memory cache"
            return status
        }

        do {
            if isCancelled() { throw CancelledError() }
            let (bytes, servedBy) = try fetchThroughCandidates(gallery, isCancelled: isCancelled)
            let decoded = try decodeIndex(bytes, gallery: gallery)
            state.withLock { $0.memory[key] = CachedBody(entries: decoded, fetchedAt: now()) }
            if !decoded.isEmpty { persistLastKnownGood(bytes, url: gallery.url) }
            entries.append(contentsOf: decoded)
            status.entryCount = decoded.count
            status.servedBy = servedBy
            return status
        } catch is CancelledError {
            status.error = "gallery \"\(gallery.name)\": cancelled"
            return status
        } catch {
            status.error = "\(error)"
        }

        // Every source failed: serve the last-known-good copy, as LocalAI does, and say how old it is.
        if let path = cachePath(forURL: gallery.url), let bytes = readFile(path),
           let decoded = try? GalleryEntry.decodeIndex(bytes, gallery: gallery), !decoded.isEmpty {
            entries.append(contentsOf: decoded)
            status.entryCount = decoded.count
            status.servedBy = path
            status.cacheAge = fileAge(path)
            status.error = status.error?.replacingOccurrences(of: " and no cached copy exists", with: "")
        }
        return status
    }

    /// The entries of index `bytes`: from the decoded cache when it was made from these very bytes, else parsed (and
    /// the cache written for the next process).
    private func decodeIndex(_ bytes: [UInt8], gallery: GalleryConfig) throws -> [GalleryEntry] {
        guard let path = cachePath(forURL: gallery.url).map({ $0 + DecodedGalleryCache.suffix }) else {
            return try GalleryEntry.decodeIndex(bytes, gallery: gallery)
        }
        if let cached = DecodedGalleryCache.read(path, for: bytes, gallery: gallery) { return cached }
        let decoded = try GalleryEntry.decodeIndex(bytes, gallery: gallery)
        if !decoded.isEmpty, let dir = cacheDirectory {
            try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o750])
            DecodedGalleryCache.write(decoded, for: bytes, to: path)
        }
        return decoded
    }

    /// Tries URL then mirrors, skipping candidates in cooldown unless all are; returns the body and who served it.
    private func fetchThroughCandidates(_ gallery: GalleryConfig,
                                        isCancelled: @escaping @Sendable () -> Bool) throws -> ([UInt8], String) {
        var candidates: [String] = []
        for c in [gallery.url] + gallery.mirrors where !c.isEmpty && !candidates.contains(c) { candidates.append(c) }
        let t = now()
        let cooling = state.withLock { s in Set(candidates.filter { (s.cooldownUntil[$0] ?? 0) > t }) }
        let tryAll = cooling.count == candidates.count
        var lastError: (any Error)?
        var skipped = 0
        for candidate in candidates {
            if !tryAll && cooling.contains(candidate) { skipped += 1; continue }
            do {
                let bytes = try fetch(candidate, isCancelled: isCancelled)
                state.withLock { _ = $0.cooldownUntil.removeValue(forKey: candidate) }
                return (bytes, candidate)
            } catch is CancelledError {
                throw CancelledError()  // not the source's fault: no cooldown
            } catch {
                lastError = error
                state.withLock { $0.cooldownUntil[candidate] = now() + Self.cooldown }
            }
        }
        let last = lastError.map { "\($0)" } ?? "no source configured"
        throw HangarError.operation(
            "all \(candidates.count - skipped) source(s) for gallery \"\(gallery.name)\" failed (\(candidates.count) configured, \(skipped) skipped as recently failed) and no cached copy exists, last error: \(last)")
    }

    /// Reads one candidate: local file, `.ref` indirection, `github:` shorthand or a URL through the transport.
    private func fetch(_ candidate: String, isCancelled: @escaping @Sendable () -> Bool) throws -> [UInt8] {
        if let path = GalleryURL.localPath(candidate) {
            guard let bytes = readFile(path) else {
                throw HangarError.operation("cannot read gallery file \(path): check the path in --backend-galleries")
            }
            return bytes
        }
        let url = GalleryURL.resolve(candidate)
        if url.hasSuffix(".ref") {
            let ref = String(decoding: try transport.get(url: url, isCancelled: isCancelled), as: UTF8.self)
                .trimmingCharacters(in: .whitespacesAndNewlines)
            guard !ref.isEmpty else { throw HangarError.operation("gallery ref \(url) is empty") }
            let base = url[...url.lastIndex(of: "/")!]
            return try transport.get(url: base + ref, isCancelled: isCancelled)
        }
        return try transport.get(url: url, isCancelled: isCancelled)
    }

    /// Writes the body as the last-known-good copy (temp file + rename), keyed on the primary URL.
    private func persistLastKnownGood(_ bytes: [UInt8], url: String) {
        guard let dir = cacheDirectory, let path = cachePath(forURL: url) else { return }
        // Unchanged (a local gallery, on every listing): renew the copy's time instead of rewriting it.
        if Self.file(path, holds: bytes), utimes(path, nil) == 0 { return }
        let fm = FileManager.default
        try? fm.createDirectory(atPath: dir, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o750])
        let tmp = "\(dir)/.gallery-\(getpid())-\(UInt32.random(in: 0...UInt32.max)).tmp"
        guard fm.createFile(atPath: tmp, contents: Data(bytes)) else { return }
        if rename(tmp, path) != 0 { unlink(tmp) }
    }

    /// Whether the file at `path` is exactly `bytes`, compared through a read-only mapping: the file is in the page
    /// cache, so this touches no new memory (reading it into an array would copy it once more).
    private static func file(_ path: String, holds bytes: [UInt8]) -> Bool {
        guard !bytes.isEmpty else { return false }
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0, Int(info.st_size) == bytes.count else { return false }
        guard let map = mmap(nil, bytes.count, PROT_READ, MAP_PRIVATE, fd, 0), map != MAP_FAILED else { return false }
        defer { munmap(map, bytes.count) }
        return bytes.withUnsafeBytes { memcmp(map, $0.baseAddress!, bytes.count) == 0 }
    }

    /// The whole file (galleries are read on every listing: one buffer, no Data in between).
    private func readFile(_ path: String) -> [UInt8]? {
        (try? Sys.readFile(path, limit: Int.max - 1, followSymlinks: true)) ?? nil
    }

    private func fileAge(_ path: String) -> Int? {
        var st = stat()
        guard stat(path, &st) == 0 else { return nil }
        return max(0, Int(now()) - Int(st.st_mtim.tv_sec))
    }
}

/// Gallery URL forms LocalAI accepts (spec §1.5).
enum GalleryURL {
    /// A local file: `file://<path>`, or a plain absolute/relative path (hangar reads any local gallery the user names).
    public static func localPath(_ url: String) -> String? {
        if url.hasPrefix("file://") { return String(url.dropFirst("file://".count)) }
        if url.contains("://") || url.hasPrefix("github:") { return nil }
        if url.hasPrefix("/") || url.hasPrefix("./") || url.hasPrefix("../") { return url }
        return FileManager.default.fileExists(atPath: url) ? url : nil
    }

    /// Expands `github:` and Hugging Face shorthands to the HTTPS URL LocalAI would request.
    public static func resolve(_ url: String, environment: [String: String] = ProcessInfo.processInfo.environment) -> String {
        for prefix in ["github://", "github:"] where url.hasPrefix(prefix) {
            guard let p = ownerRepoPath(url.dropFirst(prefix.count)) else { return url }
            return "https://raw.githubusercontent.com/\(p.owner)/\(p.repo)/\(p.branch)/\(p.path)"
        }
        for prefix in ["huggingface://", "hf://", "hf.co/"] where url.hasPrefix(prefix) {
            let endpoint = environment["HF_MIRROR"] ?? environment["HF"] ?? environment["HF_ENDPOINT"] ?? "https://huggingface.co"
            guard let p = ownerRepoPath(url.dropFirst(prefix.count)) else { return url }
            return "\(endpoint)/\(p.owner)/\(p.repo)/resolve/\(p.branch)/\(p.path)"
        }
        return url
    }

    /// Splits `owner/repo/path@branch` (branch defaults to `main`).
    private static func ownerRepoPath(_ spec: Substring) -> (owner: Substring, repo: Substring, path: Substring, branch: Substring)? {
        var rest = spec
        var branch: Substring = "main"
        if let at = rest.lastIndex(of: "@") {
            branch = rest[rest.index(after: at)...]
            rest = rest[..<at]
        }
        let parts = rest.split(separator: "/", maxSplits: 2, omittingEmptySubsequences: false)
        guard parts.count == 3 else { return nil }
        return (parts[0], parts[1], parts[2], branch)
    }
}
