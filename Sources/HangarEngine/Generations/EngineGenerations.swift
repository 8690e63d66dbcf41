/// What a store that keeps no previous builds (a remote LocalAI, later) answers.
extension BackendStore {
    public func generations(of backend: String?) throws -> [BackendGeneration] { [] }

    public func performRollback(_ name: String, to number: Int, context: JobContext) throws -> String {
        throw HangarError.configuration("\(location) keeps no previous versions: rollback needs a local backends directory")
    }

    public func prune(_ backend: String?, keep: Int?) throws -> [BackendGeneration] { [] }
}

/// Previous versions and rollback, for every front end.
extension Engine {
    /// Kept previous builds of `backend` (a meta's are its concrete's), or of every backend; most recent first.
    public func generations(of backend: String? = nil) throws -> [BackendGeneration] {
        try store.generations(of: backend)
    }

    /// Queues a rollback of `name` to its generation `number` (1 = the most recently replaced build). Throws at once,
    /// before queuing, when the name is unsafe, the number is not positive or there is no such generation; the
    /// job checks again under the backend's lock.
    public func rollback(_ name: String, to number: Int = 1) throws -> JobID {
        _ = try BackendName.validate(name)
        guard number >= 1 else {
            throw HangarError.configuration("generation numbers start at 1 (the most recent), got \(number)")
        }
        let kept = try generations(of: name)
        _ = try Generations.pick(number, from: kept, owner: kept.first?.backend ?? name)
        return jobs.submit(.rollback, backend: name) { [store] context in
            try store.performRollback(name, to: number, context: context)
        }
    }

    /// Deletes all but the `keep` most recent generations (nil: `keep_generations`) of `backend`, or of every backend.
    @discardableResult
    public func prune(_ backend: String? = nil, keep: Int? = nil) throws -> [BackendGeneration] {
        if let backend { _ = try BackendName.validate(backend) }
        return try store.prune(backend, keep: keep)
    }

    /// `keep_generations` from hangar.json (the default when the file is missing or broken).
    public var keepGenerations: Int {
        (try? hangarSettings.load())?.keepGenerations ?? HangarSettings.defaultKeepGenerations
    }

    /// Writes `keep_generations` to hangar.json; applies from the next upgrade (existing generations stay until then
    /// or until `prune`).
    public func setKeepGenerations(_ count: Int) throws {
        guard (0...HangarSettings.maxKeepGenerations).contains(count) else {
            throw HangarError.configuration("keep_generations must be from 0 to \(HangarSettings.maxKeepGenerations), got \(count)")
        }
        var settings = try hangarSettings.load()
        settings.keepGenerations = count
        try hangarSettings.save(settings)
    }
}
