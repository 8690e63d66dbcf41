/// Identifies one job for the lifetime of the engine.
public typealias JobID = Int

/// What a job does to a backend.
public enum JobOperation: String, Sendable, Equatable, CaseIterable {
    case install, reinstall, upgrade, uninstall, rollback
}

/// The steps an operation goes through, in the order they can happen.
public enum JobPhase: String, Sendable, Equatable, CaseIterable {
    case resolving, downloading, verifying, extracting, validating, swapping
    case rollingBack = "rolling back"
}

/// Everything a subscriber learns about a job. Events of one job arrive in order.
public struct JobEvent: Sendable, Equatable {
    public let job: JobID
    public let operation: JobOperation
    /// The backend name as requested.
    public let backend: String
    public let kind: Kind
    /// On a job's last event: what the job changed (versions and digests before and after), when it knows.
    public let change: BackendChange?
    /// On a job's last event: who started it (`cli`, `ui`, `daemon`, or `auto-upgrade (…)`).
    public let origin: String?

    public enum Kind: Sendable, Equatable {
        /// Accepted; waits for a free worker and for earlier jobs on the same backend.
        case queued
        /// Entered a phase; `detail` says on what (e.g. the URI being fetched).
        case phase(JobPhase, detail: String)
        /// Bytes done so far out of `total` (0 when unknown), cumulative over the whole job.
        case progress(bytes: Int64, total: Int64)
        /// Something the user should know that does not stop the job (e.g. a digest lookup failed).
        case warning(message: String)
        /// Where a distributed LocalAI job stands on each node (its `nodes[]`, spec §5.5), sent when that changes.
        case nodes([JobNodeStatus])
        /// Finished; the summary says what changed.
        case done(summary: String)
        /// Failed before anything was changed; the previous install (if any) is untouched.
        case failed(error: String)
        /// Failed after staging; the previous install was restored as described by `restored`.
        case rolledBack(error: String, restored: String)
        /// Stopped on request; nothing was changed.
        case cancelled(detail: String)
        /// Not run because another operation holds the backend (background jobs only).
        case skipped(reason: String)
    }

    public init(job: JobID, operation: JobOperation, backend: String, kind: Kind, change: BackendChange? = nil,
                origin: String? = nil) {
        self.job = job
        self.operation = operation
        self.backend = backend
        self.kind = kind
        self.change = change
        self.origin = origin
    }

    /// Whether this is the job's last event.
    public var isTerminal: Bool {
        switch kind {
        case .done, .failed, .rolledBack, .cancelled, .skipped: return true
        case .queued, .phase, .progress, .warning, .nodes: return false
        }
    }
}

extension JobEvent.Kind {
    /// The one wording of an event for people (CLI lines, the daemon's log, the UI's job rows); nil for progress,
    /// which each front end draws its own way. `dash` joins a failure and what was restored (ASCII screens pass "-").
    public func line(dash: String = "—") -> String? {
        switch self {
        case .queued: return "queued"
        case .phase(let phase, let detail): return detail.isEmpty ? phase.rawValue : "\(phase.rawValue) \(detail)"
        case .progress: return nil
        case .warning(let message): return "warning: \(message)"
        case .nodes(let nodes): return "nodes: " + nodes.map(\.text).joined(separator: " · ")
        case .done(let summary): return summary
        case .failed(let error): return "failed: \(error)"
        case .rolledBack(let error, let restored): return "failed: \(error) \(dash) \(restored)"
        case .cancelled(let detail): return detail
        case .skipped(let reason): return "skipped: \(reason)"
        }
    }
}

/// One node's line of a distributed job (LocalAI's `NodeProgress`, spec §5.5).
public struct JobNodeStatus: Sendable, Equatable {
    public var nodeID: String
    public var nodeName: String
    /// `queued`, `downloading`, `running_on_worker`, `success` or `error`.
    public var status: String
    /// 0...100.
    public var percentage: Double
    public var fileName: String
    public var error: String?

    public init(nodeID: String, nodeName: String, status: String, percentage: Double = 0, fileName: String = "",
                error: String? = nil) {
        self.nodeID = nodeID
        self.nodeName = nodeName
        self.status = status
        self.percentage = percentage
        self.fileName = fileName
        self.error = error
    }

    /// The node's name, else its id.
    public var label: String { nodeName.isEmpty ? nodeID : nodeName }

    /// Whether the node has the job's result: `success` without an error.
    public var succeeded: Bool { status == "success" && error == nil }

    /// `gpu-a 40%`, `gpu-b done`, `gpu-d queued: node unhealthy, will retry when healthy`, `gpu-c failed: …`.
    public var text: String {
        let state: String
        switch status {
        case "success": state = "done"
        case "error": state = "failed"
        case "downloading": state = "\(Int(max(0, min(100, percentage))))%"
        case "running_on_worker": state = "running on worker"
        default: state = status.isEmpty ? "?" : status
        }
        guard let error else { return "\(label) \(state)" }
        return "\(label) \(state == "done" ? "error" : state): \(error)"
    }
}

/// A backend build as the history records it: the version and image digest of its metadata.json.
public struct BuildIdentity: Sendable, Equatable {
    public var version: String
    public var digest: String

    public init(version: String, digest: String) {
        self.version = version
        self.digest = digest
    }

    init(_ metadata: BackendMetadata) { self.init(version: metadata.version, digest: metadata.digest) }

    /// `v1.2.0`, `sha256:3f2a9c1`, or `unversioned`.
    public var text: String {
        if !version.isEmpty { return "v" + version }
        return digest.isEmpty ? "unversioned" : TextFormat.shortDigest(digest)
    }
}

/// What one job changed: the build before (nil for a fresh install) and after (nil after an uninstall).
public struct BackendChange: Sendable, Equatable {
    public var from: BuildIdentity?
    public var to: BuildIdentity?

    public init(from: BuildIdentity?, to: BuildIdentity?) {
        self.from = from
        self.to = to
    }
}

/// How a job ended.
public enum JobOutcome: Sendable, Equatable {
    case succeeded(summary: String)
    case failed(HangarError)
    case rolledBack(HangarError, restored: String)
    case cancelled
    case skipped(reason: String)

    /// True only for `.succeeded`.
    public var isSuccess: Bool { if case .succeeded = self { return true }; return false }
}

/// Thrown by an operation that failed after staging and restored the previous install.
public struct RolledBackError: Error, Sendable, CustomStringConvertible {
    public let error: HangarError
    /// What is in place now, e.g. "v1.0.0 restored".
    public let restored: String
    public init(error: HangarError, restored: String) { self.error = error; self.restored = restored }
    public var description: String { "\(error.message) — \(restored)" }
}

/// Thrown when a job notices it was cancelled.
public struct CancelledError: Error, Sendable, CustomStringConvertible {
    public init() {}
    public var description: String { "cancelled" }
}

/// Thrown by a background job that found its backend busy and gave way.
public struct SkippedError: Error, Sendable, CustomStringConvertible {
    public let reason: String
    public init(reason: String) { self.reason = reason }
    public var description: String { reason }
}
