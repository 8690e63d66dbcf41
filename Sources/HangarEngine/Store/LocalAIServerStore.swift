import Foundation

/// A running LocalAI server as the store (remote mode): the same questions and operations as a backends directory,
/// answered through LocalAI's REST API (../shared/spec/localai-api.md). Operations are LocalAI's jobs: hangar submits
/// one, follows `GET /backends/jobs/:uuid` and turns each status into the job events the local engine emits.
/// The server does the disk work (downloads, extraction, the swap, clean-up), so hangar's local-only features —
/// recovery, kept generations, pins, tarball and `ocifile://` sources, `--max-extract-size` — do not apply here.
public final class LocalAIServerStore: BackendStore {
    let configuration: HangarConfiguration
    let server: LocalAIServerConfig
    let client: LocalAIClient
    public let capabilityReport: CapabilityReport

    public init(configuration: HangarConfiguration, server: LocalAIServerConfig) {
        self.configuration = configuration
        self.server = server
        client = LocalAIClient(config: server, environment: configuration.environment)
        // The server filters its gallery by its own capability (§6.2): hangar lists what it offers as it is.
        capabilityReport = CapabilityReport(
            value: Capability.disabledValue,
            source: .detected(.init(os: "", arch: "", reason: "the LocalAI server \(server.url) picks builds for its own hardware")))
    }

    public var location: String { server.url }

    public var serverConnection: ServerConnection? { client.connection.current }

    /// `GET /version` (§1: any authenticated caller): `{"version":"v3.5.0"}`; the connection records the outcome.
    public func probeServer() -> ServerConnection? {
        if let answer = try? client.get("/version"), let version = answer["version"]?.stringValue, !version.isEmpty {
            client.connection.setVersion(String(version.prefix(40)))
        }
        return client.connection.current
    }

    /// Runs an API call, turning its failures into the engine's one-line errors.
    func api<T>(_ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch let failure as LocalAIFailure {
            throw failure.hangarError
        } catch let failure as LocalAIDecoding.Failure {
            throw HangarError.operation("LocalAI server \(server.url): \(failure.description)")
        }
    }

    public func installed() throws -> InstalledBackends {
        try api { try LocalAIDecoding.installed(client.get("/backends"), server: server.url) }
    }

    public func gallery(isCancelled: @escaping @Sendable () -> Bool) -> GallerySnapshot {
        let config = GalleryConfig(name: "server", url: server.url + "/backends/available")
        do {
            let entries = try api { try LocalAIDecoding.gallery(client.get("/backends/available", isCancelled: isCancelled)) }
            return GallerySnapshot(entries: entries, statuses: [GalleryStatus(gallery: config, entryCount: entries.count,
                                                                              servedBy: config.url, cacheAge: nil, error: nil)])
        } catch {
            return GallerySnapshot(entries: [], statuses: [GalleryStatus(gallery: config, entryCount: 0, servedBy: nil,
                                                                         cacheAge: nil, error: "\(error)")])
        }
    }

    /// The server caches its galleries for an hour (§6.2); there is no API to drop that cache.
    public func invalidateGalleries() {}

    /// `POST /backends/upgrades/check` answers the old cache and checks in the background (G3): hangar then polls
    /// `GET /backends/upgrades` until the answer changes or `checkWait` has passed.
    public func checkForUpgrades() throws -> UpgradeReport {
        let before = try api { try LocalAIDecoding.upgrades(client.post("/backends/upgrades/check")) }
        var latest = before
        let deadline = MonotonicClock.now() + server.checkWait
        while MonotonicClock.now() < deadline {
            Thread.sleep(forTimeInterval: max(0.01, min(server.pollInterval, deadline - MonotonicClock.now())))
            latest = try api { try LocalAIDecoding.upgrades(client.get("/backends/upgrades")) }
            if latest != before { break }
        }
        return UpgradeReport(upgrades: latest, warnings: [])
    }

    public func listTags(of imageURI: String) throws -> [String] {
        throw HangarError.configuration(LocalOnlyFeature.versions.reason(server: server.url))
    }

    /// The API reports no sizes.
    public func diskUsage(of backend: String) -> Int64? { nil }

    /// The server does its own clean-up; there is nothing of hangar's to recover in remote mode. The automatic pass
    /// before each command reports nothing; the explicit `hangar recover` says why.
    public func recover(thorough: Bool) -> RecoveryReport {
        var report = RecoveryReport()
        if thorough {
            report.skipped.append("recovery is the server's work in remote mode: the LocalAI server at \(server.url) cleans up its own interrupted jobs")
        }
        return report
    }

