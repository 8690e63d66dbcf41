import Foundation
import HangarEngine
import HangarFixtures

/// Section: the upgrade check of 40 installed OCI backends against a real docker-registry behind a proxy that holds
/// every request 50 ms (a distant registry), with the digest HEADs run 8 at a time (hangar's default) against one
/// at a time (LocalAI's way). Same engine code, same registry client, only the concurrency differs.
struct CheckLatencySection: BenchSection {
    let id = "check_latency"
    let title = "check of 40 installed OCI backends through DelayProxy (+50 ms per request): concurrent (default 8) vs one at a time"
    let backendCount = 40
    let delay = 0.05
    let concurrency = 8
    /// Concurrent wall time as a percentage of one-at-a-time: 12.5 % is "8× faster".
    let goal = 100.0 / 8.0

    func run(_ options: BenchOptions) throws -> BenchReport {
        let root = NSTemporaryDirectory() + "hangar-bench-check-\(getpid())"
        defer { try? FileManager.default.removeItem(atPath: root) }
        let registry = try RegistryProcess()
        defer { registry.stop() }
        let digest = try pushTags(to: registry, work: root + "/push")
        guard let registryPort = Int(registry.address.split(separator: ":").last ?? "") else {
            throw BenchFailure("cannot read the registry port from \(registry.address)")
        }
        let proxy = try DelayProxy(upstreamPort: registryPort, delay: delay)
        defer { proxy.stop() }

        let backends = root + "/backends"
        let gallery = try makeInstallation(backends, registry: proxy.hostPort, digest: digest)
        let configuration = try HangarConfiguration.resolve(
            flags: .init(backendsPath: backends, systemBackendsPath: root + "/system", configDir: root + "/configuration"),
            environment: [:], workingDirectory: root)
        let installed = try InstalledBackends.list(backendsPath: backends, systemBackendsPath: root + "/system",
                                                   capability: Capability("default"))
        guard installed.rows.count == backendCount else {
            throw BenchFailure("expected \(backendCount) installed backends, listed \(installed.rows.count)")
        }

        /// One check; fails the section unless it found every backend up to date (the lookups really happened).
        func check(_ resolver: any DigestResolver, lookups: Int) throws -> Int {
            let before = proxy.delayedRequests
            let report = UpgradeCheck.run(installed: installed, gallery: gallery, devSuffix: "development",
                                          resolver: resolver, maxConcurrentLookups: lookups)
            guard report.upgrades.isEmpty, report.warnings.isEmpty else {
                throw BenchFailure("check did not find every backend up to date: \(report.warnings.first ?? "\(report.upgrades.count) upgrades")")
            }
            return proxy.delayedRequests - before
        }
        func freshResolver() -> RegistryDigestResolver {
            RegistrySetup(configuration: configuration, http: HTTPClient()).resolver
        }

        // Steady state, as the TUI's background checker sees it: one client per mode, warmed by an untimed
        // check (the /v2/ ping is cached and connections are open), then alternating timed checks.
        let warmConcurrent = freshResolver()
        let warmSequential = freshResolver()
        _ = try check(warmConcurrent, lookups: concurrency)
        _ = try check(warmSequential, lookups: 1)
        var concurrent = Timing(id: "concurrent", "a) \(concurrency) lookups at once")
        var sequential = Timing(id: "sequential", "b) one lookup at a time")
        var requestsPerCheck = 0
        let rounds = min(options.iterations, 5)
        for _ in 0..<rounds {
            requestsPerCheck = try concurrent.measure { try check(warmConcurrent, lookups: concurrency) }
            _ = try sequential.measure { try check(warmSequential, lookups: 1) }
        }

        // Cold, as one `hangar check` process sees it: a new client each time, so the /v2/ ping is included.
        var coldConcurrent = Timing(id: "cold_concurrent", "c) \(concurrency) at once, new client (incl. /v2/ ping)")
        var coldSequential = Timing(id: "cold_sequential", "d) one at a time, new client (incl. /v2/ ping)")
        for _ in 0..<min(rounds, 3) {
            _ = try coldConcurrent.measure { try check(freshResolver(), lookups: concurrency) }
            _ = try coldSequential.measure { try check(freshResolver(), lookups: 1) }
        }

        var report = BenchReport(id: id, section: title)
        report.timings = [concurrent, sequential, coldConcurrent, coldSequential]
        report.checks = [
            BenchCheck(id: "concurrent_over_sequential", label: "a/b (median, 12.5 % = 8× faster)",
                       value: 100 * concurrent.median / sequential.median, goal: goal, unit: " %"),
        ]
        let rounds8 = (backendCount + concurrency - 1) / concurrency
        report.facts = [
            ("backends", "\(backendCount) installed, one repository, one tag each, all up to date"),
            ("timed checks", "\(rounds) per warm mode, \(min(rounds, 3)) per cold mode (each one-at-a-time check takes ~2 s)"),
            ("requests held by the proxy per check", "\(requestsPerCheck) (one HEAD per backend)"),
            ("speed-up a vs b", format(sequential.median / concurrent.median, decimals: 1) + "×"),
            ("speed-up c vs d", format(coldSequential.median / coldConcurrent.median, decimals: 1) + "×"),
            ("ceiling", "\(rounds8) rounds of \(Int(delay * 1000)) ms against \(backendCount): \(format(Double(backendCount) / Double(rounds8), decimals: 1))× at most"),
        ]
        return report
    }

