import Foundation
import HangarFixtures
import XCTest
@testable import HangarEngine

/// The engine tests' view of a `LocalAISite`: one gallery file (`galleries/index.yaml`, named "test"), sources
/// named by directory, installs with raw or typed metadata, and an `Engine` on the site.
final class EngineFixture: LocalAISiteVeneer {
    let site: LocalAISite
    var galleryFile: String { site.galleries + "/index.yaml" }
    private var galleryList: [GalleryFile] { [GalleryFile(path: galleryFile, name: "test")] }

    init() throws { site = try LocalAISite("engine") }

    /// A source directory `sources/<dir>` holding run.sh (unless `runScript` is false) and extra files.
    @discardableResult
    func source(_ dir: String, runScript: Bool = true, files: [String: String] = [:]) throws -> String {
        var tree = runScript ? BackendTree.runScript("echo \(dir)\n") : BackendTree()
        for (name, text) in files { tree = tree.file(name, text) }
        return try site.source(dir, tree)
    }

    /// An installed backend directory with optional run.sh and metadata.json (raw text, written as is).
    func installed(_ name: String, runScript: Bool = true, metadata: String? = nil, in base: String? = nil) throws {
        try site.install(name, runScript ? .runScript() : BackendTree(), metadataJSON: metadata, in: base)
    }

    func installed(_ name: String, _ metadata: BackendMetadata, runScript: Bool = true) throws {
        try site.install(name, runScript ? .runScript() : BackendTree(), metadata: metadata)
    }

    func gallery(_ yaml: String) throws { try site.gallery(yaml: yaml, name: "test") }

    func write(_ path: String, _ text: String, mode: mode_t = 0o644) throws {
        try HangarFixtures.write(path: path, text: text, mode: mode)
    }

    func read(_ path: String) -> String? { readText(path) }

    func exists(_ relative: String) -> Bool { FileManager.default.fileExists(atPath: backends + "/" + relative) }

    func metadata(_ name: String) throws -> BackendMetadata {
        let data = try XCTUnwrap(FileManager.default.contents(atPath: backends + "/" + name + "/metadata.json"))
        return try BackendMetadata.decode([UInt8](data))
    }

    func configuration(capability: String? = "default", extraEnvironment: [String: String] = [:]) throws -> HangarConfiguration {
        try site.configuration(galleries: galleryList, capability: capability, environment: extraEnvironment)
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

/// Polls `condition` every 10 ms until it holds; fails the test, naming `what`, when `timeout` passes first.
func eventually(_ what: String, timeout: TimeInterval = 10, file: StaticString = #filePath, line: UInt = #line,
                _ condition: () throws -> Bool) rethrows {
    if try !waitUntil(timeout: timeout, interval: 0.01, condition) { XCTFail("timed out waiting for \(what)", file: file, line: line) }
}