    /// `GET /api/settings` (§10): the live values; the answer also holds `api_keys`, which are never kept.
    public func settings() throws -> EffectiveRuntimeSettings {
        let value = try settingsAPI { try client.get("/api/settings") }
        guard case .object(let all) = value else {
            throw HangarError.operation("LocalAI server \(server.url): GET /api/settings answered an unexpected shape: not a JSON object")
        }
        var backendKeys = JSONObject()
        for key in RuntimeSettingKey.allCases { if let v = all[key.rawValue] { backendKeys[key.rawValue] = v } }
        return try EffectiveRuntimeSettings(file: backendKeys, environment: [:], source: "\(server.url)/api/settings")
    }

    /// `POST /api/settings` with only the key changed (§10: partial); it applies at once on the server.
    public func setRuntimeSetting(_ key: RuntimeSettingKey, to value: JSONValue) throws -> SettingChange {
        let answer = try settingsAPI { try client.post("/api/settings", .object(JSONObject([key.rawValue: value]))) }
        if answer["success"] == .bool(false) {
            let why = LocalAIClient.errorMessage(answer) ?? "no reason given"
            throw HangarError.operation("LocalAI server \(server.url) refused \(key.rawValue) = \(value.compact()): \(why)")
        }
        let assignment = "\(key.rawValue) = \(value.compact())"
        if key == .autoUpgradeBackends {
            // §9.2: the live config changes at once; LocalAI acts on it at its next check.
            return SettingChange(message: value == .bool(true)
                ? "auto-upgrade on: applies at once on the server \(server.url) (\(assignment) through its settings API); LocalAI upgrades at its next check"
                : "auto-upgrade off: applies at once on the server \(server.url) (\(assignment) through its settings API)")
        }
        return SettingChange(message: "\(assignment): applies at once on the server \(server.url) (through its settings API)")
    }

    private func settingsAPI(_ body: () throws -> JSONValue) throws -> JSONValue {
        do {
            return try api(body)
        } catch let error as HangarError where error.message.contains("returned HTTP 404") {
            throw HangarError.operation("LocalAI server \(server.url) has no settings API (/api/settings answered 404): it runs with LOCALAI_DISABLE_WEBUI or LOCALAI_DISABLE_RUNTIME_SETTINGS; change the setting on the server")
        }
    }

    // MARK: - Operations: LocalAI's jobs

    public func performInstall(_ name: String, force: Bool, tag: String?, context: JobContext) throws -> String {
        if tag != nil {
            throw HangarError.configuration("installing a pinned build (--tag) is not available for a LocalAI server (\(server.url)): its API installs gallery entries only")
        }
        // G10: always send bare names.
        let bare = name.split(separator: "@", maxSplits: 1).last.map(String.init) ?? name
        let before = try installed().get(bare)
        context.phase(.resolving, "\(bare) on \(server.url)")
        let id = try submit("/backends/apply", .object(JSONObject(["id": .string(bare), "force": .bool(force)])))
        let outcome = try follow(id, context: context)
        let after = look(bare)
        context.recordChange(from: before?.metadata.map(BuildIdentity.init), to: after.row?.metadata.map(BuildIdentity.init))
        if let error = outcome.error {
            throw HangarError.operation(failureText(force ? "reinstall" : "install", of: bare, error: error,
                                                    wasInstalled: before != nil, isInstalled: after.isInstalled))
        }
        let missed = try nodeShortfall(outcome, force ? "reinstall" : "install", of: bare, context: context)
        if let before, !force { return "\(bare) is already installed on \(server.url) (\(before.versionBadge)); nothing to do\(missed)" }
        let badge = after.row?.versionBadge ?? "?"
        return "\(force && before != nil ? "reinstalled" : "installed") \(bare) \(badge) on \(server.url)\(outcome.note)\(missed)"
    }

    public func performUpgrade(_ name: String, context: JobContext) throws -> String {
        guard let row = try installed().get(name) else {
            throw HangarError.notFound("backend \"\(name)\" is not installed on \(server.url) (hangar list shows what is)")
        }
        if row.isSystem {
            throw HangarError.configuration("\(name) is a system backend of \(server.url): it is never upgraded from a gallery")
        }
        // G2: upgrade the concrete build, which is what /backends/upgrades is keyed by, never a meta or alias name.
        let target = UpgradeDecision.target(of: row)
        let before = target == name ? row : try installed().get(target)
        context.phase(.resolving, "\(target) on \(server.url)")
        let id = try submit("/backends/upgrade/" + target, nil)
        let outcome = try follow(id, context: context)
        let after = look(target)
        context.recordChange(from: before?.metadata.map(BuildIdentity.init), to: after.row?.metadata.map(BuildIdentity.init))
        if let error = outcome.error {
            throw HangarError.operation(failureText("upgrade", of: target, error: error, wasInstalled: true,
                                                    isInstalled: after.isInstalled))
        }
        let missed = try nodeShortfall(outcome, "upgrade", of: target, context: context)
        let from = before?.versionBadge ?? "?"
        let to = after.row?.versionBadge ?? "?"
        return "upgraded \(target) \(from) → \(to) on \(server.url)\(outcome.note)\(missed)"
    }

