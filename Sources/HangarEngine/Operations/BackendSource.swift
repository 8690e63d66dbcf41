/// What a source is asked to fetch: one candidate URI of a gallery entry, with the entry's integrity data.
public struct FetchRequest: Sendable, Equatable {
    /// The candidate being tried (the entry's `uri`, a mirror, or a tag fallback).
    public var uri: String
    /// The entry's `sha256` (hex) for tarball/HTTP artifacts; empty when the gallery gives none.
    public var sha256: String
    /// The backend (directory) name being installed, for messages.
    public var backend: String
    /// The gallery's `verification:` policy: an image must carry a signature that satisfies it (nil: none asked).
    public var verification: GalleryVerification?
    /// The gallery's name, for the policy's messages.
    public var gallery: String
    /// Where a source that verified a signature leaves the result.
    public var signatureSink: SignatureSink?

    public init(uri: String, sha256: String = "", backend: String = "", verification: GalleryVerification? = nil,
                gallery: String = "", signatureSink: SignatureSink? = nil) {
        self.uri = uri
        self.sha256 = sha256
        self.backend = backend
        self.verification = verification
        self.gallery = gallery
        self.signatureSink = signatureSink
    }
}

/// Fetches a backend's files from one kind of URI into an empty staging directory. The network layer adds
/// OCI registries and tarballs behind the same interface.
public protocol BackendSource: Sendable {
    /// Whether this source can fetch `uri` (checked in order; the first that says yes is used).
    func handles(_ uri: String) -> Bool
    /// Fills `staging` with the backend tree, reporting bytes through `context` and stopping when it is cancelled.
    /// Writes nothing outside `staging`. Returns the digest of what was fetched when the source knows one (OCI).
    func fetch(_ request: FetchRequest, into staging: String, context: JobContext) throws -> String?
}

/// A local directory (LocalAI's `LooksLikeDir`, checked before every other form): copied recursively.
public struct DirectorySource: BackendSource {
    /// Bytes per second to copy at, for the demo's visible progress; nil copies at full speed.
    public let throttleBytesPerSecond: Int64?

    public init(throttleBytesPerSecond: Int64? = nil) {
        self.throttleBytesPerSecond = throttleBytesPerSecond
    }

    public func handles(_ uri: String) -> Bool {
        var st = stat()
        return stat(uri, &st) == 0 && (st.st_mode & S_IFMT) == S_IFDIR
    }

    public func fetch(_ request: FetchRequest, into staging: String, context: JobContext) throws -> String? {
        let uri = request.uri
        context.phase(.downloading, uri)
        let throttle = Throttle(bytesPerSecond: throttleBytesPerSecond)
        try FileTree.copyContents(of: uri, into: staging, progress: { done, total in
            context.progress(bytes: done, total: total)
            throttle?.pace(done, isCancelled: { context.isCancelled })
        }, checkCancelled: { try context.checkCancelled() })
        return nil
    }
}

import Dispatch

