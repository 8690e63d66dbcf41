// Loaded models and the model loader's backend registry of the LocalAI stand-in, from ../shared/spec/localai-api.md:
// - §11.1 GET /system: `{"backends":[…],"loaded_models":[{"id":…,"backend":…}]}`; `backends` is the loader's
//   registry (§12.1): what was on disk at the stand-in's start (its first /system), re-registered after each of
//   its own completed installs and upgrades, plus the entries of `external_backends.json` in its config dir (the
//   config watcher applies them live); deletes drop the single name; nothing else ever removes a name (G8).
//   `backend` is the model config's `backend:` value, often a meta or alias name; omitted when empty.
// - §11.2 POST /backend/shutdown `{"model":…}`: 200 `{"message":"model stopped"}`; 400 shape A
//   "code=400, message=model is required"; 404 shape A `model "x" is not loaded on this instance or on any worker
//   node`; 500 "model is still busy" for a model the test marked busy (the 30 s graceful stop, §11.2).
// - §11.3 GET /backend/monitor?model=<id> (or a JSON body): 200 `{"state":2,"memory":{"total":…,"breakdown":{}}}`
//   (busy: state 1); 500 shape A "backend <id> is not currently loaded"; 400 shape A for a missing model.
// Tests load models with `load(model:backend:)`; the process each one runs is the run.sh path registered when it
// was loaded, so a test can tell a model still running the previous build from one restarted on the new one.
import Foundation
import HangarEngine

extension LocalAIStandIn {
    /// One model the stand-in's loader holds.
    public struct LoadedModel: Sendable, Equatable {
        public var id: String
        /// The model config's `backend:` value (a concrete, meta or alias name).
        public var backend: String
        /// The inode of the run.sh it was started from: the build the model runs until it is stopped.
        public var runFileInode: UInt64
        /// The graceful stop fails with "model is still busy" while set.
        public var busy = false
    }

