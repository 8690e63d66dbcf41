import Foundation
import HangarFixtures
import XCTest
@testable import HangarEngine

/// The decoded-gallery cache: what it gives back is exactly what parsing gives, for LocalAI's real galleries, and
/// anything that does not match (another index, a damaged or truncated file) is ignored.
final class DecodedGalleryCacheTests: XCTestCase {
    private let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("shared/fixtures").path

    func testTheRealGalleriesComeBackExactlyAsParsed() throws {
        let names = ["localai-backend-index.yaml", "localai-backend-index-2026-01.yaml", "localai-backend-index-2025-06.yaml"]
        guard FileManager.default.fileExists(atPath: fixtures + "/" + names[0]) else {
            throw XCTSkip("../shared/fixtures is absent: the real galleries are not here")
        }
        let dir = try makeTemporaryDirectory("decoded-cache")
        defer { removeTree(dir) }
        let gallery = GalleryConfig(name: "localai", url: "file:///x")
        for name in names {
            let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: fixtures + "/" + name)))
            let parsed = try GalleryEntry.decodeIndex(bytes, gallery: gallery)
            let path = dir + "/" + name + DecodedGalleryCache.suffix
            DecodedGalleryCache.write(parsed, for: bytes, to: path)
            XCTAssertEqual(DecodedGalleryCache.read(path, for: bytes, gallery: gallery), parsed, name)
            var edited = bytes
            edited[edited.count / 2] ^= 0x01
            XCTAssertNil(DecodedGalleryCache.read(path, for: edited, gallery: gallery), "\(name): another index is never served")
        }
    }

    func testADamagedOrTruncatedCacheIsIgnoredAndTheLoaderParsesAgain() throws {
        let site = try LocalAISite("decoded-cache")
        let index = try site.gallery(yaml: "---\n- {name: piper, uri: /srv/piper, version: \"1\"}\n", name: "g")
        let configuration = try site.configuration(galleries: [index])
        let loader = GalleryLoader(cacheDirectory: configuration.galleryCacheDirectory)
        XCTAssertEqual(loader.load(configuration.galleries).entries.map(\.version), ["1"])
        let cache = try XCTUnwrap(loader.cachePath(forURL: configuration.galleries[0].url)) + DecodedGalleryCache.suffix
        XCTAssertTrue(FileManager.default.fileExists(atPath: cache), "the first load wrote the decoded cache")

        // The index changes: the cache made from the old bytes is not used.
        try write(path: index.path, text: "---\n- {name: piper, uri: /srv/piper, version: \"2\"}\n", mode: 0o644)
        XCTAssertEqual(GalleryLoader(cacheDirectory: configuration.galleryCacheDirectory).load(configuration.galleries).entries.map(\.version), ["2"])

        // A damaged cache (one byte of an entry changed) and a truncated one are both ignored.
        var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: cache)))
        if let i = bytes.lastIndex(of: UInt8(ascii: "2")) { bytes[i] = UInt8(ascii: "9") }
        try Data(bytes).write(to: URL(fileURLWithPath: cache))
        XCTAssertEqual(GalleryLoader(cacheDirectory: configuration.galleryCacheDirectory).load(configuration.galleries).entries.map(\.version), ["2"])
        try Data(bytes.prefix(bytes.count / 2)).write(to: URL(fileURLWithPath: cache))
        XCTAssertEqual(GalleryLoader(cacheDirectory: configuration.galleryCacheDirectory).load(configuration.galleries).entries.map(\.version), ["2"])
    }
}
