import Foundation
import Synchronization

/// A real HTTP/1.1 server on 127.0.0.1 (ephemeral port) for tests and benchmarks: routes with static bodies,
/// `Range` support, scripted faults, dynamic handlers, and a log of every request. One request per connection.
public final class LoopbackHTTPServer: Sendable {
    /// One request as the server received it.
    public struct Request: Sendable {
        public var method: String
        /// The path with its query, as sent.
        public var target: String
        /// Header names lower-cased.
        public var headers: [String: String]
        public var body: [UInt8]
        /// The path without the query.
        public var path: String { target.split(separator: "?", maxSplits: 1).first.map(String.init) ?? target }
        public func header(_ name: String) -> String? { headers[name.lowercased()] }
    }

    /// What a route answers.
    public struct Reply: Sendable {
        public var status: Int
        public var headers: [String: String]
        public var body: [UInt8]
        public init(status: Int = 200, headers: [String: String] = [:], body: [UInt8] = []) {
            self.status = status
            self.headers = headers
            self.body = body
        }
        public init(status: Int = 200, headers: [String: String] = [:], text: String) {
            self.init(status: status, headers: headers, body: Array(text.utf8))
        }
    }

    /// A misbehaviour applied to one request of a route, in the order queued.
    public enum Fault: Sendable {
        /// Answer with this status (e.g. 500, 503) and a short body.
        case status(Int)
        /// Send the headers (full Content-Length) and this many body bytes, then close the connection.
        case closeAfter(bytes: Int)
        /// Send the headers and this many body bytes, then send nothing for `seconds` (or until stopped), then close.
        case stall(afterBytes: Int, seconds: Double)
        /// Wait before answering normally.
        case delay(seconds: Double)
    }

    private enum Handler: Sendable {
        case fixed(Reply)
        case dynamic(@Sendable (Request) -> Reply)
    }
    private struct Route: Sendable {
        var handler: Handler
        var faults: [Fault]
    }

    /// Routes and log, shared with the connection threads.
    private final class State: Sendable {
        let routes = Mutex<[String: Route]>([:])
        let log = Mutex<[Request]>([])
        /// Answers what no route matches, with an optional fault (a stand-in server's own routing).
        let fallback = Mutex<(@Sendable (Request) -> (Reply, Fault?))?>(nil)
    }

    private let listener: LoopbackListener
    private let state: State

    public var port: Int { listener.port }

    /// Starts listening at once; `stop()` (or deinit) shuts it down.
    public init() throws {
        let state = State()
        self.state = state
        self.listener = try LoopbackListener { fd, listener in
            LoopbackHTTPServer.serve(fd, listener: listener, state: state)
        }
    }

    deinit { listener.stop() }

    /// `http://127.0.0.1:<port><path>`; pass `host: "localhost"` for a URL on a different host name, same server.
    public func url(_ path: String, host: String = "127.0.0.1") -> String { "http://\(host):\(port)\(path)" }

    /// Serves `reply` at `path` (query ignored), after any queued faults; GET and HEAD, with `Range` for 200s.
    public func route(_ path: String, _ reply: Reply, faults: [Fault] = []) {
        state.routes.withLock { $0[path] = Route(handler: .fixed(reply), faults: faults) }
    }

    /// Serves whatever `handler` computes for each request at `path`.
    public func route(_ path: String, faults: [Fault] = [], handler: @escaping @Sendable (Request) -> Reply) {
        state.routes.withLock { $0[path] = Route(handler: .dynamic(handler), faults: faults) }
    }

    /// Serves every request no route matches with what `handler` returns: a reply and, optionally, a fault to
    /// apply to it (so a server with its own routing, like the LocalAI stand-in, can still drop a connection).
    public func fallback(_ handler: @escaping @Sendable (Request) -> (Reply, Fault?)) {
        state.fallback.withLock { $0 = handler }
    }

    /// A `302` to `location` (e.g. `url("/b", host: "localhost")`).
    public func redirect(_ path: String, to location: String, status: Int = 302) {
        route(path, Reply(status: status, headers: ["Location": location]))
    }

    /// Queues more faults on an existing route.
    public func addFaults(_ path: String, _ faults: [Fault]) {
        state.routes.withLock { $0[path]?.faults.append(contentsOf: faults) }
    }

    /// Every request received so far, in arrival order.
    public var requests: [Request] { state.log.withLock { $0 } }

    /// Requests for one path.
    public func requests(to path: String) -> [Request] { requests.filter { $0.path == path } }

    /// Stops listening, breaks open connections and joins every server thread.
    public func stop() { listener.stop() }

    // MARK: - Serving

