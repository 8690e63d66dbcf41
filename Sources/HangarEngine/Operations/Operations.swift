import Foundation

/// Install, reinstall, upgrade and uninstall as LocalAI does them (spec §4), staged and swapped by a transaction
/// so that a failed, cancelled or killed operation never loses the installed backend.
extension LocalDirectoryStore {
    // MARK: - Install (§4.1, §4.2)

    /// The disk work of an install; `performInstall` adds the registration for a running LocalAI.
    func installOnDisk(_ name: String, force: Bool, tag: String?, context: JobContext) throws -> String {
        context.phase(.resolving, name)
        let requested = name.split(separator: "@", maxSplits: 1).last.map(String.init) ?? name
        if !force, let done = try alreadyInstalled(requested) { return done }
        let snapshot = gallery(isCancelled: { context.isCancelled })
        try context.checkCancelled()
        snapshot.warnings.forEach(context.warning)
        let available = capability.filterDisabled ? snapshot.entries : snapshot.entries.filter { capability.isCompatible($0) }
        guard let entry = available.findGalleryElement(name) else {
            throw notFoundError(name, snapshot: snapshot)
        }
        if entry.isMeta {
            let key = capability.resolve(entry.capabilities)
            guard let concreteName = entry.concreteName(forKey: key), let concrete = available.findByName(concreteName) else {
                let map = entry.capabilities.map { "\($0.capability):\($0.concrete)" }.joined(separator: " ")
                throw HangarError.notFound(
                    "no backend found with capabilities map[\(map)] for capability \"\(capability.value)\": force another with --capability")
            }
            let metaName = try checkedEntryName(entry.name)
            let concreteDir = try checkedEntryName(concrete.name)
            let lock = try acquire([metaName, concreteDir], context: context)
            defer { lock.release() }
            if !force, let done = try alreadyInstalled(requested) { return done }
            let installedConcrete = try installConcrete(concrete, tag: tag, context: context)
            do {
                try writeMetaDirectory(meta: entry, concrete: concrete, context: context)
            } catch {
                throw HangarError.operation(
                    "\(concreteDir) was installed (\(installedConcrete)), but the meta directory \(metaName) could not be written: \(error); run hangar install \(metaName) again")
            }
            return "installed \(metaName) → \(concreteDir) (\(installedConcrete))"
        }
        let dirName = try checkedEntryName(entry.name)
        let lock = try acquire([dirName], context: context)
        defer { lock.release() }
        if !force, let done = try alreadyInstalled(requested) { return done }
        return "installed \(dirName) (\(try installConcrete(entry, tag: tag, context: context)))"
    }

    /// The no-op answer of a non-forced install when `name` is installed and runnable (checked again under the lock).
    private func alreadyInstalled(_ name: String) throws -> String? {
        guard let row = try installed().get(name), row.isRunnable else { return nil }
        return "\(name) is already installed (use reinstall to replace it)"
    }

