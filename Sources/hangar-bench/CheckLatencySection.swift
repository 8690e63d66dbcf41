import Foundation
import HangarEngine
import HangarFixtures

/// Section: the upgrade check of 40 installed OCI backends against a real docker-registry behind a proxy that holds
/// every request 50 ms (a distant registry). Every row is `Engine.checkUpgrades` (what `hangar check`, the UI's
/// checker and the daemon run) on the same installation; only the lookup bound (`HANGAR_CHECK_CONCURRENCY`) and the
/// resolver differ. The goal compares hangar with LocalAI's own way of checking.
struct CheckLatencySection: BenchSection {
    let id = "check_latency"
    let title = "check of 40 installed OCI backends through DelayProxy (+50 ms per request): hangar (8 at once) vs one at a time"
    let backendCount = 40
    let delay = 0.05
    /// The informational wider bound of row d.
    let widerBound = 16
    /// hangar's wall time as a percentage of LocalAI's: 12.5 % is "8× faster".
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
        let galleryFile = root + "/gallery.yaml"
        try makeInstallation(backends, galleryFile: galleryFile, registry: proxy.hostPort, digest: digest)
        /// The configuration a user gets with `environment` set, the gallery being the file written above.
        func configuration(_ environment: [String: String]) throws -> HangarConfiguration {
            let gallery = ["LOCALAI_BACKEND_GALLERIES": "[{\"name\":\"bench\",\"url\":\"file://\(galleryFile)\"}]"]
            return try HangarConfiguration.resolve(
                flags: .init(backendsPath: backends, systemBackendsPath: root + "/system",
                             configDir: root + "/configuration", capability: "default"),
                environment: gallery.merging(environment) { $1 }, workingDirectory: root)
        }
        let byDefault = try configuration([:])
        let oneAtATime = try configuration(["HANGAR_CHECK_CONCURRENCY": "1"])
        let wider = try configuration(["HANGAR_CHECK_CONCURRENCY": "\(widerBound)"])
        guard byDefault.checkConcurrency == 8, oneAtATime.checkConcurrency == 1, wider.checkConcurrency == widerBound else {
            throw BenchFailure("HANGAR_CHECK_CONCURRENCY was not applied: \(byDefault.checkConcurrency), \(oneAtATime.checkConcurrency), \(wider.checkConcurrency)")
        }

        // a is the engine hangar itself runs; b and d share one more client. Each is warmed untimed first, as in one
        // hangar process: the /v2/ ping is cached, connections stay open.
        let hangar = Engine.live(configuration: byDefault, recover: false).engine
        let warm = RegistrySetup(configuration: byDefault, http: HTTPClient()).resolver
        let sameClient = Engine(configuration: oneAtATime, digestResolver: warm)
        let widerEngine = Engine(configuration: wider, digestResolver: warm)
        let localAI = Engine(configuration: oneAtATime, digestResolver: LocalAIStyleResolver(configuration: oneAtATime))

        /// One check; fails the section unless it found every backend up to date and the proxy saw exactly
        /// `requestsPerBackend` requests per backend (the lookups really went to the registry).
        func check(_ engine: Engine, requestsPerBackend: Int?) throws {
            let before = proxy.delayedRequests
            let report = try engine.checkUpgrades()
            guard report.upgrades.isEmpty, report.warnings.isEmpty else {
                throw BenchFailure("check did not find every backend up to date: \(report.warnings.first ?? "\(report.upgrades.count) upgrades")")
            }
            let sent = proxy.delayedRequests - before
            if let requestsPerBackend, sent != requestsPerBackend * backendCount {
                throw BenchFailure("a check sent \(sent) requests through the proxy, expected \(requestsPerBackend * backendCount)")
            }
        }

        // Untimed: pings the registry once for the shared client and opens its connections (8, then 16).
        try check(hangar, requestsPerBackend: nil)
        try check(widerEngine, requestsPerBackend: nil)
        try check(localAI, requestsPerBackend: 2)
        var concurrent = Timing(id: "concurrent", "a) hangar, \(byDefault.checkConcurrency) at once (default), warm client")
        var sequential = Timing(id: "sequential", "b) one at a time, a warm client like a's")
        var localAIWay = Timing(id: "localai", "c) one at a time as LocalAI: /v2/ ping + HEAD per backend")
        var widerTiming = Timing(id: "concurrent_\(widerBound)", "d) HANGAR_CHECK_CONCURRENCY=\(widerBound), warm client")
        let rounds = min(options.iterations, 5)
        for _ in 0..<rounds {
            try concurrent.measure { try check(hangar, requestsPerBackend: 1) }
            try sequential.measure { try check(sameClient, requestsPerBackend: 1) }
            try localAIWay.measure { try check(localAI, requestsPerBackend: 2) }
            try widerTiming.measure { try check(widerEngine, requestsPerBackend: 1) }
        }

