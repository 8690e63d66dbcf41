import XCTest
@testable import HangarEngine

/// Gallery lookups of LocalAI's gallery_test.go, and loading galleries with LocalAI's fallbacks (spec §1.5–1.6).
final class GalleryTests: XCTestCase {
    let a = GalleryConfig(name: "alpha", url: "file:///a.yaml")
    let b = GalleryConfig(name: "beta", url: "file:///b.yaml")

    func entry(_ name: String, _ gallery: GalleryConfig, description: String = "", tags: [String] = []) -> GalleryEntry {
        var e = GalleryEntry(name: name, gallery: gallery)
        e.description = description
        e.tags = tags
        return e
    }

    func testFindGalleryElementIsCaseInsensitiveFirstWinsAndHonoursGalleryPrefix() {
        let list = [entry("Foo", a, description: "first"), entry("foo", b, description: "second"), entry("org__model", a)]
        XCTAssertEqual(list.findGalleryElement("FOO")?.description, "first")
        XCTAssertEqual(list.findGalleryElement("beta@foo")?.description, "second")
        XCTAssertEqual(list.findGalleryElement("BETA@FOO")?.description, "second")
        XCTAssertNil(list.findGalleryElement("gamma@foo"))
        XCTAssertEqual(list.findGalleryElement("org/model")?.name, "org__model", "path separators match as __")
        XCTAssertEqual(list.findByName("FOO")?.gallery, a)
    }

    func testSearchMatchesFuzzyNameDescriptionGalleryAndTags() {
        let list = [entry("llama-cpp", a, description: "LLM inference", tags: ["LLM", "GPU"]),
                    entry("whisper", b, description: "speech to text", tags: ["STT"])]
        XCTAssertEqual(list.search("lcp").map(\.name), ["llama-cpp"], "fuzzy: characters in order")
        XCTAssertEqual(list.search("SPEECH").map(\.name), ["whisper"], "description, case-insensitive")
        XCTAssertEqual(list.search("beta").map(\.name), ["whisper"], "gallery name")
        XCTAssertEqual(list.search("llm,gpu").map(\.name), ["llama-cpp"], "joined tags")
        XCTAssertEqual(list.search("zzz"), [])
    }

    func testFilterByTagIsExactAndCaseInsensitive() {
        let list = [entry("x", a, tags: ["TTS"]), entry("y", a, tags: ["text-to-speech"])]
        XCTAssertEqual(list.filterByTag("tts").map(\.name), ["x"])
    }

    func testRealIndexMetaResolutionAgreesWithTheSpec() throws {
        let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("shared/fixtures/localai-backend-index.yaml").path
        guard let data = FileManager.default.contents(atPath: path) else {
            throw XCTSkip("../shared/fixtures is absent (\(path)); the fixture-based checks need it")
        }
        let entries = try GalleryEntry.decodeIndex([UInt8](data), gallery: GalleryConfig.localAIDefault[0])
        func resolve(_ meta: String, _ capability: String) -> String? {
            let cap = Capability(capability)
            let compatible = entries.filter { cap.isCompatible($0) }
            guard let e = entries.findGalleryElement(meta), let concrete = cap.resolvedConcrete(e.capabilities) else { return nil }
            return compatible.findByName(concrete)?.name
        }
        XCTAssertEqual(resolve("llama-cpp", "default"), "cpu-llama-cpp")
        XCTAssertEqual(resolve("llama-cpp", "nvidia"), "cuda12-llama-cpp")
        XCTAssertEqual(resolve("llama-cpp", "nvidia-cuda-13"), "cuda13-llama-cpp")
        XCTAssertEqual(resolve("llama-cpp", "amd"), "rocm-llama-cpp")
        XCTAssertEqual(resolve("llama-cpp", "intel"), "intel-sycl-f16-llama-cpp")
        XCTAssertEqual(resolve("llama-cpp", "metal"), "metal-llama-cpp")
        XCTAssertEqual(resolve("llama-cpp", "nvidia-l4t-cuda-12"), "nvidia-l4t-arm64-llama-cpp")
        XCTAssertEqual(resolve("kokoro", "default"), "cpu-kokoro", "the Kokoro meta keeps default: cpu-kokoro")
        XCTAssertNotNil(entries.findByName("cpu-kokoro").map(\.uri).flatMap { $0.isEmpty ? nil : $0 })
        // §2.4 quirk: voxtral lists metal-darwin-arm64 but not metal, so a Mac resolves it to default.
        let voxtral = try XCTUnwrap(entries.findGalleryElement("voxtral"))
        XCTAssertEqual(Capability("metal").resolve(voxtral.capabilities), "default")
        // Metas with neither default nor cpu are not installable on a CPU-only host.
        let transformers = try XCTUnwrap(entries.findGalleryElement("transformers"))
        XCTAssertFalse(Capability("default").isCompatible(transformers))
        // vllm has only `cpu` as its CPU key.
        let vllm = try XCTUnwrap(entries.findGalleryElement("vllm"))
        XCTAssertEqual(Capability("default").resolve(vllm.capabilities), "cpu")
    }