    /// `InstallBackend`: stage, fetch with fallbacks, validate, write metadata, swap. Returns a short description.
    private func installConcrete(_ entry: GalleryEntry, tag: String?, context: JobContext) throws -> String {
        if entry.isMeta { throw HangarError.configuration("meta backends cannot be installed directly") }
        for warning in try IntegrityPolicy.check(entry, strict: configuration.requireIntegrity) { context.warning(warning) }
        if let tag { return try installPinned(entry, tag: tag, context: context) }
        var primary = entry.uri
        var fallbacks = entry.mirrors
        if configuration.preferDevelopment, let dev = BackendURI.developmentURI(entry.uri, releaseTag: configuration.releaseTag,
                                                                               branchTag: configuration.branchTag) {
            primary = dev
            fallbacks = [entry.uri] + entry.mirrors
        }
        // Tag fallbacks of §4.2 b/c: the branch tag, then the branch tag with the dev suffix (`fetch` skips repeats).
        if let branch = BackendURI.developmentURI(entry.uri, releaseTag: configuration.releaseTag,
                                                  branchTag: configuration.branchTag) {
            fallbacks.append(branch)
            if !branch.contains("-" + configuration.devSuffix) { fallbacks.append(branch + "-" + configuration.devSuffix) }
        }

        let previous = (try? installed().get(entry.name))?.metadata.map(BuildIdentity.init)
        // What the job set out to install, so a failure is recorded with it too; the digest comes with the pull.
        context.recordChange(from: previous, to: BuildIdentity(version: entry.version, digest: ""))
        let transaction = try BackendTransaction.begin(root: root, name: entry.name, operation: context.operation.rawValue,
                                                       keepGenerations: context.operation == .reinstall ? generationPolicy : nil)
        let signature = SignatureSink()
        do {
            let digest = try fetch(candidates: [primary] + fallbacks, sha256: entry.sha256, into: transaction, context: context,
                                   entry: entry, signature: signature)
            context.phase(.validating, "run.sh")
            try transaction.validate()
            var metadata = BackendMetadata(alias: entry.alias, name: entry.name, galleryURL: entry.gallery.url,
                                           installedAt: RFC3339.localNow(), version: entry.version, uri: primary)
            metadata.digest = digest ?? recordedDigest(for: primary, context: context)
            context.recordChange(from: previous, to: BuildIdentity(metadata))
            try transaction.writeMetadata(metadata)
            context.phase(.swapping, entry.name)
            try context.checkCancelled()
            try transaction.commit().warnings.forEach(context.warning)
            recordSignature(entry.name, sink: signature, context: context)
            return metadata.version.isEmpty ? primary : "v\(metadata.version)"
        } catch {
            throw rollback(transaction, after: error, context: context)
        }
    }

    /// `install --tag`: exactly the build `tag` names in the entry's repository (no mirrors, no fallbacks), then a
    /// pin, so upgrades leave it alone and checks compare with that tag.
    private func installPinned(_ entry: GalleryEntry, tag: String, context: JobContext) throws -> String {
        let reference = try ImageReference.parse(entry.uri)
        guard let floating = reference.tag, let suffix = VersionTags.suffix(ofFloatingTag: floating) else {
            throw HangarError.configuration("\(entry.name)'s image \(entry.uri) is not on a floating latest-/master- tag: there are no versioned builds to pin")
        }
        let uri = VersionTags.replacingTag(of: entry.uri, with: tag)
        do {
            _ = try digestResolver.digest(of: uri)
        } catch let error as HangarError where error.message.contains("not found") {
            throw HangarError.notFound("tag \(tag) does not exist in \(reference.registry)/\(reference.repository): hangar versions \(entry.name) lists the builds")
        }
        let version = VersionTags.version(of: tag, suffix: suffix).map { $0.numbers.map(String.init).joined(separator: ".") + ($0.preRelease.map { "-" + $0 } ?? "") } ?? ""
        let previous = (try? installed().get(entry.name))?.metadata.map(BuildIdentity.init)
        context.recordChange(from: previous, to: BuildIdentity(version: version, digest: ""))
        // Pinning replaces what is installed: that build is kept for rollback, as a reinstall's is.
        let transaction = try BackendTransaction.begin(root: root, name: entry.name, operation: context.operation.rawValue,
                                                       keepGenerations: generationPolicy)
        let signature = SignatureSink()
        do {
            let digest = try fetch(candidates: [uri], sha256: "", into: transaction, context: context, entry: entry, signature: signature)
            context.phase(.validating, "run.sh")
            try transaction.validate()
            var metadata = BackendMetadata(alias: entry.alias, name: entry.name, galleryURL: entry.gallery.url,
                                           installedAt: RFC3339.localNow(), version: version, uri: uri)
            metadata.digest = digest ?? recordedDigest(for: uri, context: context)
            context.recordChange(from: previous, to: BuildIdentity(metadata))
            try transaction.writeMetadata(metadata)
            context.phase(.swapping, entry.name)
            try context.checkCancelled()
            try transaction.commit().warnings.forEach(context.warning)
            recordSignature(entry.name, sink: signature, context: context)
        } catch {
            throw rollback(transaction, after: error, context: context)
        }
        do {
            try HoldsFile(root: root).update { $0[entry.name] = Hold(reason: "pinned to \(tag)", pinnedURI: uri) }
        } catch {
            context.warning("\(entry.name) is installed at \(tag) but could not be pinned: \(error); hangar hold \(entry.name) holds it")
        }
        return "\(tag), pinned (hangar unhold \(entry.name) lets upgrades move it)"
    }

