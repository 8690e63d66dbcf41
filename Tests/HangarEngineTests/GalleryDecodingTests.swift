import Foundation
import HangarEngine
import HangarYAML
import XCTest

final class GalleryDecodingTests: XCTestCase {
    private let gallery = GalleryConfig(name: "localai", url: "https://index.localai.io/backends",
                                        mirrors: ["github:mudler/LocalAI/backend/index.yaml@master"])

    /// `../shared/fixtures` next to the package root; the real galleries are never copied into the project.
    private static let fixtures: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent()  // HangarEngineTests
        .deletingLastPathComponent()  // Tests
        .deletingLastPathComponent()  // package root
        .deletingLastPathComponent()
        .appendingPathComponent("shared/fixtures")

    private func fixture(_ name: String) throws -> [UInt8] {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: Self.fixtures.path, isDirectory: &isDirectory), isDirectory.boolValue else {
            let reason = "fixture folder \(Self.fixtures.path) is absent; the real-gallery tests need it"
            print("skipping: \(reason)")
            throw XCTSkip(reason)
        }
        return Array(try Data(contentsOf: Self.fixtures.appendingPathComponent(name)))
    }

    private func decode(_ text: String) throws -> [GalleryEntry] {
        try GalleryEntry.decodeIndex(Array(text.utf8), gallery: gallery)
    }

    /// The configuration error message `text` fails with.
    private func failure(_ text: String, file: StaticString = #filePath, line: UInt = #line) -> String {
        do {
            _ = try decode(text)
            XCTFail("expected a gallery error", file: file, line: line)
        } catch let error as HangarError {
            XCTAssertEqual(error.category, .configuration, file: file, line: line)
            return error.message
        } catch {
            XCTFail("unexpected error type: \(error)", file: file, line: line)
        }
        return ""
    }

    // MARK: real galleries

    func testCurrentIndexCounts() throws {
        let entries = try GalleryEntry.decodeIndex(try fixture("localai-backend-index.yaml"), gallery: gallery)
        XCTAssertEqual(entries.count, 1_033)
        XCTAssertEqual(entries.filter(\.isMeta).count, 140)
        XCTAssertEqual(entries.filter { !$0.mirrors.isEmpty }.count, 892)
        XCTAssertEqual(entries.filter { !$0.capabilities.isEmpty }.count, 1_031)
        XCTAssertEqual(entries.filter { !$0.alias.isEmpty }.count, 931)
        XCTAssertTrue(entries.allSatisfy { $0.gallery == gallery })
        XCTAssertEqual(entries.filter { $0.name == "metal-whisper" }.count, 2)
    }

    func testJanuaryIndexCounts() throws {
        let entries = try GalleryEntry.decodeIndex(try fixture("localai-backend-index-2026-01.yaml"), gallery: gallery)
        XCTAssertEqual(entries.count, 251)
        XCTAssertEqual(entries.filter(\.isMeta).count, 34)
        XCTAssertTrue(entries.allSatisfy { $0.gallery == gallery })
    }

    func testJuneIndexCounts() throws {
        let entries = try GalleryEntry.decodeIndex(try fixture("localai-backend-index-2025-06.yaml"), gallery: gallery)
        XCTAssertEqual(entries.count, 74)
        XCTAssertEqual(entries.filter(\.isMeta).count, 0)
        XCTAssertTrue(entries.allSatisfy { $0.gallery == gallery })
    }

    func testConcreteInheritsFromAnchor() throws {
        let entries = try GalleryEntry.decodeIndex(try fixture("localai-backend-index.yaml"), gallery: gallery)
        let meta = try XCTUnwrap(entries.first { $0.name == "llama-cpp" })
        let cpu = try XCTUnwrap(entries.first { $0.name == "cpu-llama-cpp" })
        XCTAssertTrue(meta.isMeta)
        XCTAssertFalse(cpu.isMeta)
        XCTAssertEqual(cpu.alias, "llama-cpp")
        XCTAssertEqual(cpu.license, "mit")
        XCTAssertEqual(cpu.tags, ["text-to-text", "text-to-speech", "TTS", "LLM", "CPU", "GPU", "Metal", "CUDA", "HIP"])
        XCTAssertEqual(cpu.tags, meta.tags)
        XCTAssertEqual(cpu.description, "LLM inference in C/C++\n")
        XCTAssertEqual(cpu.urls, ["https://github.com/ggerganov/llama.cpp"])
        XCTAssertEqual(cpu.capabilities, meta.capabilities)
        XCTAssertEqual(cpu.capabilities.count, 11)
        XCTAssertEqual(cpu.concreteName(forKey: "default"), "cpu-llama-cpp")
        XCTAssertEqual(cpu.capabilities.first, CapabilityMapping(capability: "default", concrete: "cpu-llama-cpp"))
        XCTAssertEqual(cpu.uri, "quay.io/go-skynet/local-ai-backends:latest-cpu-llama-cpp")
        XCTAssertEqual(cpu.mirrors, ["localai/localai-backends:latest-cpu-llama-cpp"])
        XCTAssertEqual(cpu.id, "localai@cpu-llama-cpp")
    }

    func testDevelopmentMetaOverridesWholeCapabilitiesMap() throws {
        let entries = try GalleryEntry.decodeIndex(try fixture("localai-backend-index.yaml"), gallery: gallery)
        let dev = try XCTUnwrap(entries.first { $0.name == "llama-cpp-development" })
        XCTAssertTrue(dev.isMeta)
        XCTAssertEqual(dev.alias, "llama-cpp")
        XCTAssertEqual(dev.concreteName(forKey: "default"), "cpu-llama-cpp-development")
        XCTAssertEqual(dev.capabilities.count, 11)
        XCTAssertTrue(dev.capabilities.allSatisfy { $0.concrete.hasSuffix("-development") }, "\(dev.capabilities)")
    }

    func testTinygradHasNoCapabilities() throws {
        let entries = try GalleryEntry.decodeIndex(try fixture("localai-backend-index.yaml"), gallery: gallery)
        let tinygrad = try XCTUnwrap(entries.first { $0.name == "tinygrad" })
        XCTAssertTrue(tinygrad.capabilities.isEmpty)
        XCTAssertFalse(tinygrad.isMeta)
        XCTAssertEqual(tinygrad.uri, "quay.io/go-skynet/local-ai-backends:latest-tinygrad")
    }

    // MARK: hand-written galleries

    func testDocumentationExample() throws {
        let entries = try decode(#"- {name: "test-backend", uri: "quay.io/image/tests:localai-backend-test", alias: "foo-backend"}"#)
        XCTAssertEqual(entries.count, 1)
        var expected = GalleryEntry(name: "test-backend", gallery: gallery)
        expected.uri = "quay.io/image/tests:localai-backend-test"
        expected.alias = "foo-backend"
        XCTAssertEqual(entries.first, expected)
    }

    func testFieldsUnknownKeysScalarsAndGalleryOverwrite() throws {
        let entries = try decode("""
            ---
            - name: full
              description: text
              license: 1.0
              urls: https://one.example
              icon: icon.png
              tags: [a, 2, true]
              url: u
              size: 12
              backend: b
              alias: al
              uri: oci://x
              version: 1.0
              mirrors: [m1, m2]
              capabilities: {default: full-cpu, nvidia: 3}
              sha256: abc
              gallery: {name: other, url: elsewhere}
              installed: true
              something-new: [ignored]
            - uri: nameless
            - name: dup
            - name: dup
              capabilities: ~
              tags: ~
            """)
        XCTAssertEqual(entries.map(\.name), ["full", "", "dup", "dup"])
        let full = entries[0]
        XCTAssertEqual(full.description, "text")
        XCTAssertEqual(full.license, "1.0")
        XCTAssertEqual(full.urls, ["https://one.example"])
        XCTAssertEqual(full.icon, "icon.png")
        XCTAssertEqual(full.tags, ["a", "2", "true"])
        XCTAssertEqual(full.url, "u")
        XCTAssertEqual(full.size, "12")
        XCTAssertEqual(full.backend, "b")
        XCTAssertEqual(full.alias, "al")
        XCTAssertEqual(full.uri, "oci://x")
        XCTAssertEqual(full.version, "1.0")
        XCTAssertEqual(full.mirrors, ["m1", "m2"])
        XCTAssertEqual(full.capabilities, [CapabilityMapping(capability: "default", concrete: "full-cpu"),
                                           CapabilityMapping(capability: "nvidia", concrete: "3")])
        XCTAssertEqual(full.sha256, "abc")
        XCTAssertTrue(entries.allSatisfy { $0.gallery == gallery })
        XCTAssertTrue(entries[3].capabilities.isEmpty)
        XCTAssertTrue(entries[3].tags.isEmpty)
    }

    func testEmptyAndNullDocumentsAreEmptyGalleries() throws {
        XCTAssertEqual(try decode("").count, 0)
        XCTAssertEqual(try decode("# nothing yet\n").count, 0)
        XCTAssertEqual(try decode("---\n").count, 0)
        XCTAssertEqual(try decode("~\n").count, 0)
        XCTAssertEqual(try decode("[]\n").count, 0)
    }

    func testTopLevelMappingIsRejected() {
        let message = failure("name: llama-cpp\nuri: x\n")
        XCTAssertTrue(message.hasPrefix("gallery \"localai\": "), message)
        XCTAssertTrue(message.contains("not a list of backends"), message)
        XCTAssertTrue(message.contains("line 1, column 1"), message)
        XCTAssertTrue(message.hasSuffix("; fix the file or the gallery URL"), message)
        XCTAssertTrue(failure("just text\n").contains("not a list of backends"))
    }

    func testItemThatIsNotAMappingNamesItsLine() {
        let message = failure("- name: ok\n- just-a-string\n")
        XCTAssertTrue(message.contains("line 2, column 3"), message)
        XCTAssertTrue(message.contains("entry 2"), message)
        XCTAssertTrue(message.contains("not a mapping"), message)
    }

    func testBadYAMLNamesLineAndColumn() {
        let message = failure("- name: a\n  tags: [x, y\n- name: b\n")
        XCTAssertTrue(message.hasPrefix("gallery \"localai\": YAML error at line 3, column 7: did not find expected ',' or ']'"), message)
        XCTAssertTrue(message.hasSuffix("; fix the file or the gallery URL"), message)
    }

    func testWrongFieldShapesNameTheLine() {
        XCTAssertTrue(failure("- name: [a, b]\n").contains("line 1, column 9: \"name\" must be a string"))
        XCTAssertTrue(failure("- name: a\n  capabilities: [x]\n").contains("line 2, column 17"))
        XCTAssertTrue(failure("- name: a\n  capabilities:\n    default: {x: y}\n").contains("line 3, column 14"))
        XCTAssertTrue(failure("- name: a\n  tags: [[x]]\n").contains("line 2, column 10"))
        XCTAssertTrue(failure("- name: a\n  mirrors: {a: b}\n").contains("line 2, column 12"))
    }

    func testUnknownAliasAndLimitsSurfaceAsConfigurationErrors() throws {
        let message = failure("- !!merge <<: *nope\n  name: x\n")
        XCTAssertTrue(message.contains("line 1, column 15"), message)
        XCTAssertTrue(message.contains("*nope"), message)
        XCTAssertThrowsError(try GalleryEntry.decodeIndex(Array("- name: abc\n".utf8), gallery: gallery,
                                                          limits: YAMLLimits(maxInputBytes: 4)))
    }
}
