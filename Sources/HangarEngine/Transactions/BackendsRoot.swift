/// The LocalAI backends directory and hangar's private state inside it (`.hangar/`, ignored by LocalAI because it
/// has neither run.sh nor metadata.json). Staging lives there so every swap is a same-filesystem rename.
struct BackendsRoot: Sendable, Hashable {
    /// The backends directory, without trailing slashes.
    public let path: String

    public init(_ path: String) {
        var trimmed = path
        while trimmed.count > 1 && trimmed.hasSuffix("/") { trimmed.removeLast() }
        self.path = trimmed
    }

    public var privatePath: String { path + "/.hangar" }
    public var stagingPath: String { privatePath + "/staging" }
    public var journalPath: String { privatePath + "/journal" }
    public var locksPath: String { privatePath + "/locks" }
    public var trashPath: String { privatePath + "/trash" }
    /// Replaced trees kept for rollback: `generations/<name>/<n>/` (see `Generations`).
    public var generationsPath: String { privatePath + "/generations" }

    /// `<backends>/<name>`; `name` must already be validated.
    public func backendPath(_ name: String) -> String { path + "/" + name }

    func journalFile(_ name: String) -> String { journalPath + "/" + name + ".json" }
    func lockFile(_ name: String) -> String { locksPath + "/" + name + ".lock" }
    func stagingEntry(_ component: String) -> String { stagingPath + "/" + component }
    func trashEntry(_ component: String) -> String { trashPath + "/" + component }

    /// Creates the backends dir and `.hangar/{staging,journal,locks,trash}` if missing.
    public func ensureDirectories() throws {
        try Sys.ensureDirectories(path)
        try Sys.ensureDirectory(privatePath)
        for sub in [stagingPath, journalPath, locksPath, trashPath] { try Sys.ensureDirectory(sub) }
    }
}