    /// Writes `<backends>/<meta>/metadata.json` with `meta_backend_for`, staged and swapped like any backend.
    private func writeMetaDirectory(meta: GalleryEntry, concrete: GalleryEntry, context: JobContext) throws {
        let metadata = BackendMetadata(metaBackendFor: concrete.name, name: meta.name, galleryURL: meta.gallery.url,
                                       installedAt: RFC3339.localNow(), version: concrete.version)
        let transaction = try BackendTransaction.begin(root: root, name: meta.name, operation: "meta")
        do {
            try transaction.writeMetadata(metadata)
            try transaction.commit()
        } catch {
            throw rollback(transaction, after: error, context: context)
        }
    }

    // MARK: - Upgrade (§4.5)

    public func performUpgrade(_ name: String, context: JobContext) throws -> String {
        context.phase(.resolving, name)
        guard let row = try installed().get(name) else {
            throw HangarError.notFound("backend \"\(name)\": backend not found (hangar list shows what is installed)")
        }
        if row.isSystem {
            throw HangarError.configuration("system backend \"\(name)\" cannot be upgraded via gallery")
        }
        if let target = row.metadata?.metaBackendFor, !target.isEmpty, row.isMeta {
            return try performUpgrade(target, context: context)
        }
        guard let metadata = row.metadata else {
            throw HangarError.operation("backend \"\(name)\" has unreadable metadata (\(row.broken ?? "?")): reinstall it instead")
        }
        // The directory behind the row (an alias row's chosen build) is what gets replaced; its metadata names the entry.
        let dirName = try checkedEntryName(String(row.directory.split(separator: "/").last ?? Substring(name)))
        let entryName = metadata.name.isEmpty ? dirName : metadata.name
        let snapshot = gallery(isCancelled: { context.isCancelled })
        try context.checkCancelled()
        snapshot.warnings.forEach(context.warning)
        guard let entry = snapshot.entries.findGalleryElement(entryName) else {
            throw HangarError.notFound("no gallery entry found for backend \"\(entryName)\"" + galleryHint(snapshot))
        }
        for warning in try IntegrityPolicy.check(entry, strict: configuration.requireIntegrity) { context.warning(warning) }
        let lock = try acquire([dirName], context: context)
        defer { lock.release() }
        // A hold set while this auto-upgrade waited in the queue still counts (read under the lock, as `hold` writes).
        if context.isBackground, let hold = try HoldsFile(root: root).read()[dirName] {
            throw SkippedError(reason: "\(dirName) is \(hold.text); auto-upgrade left it alone")
        }
        // Re-read under the lock: another process may have changed it while this job waited.
        let current = try installed().get(dirName)?.metadata ?? metadata
        if UpgradeDetection.compareVersions(installed: current, offered: entry) == .same && current.uri == entry.uri {
            // Reached when another operation upgraded it while this job waited, or when a front end sent the upgrade
            // without a fresh check (the UI's report may be hours old).
            return "\(dirName) is up to date: v\(entry.version) is what the gallery offers"
        }

        context.recordChange(from: BuildIdentity(current), to: BuildIdentity(version: entry.version, digest: ""))
        let transaction = try BackendTransaction.begin(root: root, name: dirName, operation: "upgrade",
                                                       keepGenerations: generationPolicy)
        let signature = SignatureSink()
        do {
            // Better than LocalAI: an upgrade tries the mirrors too.
            let digest = try fetch(candidates: [entry.uri] + entry.mirrors, sha256: entry.sha256, into: transaction, context: context,
                                   entry: entry, signature: signature)
            context.phase(.validating, "run.sh")
            try transaction.validate(what: "new version of \(dirName)")
            var fresh = BackendMetadata(alias: current.alias, name: entryName, galleryURL: entry.gallery.url,
                                        installedAt: RFC3339.localNow(), version: entry.version, uri: entry.uri)
            fresh.digest = digest ?? recordedDigest(for: entry.uri, context: context)
            context.recordChange(from: BuildIdentity(current), to: BuildIdentity(fresh))
            try transaction.writeMetadata(fresh)
            context.phase(.swapping, dirName)
            try context.checkCancelled()
            try transaction.commit().warnings.forEach(context.warning)
            recordSignature(dirName, sink: signature, context: context)
            return "upgraded \(dirName) \(Self.describe(current)) → \(Self.describe(fresh))"
        } catch {
            throw rollback(transaction, after: error, context: context, previous: current)
        }
    }