    /// LocalAI's config dir of the stand-in (`external_backends.json` is read from it); created on first use.
    public var configDir: String {
        let path = root + "/configuration"
        try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    /// Loads `model` on `backend` (a name the loader knows, resolved like LocalAI: its registered run.sh), as a
    /// first inference request would. Throws when the loader does not know `backend`.
    public func load(model: String, backend: String, busy: Bool = false) throws {
        guard let runFile = registeredBackends()[backend] else {
            throw HangarError.operation("stand-in: backend \(backend) is not registered with the loader")
        }
        var info = stat()
        guard stat(runFile, &info) == 0 else { throw HangarError.operation("stand-in: \(runFile) is missing") }
        state.withLock { s in
            s.loadedModels.removeAll { $0.id == model }
            s.loadedModels.append(LoadedModel(id: model, backend: backend, runFileInode: UInt64(info.st_ino), busy: busy))
        }
    }

    /// The models loaded now.
    public var loadedModels: [LoadedModel] { state.withLock { $0.loadedModels } }

    /// Whether `model` runs the run.sh that is on disk now for its backend (false: the previous build, or not loaded).
    public func runsCurrentBuild(_ model: String) -> Bool {
        guard let loaded = loadedModels.first(where: { $0.id == model }),
              let runFile = registeredBackends()[loaded.backend] else { return false }
        var info = stat()
        return stat(runFile, &info) == 0 && UInt64(info.st_ino) == loaded.runFileInode
    }

    /// Marks a loaded model busy or idle (busy: the graceful stop fails).
    public func setBusy(_ model: String, _ busy: Bool) {
        state.withLock { s in
            if let i = s.loadedModels.firstIndex(where: { $0.id == model }) { s.loadedModels[i].busy = busy }
        }
    }

    /// The loader's registry, name → run.sh (§12.1).
    func registeredBackends() -> [String: String] {
        var registry = state.withLock { s -> [String: String]? in
            // The stand-in's own finished jobs since the last look: a delete drops its one name, an install or
            // upgrade re-registers everything on disk (RegisterBackends).
            var rescan = s.registered == nil
            for job in s.jobs.values.sorted(by: { $0.id < $1.id })
            where job.status["processed"] == .bool(true) && !s.registryJobsSeen.contains(job.id) {
                s.registryJobsSeen.insert(job.id)
                if job.kind == "delete" { s.registered?[job.name] = nil } else { rescan = true }
            }
            return rescan ? nil : s.registered
        }
        if registry == nil {
            var fromDisk = state.withLock { $0.registered } ?? [:]
            if let installed = try? InstalledBackends.list(backendsPath: backendsPath, systemBackendsPath: root + "/system",
                                                          capability: Capability("default")) {
                for row in installed.rows where !row.runFile.isEmpty { fromDisk[row.name] = row.runFile }
            }
            state.withLock { $0.registered = fromDisk }
            registry = fromDisk
        }
        var result = registry ?? [:]
        // The config watcher's live view of external_backends.json.
        if let bytes = FileManager.default.contents(atPath: configDir + "/external_backends.json"),
           let object = try? JSONValue.parse([UInt8](bytes)).objectValue {
            for member in object.members { if let path = member.value.stringValue { result[member.key] = path } }
        }
        return result
    }

    /// A LocalAI (re)start: the loader forgets every model and registers what is on disk now.
    public func restartLoader() {
        state.withLock { s in s.loadedModels.removeAll(); s.registered = nil }
        _ = registeredBackends()
    }

    func routeModels(_ request: LoopbackHTTPServer.Request, _ path: String) -> Reply? {
        switch (request.method, path) {
        case ("GET", "/system"):
            let registry = registeredBackends()
            let loaded: [JSONValue] = loadedModels.map { model in
                var o = JSONObject()
                o["id"] = .string(model.id)
                if !model.backend.isEmpty { o["backend"] = .string(model.backend) }
                return .object(o)
            }
            // Unordered in LocalAI (a map walk).
            return json(.object(JSONObject(["backends": .array(registry.keys.shuffled().map { .string($0) }),
                                            "loaded_models": .array(loaded)])))
        case ("POST", "/backend/shutdown"):
            guard let model = Self.modelParameter(request), !model.isEmpty else {
                return Self.errorA(400, "code=400, message=model is required")
            }
            let outcome = state.withLock { s -> Int in
                guard let i = s.loadedModels.firstIndex(where: { $0.id == model }) else { return 404 }
                if s.loadedModels[i].busy { return 500 }
                s.loadedModels.remove(at: i)
                s.shutdowns.append(model)
                return 200
            }
            switch outcome {
            case 200: return json(.object(JSONObject(["message": .string("model stopped")])))
            case 404: return Self.errorA(404, "code=404, message=model \"\(model)\" is not loaded on this instance or on any worker node")
            default: return Self.errorA(500, "failed to stop model \(model): model is still busy")
            }
        case ("GET", "/backend/monitor"):
            guard let model = Self.modelParameter(request), !model.isEmpty else {
                return Self.errorA(400, "code=400, message=model is required")
            }
            guard let loaded = loadedModels.first(where: { $0.id == model }) else {
                return Self.errorA(500, "backend \(model) is not currently loaded")
            }
            return json(.object(JSONObject(["state": .number(loaded.busy ? "1" : "2"),
                                            "memory": .object(JSONObject(["total": .number("104857600"),
                                                                          "breakdown": .object(JSONObject())]))])))
        default:
            return nil
        }
    }

    /// Every model stopped through POST /backend/shutdown, in order.
    public var shutdowns: [String] { state.withLock { $0.shutdowns } }

    /// `?model=` from the query, else `{"model":…}` from the body.
    static func modelParameter(_ request: LoopbackHTTPServer.Request) -> String? {
        if let query = request.target.split(separator: "?", maxSplits: 1).dropFirst().first {
            for pair in query.split(separator: "&") where pair.hasPrefix("model=") {
                return String(pair.dropFirst("model=".count)).removingPercentEncoding
            }
        }
        guard !request.body.isEmpty, let body = try? JSONValue.parse(request.body) else { return nil }
        return body["model"]?.stringValue
    }
}
