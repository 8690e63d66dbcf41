import Foundation

/// Link mode: a backends directory on this machine and the LocalAI server that runs on it. hangar keeps doing the
/// disk work itself (the crash-safe swap, generations, holds — everything `LocalDirectoryStore` does), then closes
/// the loop with the server (localai-api.md §12): after an install or uninstall it says whether the server already
/// knows the change, and after an upgrade, reinstall or rollback which of its loaded models still run the previous
/// build (a running model process keeps its old binary until stopped, §12.2), recording them for Detail and
/// `hangar restart-models`. A server that cannot be reached is a warning: the disk work is done either way.
public final class LinkedStore: BackendStore {
    let local: LocalDirectoryStore
    public let link: ServerLink
    /// How long an install waits for LocalAI's config watcher to apply external_backends.json.
    let registrationWait: Double

    public init(local: LocalDirectoryStore, server: LocalAIServerConfig, environment: [String: String]) {
        self.local = local
        self.link = ServerLink(server: server, environment: environment)
        registrationWait = server.registrationWait
    }

    var root: BackendsRoot { local.root }

    // MARK: - The local store's answers, as they are

    public var location: String { local.location }
    public var capabilityReport: CapabilityReport { local.capabilityReport }
    public func installed() throws -> InstalledBackends { try local.installed() }
    public func gallery(isCancelled: @escaping @Sendable () -> Bool) -> GallerySnapshot { local.gallery(isCancelled: isCancelled) }
    public func invalidateGalleries() { local.invalidateGalleries() }
    public func checkForUpgrades() throws -> UpgradeReport { try local.checkForUpgrades() }
    public func listTags(of imageURI: String) throws -> [String] { try local.listTags(of: imageURI) }
    public func diskUsage(of backend: String) -> Int64? { local.diskUsage(of: backend) }
    public func recover(thorough: Bool) -> RecoveryReport { local.recover(thorough: thorough) }
    public func settings() throws -> EffectiveRuntimeSettings { try local.settings() }
    public func setRuntimeSetting(_ key: RuntimeSettingKey, to value: JSONValue) throws -> SettingChange {
        try local.setRuntimeSetting(key, to: value)
    }
    public func generations(of backend: String?) throws -> [BackendGeneration] { try local.generations(of: backend) }
    public func prune(_ backend: String?, keep: Int?) throws -> [BackendGeneration] { try local.prune(backend, keep: keep) }

    // MARK: - Operations, then the server

    public func performInstall(_ name: String, force: Bool, tag: String?, context: JobContext) throws -> String {
        let summary = try local.performInstall(name, force: force, tag: tag, context: context)
        guard summary.hasPrefix("installed ") else { return summary }
        let requested = name.split(separator: "@", maxSplits: 1).last.map(String.init) ?? name
        return tell(summary, context: context) {
            var lines = [try knowsInstall(requested)]
            if let loaded = try previousBuildLine(requested) { lines.append(loaded) }
            return lines
        }
    }

    public func performUpgrade(_ name: String, context: JobContext) throws -> String {
        let summary = try local.performUpgrade(name, context: context)
        return tell(summary, context: context) { [try previousBuildLine(name)].compactMap { $0 } }
    }

    public func performRollback(_ name: String, to number: Int, context: JobContext) throws -> String {
        let summary = try local.performRollback(name, to: number, context: context)
        return tell(summary, context: context) { [try previousBuildLine(name)].compactMap { $0 } }
    }

    public func performUninstall(_ name: String, context: JobContext) throws -> String {
        let summary = try local.performUninstall(name, context: context)
        return tell(summary, context: context) {
            guard try link.system().backends.contains(name) else { return ["LocalAI at \(link.url) no longer lists \(name)"] }
            return ["LocalAI at \(link.url) still lists \(name) until it restarts (it never forgets a backend, and loading it there now fails): restart LocalAI, or uninstall through the server with --via-server"]
        }
    }

    /// Appends the server's part to a summary; an unreachable server is a warning, never a failed job.
    private func tell(_ summary: String, context: JobContext, _ lines: () throws -> [String]) -> String {
        do {
            return ([summary] + (try lines())).joined(separator: "; ")
        } catch {
            context.warning("\(error) (the change on disk is done; LocalAI at \(link.url) was not told)")
            return summary
        }
    }

    /// Whether LocalAI's loader has the new backend: it appears once the config watcher applies
    /// external_backends.json; LocalAI has no endpoint to make it rescan (§12.1).
    private func knowsInstall(_ name: String) throws -> String {
        let deadline = MonotonicClock.now() + registrationWait
        while true {
            if try link.system().backends.contains(name) { return "LocalAI at \(link.url) knows \(name) now" }
            if MonotonicClock.now() >= deadline { break }
            Thread.sleep(forTimeInterval: 0.1)
        }
        return "LocalAI at \(link.url) does not know \(name) yet (it rescans its backends only at start and after its own installs): restart LocalAI, point --config-dir at its config dir so hangar registers new backends live, or install through the server with --via-server"
    }

    /// After a new build was swapped in: the models still running the previous one, recorded, and the line saying
    /// so with the command that restarts them; nil when none is loaded.
    private func previousBuildLine(_ name: String) throws -> String? {
        let installed = try local.installed()
        let models = ServerLink.models(try link.system().loaded, on: name, installed: installed)
        guard !models.isEmpty, let runFile = installed.get(name)?.runFile else { return nil }
        let ids = models.map(\.id)
        try PreviousBuildModels(root: root).record(ids, runFile: runFile)
        return "loaded by \(ids.joined(separator: ", ")) on \(link.url), still running the previous build: hangar restart-models \(name) restarts them"
    }
}

/// The models that were loaded when a new build of their backend was swapped in, so still run the previous one,
/// by the backend's run.sh (`<backends>/.hangar/previous-build-models.json`). A model drops out once restarted or
/// once LocalAI no longer has it loaded (its next load spawns the new build).
struct PreviousBuildModels: Sendable {
    let root: BackendsRoot
    var path: String { root.privatePath + "/previous-build-models.json" }

    func read() -> [String: [String]] {
        guard let object = (try? SettingsFileIO.readObject(path, named: path))?["models"]?.objectValue else { return [:] }
        var out: [String: [String]] = [:]
        for member in object.members { out[member.key] = member.value.arrayValue?.compactMap(\.stringValue) ?? [] }
        return out
    }

    func record(_ models: [String], runFile: String) throws {
        try root.withStateLock("previous-build-models") {
            var all = read()
            all[runFile] = models.isEmpty ? nil : Array(Set((all[runFile] ?? []) + models)).sorted()
            try BackendsRoot.writeStateFile(path, key: "models", entries: all.mapValues { .array($0.map { .string($0) }) })
        }
    }

    /// Forgets `models` (restarted) or, with nil, every model of `runFile`.
    func clear(_ models: [String]?, runFile: String) throws {
        try root.withStateLock("previous-build-models") {
            var all = read()
            if let models { all[runFile] = all[runFile].map { $0.filter { !models.contains($0) } } } else { all[runFile] = nil }
            if all[runFile]?.isEmpty == true { all[runFile] = nil }
            try BackendsRoot.writeStateFile(path, key: "models", entries: all.mapValues { .array($0.map { .string($0) }) })
        }
    }
}