    public func performUninstall(_ name: String, context: JobContext) throws -> String {
        guard let row = try installed().get(name) else {
            throw HangarError.notFound("backend \"\(name)\" is not installed on \(server.url) (hangar list shows what is)")
        }
        if row.isSystem {
            throw HangarError.configuration("\(name) is a system backend of \(server.url): LocalAI never deletes those")
        }
        let id = try submit("/backends/delete/" + name, nil)
        let outcome = try follow(id, context: context)
        context.recordChange(from: row.metadata.map(BuildIdentity.init), to: nil)
        if let error = outcome.error {
            throw HangarError.operation("uninstall of \(name) failed on \(server.url): \(error)")
        }
        let missed = try nodeShortfall(outcome, "uninstall", of: name, context: context)
        return "uninstalled \(name) from \(server.url)\(outcome.note)\(missed)"
    }

    /// The row of `name` after a job; `isInstalled` is nil when the server could not be asked.
    func look(_ name: String) -> (row: InstalledBackend?, isInstalled: Bool?) {
        guard let listing = try? installed() else { return (nil, nil) }
        let row = listing.get(name)
        return (row, row != nil)
    }

    /// What a failed job did, said from what the server shows after it: LocalAI deletes the backend when a queued
    /// upgrade or forced reinstall fails (G1), so hangar looks instead of claiming the old version was kept.
    func failureText(_ operation: String, of name: String, error: String, wasInstalled: Bool, isInstalled: Bool?) -> String {
        let base = "\(operation) of \(name) failed on \(server.url): \(LocalAIClient.oneLine(error))"
        switch (wasInstalled, isInstalled) {
        case (true, false?):
            // What the user must act on leads: a one-line status cuts LocalAI's long error, not the news.
            return "LocalAI removed \(name) after its failed \(operation); `r` reinstalls it (hangar reinstall \(name)). "
                + "The \(base)"
        case (true, true?): return base + "; \(name) is still installed"
        case (true, nil): return base + "; whether LocalAI kept \(name) is unknown (hangar list shows it)"
        case (false, _): return base
        }
    }

    /// LocalAI keeps no previous builds; asking for one backend's (as a rollback does) says so.
    public func generations(of backend: String?) throws -> [BackendGeneration] {
        guard let backend else { return [] }
        throw HangarError.configuration(LocalOnlyFeature.previousVersions.reason(server: server.url, backend: backend))
    }

    public func performRollback(_ name: String, to number: Int, context: JobContext) throws -> String {
        throw HangarError.configuration(LocalOnlyFeature.rollback.reason(server: server.url, backend: name))
    }

    public func prune(_ backend: String?, keep: Int?) throws -> [BackendGeneration] { [] }

    // MARK: - Following a job

    /// How a followed job ended: its error, and a note when LocalAI's status leaves the outcome open (§7.2).
    struct Outcome {
        var error: String?
        var note: String = ""
        /// A distributed job's per-node lines (§5.5), from its last status.
        var nodes: [NodeProgress] = []
    }

    func submit(_ path: String, _ body: JSONValue?) throws -> String {
        try api {
            let answer = try body.map { try client.post(path, $0) } ?? client.post(path)
            return try LocalAIDecoding.jobID(answer, endpoint: "POST \(path)")
        }
    }

