import Foundation

/// The local store keeps a running LocalAI's view in step through `external_backends.json` (localai-api.md §12.1):
/// LocalAI registers what is on disk only at start and after its own installs, so a backend hangar installs is
/// listed at once but loadable only once registered there. Upgrades swap in place behind the same run.sh and need
/// nothing. A registration that fails is a warning: the backend is installed either way.
extension LocalDirectoryStore {
    var externalBackends: ExternalBackendsRegistry { ExternalBackendsRegistry(configDir: configuration.configDir) }

    public func performInstall(_ name: String, force: Bool, tag: String?, context: JobContext) throws -> String {
        let summary = try installOnDisk(name, force: force, tag: tag, context: context)
        // The no-op of an ensure-install ("is already installed") wrote nothing, so it registers nothing either.
        guard summary.hasPrefix("installed ") else { return summary }
        let requested = name.split(separator: "@", maxSplits: 1).last.map(String.init) ?? name
        let entries = ExternalBackendsRegistry.entries(forInstalled: requested, backendsPath: configuration.backendsPath)
        return withRegistration(summary, context: context) { try $0.register(entries) }
    }

    public func performUninstall(_ name: String, context: JobContext) throws -> String {
        let summary = try uninstallOnDisk(name, context: context)
        // Whatever pointed into a directory that is now gone: the backend's name, its alias and a meta's name.
        return withRegistration(summary, context: context) { try $0.dropStale() }
    }

    /// Appends the registry's one line to a job's summary, or warns when the file could not be changed.
    private func withRegistration(_ summary: String, context: JobContext,
                                  _ change: (ExternalBackendsRegistry) throws -> ExternalBackendsRegistry.Change) -> String {
        let registry = externalBackends
        do {
            guard let line = ExternalBackendsRegistry.line(try change(registry), file: registry.path) else { return summary }
            return summary + "; " + line
        } catch {
            context.warning("\(error) (a running LocalAI learns of this change at its next start)")
            return summary
        }
    }

    /// Recovery's part at every start: hangar's entries whose backend directory is gone (removed by LocalAI or by
    /// hand) are dropped, so a running LocalAI is not left pointing at a missing run.sh (G8).
    func dropStaleRegistrations() -> [String] {
        let registry = externalBackends
        do {
            return ExternalBackendsRegistry.line(try registry.dropStale(), file: registry.path).map { [$0] } ?? []
        } catch {
            return []
        }
    }
}