    // MARK: - Uninstall (§4.6)

    /// The disk work of an uninstall; `performUninstall` drops the registration for a running LocalAI.
    func uninstallOnDisk(_ name: String, context: JobContext) throws -> String {
        context.phase(.resolving, name)
        let rows = try installed()
        guard let row = rows.get(name) ?? rows.rows.first(where: { !$0.isMeta && $0.metadata?.name == name }) else {
            throw HangarError.notFound("backend \"\(name)\": backend not found (hangar list shows what is installed)")
        }
        if row.isSystem {
            throw HangarError.configuration("system backend \"\(name)\" cannot be deleted")
        }
        var dirName = row.name
        if !FileManager.default.fileExists(atPath: root.backendPath(dirName)) {
            // An alias key without a directory: LocalAI removes the first dir (lexical) carrying the alias.
            let names = (try? FileManager.default.contentsOfDirectory(atPath: root.path).sorted()) ?? []
            guard let hit = names.first(where: { dir in
                guard !InstalledBackends.isTransient(dir),
                      case .success(let m) = InstalledBackends.readMetadata(dir: root.backendPath(dir), name: dir) else { return false }
                return !m.alias.isEmpty && (m.alias == name || m.alias == row.name)
            }) else {
                throw HangarError.notFound("no backend found with name \"\(name)\"")
            }
            dirName = hit
        }
        var names = [dirName]
        var concrete: String?
        if case .success(let m) = InstalledBackends.readMetadata(dir: root.backendPath(dirName), name: dirName),
           !m.metaBackendFor.isEmpty {
            concrete = try checkedEntryName(m.metaBackendFor)
            names.append(concrete!)
        }
        let lock = try acquire(names, context: context)
        defer { lock.release() }
        if case .success(let m) = InstalledBackends.readMetadata(dir: root.backendPath(concrete ?? dirName), name: concrete ?? dirName) {
            context.recordChange(from: BuildIdentity(m), to: nil)
        }
        context.phase(.swapping, "removing \(dirName)")
        var removed: [String] = []
        var freed: Int64 = 0
        if let concrete {
            if FileManager.default.fileExists(atPath: root.backendPath(concrete)) {
                freed += try BackendRemoval.remove(concrete, root: root).diskBytes
                removed.append(concrete)
            } else {
                context.warning("concrete backend \(concrete) of meta \(dirName) was already missing")
            }
        }
        freed += try BackendRemoval.remove(dirName, root: root).diskBytes
        removed.insert(dirName, at: 0)
        freed += dropGenerations(of: removed, context: context)
        return "uninstalled " + removed.joined(separator: " and ") + " (\(TextFormat.bytes(freed)) freed)"
    }

