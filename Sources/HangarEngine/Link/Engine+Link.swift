import Foundation

/// What a running LocalAI server has loaded on one backend.
public struct LoadedModelsReport: Sendable, Equatable {
    /// The server asked.
    public var server: String
    /// Loaded models whose backend is this one (by its name, alias or meta), in the server's order.
    public var models: [String]
    /// Those of `models` still running the build that an upgrade, reinstall or rollback replaced.
    public var previousBuild: [String]

    /// `loaded by: model-a, model-b — running the previous build`, nil when nothing is loaded.
    public func line(dash: String = "—") -> String? {
        guard !models.isEmpty else { return nil }
        var text = "loaded by: " + models.joined(separator: ", ")
        if !previousBuild.isEmpty {
            text += previousBuild.count == models.count
                ? " \(dash) running the previous build"
                : " \(dash) \(previousBuild.joined(separator: ", ")) running the previous build"
        }
        return text
    }
}

extension LocalAIServerStore {
    /// Remote mode asks the managed server itself.
    var link: ServerLink { ServerLink(server: server, client: client) }
}

extension Engine {
    /// The running LocalAI server hangar tells about its changes: the linked one (link mode) or the managed one
    /// (remote mode); nil for a plain backends directory.
    public var serverLink: ServerLink? { (store as? LinkedStore)?.link ?? (store as? LocalAIServerStore)?.link }

    /// The server, or the one-line error saying what to give (`--restart-models` checks it before any job runs).
    @discardableResult
    public func requireServerLink() throws -> ServerLink {
        guard let link = serverLink else {
            throw HangarError.configuration("no LocalAI server to restart models on: give --server URL (or HANGAR_SERVER) with --backends-path")
        }
        return link
    }

    /// The models the server has loaded on `backend`, and which still run its previous build; nil without a server.
    public func loadedModels(on backend: String) throws -> LoadedModelsReport? {
        guard let link = serverLink else { return nil }
        let installed = try installed()
        let models = ServerLink.models(try link.system().loaded, on: backend, installed: installed).map(\.id)
        var previous: [String] = []
        if store is LinkedStore, let runFile = installed.get(backend)?.runFile {
            let record = PreviousBuildModels(root: BackendsRoot(configuration.backendsPath))
            let recorded = record.read()[runFile] ?? []
            previous = models.filter(recorded.contains)
            // A recorded model LocalAI no longer has loaded will load the new build: forget it.
            let gone = recorded.filter { !models.contains($0) }
            if !gone.isEmpty { try? record.clear(gone, runFile: runFile) }
        }
        return LoadedModelsReport(server: link.url, models: models, previousBuild: previous)
    }

    /// Stops every model the server has loaded on `backend` (`POST /backend/shutdown`), so each one's next request
    /// spawns it from the build now on disk; returns the models stopped. Without a server it says what to give.
    public func restartModels(on backend: String) throws -> [String] {
        _ = try BackendName.validate(backend)
        let link = try requireServerLink()
        let installed = try installed()
        guard installed.get(backend) != nil else {
            throw HangarError.notFound("backend \"\(backend)\": backend not found (hangar list shows what is installed)")
        }
        let models = ServerLink.models(try link.system().loaded, on: backend, installed: installed).map(\.id)
        var stopped: [String] = []
        for model in models {
            try link.shutdown(model)
            stopped.append(model)
        }
        if store is LinkedStore, let runFile = installed.get(backend)?.runFile {
            try? PreviousBuildModels(root: BackendsRoot(configuration.backendsPath)).clear(stopped, runFile: runFile)
        }
        return stopped
    }
}

extension Engine {
    /// Every installed row's loaded models in one `GET /system` (the UI's refresh); nil without a server, and an
    /// error line when the server could not be asked.
    public func loadedModelsByBackend() -> (reports: [String: LoadedModelsReport], error: String?)? {
        guard let link = serverLink else { return nil }
        do {
            return (loadedModelsByBackend(try link.system().loaded, installed: try installed()), nil)
        } catch {
            return ([:], "\(error)")
        }
    }

    /// The same from a `GET /system` answer and a listing already read (the UI asks for both at once).
    public func loadedModelsByBackend(_ loaded: [LoadedModel], installed: InstalledBackends) -> [String: LoadedModelsReport] {
        guard let link = serverLink, !loaded.isEmpty else { return [:] }
        let recorded = store is LinkedStore ? PreviousBuildModels(root: BackendsRoot(configuration.backendsPath)).read() : [:]
        var reports: [String: LoadedModelsReport] = [:]
        for row in installed.rows {
            let models = ServerLink.models(loaded, on: row.name, installed: installed).map(\.id)
            guard !models.isEmpty else { continue }
            let previous = models.filter((recorded[row.runFile] ?? []).contains)
            reports[row.name] = LoadedModelsReport(server: link.url, models: models, previousBuild: previous)
        }
        return reports
    }

    /// The one-time note for a plain backends directory: what a running LocalAI sees of hangar's changes at once and
    /// what only after a restart; nil when hangar is linked to a server (it then says so per change), or was shown.
    /// Marks it shown (`<backends>/.hangar/link-note-shown`).
    public func liveChangesNoteOnce() -> String? {
        guard serverLink == nil else { return nil }
        let root = BackendsRoot(configuration.backendsPath)
        let marker = root.privatePath + "/link-note-shown"
        // An exclusive create: shown once even when two hangars start together. Plain POSIX calls, as everywhere the
        // UI starts: Foundation's file APIs would map megabytes of the static binary for one empty file.
        guard access(marker, F_OK) != 0, (try? Sys.ensureDirectory(root.privatePath)) != nil else { return nil }
        let fd = open(marker, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard fd >= 0 else { return nil }
        close(fd)
        return Self.liveChangesNote
    }

    /// What a running LocalAI sees of hangar's changes to a plain backends directory (also in the README).
    public static let liveChangesNote = "LocalAI loads new installs at once; loaded models keep the old build after upgrades (--server restarts them)"
}
