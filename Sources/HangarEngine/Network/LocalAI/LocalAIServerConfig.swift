import Foundation

/// A LocalAI server hangar manages instead of a local backends directory (`--server`, `HANGAR_SERVER`), with the
/// API key and the knobs of the job and check polling.
public struct LocalAIServerConfig: Sendable, Equatable {
    /// The server's root URL without a trailing slash, e.g. `http://gpu-box:8080`.
    public var url: String
    /// The API key and where it came from; nil for an open server.
    public var apiKey: LocalAIAPIKey?
    /// Seconds between polls of a running job (`HANGAR_SERVER_POLL_INTERVAL`; the spec's "about once a second").
    public var pollInterval: Double = 1
    /// Seconds a job may run before hangar stops following it (`HANGAR_SERVER_JOB_TIMEOUT`).
    public var jobTimeout: Double = 3600
    /// Seconds a check waits for LocalAI's asynchronous upgrade check to publish a new result (`HANGAR_SERVER_CHECK_WAIT`).
    public var checkWait: Double = 5
    /// Seconds one API request may take (`HANGAR_SERVER_TIMEOUT`).
    public var requestTimeout: Double = 30
    /// Seconds between an idle UI's looks at the server (`HANGAR_SERVER_IDLE_POLL`): one `GET /backends` each.
    public var idlePollInterval: Double = 10
    /// Link mode: seconds an install waits for LocalAI's config watcher to pick the new backend up
    /// (`HANGAR_LINK_REGISTRATION_WAIT`).
    public var registrationWait: Double = 2

    public init(url: String, apiKey: LocalAIAPIKey? = nil) {
        self.url = url
        self.apiKey = apiKey
    }

    /// Resolves `--server`/`HANGAR_SERVER`, the key (`--api-key-file`, then `LOCALAI_API_KEY`) and the knobs; nil
    /// when no server is configured. Errors name the flag or variable and never the key.
    static func resolve(server flag: String?, apiKeyFile: String?, environment: [String: String],
                        workingDirectory: String) throws -> LocalAIServerConfig? {
        let given: (text: String, source: String)
        if let flag, !flag.isEmpty {
            given = (flag, "--server")
        } else if let env = environment["HANGAR_SERVER"], !env.isEmpty {
            given = (env, "HANGAR_SERVER")
        } else {
            if apiKeyFile != nil {
                throw HangarError.configuration("--api-key-file is for a LocalAI server: add --server URL (or set HANGAR_SERVER)")
            }
            return nil
        }
        var config = LocalAIServerConfig(url: try normalize(given.text, source: given.source))
        if let file = apiKeyFile {
            let path = file.hasPrefix("/") ? file : workingDirectory + "/" + file
            guard let data = FileManager.default.contents(atPath: path) else {
                throw HangarError.configuration("--api-key-file \(path) cannot be read: give a readable file holding the LocalAI API key")
            }
            guard data.count <= 4096, let text = String(data: data, encoding: .utf8) else {
                throw HangarError.configuration("--api-key-file \(path) does not hold an API key (over 4 KiB or not text): give the file with just the key")
            }
            let key = text.trimmingCharacters(in: .whitespacesAndNewlines)
            guard !key.isEmpty, !key.contains(where: \.isNewline) else {
                throw HangarError.configuration("--api-key-file \(path) must hold the key on one line: write just the LocalAI API key into it")
            }
            config.apiKey = LocalAIAPIKey(value: key, source: "--api-key-file \(path)")
        } else if let key = environment["LOCALAI_API_KEY"]?.trimmingCharacters(in: .whitespacesAndNewlines), !key.isEmpty {
            // LocalAI reads a comma-separated list there; a client sends one key, the first.
            let first = key.split(separator: ",").first.map { $0.trimmingCharacters(in: .whitespaces) } ?? key
            config.apiKey = LocalAIAPIKey(value: first, source: "LOCALAI_API_KEY")
        }
        func seconds(_ name: String, _ range: ClosedRange<Double>) throws -> Double? {
            guard let text = environment[name], !text.isEmpty else { return nil }
            guard let value = Double(text), range.contains(value) else {
                throw HangarError.configuration("\(name)=\(text) is not a number of seconds from \(range.lowerBound) to \(range.upperBound): e.g. \(name)=1")
            }
            return value
        }
        if let v = try seconds("HANGAR_SERVER_POLL_INTERVAL", 0.01...60) { config.pollInterval = v }
        if let v = try seconds("HANGAR_SERVER_JOB_TIMEOUT", 0.1...604_800) { config.jobTimeout = v }
        if let v = try seconds("HANGAR_SERVER_CHECK_WAIT", 0...600) { config.checkWait = v }
        if let v = try seconds("HANGAR_SERVER_TIMEOUT", 0.1...3600) { config.requestTimeout = v }
        if let v = try seconds("HANGAR_SERVER_IDLE_POLL", 0.2...3600) { config.idlePollInterval = v }
        if let v = try seconds("HANGAR_LINK_REGISTRATION_WAIT", 0...600) { config.registrationWait = v }
        return config
    }

    /// `http(s)://host[:port][/prefix]` without a trailing slash; user info, queries and fragments are refused
    /// (a key in a URL would end up in logs and errors).
    static func normalize(_ text: String, source: String) throws -> String {
        var url = text.trimmingCharacters(in: .whitespaces)
        while url.hasSuffix("/") { url.removeLast() }
        guard let parsed = URLComponents(string: url), let scheme = parsed.scheme?.lowercased(),
              scheme == "http" || scheme == "https", let host = parsed.host, !host.isEmpty else {
            throw HangarError.configuration("\(source) \"\(text)\" is not a server URL: give LocalAI's root URL, e.g. http://localhost:8080")
        }
        guard parsed.user == nil, parsed.password == nil else {
            throw HangarError.configuration("\(source) must not carry credentials in the URL: put the key in LOCALAI_API_KEY or a file for --api-key-file")
        }
        guard parsed.query == nil, parsed.fragment == nil else {
            throw HangarError.configuration("\(source) \"\(text)\" has a query or fragment: give LocalAI's root URL, e.g. http://localhost:8080")
        }
        return url
    }
}

/// An API key for a LocalAI server. Its description never shows the key, only where it came from, so printing a
/// configuration (or an error that interpolates one) cannot leak it.
public struct LocalAIAPIKey: Sendable, Equatable, CustomStringConvertible, CustomDebugStringConvertible {
    let value: String
    /// `LOCALAI_API_KEY` or `--api-key-file PATH`.
    public let source: String

    init(value: String, source: String) {
        self.value = value
        self.source = source
    }

    public var description: String { "API key from \(source)" }
    public var debugDescription: String { description }
}