    private static func serve(_ fd: Int32, listener: LoopbackListener, state: State) {
        guard let request = readRequest(fd) else { return }
        state.log.withLock { $0.append(request) }
        let picked = state.routes.withLock { table -> (Handler, Fault?)? in
            guard var route = table[request.path] else { return nil }
            let fault = route.faults.isEmpty ? nil : route.faults.removeFirst()
            table[request.path] = route
            return (route.handler, fault)
        }
        let reply: Reply
        let fault: Fault?
        if let (handler, routeFault) = picked {
            fault = routeFault
            switch handler {
            case .fixed(let fixed): reply = fixed
            case .dynamic(let compute): reply = compute(request)
            }
        } else if let fallback = state.fallback.withLock({ $0 }) {
            (reply, fault) = fallback(request)
        } else {
            respond(fd, request: request, reply: Reply(status: 404, text: "no route for \(request.path)\n"))
            return
        }
        switch fault {
        case .none:
            respond(fd, request: request, reply: reply)
        case .status(let status)?:
            respond(fd, request: request, reply: Reply(status: status, text: "injected fault \(status)\n"))
        case .delay(let seconds)?:
            guard listener.wait(seconds, watching: fd) else { return }
            respond(fd, request: request, reply: reply)
        case .closeAfter(let bytes)?:
            respond(fd, request: request, reply: reply, bodyLimit: bytes)
        case .stall(let bytes, let seconds)?:
            respond(fd, request: request, reply: reply, bodyLimit: bytes)
            _ = listener.wait(seconds, watching: fd)
        }
    }

    /// Applies `Range: bytes=N-` / `bytes=N-M` to a 200 reply.
    private static func ranged(_ reply: Reply, request: Request) -> Reply {
        guard reply.status == 200, let range = request.header("range"), range.hasPrefix("bytes=") else { return reply }
        let spec = range.dropFirst("bytes=".count).split(separator: "-", maxSplits: 1, omittingEmptySubsequences: false)
        let total = reply.body.count
        guard spec.count == 2, let start = Int(spec[0]) else { return reply }
        let end = spec[1].isEmpty ? total - 1 : min(Int(spec[1]) ?? total - 1, total - 1)
        guard start < total, start <= end else {
            return Reply(status: 416, headers: ["Content-Range": "bytes */\(total)"], body: [])
        }
        var partial = reply
        partial.status = 206
        partial.headers["Content-Range"] = "bytes \(start)-\(end)/\(total)"
        partial.body = Array(reply.body[start...end])
        return partial
    }

    private static func respond(_ fd: Int32, request: Request, reply: Reply, bodyLimit: Int? = nil) {
        let reply = ranged(reply, request: request)
        var head = "HTTP/1.1 \(reply.status) \(reason(reply.status))\r\n"
        var headers = reply.headers
        if !headers.keys.contains(where: { $0.lowercased() == "content-length" }) {
            headers["Content-Length"] = "\(reply.body.count)"
        }
        if reply.status == 200 && !headers.keys.contains(where: { $0.lowercased() == "accept-ranges" }) {
            headers["Accept-Ranges"] = "bytes"
        }
        headers["Connection"] = "close"
        for (name, value) in headers.sorted(by: { $0.key < $1.key }) { head += "\(name): \(value)\r\n" }
        head += "\r\n"
        guard sendAll(fd, Array(head.utf8)), request.method != "HEAD" else { return }
        let count = min(bodyLimit ?? reply.body.count, reply.body.count)
        _ = reply.body.withUnsafeBytes { sendAll(fd, UnsafeRawBufferPointer(rebasing: $0[..<count])) }
    }

    /// Reads one request (headers up to 64 KiB, body by Content-Length up to 64 MiB); nil on a broken connection.
    private static func readRequest(_ fd: Int32) -> Request? {
        var buffer: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 16 << 10)
        var headerEnd: Int?
        while headerEnd == nil {
            let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n <= 0 { return nil }
            buffer.append(contentsOf: chunk[..<n])
            headerEnd = find(Array("\r\n\r\n".utf8), in: buffer)
            if headerEnd == nil && buffer.count > 64 << 10 { return nil }
        }
        let head = String(decoding: buffer[..<headerEnd!], as: UTF8.self)
        var lines = head.components(separatedBy: "\r\n")
        let requestLine = lines.removeFirst().split(separator: " ")
        guard requestLine.count >= 2 else { return nil }
        var headers: [String: String] = [:]
        for line in lines {
            guard let colon = line.firstIndex(of: ":") else { continue }
            let name = line[..<colon].lowercased()
            let value = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            headers[name] = headers[name].map { "\($0), \(value)" } ?? value
        }
        var body = Array(buffer[(headerEnd! + 4)...])
        let length = min(Int(headers["content-length"] ?? "") ?? 0, 64 << 20)
        while body.count < length {
            let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n <= 0 { return nil }
            body.append(contentsOf: chunk[..<n])
        }
        return Request(method: String(requestLine[0]), target: String(requestLine[1]), headers: headers, body: body)
    }

    private static func find(_ needle: [UInt8], in haystack: [UInt8]) -> Int? {
        guard haystack.count >= needle.count else { return nil }
        for i in 0...(haystack.count - needle.count) where haystack[i] == needle[0] {
            if Array(haystack[i..<(i + needle.count)]) == needle { return i }
        }
        return nil
    }

    private static func reason(_ status: Int) -> String {
        switch status {
        case 200: "OK"
        case 206: "Partial Content"
        case 301: "Moved Permanently"
        case 302: "Found"
        case 303: "See Other"
        case 307: "Temporary Redirect"
        case 308: "Permanent Redirect"
        case 401: "Unauthorized"
        case 403: "Forbidden"
        case 404: "Not Found"
        case 416: "Range Not Satisfiable"
        case 429: "Too Many Requests"
        case 500: "Internal Server Error"
        case 503: "Service Unavailable"
        default: "Status"
        }
    }
}