    // MARK: - Shared steps

    /// Tries each candidate URI in order, wiping the staging dir between attempts; returns the fetched digest if known.
    private func fetch(candidates: [String], sha256: String, into transaction: BackendTransaction,
                       context: JobContext, entry: GalleryEntry? = nil, signature: SignatureSink? = nil) throws -> String? {
        var firstError: (any Error)?
        var tried = Set<String>()
        // A gallery policy covers every image candidate (the entry's, mirrors, tag fallbacks): each is verified.
        let policy = entry?.gallery.verification
        for uri in candidates where tried.insert(uri).inserted {
            try context.checkCancelled()
            do {
                try transaction.resetStaging()
                if let entry, policy != nil, BackendURI.isOCIImage(entry.uri), !BackendURI.isRegistryImage(uri) {
                    // LocalAI skips verification for ocifile:// (and local copies) silently; hangar refuses them.
                    throw HangarError.operation("\(uri) carries no signatures to verify, but gallery \"\(entry.gallery.name)\" requires signed images (verification:)")
                }
                if let entry, policy == nil, configuration.requireIntegrity, BackendURI.isOCIImage(uri) {
                    // A tarball entry's image mirror would otherwise slip past strict mode unverified.
                    throw HangarError.operation("strict integrity: gallery \"\(entry.gallery.name)\" has no verification policy for the image \(uri) (set verification: in the gallery YAML or disable --require-backend-integrity)")
                }
                let verification = BackendURI.isRegistryImage(uri) ? policy : nil
                guard let source = sources.first(where: { $0.handles(uri) }) else {
                    if uri.hasPrefix("/") || uri.hasPrefix(".") {
                        throw HangarError.operation("\(uri) does not exist or is not a directory")
                    }
                    throw HangarError.operation("no source can fetch \"\(uri)\": this hangar build installs from local directories only")
                }
                return try source.fetch(FetchRequest(uri: uri, sha256: sha256, backend: transaction.name, verification: verification,
                                                     gallery: entry?.gallery.name ?? "", signatureSink: signature),
                                        into: transaction.stagingPath, context: context)
            } catch let error as CancelledError {
                throw error
            } catch {
                if firstError == nil { firstError = error }
                if tried.count < candidates.count { context.warning("\(uri): \(error); trying the next source") }
            }
        }
        throw HangarError.operation("failed to download backend \"\(candidates.first ?? "")\": \(firstError.map { "\($0)" } ?? "no source")")
    }

    /// The registry digest LocalAI would store for an OCI URI; a failed lookup only warns, as in LocalAI.
    private func recordedDigest(for uri: String, context: JobContext) -> String {
        guard BackendURI.isRegistryImage(uri) else { return "" }
        do {
            return try digestResolver.digest(of: uri)
        } catch {
            context.warning("digest of \(uri) not recorded: \(error)")
            return ""
        }
    }

    /// Aborts the transaction and turns the error into what the job reports: rolled back when an old install
    /// stayed in place, failed when there was none, cancelled when asked.
    private func rollback(_ transaction: BackendTransaction, after error: any Error, context: JobContext,
                          previous: BackendMetadata? = nil) -> any Error {
        let hadPrevious = FileManager.default.fileExists(atPath: root.backendPath(transaction.name))
        if hadPrevious { context.phase(.rollingBack, transaction.name) }
        transaction.abort()
        if error is CancelledError || error is RolledBackError { return error }
        let hangarError = (error as? HangarError) ?? HangarError.operation("\(error)")
        guard hadPrevious else { return hangarError }
        let kept = previous.map { Self.describe($0) + " restored" } ?? "previous install kept"
        return RolledBackError(error: hangarError, restored: kept)
    }

