import Foundation
import Synchronization

/// Pulls a backend image from a registry (`oci://…`, `quay.io/…`, or any bare reference such as the gallery's Docker
/// Hub mirrors) into the staging directory: manifest or index → this platform's manifest → every layer, each
/// streamed through its sha256 check and the extractor at once, applied in order with whiteouts.
///
/// Unverified bytes never reach an installed backend: extraction only ever writes into the staging directory,
/// a layer whose bytes do not match its digest fails the fetch, and the engine's transaction then discards staging.
public struct OCISource: BackendSource {
    public let client: RegistryClient
    public let platform: OCIPlatform
    /// Cap on the bytes all layers together may unpack to (a decompression-bomb guard).
    public let maxExtractBytes: Int64
    /// Free space needed = compressed layer bytes × this factor.
    public let spaceFactor: Int64
    /// Test-only: pretend the staging filesystem has this many free bytes (`HANGAR_FAKE_FREE_BYTES`).
    public let fakeFreeBytes: Int64?
    /// Delays between attempts of a blob download; each retry resumes with `Range`.
    public let retryBackoff: [Double]
    /// Bytes buffered between the download and the extraction thread.
    public let pipeCapacity: Int
    /// Test/demo-only: cap blob downloads at this many bytes per second (`HANGAR_DOWNLOAD_LIMIT`).
    public let throttleBytesPerSecond: Int64?
    /// Jobs already told about the missing signature check (an install tries several candidate URIs).
    private let warnedJobs = WarnedJobs()
    /// The trusted root signatures are verified against (gallery `verification:` policies).
    public let trust: SigstoreTrust

    public init(client: RegistryClient, platform: OCIPlatform = .current, maxExtractBytes: Int64 = 64 << 30,
                spaceFactor: Int64 = 3, fakeFreeBytes: Int64? = nil, retryBackoff: [Double] = [1, 3, 9],
                pipeCapacity: Int = 4 << 20, throttleBytesPerSecond: Int64? = nil,
                trust: SigstoreTrust = SigstoreTrust(trustedRootPath: nil)) {
        self.client = client
        self.trust = trust
        self.platform = platform
        self.maxExtractBytes = maxExtractBytes
        self.spaceFactor = spaceFactor
        self.fakeFreeBytes = fakeFreeBytes
        self.retryBackoff = retryBackoff
        self.pipeCapacity = pipeCapacity
        self.throttleBytesPerSecond = throttleBytesPerSecond
    }

    public func handles(_ uri: String) -> Bool {
        !BackendURI.looksLikeOCIFile(uri) && ImageReference.isPullable(uri)
    }

    public func fetch(_ request: FetchRequest, into staging: String, context: JobContext) throws -> String? {
        let reference = try ImageReference.parse(request.uri)
        context.phase(.resolving, reference.description)
        let isCancelled: @Sendable () -> Bool = { context.isCancelled }
        let top = try client.manifest(reference, isCancelled: isCancelled)
        var imageDigest = top.digest
        let layers = try resolveLayers(reference, top: top, isCancelled: isCancelled, imageDigest: &imageDigest)
        try context.checkCancelled()
        try checkFreeSpace(layers, staging: staging, reference: reference)
        if let verification = request.verification {
            // The digest verified is the platform manifest's whose layers are pulled below, by digest: the tag was
            // resolved once, so a tag moved meanwhile cannot slip in anything unverified.
            let verified = try verifySignature(reference, digest: imageDigest, verification: verification,
                                               gallery: request.gallery, uri: request.uri, context: context)
            request.signatureSink?.record(verified, uri: request.uri, digest: imageDigest)
        } else if warnedJobs.firstTime(context.job) {
            context.warning("installing OCI backend \(reference) without signature verification (its gallery has no verification: policy)")
        }

        let puller = LayerPuller(client: client, reference: reference, layers: layers, staging: staging, context: context,
                                 retryBackoff: retryBackoff, pipeCapacity: pipeCapacity, maxExtractBytes: maxExtractBytes,
                                 throttleBytesPerSecond: throttleBytesPerSecond)
        do {
            try puller.pullAll()
        } catch is RangeIgnored {
            // The registry answered a resumed request with the whole blob: start the image over on a clean staging dir.
            context.warning("\(reference.registry) does not resume downloads; pulling \(reference) again from the start")
            for entry in try FileManager.default.contentsOfDirectory(atPath: staging) {
                try FileTree.removeTree(staging + "/" + entry, within: staging)
            }
            try puller.pullAll()
        }
        context.phase(.verifying, "\(layers.count) layer\(layers.count == 1 ? "" : "s") of \(reference) match their digests")
        return top.digest
    }