        let defaultRounds = roundTrips(byDefault.checkConcurrency)
        let ideal = Double(backendCount) / Double(defaultRounds)
        let sameClientSpeedUp = sequential.median / concurrent.median
        let widerSpeedUp = sequential.median / widerTiming.median
        var report = BenchReport(id: id, section: title)
        report.timings = [concurrent, sequential, localAIWay, widerTiming]
        report.checks = [
            BenchCheck(id: "concurrent_over_localai",
                       label: "a/c vs one at a time as LocalAI does it (12.5 % = 8×)",
                       value: 100 * concurrent.median / localAIWay.median, goal: goal, unit: " %"),
            BenchCheck(id: "concurrent_over_sequential", label: "speed-up a vs b (equally warm clients), ideal",
                       value: sameClientSpeedUp, goal: ideal, unit: "×",
                       info: format(100 * sameClientSpeedUp / ideal, decimals: 1) + " % of the ideal reached"),
            BenchCheck(id: "concurrent_\(widerBound)_over_sequential", label: "speed-up d vs b (same warm client), 8× mark",
                       value: widerSpeedUp, goal: 8, unit: "×",
                       info: (widerSpeedUp >= 8 ? "at least" : "below") + " 8× (ideal \(format(Double(backendCount) / Double(roundTrips(widerBound)), decimals: 1))×)"),
        ]
        report.facts = [
            ("backends", "\(backendCount) installed, one repository, one tag each, all up to date"),
            ("timed checks", "\(rounds) per row, rows alternating, each through Engine.checkUpgrades"),
            ("requests through the proxy per check", "a, b, d: \(backendCount) (one HEAD per backend); c: \(2 * backendCount) (/v2/ ping + HEAD per backend), verified on every check"),
            ("c models LocalAI's GetImageDigest", "remote.Head with a new auth transport per call over Go's shared keep-alive pool: a /v2/ ping before every HEAD, connections reused"),
            ("d's connections", "the client keeps 8 idle, so up to 8 of d's 16 connections are new each round (free on loopback)"),
            ("speed-up a vs c", format(localAIWay.median / concurrent.median, decimals: 1) + "×"),
            ("ideal a vs b", "\(defaultRounds) rounds of \(Int(delay * 1000)) ms instead of \(backendCount): \(format(ideal, decimals: 1))× at most"),
        ]
        return report
    }

    /// Rounds of lookups a check of all backends needs with `bound` at once.
    private func roundTrips(_ bound: Int) -> Int { (backendCount + bound - 1) / bound }

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

    /// 40 installed backends whose metadata records the pushed digest, and the gallery file naming their images.
    private func makeInstallation(_ backends: String, galleryFile: String, registry: String, digest: String) throws {
        var yaml = "---\n"
        for i in 0..<backendCount {
            let name = String(format: "backend-%02d", i)
            let uri = "oci://\(registry)/bench/backends:\(tag(i))"
            let dir = backends + "/" + name
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            try "#!/bin/sh\n".write(toFile: dir + "/run.sh", atomically: false, encoding: .utf8)
            let metadata = BackendMetadata(name: name, galleryURL: "file://" + galleryFile, installedAt: RFC3339.localNow(),
                                           uri: uri, digest: digest)
            try metadata.encoded().write(toFile: dir + "/metadata.json", atomically: false, encoding: .utf8)
            yaml += "- {name: \(name), uri: \"\(uri)\"}\n"
        }
        try yaml.write(toFile: galleryFile, atomically: false, encoding: .utf8)
    }
}

/// LocalAI's `GetImageDigest` (spec §5.3): go-containerregistry's `remote.Head` with a new auth/retry transport per
/// call over Go's process-wide keep-alive pool (`http.DefaultTransport`), so every lookup pings `/v2/` before its
/// HEAD while connections are reused. Here: one long-lived HTTP client, a new registry client (no cached ping,
/// credentials read again, as LocalAI's keychain does) per lookup.
private struct LocalAIStyleResolver: DigestResolver {
    let configuration: HangarConfiguration
    let http = HTTPClient()

    func digest(of reference: String) throws -> String {
        try RegistrySetup(configuration: configuration, http: http).resolver.digest(of: reference)
    }
}
