import Foundation
import HangarEngine
import HangarFixtures
import HangarTUI
import XCTest

/// A small real LocalAI installation in a temp dir, with every kind of row the Backends screen distinguishes:
/// versioned, digest-only and unrecorded installs, a meta, an alias, a system backend, broken metadata, a
/// development build, and a gallery with newer versions (kokoro's new build lacks run.sh, so upgrading it rolls back).
final class TUIFixture: LocalAISiteVeneer {
    let site: LocalAISite
    var gallery: String { site.galleries + "/index.yaml" }
    static let oldDigest = "sha256:3f2a9c1d0e5b7a8f00000000000000000000000000000000000000000000000a"
    static let newDigest = "sha256:9e8d7c6b5a4f00000000000000000000000000000000000000000000000000b"

    init() throws {
        site = try LocalAISite("tui")
        let script = BackendTree.runScript("echo ok\n")
        try site.install("system-vllm", script, metadataJSON: nil, in: site.system)
        let url = "file://" + gallery
        let sources = site.sources
        try site
            .install("piper", script, metadata: BackendMetadata(name: "piper", galleryURL: url, installedAt: "2026-12-01T10:00:00Z",
                                                                version: "0.8.0", uri: sources + "/piper-0.8.0"))
            .install("oldimg", script, metadata: BackendMetadata(name: "oldimg", galleryURL: url, uri: "quay.io/test/oldimg:latest",
                                                                 digest: Self.oldDigest))
            .install("unknown", script, metadata: BackendMetadata(name: "unknown"))
            .install("cpu-whisper", script, metadata: BackendMetadata(name: "cpu-whisper", galleryURL: url, version: "2.0.0"))
            .install("whisper", BackendTree(), metadata: BackendMetadata(metaBackendFor: "cpu-whisper", name: "whisper", galleryURL: url))
            .install("kokoro", script, metadata: BackendMetadata(alias: "tts", name: "kokoro", galleryURL: url, version: "1.0.0"))
            .install("foo-development", script, metadata: BackendMetadata(name: "foo-development", galleryURL: url, version: "0.1.0"))
            .install("broken", script, metadataJSON: "{not json")

        try site.source("piper-0.9.0", script.file("VERSION", "piper-0.9.0\n"))
        try site.source("kokoro-1.1.0", BackendTree().file("VERSION", "kokoro-1.1.0\n"))
        try site.source("bark-0.3.0", script.file("VERSION", "bark-0.3.0\n"))
        // Hand-written YAML, unquoted: tests edit it as text ("version: 0.9.0" → "version: 0.9.1").
        try site.gallery(yaml: """
            - name: piper
              uri: \(sources)/piper-0.9.0
              version: 0.9.0
              tags: [tts, fast]
              description: Piper text to speech
            - name: oldimg
              uri: quay.io/test/oldimg:latest
            - name: kokoro
              alias: tts
              uri: \(sources)/kokoro-1.1.0
              version: 1.1.0
            - name: cpu-whisper
              uri: \(sources)/piper-0.9.0
              version: 2.0.0
            - name: whisper
              capabilities:
                default: cpu-whisper
            - name: bark
              uri: \(sources)/bark-0.3.0
              version: 0.3.0
              tags: [audio]
              description: Bark audio generation
            - name: bark-development
              uri: \(sources)/bark-0.3.0
              version: 0.4.0
            - name: cuda12-bark
              uri: \(sources)/bark-0.3.0
              version: 0.3.0

            """, name: "test")
    }

    /// A real engine on the fixture; the registry answers with a fixed new digest for the OCI entry.
    func engine(environment extra: [String: String] = [:]) throws -> Engine {
        let configuration = try site.configuration(galleries: [GalleryFile(path: gallery, name: "test")], environment: extra)
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