    /// Pushes one small image, then PUTs its manifest under every backend's tag; returns the tags' digest.
    private func pushTags(to registry: RegistryProcess, work: String) throws -> String {
        let source = work + "/image"
        try FileManager.default.createDirectory(atPath: source, withIntermediateDirectories: true)
        try "#!/bin/sh\necho bench\n".write(toFile: source + "/run.sh", atomically: false, encoding: .utf8)
        let pushed = try ImagePusher(registry: registry.address, workDirectory: work)
            .push(directory: source, repository: "bench/backends", tag: tag(0))
        let http = HTTPClient()
        let manifest = try http.send(HTTPRequest(url: registry.baseURL + "/v2/bench/backends/manifests/\(tag(0))",
                                                 headers: ["Accept": OCIMediaType.manifestAccept])).requireSuccess()
        for i in 1..<backendCount {
            try http.send(HTTPRequest(url: registry.baseURL + "/v2/bench/backends/manifests/\(tag(i))", method: "PUT",
                                      headers: ["Content-Type": manifest.header("content-type") ?? OCIMediaType.ociManifest],
                                      body: manifest.body)).requireSuccess(method: "PUT")
        }
        return pushed.digest
    }

    private func tag(_ i: Int) -> String { String(format: "latest-backend-%02d", i) }

    /// 40 installed backends whose metadata records the pushed digest, and the gallery entries naming their images.
    private func makeInstallation(_ backends: String, registry: String, digest: String) throws -> [GalleryEntry] {
        let galleryConfig = GalleryConfig(name: "bench", url: "file:///bench/index.yaml")
        var entries: [GalleryEntry] = []
        for i in 0..<backendCount {
            let name = String(format: "backend-%02d", i)
            let uri = "oci://\(registry)/bench/backends:\(tag(i))"
            let dir = backends + "/" + name
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            try "#!/bin/sh\n".write(toFile: dir + "/run.sh", atomically: false, encoding: .utf8)
            let metadata = BackendMetadata(name: name, galleryURL: galleryConfig.url, installedAt: RFC3339.localNow(),
                                           uri: uri, digest: digest)
            try metadata.encoded().write(toFile: dir + "/metadata.json", atomically: false, encoding: .utf8)
            var entry = GalleryEntry(name: name, gallery: galleryConfig)
            entry.uri = uri
            entries.append(entry)
        }
        return entries
    }
}