    /// Takes the backend locks: waits for interactive jobs; a background job gives way when the backend is busy.
    /// Every operation on the directory (installs, upgrades, rollbacks, pruning) locks this one way.
    func acquire(_ names: [String], context: JobContext) throws -> BackendLock {
        if context.isBackground {
            guard let lock = try locks.lock(names, mode: .skipIfBusy) else {
                throw SkippedError(reason: "\(names.joined(separator: ", ")) is busy with another operation; skipped")
            }
            return lock
        }
        guard let lock = try locks.lock(names, mode: .wait) else {
            throw HangarError.operation("could not lock \(names.joined(separator: ", "))")
        }
        return lock
    }

    /// Names that come from galleries become directories too: refuse unsafe ones before touching the disk.
    private func checkedEntryName(_ name: String) throws -> String {
        do {
            return try BackendName.validate(name)
        } catch let error as HangarError {
            throw HangarError.operation("gallery entry refused: \(error.message)")
        }
    }

    private func notFoundError(_ name: String, snapshot: GallerySnapshot) -> HangarError {
        if let entry = snapshot.entries.findGalleryElement(name) {
            return HangarError.notFound(
                "no backend found with name \"\(name)\": \(entry.name) is not compatible with capability \"\(capability.value)\"; force another with --capability")
        }
        return HangarError.notFound("no backend found with name \"\(name)\"" + galleryHint(snapshot)
                                    + " (hangar list --available shows the gallery)")
    }

    private func galleryHint(_ snapshot: GallerySnapshot) -> String {
        snapshot.failures.isEmpty ? "" : " (" + snapshot.failures.joined(separator: "; ") + ")"
    }

    /// `v1.0.0`, `sha256:abcdef0`, or `unversioned`.
    static func describe(_ metadata: BackendMetadata) -> String {
        if !metadata.version.isEmpty { return "v" + metadata.version }
        if !metadata.digest.isEmpty { return String(metadata.digest.prefix(14)) }
        return "unversioned build"
    }
}

/// LocalAI's integrity policy (spec §4.8) as far as it applies before any download.
enum IntegrityPolicy {
    /// Throws in strict mode for sources that cannot be verified; local directories are never checked.
    /// Returns warnings for what goes unverified in lenient mode.
    @discardableResult
    public static func check(_ entry: GalleryEntry, strict: Bool) throws -> [String] {
        var isDir: ObjCBool = false
        if FileManager.default.fileExists(atPath: entry.uri, isDirectory: &isDir), isDir.boolValue { return [] }
        let isImage = BackendURI.isOCIImage(entry.uri)
        // An image is checked by its layer digests, never by a file sha256: a gallery that sets one expects a check
        // that does not happen.
        let unusedSHA = isImage && !entry.sha256.isEmpty
            ? "the gallery's sha256 for OCI backend \"\(entry.name)\" is not checked (images are verified by their layer digests only)"
            : nil
        guard strict else { return unusedSHA.map { [$0] } ?? [] }
        if let unusedSHA {
            throw HangarError.configuration("strict integrity: \(unusedSHA); remove sha256 from the gallery entry or disable --require-backend-integrity")
        }
        if isImage && entry.gallery.verification == nil {
            throw HangarError.configuration(
                "strict integrity: gallery \"\(entry.gallery.name)\" has no verification policy for OCI backend \"\(entry.name)\" (set verification: in the gallery YAML or disable --require-backend-integrity)")
        }
        if isImage && !BackendURI.isRegistryImage(entry.uri) {
            // LocalAI skips verification for ocifile:// silently; a local tarball has no signatures to check.
            throw HangarError.configuration(
                "strict integrity: backend \"\(entry.name)\" comes from \(entry.uri), which carries no signatures to verify (use a registry image or disable --require-backend-integrity)")
        }
        if isImage {
            // Verified against the gallery's policy by the OCI source, for each candidate, before extraction.
            return []
        }
        if entry.sha256.isEmpty {
            throw HangarError.configuration("strict integrity: backend \"\(entry.name)\" has no SHA256 (gallery \"\(entry.gallery.name)\")")
        }
        return []
    }
}
