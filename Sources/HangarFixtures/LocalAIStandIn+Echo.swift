// A hostile or careless server that echoes the caller's credentials back, for proving hangar's redaction end to
// end. Shapes follow ../shared/spec/localai-api.md: §2.2 shape A error bodies (`{"error":{"code":…,"message":…,
// "type":…}}`) for a failed request, and §5.5/§7.2 `OpStatus` (`processed: true`, `error`, `message: "error: …"`)
// for a failed job. LocalAI itself does not echo the Authorization header; a proxy in front of it or a backend's
// download error (a registry URL with a token in it) can, and hangar must never print, log or record it.
import Foundation
import HangarEngine

extension LocalAIStandIn {
    /// Where the stand-in echoes the caller's `Authorization` header.
    public enum Echo: Sendable, Equatable {
        /// The next request on the path prefix answers 500 (shape A) with the header in the message.
        case errorBody(pathPrefix: String)
        /// Every job status (`GET /backends/jobs/:uuid`) answers the job as failed with the header in its error.
        case failedJob
    }

    /// Arms an echo; `failedJob` stays until `stopEchoing()`.
    public func echoAuthorization(_ echo: Echo) { state.withLock { $0.echoes.append(echo) } }

    /// Disarms every echo.
    public func stopEchoing() { state.withLock { $0.echoes.removeAll() } }

    func routeEcho(_ request: LoopbackHTTPServer.Request, _ path: String) -> Reply? {
        let header = request.header("Authorization") ?? "(none)"
        let echo = state.withLock { s -> Echo? in
            guard let index = s.echoes.firstIndex(where: { echo in
                switch echo {
                case .errorBody(let prefix): return path.hasPrefix(prefix)
                case .failedJob: return request.method == "GET" && path.hasPrefix("/backends/jobs/")
                }
            }) else { return nil }
            let echo = s.echoes[index]
            if case .errorBody = echo { s.echoes.remove(at: index) }
            return echo
        }
        switch echo {
        case .errorBody?:
            return Self.errorA(500, "upstream refused the request: Authorization: \(header)", type: "server_error")
        case .failedJob?:
            let error = "failed to download backend: registry answered 401 for a request with Authorization: \(header)"
            var status = Self.status(processed: true, message: "error: " + error, deletion: false)
            status["error"] = .string(error)
            return json(.object(status))
        case nil:
            return nil
        }
    }
}
