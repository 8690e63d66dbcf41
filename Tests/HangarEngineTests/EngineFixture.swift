import Foundation
import XCTest
@testable import HangarEngine

/// A real LocalAI layout in a temp dir: backends, system backends, config dir, sources and a gallery file.
final class EngineFixture {
    let root: String
    var backends: String { root + "/backends" }
    var system: String { root + "/system" }
    var config: String { root + "/configuration" }
    var galleryFile: String { root + "/gallery/index.yaml" }

    init() throws {
        root = FileManager.default.temporaryDirectory.path + "/hangar-engine-\(UUID().uuidString.prefix(8))"
        for dir in [backends, system, config, root + "/gallery", root + "/sources"] {
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        }
    }

    deinit { try? FileManager.default.removeItem(atPath: root) }

    /// A source directory `sources/<dir>` holding run.sh (unless `runScript` is false) and extra files.
    @discardableResult
    func source(_ dir: String, runScript: Bool = true, files: [String: String] = [:]) throws -> String {
        let path = root + "/sources/" + dir
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        if runScript { try write(path + "/run.sh", "#!/bin/sh\necho \(dir)\n", mode: 0o755) }
        for (name, text) in files { try write(path + "/" + name, text) }
        return path
    }

    /// An installed backend directory with optional run.sh and metadata.json (raw text, written as is).
    func installed(_ name: String, runScript: Bool = true, metadata: String? = nil, in base: String? = nil) throws {
        let dir = (base ?? backends) + "/" + name
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        if runScript { try write(dir + "/run.sh", "#!/bin/sh\n", mode: 0o755) }
        if let metadata { try write(dir + "/metadata.json", metadata) }
    }

    func installed(_ name: String, _ metadata: BackendMetadata, runScript: Bool = true) throws {
        try installed(name, runScript: runScript, metadata: metadata.encoded())
    }

    func gallery(_ yaml: String) throws { try write(galleryFile, yaml) }

    func write(_ path: String, _ text: String, mode: mode_t = 0o644) throws {
        try text.write(toFile: path, atomically: false, encoding: .utf8)
        chmod(path, mode)
    }

    func read(_ path: String) -> String? { try? String(contentsOfFile: path, encoding: .utf8) }

    func exists(_ relative: String) -> Bool { FileManager.default.fileExists(atPath: backends + "/" + relative) }

    func metadata(_ name: String) throws -> BackendMetadata {
        let data = try XCTUnwrap(FileManager.default.contents(atPath: backends + "/" + name + "/metadata.json"))
        return try BackendMetadata.decode([UInt8](data))
    }

    func configuration(capability: String? = "default", extraEnvironment: [String: String] = [:]) throws -> HangarConfiguration {
        var env = ["LOCALAI_BACKEND_GALLERIES": "[{\"name\":\"test\",\"url\":\"file://\(galleryFile)\"}]"]
        for (k, v) in extraEnvironment { env[k] = v }
        return try HangarConfiguration.resolve(
            flags: .init(backendsPath: backends, systemBackendsPath: system, configDir: config, capability: capability),
            environment: env, workingDirectory: root)
    }

    func engine(capability: String? = "default", resolver: any DigestResolver = UnavailableDigestResolver(),
                extraEnvironment: [String: String] = [:]) throws -> Engine {
        Engine(configuration: try configuration(capability: capability, extraEnvironment: extraEnvironment),
               digestResolver: resolver)
    }

    /// Every file below the backends dir (private .hangar dir excluded) with its mode and contents.
    func snapshot() -> [String: String] {
        var out: [String: String] = [:]
        let fm = FileManager.default
        guard let e = fm.enumerator(atPath: backends) else { return out }
        while let rel = e.nextObject() as? String {
            if rel.hasPrefix(".hangar") { continue }
            let path = backends + "/" + rel
            let attrs = try? fm.attributesOfItem(atPath: path)
            let mode = (attrs?[.posixPermissions] as? Int) ?? 0
            let type = attrs?[.type] as? FileAttributeType
            out[rel] = "\(String(mode, radix: 8)) " + (type == .typeDirectory ? "dir" : (read(path) ?? "<binary>"))
        }
        return out
    }
}

/// Runs a queued job to its end.
@discardableResult
func finish(_ engine: Engine, _ submit: (Engine) throws -> JobID) throws -> JobOutcome {
    let id = try submit(engine)
    return engine.jobs.wait(id)
}

/// A digest resolver with fixed answers: a stand-in for the registry inside unit tests of the check rule only.
struct FixedDigests: DigestResolver {
    var digests: [String: String]
    func digest(of reference: String) throws -> String {
        guard let d = digests[reference] else { throw HangarError.operation("no such image \(reference)") }
        return d
    }
}