    /// Polls `GET /backends/jobs/:id` until the job is processed, turning statuses into phases and progress.
    /// Survives dropped connections and 5xx answers for a while; a job the server forgot (a restart, §7.4), a job
    /// past `jobTimeout`, or a cancel end the wait with an error that says what is known.
    func follow(_ id: String, context: JobContext) throws -> Outcome {
        let deadline = MonotonicClock.now() + server.jobTimeout
        var announcedQueue = false, announcedRun = false, cancelSent = false
        var failures = 0
        // LocalAI counts bytes per file (layer) and starts again at the next: hangar adds the finished files'
        // totals so progress stays cumulative over the whole job, as in local mode.
        var finishedBytes: Int64 = 0
        var lastFile: (name: String, bytes: Int64, total: Int64)?
        // Per-node lines go out when a node's state changes, its percentage counted in tens so they stay few.
        var sentNodes: [String] = []
        func report(_ nodes: [NodeProgress]) {
            let key = nodes.map { "\($0.nodeID) \($0.status) \(Int($0.percentage) / 10) \($0.error ?? "")" }
            guard !nodes.isEmpty, key != sentNodes else { return }
            sentNodes = key
            context.nodes(nodes)
        }
        while true {
            if context.isCancelled && !cancelSent {
                cancelSent = true
                do {
                    _ = try client.post("/api/operations/\(id)/cancel")
                } catch {
                    // §7.3, G15: LocalAI cannot cancel a queued /backends job; it runs, and hangar keeps reporting it.
                    let why = error.messageForWarning
                    context.warning("LocalAI could not cancel job \(id) (\(why)); it goes on on the server")
                }
            }
            let status: LocalAIDecoding.JobStatus
            do {
                status = try LocalAIDecoding.jobStatus(client.get("/backends/jobs/" + id))
                failures = 0
            } catch let failure as LocalAIFailure {
                if failure.serverMessage?.contains("could not find any status") == true {
                    throw HangarError.operation("LocalAI server \(server.url) no longer knows job \(id) (it restarted?): what the job did is unknown; hangar list shows what is installed")
                }
                failures += 1
                guard failure.isTransient, failures <= 10, MonotonicClock.now() < deadline else { throw failure.hangarError }
                Thread.sleep(forTimeInterval: min(5, server.pollInterval * Double(failures)))
                continue
            } catch let failure as LocalAIDecoding.Failure {
                throw HangarError.operation("LocalAI server \(server.url): \(failure.description)")
            }
            report(status.nodes)
            if status.processed {
                if let error = status.error { return Outcome(error: error, nodes: status.nodes) }
                if status.cancelled || status.message == "cancelled" || status.message == "paused" { throw CancelledError() }
                if status.message == "completed" {
                    // The last poll may have come before the last bytes: a completed job has them all.
                    if let last = lastFile { context.progress(bytes: finishedBytes + last.total, total: finishedBytes + last.total) }
                    return Outcome(nodes: status.nodes)
                }
                // §7.2: processed without error or "completed": finished, outcome uncertain.
                return Outcome(note: " (LocalAI said: \(LocalAIClient.oneLine(status.message)); check hangar list)", nodes: status.nodes)
            }
            if status.queued {
                if !announcedQueue {
                    announcedQueue = true
                    context.phase(.resolving, "\(context.backend): waiting in the server's queue (LocalAI runs one job at a time)")
                }
            } else {
                if !announcedRun {
                    announcedRun = true
                    context.phase(.downloading, status.fileName.isEmpty ? "on \(server.url)" : "\(status.fileName) on \(server.url)")
                }
                if let bytes = status.currentBytes, let total = status.totalBytes, total > 0 {
                    let bytes = min(bytes, total)
                    if let last = lastFile, last.name != status.fileName || bytes < last.bytes {
                        finishedBytes += last.total
                    }
                    lastFile = (status.fileName, bytes, total)
                    context.progress(bytes: finishedBytes + bytes, total: finishedBytes + total)
                }
            }
            if MonotonicClock.now() >= deadline {
                if !cancelSent { _ = try? client.post("/api/operations/\(id)/cancel") }
                throw HangarError.operation("job \(id) on \(server.url) did not finish within \(String(format: "%g", server.jobTimeout)) s (HANGAR_SERVER_JOB_TIMEOUT): it may still be running there; hangar list shows what is installed")
            }
            // Sleep in slices so a cancel is sent at once.
            let wake = MonotonicClock.now() + server.pollInterval
            while MonotonicClock.now() < wake && !(context.isCancelled && !cancelSent) {
                Thread.sleep(forTimeInterval: min(0.05, max(0, wake - MonotonicClock.now())))
            }
        }
    }
}

extension LocalAIFailure {
    /// The server's message if any, else the whole line.
    var messageForWarning: String { serverMessage ?? message }
}

extension Engine {
    /// Refuses a feature that lives beside a local backends directory (holds, pins) in remote mode, saying so.
    func requireLocalDirectory(for feature: LocalOnlyFeature) throws {
        guard let server = configuration.server else { return }
        throw HangarError.configuration(feature.reason(server: server.url))
    }
}
