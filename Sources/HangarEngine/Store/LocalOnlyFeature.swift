import Foundation

/// A feature that lives beside a local backends directory and has no counterpart on a LocalAI server (issue 8 §1):
/// the engine's refusals and the UI's one-line answers in remote mode read the same text from here.
public enum LocalOnlyFeature: Sendable, CaseIterable {
    case rollback, previousVersions, holds, versions, keepGenerations

    /// Why the feature does not work on the LocalAI server at `server`; `backend` names the fix's target when known.
    public func reason(server: String, backend: String? = nil) -> String {
        let reinstall = backend.map { "hangar reinstall \($0)" } ?? "hangar reinstall NAME"
        switch self {
        case .rollback:
            return "rollback is not available for a LocalAI server (\(server)): LocalAI deletes the replaced build after an upgrade; reinstall instead (\(reinstall))"
        case .previousVersions:
            return "previous versions are not kept on a LocalAI server (\(server)): LocalAI deletes the replaced build after an upgrade, so there is no rollback; reinstall instead (\(reinstall))"
        case .holds:
            return "holds are hangar's own state beside a local backends directory: not available for the LocalAI server at \(server), whose own auto-upgrade would not know them"
        case .versions:
            return "listing an image's versions is not available for a LocalAI server (\(server)): its API installs gallery entries only; run hangar on the server's machine with --backends-path for versions and pins"
        case .keepGenerations:
            return "previous versions are not kept on a LocalAI server (\(server)): keep_generations applies to a local backends directory only"
        }
    }
}