    /// The layers of the image for this platform (an index is resolved to its child manifest).
    /// `imageDigest` becomes the digest of the image manifest whose layers these are (the platform's).
    func resolveLayers(_ reference: ImageReference, top: RegistryClient.FetchedManifest,
                       isCancelled: @escaping @Sendable () -> Bool, imageDigest: inout String) throws -> [OCIDescriptor] {
        var manifest = try OCIManifest.parse(top.bytes, contentType: top.contentType, source: reference.description)
        if case .index(let entries) = manifest {
            guard let child = platform.pick(from: entries) else {
                let offered = entries.map(\.platformName)
                throw HangarError.operation(
                    "\(reference) has no image for \(platform) (it offers \(offered.isEmpty ? "none" : offered.joined(separator: ", ")))")
            }
            let fetched = try client.manifest(reference, override: child.digest, isCancelled: isCancelled)
            imageDigest = fetched.digest
            manifest = try OCIManifest.parse(fetched.bytes, contentType: fetched.contentType, source: "\(reference)@\(child.digest)")
        }
        guard case .image(_, let layers) = manifest else {
            throw HangarError.operation("\(reference): an index points at another index; hangar pulls one level only")
        }
        for layer in layers where !(layer.mediaType.isEmpty || layer.mediaType.contains("tar")) {
            throw HangarError.operation("\(reference): layer \(layer.digest) has media type \(layer.mediaType), not a tar layer")
        }
        return layers
    }

    /// Refuses before any download when the layers × `spaceFactor` cannot fit on the staging filesystem.
    func checkFreeSpace(_ layers: [OCIDescriptor], staging: String, reference: ImageReference) throws {
        let compressed = layers.reduce(Int64(0)) { $0.addingSaturated($1.size) }
        let needed = compressed.multipliedSaturated(by: spaceFactor)
        let free = try fakeFreeBytes ?? Self.freeBytes(at: staging)
        if needed > free {
            throw HangarError.operation(
                "not enough disk space for \(reference): needs about \(TextFormat.bytes(needed)) (\(TextFormat.bytes(compressed)) compressed × \(spaceFactor)), \(TextFormat.bytes(free)) free on the backends filesystem; free some space and retry")
        }
    }

    /// Free bytes for unprivileged users on the filesystem holding `path`.
    static func freeBytes(at path: String) throws -> Int64 {
        var info = statvfs()
        guard statvfs(path, &info) == 0 else {
            throw HangarError.operation("cannot read free space of \(path): \(String(cString: strerror(errno)))")
        }
        return Int64(info.f_bavail) * Int64(info.f_frsize)
    }
}

/// Remembers which jobs got a once-per-operation warning; bounded, since the source lives as long as the engine.
private final class WarnedJobs: Sendable {
    private let jobs = Mutex<Set<JobID>>([])

    /// True the first time `job` asks.
    func firstTime(_ job: JobID) -> Bool {
        jobs.withLock { jobs in
            if jobs.count > 1000 { jobs.removeAll() }
            return jobs.insert(job).inserted
        }
    }
}

/// Thrown when a resumed blob request came back as the whole blob (HTTP 200, not 206).
struct RangeIgnored: Error, CustomStringConvertible {
    var description: String { "the registry answered a resumed download from the start twice; try again later" }
}

/// Downloads and applies the layers of one image, cumulative progress across layers.
struct LayerPuller {
    let client: RegistryClient
    let reference: ImageReference
    let layers: [OCIDescriptor]
    let staging: String
    let context: JobContext
    let retryBackoff: [Double]
    let pipeCapacity: Int
    let maxExtractBytes: Int64
    let throttleBytesPerSecond: Int64?

    func pullAll() throws {
        let total = layers.reduce(Int64(0)) { $0.addingSaturated($1.size) }
        var done: Int64 = 0
        var extracted: Int64 = 0
        context.progress(bytes: 0, total: total)
        for (index, layer) in layers.enumerated() {
            try context.checkCancelled()
            context.phase(.downloading, "layer \(index + 1)/\(layers.count) of \(reference) (\(TextFormat.bytes(layer.size)), extracted as it arrives)")
            extracted = extracted.addingSaturated(try pull(layer, number: index + 1, doneBefore: done, total: total, alreadyExtracted: extracted))
            done = done.addingSaturated(layer.size)
        }
    }

