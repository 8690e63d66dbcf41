import HangarEngine

/// What the controller must do for the state machine: engine commands and settings writes.
public enum Effect: Equatable, Sendable {
    case install(String)
    case reinstall(String)
    case upgrade(String)
    /// Upgrade a backend on one node of a cluster (name, node id).
    case upgradeOnNode(String, node: String)
    /// Reinstall a backend on one node of a cluster (name, node id).
    case reinstallOnNode(String, node: String)
    /// Remove a backend from one node of a cluster (name, node id).
    case uninstallOnNode(String, node: String)
    case upgradeAll([String])
    case uninstall(String)
    case hold(String)
    /// Fetch the versioned builds of a backend's image for the Versions list.
    case loadVersions(String)
    /// Install exactly this tag of a backend's image, pinned.
    case installTag(String, String)
    case unhold(String)
    case rollback(String)
    /// Stop the models a running LocalAI has loaded on a backend, so they run its new build.
    case restartModels(String)
    case cancel(JobID)
    case checkNow
    case setAutoUpgrade(Bool)
    case setPreferDevelopment(Bool)
    case setCheckInterval(Double)
    case setTheme(String)
    case setKeepGenerations(Int)
    case quit(cancelJobs: Bool)
}

/// A question before a destructive action; the default answer is No.
public struct Confirmation: Equatable, Sendable {
    public var title: String
    public var lines: [String]
    public var effect: Effect
}
