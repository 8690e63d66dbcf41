import Foundation

/// Where a LocalAI installation's backends live and how they change. The engine, and through it the UI and every
/// command, holds one and never asks which kind: a backends directory on this machine (`LocalDirectoryStore`)
/// today, a running LocalAI server next. Queries run on the caller's thread; the `perform…` bodies run inside
/// jobs of the engine's queue, reporting phases and progress through the job's context.
public protocol BackendStore: Sendable {
    /// What the header and messages name: a directory path, or a server URL.
    var location: String { get }
    /// The capability used to choose builds, and why.
    var capabilityReport: CapabilityReport { get }

    /// Installed backends by LocalAI's listing algorithm (staging dirs never listed, broken metadata per row).
    func installed() throws -> InstalledBackends
    /// Every configured gallery's entries (unfiltered), with per-gallery status; a job passes its cancel flag.
    func gallery(isCancelled: @escaping @Sendable () -> Bool) -> GallerySnapshot
    /// Forgets cached gallery copies so the next read fetches them again (a user's "check now").
    func invalidateGalleries()
    /// LocalAI's upgrade detection (spec §4.4) over everything installed.
    func checkForUpgrades() throws -> UpgradeReport
    /// Every tag of an image's repository (`hangar versions`).
    func listTags(of imageURI: String) throws -> [String]
    /// Bytes on disk of an installed backend; nil when not installed or unknown.
    func diskUsage(of backend: String) -> Int64?

    /// Repairs what interrupted operations left behind (a store whose server does that work reports nothing).
    func recover(thorough: Bool) -> RecoveryReport
    /// LocalAI's runtime settings with where each value comes from.
    func settings() throws -> EffectiveRuntimeSettings
    /// Changes one of LocalAI's runtime settings (`auto_upgrade_backends`, `prefer_development_backends`, …) and
    /// says where it went and when a running LocalAI applies it.
    func setRuntimeSetting(_ key: RuntimeSettingKey, to value: JSONValue) throws -> SettingChange

    /// Installs a gallery entry (`NAME` or `GALLERY@NAME`), or with `tag` exactly that build of its image, pinned;
    /// returns the job's summary line.
    func performInstall(_ name: String, force: Bool, tag: String?, context: JobContext) throws -> String
    /// Upgrades an installed backend (a meta upgrades its concrete); returns the job's summary line.
    func performUpgrade(_ name: String, context: JobContext) throws -> String
    /// Removes a backend (a meta removes its concrete too); returns the job's summary line.
    func performUninstall(_ name: String, context: JobContext) throws -> String

    /// The kept previous builds of a backend (a meta's are its concrete's), or of every backend when nil; most
    /// recent first per backend. A store that keeps none returns none.
    func generations(of backend: String?) throws -> [BackendGeneration]
    /// Swaps kept generation `number` (1 = most recent) back in; returns the job's summary line.
    func performRollback(_ name: String, to number: Int, context: JobContext) throws -> String
    /// Deletes all but the `keep` most recent generations (nil: the configured count) of one backend or all.
    func prune(_ backend: String?, keep: Int?) throws -> [BackendGeneration]

    /// How the link to the server stands; nil for a store on this machine.
    var serverConnection: ServerConnection? { get }
    /// Reads what the server says about itself (its version) and returns the connection; nil for a local store.
    func probeServer() -> ServerConnection?
}

extension BackendStore {
    public var serverConnection: ServerConnection? { nil }
    public func probeServer() -> ServerConnection? { nil }
}

/// What a settings change did, worded once for every front end (the CLI prints it, the UI shows it as its message).
public struct SettingChange: Sendable, Equatable {
    /// Where the value went and when a running LocalAI applies it.
    public var message: String
    /// Set when something (an environment variable) keeps the new value from applying.
    public var warning: String?

    public init(message: String, warning: String? = nil) {
        self.message = message
        self.warning = warning
    }

    /// The message with the warning, for a one-line status.
    public var line: String { warning.map { message + "; but " + $0 } ?? message }
}
