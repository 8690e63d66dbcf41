import Foundation

/// One model a LocalAI server has loaded (`GET /system`'s `loaded_models`, localai-api.md §11.1).
public struct LoadedModel: Sendable, Equatable {
    public var id: String
    /// The model config's `backend:` value: often a meta or alias name, not the concrete directory.
    public var backend: String

    public init(id: String, backend: String) {
        self.id = id
        self.backend = backend
    }
}

/// What a running LocalAI server has loaded and registered, through `GET /system` (§11.1), and the stop of a loaded
/// model through `POST /backend/shutdown` (§11.2), so the next request spawns it from the backend's new build.
public final class ServerLink: Sendable {
    public let server: LocalAIServerConfig
    let client: LocalAIClient

    init(server: LocalAIServerConfig, client: LocalAIClient) {
        self.server = server
        self.client = client
    }

    convenience init(server: LocalAIServerConfig, environment: [String: String]) {
        self.init(server: server, client: LocalAIClient(config: server, environment: environment))
    }

    public var url: String { server.url }

    /// `GET /system`: the names the model loader has registered and the loaded models.
    public func system() throws -> (backends: Set<String>, loaded: [LoadedModel]) {
        let value: JSONValue
        do { value = try client.get("/system") } catch { throw error.hangarError }
        guard case .object(let object) = value else {
            throw HangarError.operation("LocalAI server \(url): GET /system answered an unexpected shape: not a JSON object")
        }
        let backends = Set((object["backends"]?.arrayValue ?? []).compactMap(\.stringValue))
        let loaded = (object["loaded_models"]?.arrayValue ?? []).compactMap { model -> LoadedModel? in
            guard let id = model["id"]?.stringValue else { return nil }
            return LoadedModel(id: id, backend: model["backend"]?.stringValue ?? "")
        }
        return (backends, loaded)
    }

    /// `POST /backend/shutdown {"model":id}`; a model no longer loaded counts as stopped (the next request loads it).
    public func shutdown(_ model: String) throws {
        do {
            _ = try client.post("/backend/shutdown", .object(JSONObject(["model": .string(model)])))
        } catch where error.status == 404 {
            return
        } catch where error.status == 500 && (error.serverMessage ?? "").contains("busy") {
            throw HangarError.operation("LocalAI server \(url) could not stop \(model): it is still busy with requests after 30 s; try again when it is idle, or start LocalAI with LOCALAI_FORCE_BACKEND_SHUTDOWN=true")
        } catch {
            throw error.hangarError
        }
    }

    /// The loaded models that run `backend`'s build: those whose `backend:` is the concrete directory, its alias,
    /// or a meta resolving to it (§11.1: map the config's name yourself).
    public static func models(_ loaded: [LoadedModel], on backend: String, installed: InstalledBackends) -> [LoadedModel] {
        let target = installed.get(backend)
        let runFile = target?.runFile ?? ""
        return loaded.filter { model in
            if model.backend == backend { return true }
            guard !runFile.isEmpty, let row = installed.get(model.backend) else { return false }
            return row.runFile == runFile
        }
    }
}