    // MARK: loading

    func testLoadsFileURLsAndPlainPathsAndPersistsTheLastKnownGoodCopy() throws {
        let f = try EngineFixture()
        try f.gallery("- {name: one, uri: /x}\n- {name: two, uri: /y}\n")
        let cacheDir = f.root + "/cache/gallery"
        let loader = GalleryLoader(cacheDirectory: cacheDir)
        let viaURL = GalleryConfig(name: "g", url: "file://" + f.galleryFile)
        let snapshot = loader.load([viaURL, GalleryConfig(name: "plain", url: f.galleryFile)])
        XCTAssertEqual(snapshot.entries.map(\.name), ["one", "two", "one", "two"])
        XCTAssertEqual(snapshot.entries[2].gallery.name, "plain")
        XCTAssertEqual(snapshot.statuses.map(\.entryCount), [2, 2])
        let cached = cacheDir + "/" + SHA256.hex(viaURL.url) + ".yaml"
        XCTAssertEqual(loader.cachePath(forURL: viaURL.url), cached)
        XCTAssertEqual(f.read(cached), f.read(f.galleryFile))
    }

    func testCachePathIsParentOfBackendsAndOnlyAbsolute() throws {
        let f = try EngineFixture()
        XCTAssertEqual(try f.configuration().galleryCacheDirectory, f.root + "/cache/gallery")
        XCTAssertNil(GalleryLoader(cacheDirectory: "relative/cache").cachePath(forURL: "x"))
    }

    func testUnreachableGalleryFallsBackToMirrorThenToCacheAndSaysHowOld() throws {
        let f = try EngineFixture()
        try f.gallery("- {name: from-mirror, uri: /x}\n")
        let cacheDir = f.root + "/cache/gallery"
        let gallery = GalleryConfig(name: "remote", url: "https://index.example/backends", mirrors: ["file://" + f.galleryFile])
        let loader = GalleryLoader(cacheDirectory: cacheDir)
        let first = loader.load([gallery])
        XCTAssertEqual(first.entries.map(\.name), ["from-mirror"])
        XCTAssertEqual(first.statuses[0].servedBy, "file://" + f.galleryFile)
        // The copy is keyed on the primary URL even though the mirror served it.
        XCTAssertNotNil(f.read(cacheDir + "/" + SHA256.hex(gallery.url) + ".yaml"))

        // Every source gone: a fresh loader (no memory cache) serves the disk copy and says how old it is.
        try FileManager.default.removeItem(atPath: f.galleryFile)
        let offline = GalleryLoader(cacheDirectory: cacheDir).load([gallery])
        XCTAssertEqual(offline.entries.map(\.name), ["from-mirror"])
        XCTAssertNotNil(offline.statuses[0].cacheAge)
        XCTAssertTrue(offline.statuses[0].error?.contains("all 2 source(s) for gallery \"remote\" failed") == true)

        // No cache either: LocalAI's error text, counted sources.
        let none = GalleryLoader(cacheDirectory: f.root + "/other-cache").load([gallery])
        XCTAssertEqual(none.entries, [])
        XCTAssertTrue(none.failures[0].contains("failed (2 configured, 0 skipped as recently failed) and no cached copy exists"),
                      none.failures[0])
    }

