import XCTest
@testable import HangarEngine

/// metadata.json as LocalAI writes it: `json.MarshalIndent(v, "", "  ")`, fields in struct order, omitempty.
final class MetadataTests: XCTestCase {
    func testEncodingMatchesGoMarshalIndentByteForByte() {
        let m = BackendMetadata(alias: "llama-cpp", name: "cpu-llama-cpp", galleryURL: "https://index.localai.io/backends",
                                installedAt: "2026-08-22T22:44:03+02:00",
                                uri: "quay.io/go-skynet/local-ai-backends:latest-cpu-llama-cpp", digest: "sha256:abc")
        XCTAssertEqual(m.encoded(), """
            {
              "alias": "llama-cpp",
              "name": "cpu-llama-cpp",
              "gallery_url": "https://index.localai.io/backends",
              "installed_at": "2026-08-22T22:44:03+02:00",
              "uri": "quay.io/go-skynet/local-ai-backends:latest-cpu-llama-cpp",
              "digest": "sha256:abc"
            }
            """)
    }

    func testMetaMetadataAndEmptyFields() {
        let meta = BackendMetadata(metaBackendFor: "cpu-llama-cpp", name: "llama-cpp", galleryURL: "g", installedAt: "t")
        XCTAssertEqual(meta.encoded(), "{\n  \"meta_backend_for\": \"cpu-llama-cpp\",\n  \"name\": \"llama-cpp\",\n  \"gallery_url\": \"g\",\n  \"installed_at\": \"t\"\n}")
        XCTAssertEqual(BackendMetadata().encoded(), "{}")
    }

    func testGoHTMLEscapingInValues() {
        XCTAssertEqual(BackendMetadata(name: "a<b>&c").encoded(), "{\n  \"name\": \"a\\u003cb\\u003e\\u0026c\"\n}")
    }

    func testDecodeIgnoresUnknownKeysAndRoundTrips() throws {
        let text = "{\"name\":\"x\",\"version\":\"1.2\",\"extra\":{\"nested\":[1,2]},\"digest\":null}"
        let m = try BackendMetadata.decode(Array(text.utf8))
        XCTAssertEqual(m, BackendMetadata(name: "x", version: "1.2"))
        XCTAssertEqual(try BackendMetadata.decode(Array(m.encoded().utf8)), m)
    }

    func testDecodeRejectsWrongTypesAndNonObjects() {
        XCTAssertThrowsError(try BackendMetadata.decode(Array("{\"version\": 2}".utf8)))
        XCTAssertThrowsError(try BackendMetadata.decode(Array("[]".utf8)))
        XCTAssertThrowsError(try BackendMetadata.decode(Array("{".utf8)))
    }

    func testRFC3339LocalTimeFormat() {
        let saved = getenv("TZ").map { String(cString: $0) }
        defer {
            if let saved { setenv("TZ", saved, 1) } else { unsetenv("TZ") }
            tzset()
        }
        setenv("TZ", "UTC", 1); tzset()
        XCTAssertEqual(RFC3339.format(0), "1970-01-01T00:00:00Z")
        setenv("TZ", "Europe/Berlin", 1); tzset()
        XCTAssertEqual(RFC3339.format(1_787_424_243), "2026-08-22T20:44:03+02:00")
        setenv("TZ", "America/St_Johns", 1); tzset()
        XCTAssertEqual(RFC3339.format(0), "1969-12-31T20:30:00-03:30")
    }
}
