import Foundation

/// Generations and rollback on a local backends directory: a rollback is a transaction whose staged tree is a kept
/// generation moved (renamed) in, swapped like an upgrade; the build it replaces becomes a generation itself.
extension LocalDirectoryStore {
    /// The policy from `hangar.json` (`keep_generations`, read at every operation so a change in Settings applies
    /// to the next upgrade); a broken file keeps the default rather than failing the upgrade.
    var generationPolicy: GenerationPolicy {
        let keep = (try? HangarSettingsFile(configDir: configuration.configDir).load())?.keepGenerations
            ?? HangarSettings.defaultKeepGenerations
        return GenerationPolicy(keep: keep,
                                fakeFreeBytes: configuration.environment["HANGAR_FAKE_FREE_BYTES"].flatMap { Int64($0) })
    }

    /// The backend directory whose generations `name` means: a meta's concrete, an alias row's build, or the name
    /// itself when it is not installed but has generations (an uninstalled backend's kept builds).
    func generationOwner(_ name: String) throws -> String {
        let name = try BackendName.validate(name)
        guard let row = try installed().get(name) else {
            if !Generations.list(root: root, name: name).isEmpty { return name }
            throw HangarError.notFound("backend \"\(name)\": backend not found and no previous versions kept (hangar generations lists them)")
        }
        if row.isSystem {
            throw HangarError.configuration("system backend \"\(name)\" has no previous versions: hangar never changes system backends")
        }
        if row.isMeta, let target = row.metadata?.metaBackendFor, !target.isEmpty {
            return try BackendName.validate(target)
        }
        return try BackendName.validate(String(row.directory.split(separator: "/").last ?? Substring(name)))
    }

    public func generations(of backend: String?) throws -> [BackendGeneration] {
        guard let backend else {
            return Generations.names(root: root).flatMap { Generations.list(root: root, name: $0) }
        }
        return Generations.list(root: root, name: try generationOwner(backend))
    }

    public func performRollback(_ name: String, to number: Int, context: JobContext) throws -> String {
        context.phase(.resolving, name)
        let owner = try generationOwner(name)
        let lock = try acquire([owner], context: context)
        defer { lock.release() }
        // Checked again under the lock: another process may have rolled back or pruned while this job waited.
        let generation = try Generations.pick(number, from: Generations.list(root: root, name: owner), owner: owner)
        let current = try installed().get(owner)?.metadata
        try context.checkCancelled()

        var warnings: [String] = []
        do {
            let result = try Generations.rollBack(owner, to: generation, root: root, policy: generationPolicy,
                                                  warnings: &warnings) { phase in
                context.phase(phase, phase == .validating ? "run.sh" : owner)
                if phase == .swapping { try context.checkCancelled() }
            }
            warnings.forEach(context.warning)
            // No metadata: either nothing was installed (a fresh install from the generation) or it was unreadable.
            let from = current.map(Self.describe) ?? (result.replacedPrevious ? "the unreadable install" : "nothing installed")
            let kept = result.keptGeneration ? " (\(from) kept as generation 1)" : ""
            return "rolled back \(owner) \(from) → \(generation.label)\(kept)"
        } catch {
            let hadPrevious = FileManager.default.fileExists(atPath: root.backendPath(owner))
            if hadPrevious { context.phase(.rollingBack, owner) }
            if error is CancelledError || error is RolledBackError { throw error }
            let hangarError = (error as? HangarError) ?? HangarError.operation("\(error)")
            guard hadPrevious else { throw hangarError }
            throw RolledBackError(error: hangarError, restored: (current.map(Self.describe) ?? "previous install") + " kept")
        }
    }

    public func prune(_ backend: String?, keep: Int?) throws -> [BackendGeneration] {
        let keep = keep ?? generationPolicy.keep
        guard keep >= 0 else { throw HangarError.configuration("--keep must be 0 or more, got \(keep)") }
        let owners = try backend.map { [try generationOwner($0)] } ?? Generations.names(root: root)
        var removed: [BackendGeneration] = []
        for owner in owners {
            guard let lock = try locks.lock([owner], mode: .wait) else {
                throw HangarError.operation("could not lock \(owner)")
            }
            defer { lock.release() }
            removed += try Generations.prune(root: root, name: owner, keep: keep)
        }
        return removed
    }

    /// An uninstall frees the kept versions too (a user uninstalls to get the space back). The caller holds the
    /// names' locks. Returns the bytes freed.
    func dropGenerations(of names: [String], context: JobContext) -> Int64 {
        var freed: Int64 = 0
        for name in names {
            do {
                freed += try Generations.prune(root: root, name: name, keep: 0).reduce(0) { $0 + $1.diskBytes }
            } catch {
                context.warning("could not delete the kept versions of \(name): \(error); `hangar prune \(name) --keep 0` retries")
            }
        }
        return freed
    }
}