    func testFailedCandidatesCoolDownForTenMinutes() throws {
        let f = try EngineFixture()
        try f.gallery("- {name: ok, uri: /x}\n")
        let clock = ManualClock(1000)
        let loader = GalleryLoader(cacheDirectory: nil, now: { clock.now })
        let gallery = GalleryConfig(name: "g", url: "file://" + f.root + "/missing.yaml", mirrors: ["file://" + f.galleryFile])
        XCTAssertEqual(loader.load([gallery]).statuses[0].servedBy, "file://" + f.galleryFile)
        loader.invalidate()
        clock.now += 60
        try f.write(f.root + "/missing.yaml", "- {name: primary-back, uri: /x}\n")
        XCTAssertEqual(loader.load([gallery]).entries.map(\.name), ["ok"], "the primary is still cooling down")
        loader.invalidate()
        clock.now += 600
        XCTAssertEqual(loader.load([gallery]).entries.map(\.name), ["primary-back"], "cooldown expired")
    }

    func testUnparseableOrEmptyBodiesNeverReplaceTheCache() throws {
        let f = try EngineFixture()
        let cacheDir = f.root + "/cache"
        let gallery = GalleryConfig(name: "g", url: "file://" + f.galleryFile)
        try f.gallery("- {name: good, uri: /x}\n")
        _ = GalleryLoader(cacheDirectory: cacheDir).load([gallery])
        try f.gallery("<html>captive portal</html>")
        let broken = GalleryLoader(cacheDirectory: cacheDir).load([gallery])
        XCTAssertEqual(broken.entries.map(\.name), ["good"], "served from the last good copy")
        XCTAssertTrue(broken.statuses[0].error?.contains("not a list of backends") == true, broken.statuses[0].error ?? "")
        try f.gallery("")
        _ = GalleryLoader(cacheDirectory: cacheDir).load([gallery])
        XCTAssertEqual(f.read(cacheDir + "/" + SHA256.hex(gallery.url) + ".yaml"), "- {name: good, uri: /x}\n")
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: cacheDir).filter { $0.hasPrefix(".gallery-") }, [])
    }

    func testMalformedGalleryErrorNamesTheLine() throws {
        let f = try EngineFixture()
        try f.gallery("- name: ok\n  uri: /x\n- name: [unclosed\n")
        let snapshot = GalleryLoader(cacheDirectory: nil).load([GalleryConfig(name: "g", url: f.galleryFile)])
        XCTAssertTrue(snapshot.failures[0].contains("line"), snapshot.failures[0])
    }

    func testGithubAndHuggingFaceShorthands() {
        XCTAssertEqual(GalleryURL.resolve("github:mudler/LocalAI/backend/index.yaml@master"),
                       "https://raw.githubusercontent.com/mudler/LocalAI/master/backend/index.yaml")
        XCTAssertEqual(GalleryURL.resolve("github://org/repo/a/b.yaml"), "https://raw.githubusercontent.com/org/repo/main/a/b.yaml")
        XCTAssertEqual(GalleryURL.resolve("hf://owner/repo/file.yaml", environment: [:]),
                       "https://huggingface.co/owner/repo/resolve/main/file.yaml")
        XCTAssertEqual(GalleryURL.resolve("hf://owner/repo/file.yaml@dev", environment: ["HF_ENDPOINT": "https://mirror"]),
                       "https://mirror/owner/repo/resolve/dev/file.yaml")
        XCTAssertEqual(GalleryURL.resolve("https://x/y"), "https://x/y")
        XCTAssertEqual(GalleryURL.localPath("file:///srv/i.yaml"), "/srv/i.yaml")
        XCTAssertNil(GalleryURL.localPath("https://x/y"))
    }

    func testSHA256KnownVectors() {
        XCTAssertEqual(SHA256.hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        XCTAssertEqual(SHA256.hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        XCTAssertEqual(SHA256.hex(String(repeating: "a", count: 1000)),
                       "41edece42d63e8d9bf515a9ba6932e1c20cbc9f5a5d134645adb5db1b9737ea3")
    }
}

/// A settable clock for cooldown tests.
final class ManualClock: @unchecked Sendable {
    var now: Double
    init(_ now: Double) { self.now = now }
}
