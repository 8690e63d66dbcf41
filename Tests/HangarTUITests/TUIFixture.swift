import Foundation
import HangarEngine
import HangarTUI
import XCTest

/// A small real LocalAI installation in a temp dir, with every kind of row the Backends screen distinguishes:
/// versioned, digest-only and unrecorded installs, a meta, an alias, a system backend, broken metadata, a
/// development build, and a gallery with newer versions (kokoro's new build lacks run.sh, so upgrading it rolls back).
final class TUIFixture {
    let root: String
    var backends: String { root + "/backends" }
    var config: String { root + "/configuration" }
    var gallery: String { root + "/gallery.yaml" }
    static let oldDigest = "sha256:3f2a9c1d0e5b7a8f00000000000000000000000000000000000000000000000a"
    static let newDigest = "sha256:9e8d7c6b5a4f00000000000000000000000000000000000000000000000000b"

    init() throws {
        root = FileManager.default.temporaryDirectory.path + "/hangar-tui-\(UUID().uuidString.prefix(8))"
        let fm = FileManager.default
        for dir in [backends, root + "/system/system-vllm", config, root + "/sources"] {
            try fm.createDirectory(atPath: dir, withIntermediateDirectories: true)
        }
        try script(root + "/system/system-vllm/run.sh")
        let url = "file://" + gallery
        try install("piper", BackendMetadata(name: "piper", galleryURL: url, installedAt: "2026-12-01T10:00:00Z", version: "0.8.0",
                                             uri: root + "/sources/piper-0.8.0"))
        try install("oldimg", BackendMetadata(name: "oldimg", galleryURL: url, uri: "quay.io/test/oldimg:latest", digest: Self.oldDigest))
        try install("unknown", BackendMetadata(name: "unknown"))
        try install("cpu-whisper", BackendMetadata(name: "cpu-whisper", galleryURL: url, version: "2.0.0"))
        try install("whisper", BackendMetadata(metaBackendFor: "cpu-whisper", name: "whisper", galleryURL: url), runScript: false)
        try install("kokoro", BackendMetadata(alias: "tts", name: "kokoro", galleryURL: url, version: "1.0.0"))
        try install("foo-development", BackendMetadata(name: "foo-development", galleryURL: url, version: "0.1.0"))
        try fm.createDirectory(atPath: backends + "/broken", withIntermediateDirectories: true)
        try script(backends + "/broken/run.sh")
        try "{not json".write(toFile: backends + "/broken/metadata.json", atomically: true, encoding: .utf8)

        try source("piper-0.9.0")
        try source("kokoro-1.1.0", runScript: false)
        try source("bark-0.3.0")
        try """
            - name: piper
              uri: \(root)/sources/piper-0.9.0
              version: 0.9.0
              tags: [tts, fast]
              description: Piper text to speech
            - name: oldimg
              uri: quay.io/test/oldimg:latest
            - name: kokoro
              alias: tts
              uri: \(root)/sources/kokoro-1.1.0
              version: 1.1.0
            - name: cpu-whisper
              uri: \(root)/sources/piper-0.9.0
              version: 2.0.0
            - name: whisper
              capabilities:
                default: cpu-whisper
            - name: bark
              uri: \(root)/sources/bark-0.3.0
              version: 0.3.0
              tags: [audio]
              description: Bark audio generation
            - name: bark-development
              uri: \(root)/sources/bark-0.3.0
              version: 0.4.0
            - name: cuda12-bark
              uri: \(root)/sources/bark-0.3.0
              version: 0.3.0

            """.write(toFile: gallery, atomically: true, encoding: .utf8)
    }

    deinit { try? FileManager.default.removeItem(atPath: root) }

    private func script(_ path: String) throws {
        try "#!/bin/sh\necho ok\n".write(toFile: path, atomically: true, encoding: .utf8)
        chmod(path, 0o755)
    }