    /// One layer: the transfer pushes into a pipe (hashing every byte), an extraction thread pulls from it.
    /// Returns the bytes extracted.
    private func pull(_ layer: OCIDescriptor, number: Int, doneBefore: Int64, total: Int64, alreadyExtracted: Int64) throws -> Int64 {
        let what = "layer \(number) (\(layer.digest.prefix(19))…) of \(reference)"
        let pipe = BytePipe(capacity: pipeCapacity)
        let extraction = Extraction()
        let staging = self.staging
        let maxExtractBytes = self.maxExtractBytes
        let isCancelled: @Sendable () -> Bool = { [context] in context.isCancelled }
        let thread = Thread {
            do {
                let bytes = try LayerApplier.apply(read: { try pipe.read(into: $0) }, into: staging, limit: maxExtractBytes,
                                                   alreadyExtracted: alreadyExtracted, isCancelled: isCancelled, what: what)
                extraction.finish(.success(bytes))
                pipe.closeReading(error: nil)
            } catch {
                extraction.finish(.failure(error))
                pipe.closeReading(error: error)
            }
        }
        thread.stackSize = 1 << 20
        thread.start()

        let stream = LayerStream(pipe: pipe, throttle: throttleBytesPerSecond, isCancelled: isCancelled)
        let context = self.context
        do {
            try HTTPRetry.run(backoff: retryBackoff, isCancelled: isCancelled) { _ in
                let resumeAt = stream.offset
                // Everything already arrived (a drop after the last byte): asking `bytes=<size>-` would get a 416.
                if resumeAt > 0 && resumeAt == layer.size { return }
                let response = try client.streamBlob(reference, digest: layer.digest, from: resumeAt, isCancelled: isCancelled) { chunk in
                    try stream.accept(chunk, limit: layer.size, resumedAt: resumeAt, what: what)
                    context.progress(bytes: doneBefore + stream.offset, total: total)
                }
                // The client feeds the sink nothing from an answer that does not continue at `resumeAt`: start over.
                if resumeAt > 0 && response.isSuccess && !response.resumes(from: resumeAt) { throw RangeIgnored() }
                _ = try client.checked(response, reference, what: "blob \(layer.digest)")
            }
            try context.checkCancelled()
            let digest = "sha256:" + stream.finalizeHex()
            guard digest == layer.digest && stream.offset == layer.size else {
                throw HangarError.operation(
                    "\(what): the downloaded bytes (\(TextFormat.bytes(stream.offset))) have digest \(digest), not the manifest's \(layer.digest) (\(TextFormat.bytes(layer.size))): the registry served corrupt data, nothing was installed")
            }
            pipe.finish()
        } catch is BytePipe.ReaderStopped {
            // The extractor failed: the transfer was aborted there and then, so the blob's digest was never checked.
            if context.isCancelled { throw CancelledError() }
            if case .failure(let error) = extraction.wait() {
                let message = (error as? HangarError)?.message ?? "\(what): \(error)"
                throw HangarError.operation("\(message) (download stopped; the layer's digest was not checked)")
            }
            throw HangarError.operation("\(what): extraction stopped")
        } catch {
            pipe.fail(context.isCancelled ? CancelledError() : error)
            extraction.wait()
            if context.isCancelled { throw CancelledError() }
            // A transfer failure names the URL; say which layer it was, as the other layer errors do.
            if var failure = error as? HTTPFailure {
                failure.message = "\(what): " + failure.message
                throw failure
            }
            throw error
        }
        // The bytes were verified; what the extractor made of them decides now.
        switch extraction.wait() {
        case .success(let bytes): return bytes
        case .failure(let error):
            if let hangar = error as? HangarError { throw hangar }
            throw HangarError.operation("\(what): \(error)")
        }
    }
}

/// The producer side of one layer: hashes every byte, counts them, hands them to the pipe.
private final class LayerStream {
    let pipe: BytePipe
    private(set) var offset: Int64 = 0
    private var hasher = SHA256()
    private let throttle: Throttle?
    private let isCancelled: @Sendable () -> Bool

    init(pipe: BytePipe, throttle: Int64?, isCancelled: @escaping @Sendable () -> Bool) {
        self.pipe = pipe
        self.throttle = Throttle(bytesPerSecond: throttle)
        self.isCancelled = isCancelled
    }

    func accept(_ chunk: UnsafeRawBufferPointer, limit: Int64, resumedAt: Int64, what: String) throws {
        // libcurl may hand over many buffered chunks before it polls again: stop at the first one after a cancel.
        if isCancelled() { throw CancelledError() }
        if offset + Int64(chunk.count) > limit {
            // A resumed request answered from byte 0 overruns the blob: the stream must start over.
            if resumedAt > 0 { throw RangeIgnored() }
            throw HangarError.operation("\(what): the registry sent more than the manifest's \(TextFormat.bytes(limit)); refused")
        }
        offset += Int64(chunk.count)
        hasher.update(chunk)
        // Throws `ReaderStopped` once the extractor failed: that aborts the transfer instead of fetching the rest.
        try pipe.write(chunk)
        throttle?.pace(offset, isCancelled: isCancelled)
    }

    func finalizeHex() -> String { hasher.finalizeHex() }
}

/// The extraction thread's result, waited for by the transfer side.
private final class Extraction: Sendable {
    private let result = Mutex<Result<Int64, any Error>?>(nil)
    private let done = DispatchSemaphore(value: 0)

    func finish(_ outcome: Result<Int64, any Error>) {
        result.withLock { $0 = outcome }
        done.signal()
    }

    @discardableResult
    func wait() -> Result<Int64, any Error> {
        done.wait()
        done.signal()
        return result.withLock { $0! }
    }
}