    private func install(_ dir: String, _ metadata: BackendMetadata, runScript: Bool = true) throws {
        try FileManager.default.createDirectory(atPath: backends + "/" + dir, withIntermediateDirectories: true)
        if runScript { try script(backends + "/" + dir + "/run.sh") }
        try metadata.encoded().write(toFile: backends + "/" + dir + "/metadata.json", atomically: true, encoding: .utf8)
    }

    private func source(_ dir: String, runScript: Bool = true) throws {
        try FileManager.default.createDirectory(atPath: root + "/sources/" + dir, withIntermediateDirectories: true)
        if runScript { try script(root + "/sources/" + dir + "/run.sh") }
        try "\(dir)\n".write(toFile: root + "/sources/" + dir + "/VERSION", atomically: true, encoding: .utf8)
    }

    /// A real engine on the fixture; the registry answers with a fixed new digest for the OCI entry.
    func engine(environment extra: [String: String] = [:]) throws -> Engine {
        var env = ["LOCALAI_BACKEND_GALLERIES": "[{\"name\":\"test\",\"url\":\"file://\(gallery)\"}]"]
        for (k, v) in extra { env[k] = v }
        let configuration = try HangarConfiguration.resolve(
            flags: .init(backendsPath: backends, systemBackendsPath: root + "/system", configDir: config, capability: "default"),
            environment: env, workingDirectory: root)
        return Engine(configuration: configuration, digestResolver: RegistryAnswer(digest: Self.newDigest))
    }

    func metadata(_ name: String) throws -> BackendMetadata {
        let data = try XCTUnwrap(FileManager.default.contents(atPath: backends + "/" + name + "/metadata.json"))
        return try BackendMetadata.decode([UInt8](data))
    }
}

/// Stands in for the registry inside these UI tests only: every image has `digest` now.
struct RegistryAnswer: DigestResolver {
    var digest: String
    func digest(of reference: String) throws -> String { digest }
}

@MainActor
extension UIState {
    /// The state `hangar` would start with on `engine`, after one upgrade check.
    static func loaded(_ engine: Engine, glyphs: Glyphs = .unicode, checked: Bool = true) throws -> UIState {
        var state = UIState(snapshot: EngineSnapshot.load(engine), glyphs: glyphs)
        if checked {
            state.upgrades = UpgradeCheckStatus(lastCheck: Date(timeIntervalSince1970: 1_800_000_000), report: try engine.checkUpgrades())
        }
        return state
    }
}

/// Renders `state` on a fresh grid.
@MainActor
func draw(_ state: UIState, width: Int = 120, height: Int = 30) -> CellGridCanvas {
    let canvas = CellGridCanvas(width: width, height: height)
    Screens.render(state, on: canvas)
    return canvas
}

/// The screen line that contains `needle`.
@MainActor
func line(_ canvas: CellGridCanvas, containing needle: String, file: StaticString = #filePath, lineNumber: UInt = #line) -> String {
    guard let hit = canvas.find(needle) else {
        XCTFail("\"\(needle)\" not on screen:\n\(canvas.text)", file: file, line: lineNumber)
        return ""
    }
    return canvas.line(hit.y)
}

/// Runs a test body on the main actor. XCTest on Linux calls test methods on the main thread but cannot
/// call methods declared `@MainActor`, so each test enters the actor here.
func onMain(_ body: @MainActor () throws -> Void) throws {
    try MainActor.assumeIsolated(body)
}

/// Spins the main run loop (which drains the main queue, where job events and check results arrive) until `done`
/// or the deadline.
@MainActor
func waitOnMain(_ what: String, timeout: Double = 10, file: StaticString = #filePath, line: UInt = #line, _ done: () -> Bool) {
    let deadline = Date().addingTimeInterval(timeout)
    while !done() && Date() < deadline { RunLoop.main.run(until: Date().addingTimeInterval(0.01)) }
    XCTAssertTrue(done(), "timed out waiting for \(what)", file: file, line: line)
}
