import Foundation
import HangarFixtures
import XCTest
@testable import HangarEngine

final class CapabilityTests: XCTestCase {
    private var root = ""

    override func setUpWithError() throws {
        root = try makeTemporaryDirectory("capability")
        try FileManager.default.createDirectory(atPath: root + "/bin", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: root + "/drm", withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        removeTree(root)
    }

    /// A machine with nothing on it: empty PATH and sysfs, no run file, unless told otherwise.
    private func probe(os: String = "linux", arch: String = "amd64", env: [String: String] = [:],
                       cuda13: Bool = false, cuda12: Bool = false, vram: UInt64? = nil,
                       tegra: String? = nil) -> HostProbe {
        var environment = ["PATH": root + "/bin", HostProbe.runFileVariable: root + "/no-run-file"]
        environment.merge(env) { $1 }
        return HostProbe(environment: environment, os: os, arch: arch, hasCUDA13Directory: cuda13,
                         hasCUDA12Directory: cuda12, drmRoot: root + "/drm", tegraReleaseFile: tegra,
                         vramBytesOverride: vram)
    }

    private func card(_ name: String, vendor: String, vram: UInt64? = nil) throws {
        let device = "\(root)/drm/\(name)/device"
        try FileManager.default.createDirectory(atPath: device, withIntermediateDirectories: true)
        try "\(vendor)\n".write(toFile: device + "/vendor", atomically: true, encoding: .utf8)
        if let vram { try "\(vram)\n".write(toFile: device + "/mem_info_vram_total", atomically: true, encoding: .utf8) }
    }

    private func tool(_ name: String, script: String = "exit 0", executable: Bool = true) throws {
        let path = "\(root)/bin/\(name)"
        try "#!/bin/sh\n\(script)\n".write(toFile: path, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: executable ? 0o755 : 0o644], ofItemAtPath: path)
    }

    private func detect(_ probe: HostProbe, forced: String? = nil) -> String {
        CapabilityReport.detect(probe: probe, forced: forced).value
    }

    private let gib: UInt64 = 1 << 30

    // MARK: Capability algorithm (§2.3)

    func testCapabilityTable() throws {
        try card("card0", vendor: "0x10de")
        XCTAssertEqual(detect(probe(vram: 8 * gib)), "nvidia")
        XCTAssertEqual(detect(probe(cuda12: true, vram: 8 * gib)), "nvidia-cuda-12")
        XCTAssertEqual(detect(probe(cuda13: true, cuda12: true, vram: 8 * gib)), "nvidia-cuda-13", "13 preferred over 12")
        XCTAssertEqual(detect(probe(cuda13: true, vram: 4 * gib)), "default", "exactly 4 GiB is too small")
        XCTAssertEqual(detect(probe(cuda13: true, vram: 0)), "default", "unknown VRAM counts as too small")
        XCTAssertEqual(detect(probe(cuda13: true, vram: 4 * gib + 1)), "nvidia-cuda-13")
    }

    func testCUDADirectoriesIgnoredWithoutNVIDIA() throws {
        XCTAssertEqual(detect(probe(cuda13: true, cuda12: true, vram: 16 * gib)), "default", "no GPU")
        try card("card0", vendor: "0x1002")
        XCTAssertEqual(detect(probe(cuda13: true, cuda12: true, vram: 16 * gib)), "amd", "AMD ignores CUDA dirs")
    }

    func testIntelAndVulkanVendorsAreUsedVerbatim() throws {
        try card("card0", vendor: "0x8086")
        XCTAssertEqual(detect(probe(vram: 8 * gib)), "intel")
        try FileManager.default.removeItem(atPath: root + "/drm/card0")
        try tool("vulkaninfo")
        XCTAssertEqual(detect(probe(vram: 8 * gib)), "vulkan")
        XCTAssertEqual(detect(probe(vram: 2 * gib)), "default")
    }

    func testArm64NVIDIAUsesL4TVariantsWithoutVRAMCheck() throws {
        try card("card0", vendor: "0x10de")
        XCTAssertEqual(detect(probe(arch: "arm64", vram: 0)), "nvidia-l4t")
        XCTAssertEqual(detect(probe(arch: "arm64", cuda12: true, vram: 0)), "nvidia-l4t-cuda-12")
        XCTAssertEqual(detect(probe(arch: "arm64", cuda13: true, cuda12: true, vram: 0)), "nvidia-l4t-cuda-13")
    }

    func testTegraReleaseFileMeansNVIDIAOnArm64Only() throws {
        let tegra = root + "/nv_tegra_release"
        try "# R36 (release)\n".write(toFile: tegra, atomically: true, encoding: .utf8)
        XCTAssertEqual(detect(probe(arch: "arm64", cuda12: true, tegra: tegra)), "nvidia-l4t-cuda-12")
        XCTAssertEqual(detect(probe(arch: "amd64", vram: 8 * gib, tegra: tegra)), "default")
    }

    func testDarwinIgnoresHardware() throws {
        try card("card0", vendor: "0x10de")
        XCTAssertEqual(detect(probe(os: "darwin", arch: "arm64", cuda13: true, vram: 64 * gib)), "metal")
        XCTAssertEqual(detect(probe(os: "darwin", arch: "amd64", vram: 64 * gib)), "darwin-x86")
    }

    func testRunFileTrimmedAndBeatsDetection() throws {
        let runFile = root + "/capability"
        try "  nvidia-cuda-12\n\n".write(toFile: runFile, atomically: true, encoding: .utf8)
        let report = CapabilityReport.detect(
            probe: probe(os: "darwin", arch: "arm64", env: [HostProbe.runFileVariable: runFile]), forced: nil)
        XCTAssertEqual(report.value, "nvidia-cuda-12")
        XCTAssertEqual(report.source, .runFile(path: runFile))
        XCTAssertEqual(report.explanation, "read from \(runFile)")
    }

    func testRunFileThatIsADirectoryIsIgnored() {
        XCTAssertEqual(detect(probe(env: [HostProbe.runFileVariable: root + "/bin"])), "default")
    }

    func testEnvironmentForcesVerbatimIncludingDisable() throws {
        let runFile = root + "/capability"
        try "amd".write(toFile: runFile, atomically: true, encoding: .utf8)
        let env = [HostProbe.forceCapabilityVariable: "disable", HostProbe.runFileVariable: runFile]
        let report = CapabilityReport.detect(probe: probe(env: env), forced: nil)
        XCTAssertEqual(report.value, "disable")
        XCTAssertEqual(report.source, .environment(variable: HostProbe.forceCapabilityVariable))
        XCTAssertTrue(report.capability.filterDisabled)
        XCTAssertEqual(detect(probe(env: [HostProbe.forceCapabilityVariable: " My-Cap "])), " My-Cap ")
        XCTAssertEqual(detect(probe(env: [HostProbe.forceCapabilityVariable: ""])), "default", "empty = unset")
    }

    func testFlagBeatsEnvironment() {
        let env = [HostProbe.forceCapabilityVariable: "amd"]
        let report = CapabilityReport.detect(probe: probe(env: env), forced: "nvidia-cuda-13")
        XCTAssertEqual(report, CapabilityReport(value: "nvidia-cuda-13", source: .flag))
        XCTAssertEqual(report.explanation, "forced by --capability")
        XCTAssertEqual(detect(probe(env: env), forced: ""), "amd", "an empty flag is unset")
    }

    func testDetectionReportsWhy() throws {
        try card("card1", vendor: "0x10de")
        let report = CapabilityReport.detect(probe: probe(cuda13: true, vram: 24 * gib), forced: nil)
        guard case .detected(let detection) = report.source else { return XCTFail("\(report)") }
        XCTAssertEqual(detection.vendor, "nvidia")
        XCTAssertEqual(detection.vendorEvidence, "sysfs \(root)/drm/card1")
        XCTAssertEqual(detection.vramBytes, 24 * gib)
        XCTAssertEqual(detection.cudaDirectory, "/usr/local/cuda-13")
        XCTAssertEqual(report.explanation,
                       "detected: nvidia GPU (sysfs \(root)/drm/card1) with 24.0 GiB VRAM and /usr/local/cuda-13")
        let small = CapabilityReport.detect(probe: probe(vram: 2 * gib), forced: nil)
        XCTAssertTrue(small.explanation.contains("only 2.0 GiB VRAM"), small.explanation)
    }

    // MARK: Vendor detection

    func testSysfsSkipsConnectorsAndHonoursPriority() throws {
        try card("card0", vendor: "0x8086")
        try card("card0-DP-1", vendor: "0x10de")
        try card("renderD128", vendor: "0x10de")
        XCTAssertEqual(probe().detectGPUVendor().vendor, "intel", "connector and render entries skipped")
        try card("card2", vendor: "0x1002")
        XCTAssertEqual(probe().detectGPUVendor().vendor, "amd", "amd beats intel")
        try card("card3", vendor: "0x10DE")
        XCTAssertEqual(probe().detectGPUVendor().vendor, "nvidia", "nvidia beats amd")
        XCTAssertEqual(probe().sysfsGPUs().map(\.card), ["card0", "card2", "card3"])
    }

    func testAMDVRAMFromSysfs() throws {
        try card("card0", vendor: "0x1002", vram: 8 * gib)
        try card("card1", vendor: "0x1002", vram: 2 * gib)
        XCTAssertEqual(probe().vramBytes(vendor: "amd"), 10 * gib)
        XCTAssertEqual(detect(probe()), "amd")
    }

    func testToolsOnPath() throws {
        try tool("intel_gpu_top")
        XCTAssertEqual(probe().detectGPUVendor().vendor, "intel")
        try tool("rocm-smi")
        XCTAssertEqual(probe().detectGPUVendor().vendor, "amd")
        try tool("nvidia-smi", script: "echo 8192; echo ' 4096'")
        let found = probe().detectGPUVendor()
        XCTAssertEqual(found.vendor, "nvidia")
        XCTAssertEqual(found.evidence, "\(root)/bin/nvidia-smi on PATH")
        XCTAssertEqual(probe().vramBytes(vendor: "nvidia"), 12 * gib, "nvidia-smi MiB summed")
        XCTAssertEqual(detect(probe(cuda12: true)), "nvidia-cuda-12")
    }

    func testSysfsBeatsToolsAndNonExecutablesAreIgnored() throws {
        try tool("nvidia-smi", executable: false)
        try tool("vulkaninfo")
        XCTAssertEqual(probe().detectGPUVendor().vendor, "vulkan")
        try card("card0", vendor: "0x1002")
        try tool("xpu-smi")
        XCTAssertEqual(probe().detectGPUVendor().vendor, "amd")
        XCTAssertEqual(probe().vramBytes(vendor: "nvidia"), 0, "nvidia-smi not executable")
    }

    func testNoPathMeansNoTools() {
        var bare = probe()
        bare.environment["PATH"] = nil
        XCTAssertNil(bare.executablePath("sh"))
        XCTAssertEqual(bare.detectGPUVendor().vendor, "")
    }

    // MARK: Compatibility (§2.5)

    private let builds: [String: (name: String, uri: String)] = [
        "metal": ("metal-llama-cpp", "quay.io/go-skynet/local-ai-backends:latest-metal-darwin-arm64-llama-cpp"),
        "mlx": ("mlx", "quay.io/go-skynet/local-ai-backends:latest-metal-darwin-arm64-mlx"),
        "cuda13": ("cuda13-llama-cpp", "quay.io/go-skynet/local-ai-backends:latest-gpu-nvidia-cuda-13-llama-cpp"),
        "l4t": ("nvidia-l4t-arm64-llama-cpp", "quay.io/go-skynet/local-ai-backends:latest-nvidia-l4t-arm64-llama-cpp"),
        "rocm": ("rocm-llama-cpp", "quay.io/go-skynet/local-ai-backends:latest-gpu-rocm-hipblas-llama-cpp"),
        "hip": ("hip-thing", "example.org/hip:1"),
        "sycl": ("intel-sycl-f16-llama-cpp", "quay.io/go-skynet/local-ai-backends:latest-gpu-intel-sycl-f16-llama-cpp"),
        "vulkan": ("vulkan-llama-cpp", "quay.io/go-skynet/local-ai-backends:latest-gpu-vulkan-llama-cpp"),
        "cpu": ("cpu-llama-cpp", "quay.io/go-skynet/local-ai-backends:latest-cpu-llama-cpp"),
    ]

    private func compatible(_ capability: String) -> Set<String> {
        Set(builds.filter { Capability(capability).isBackendCompatible(name: $0.value.name, uri: $0.value.uri) }.keys)
    }

    func testCompatibilityTable() {
        let cpuLike: Set = ["vulkan", "cpu"]
        XCTAssertEqual(compatible("metal"), cpuLike.union(["metal", "mlx"]))
        XCTAssertEqual(compatible("darwin-x86"), cpuLike.union(["metal", "mlx"]))
        XCTAssertEqual(compatible("nvidia-cuda-13"), cpuLike.union(["cuda13"]))
        XCTAssertEqual(compatible("nvidia"), cpuLike.union(["cuda13"]))
        XCTAssertEqual(compatible("nvidia-l4t-cuda-12"), cpuLike.union(["l4t", "cuda13"]), "l4t checked before cuda")
        XCTAssertEqual(compatible("amd"), cpuLike.union(["rocm", "hip"]))
        XCTAssertEqual(compatible("intel"), cpuLike.union(["sycl"]))
        XCTAssertEqual(compatible("vulkan"), cpuLike)
        XCTAssertEqual(compatible("default"), cpuLike)
        XCTAssertEqual(compatible("my-weird-gpu"), cpuLike, "unknown forced capability: only CPU-like builds")
        XCTAssertEqual(compatible("disable"), Set(builds.keys))
        XCTAssertTrue(Capability("amd").isBackendCompatible(name: "x", uri: "REGISTRY/ROCM-IMAGE"), "case-insensitive")
    }

    // MARK: Meta resolution (§2.4)

    private let gallery = GalleryConfig(name: "localai", url: "https://index.localai.io/backends")

    private func meta(_ pairs: [(String, String)]) -> GalleryEntry {
        var entry = GalleryEntry(name: "llama-cpp", gallery: gallery)
        entry.capabilities = pairs.map { CapabilityMapping(capability: $0.0, concrete: $0.1) }
        return entry
    }

    func testMetaResolution() {
        let full = meta([("default", "cpu-llama-cpp"), ("nvidia", "cuda12-llama-cpp"),
                         ("nvidia-cuda-13", "cuda13-llama-cpp"), ("metal", "metal-llama-cpp"),
                         ("amd", "rocm-llama-cpp"), ("intel", "intel-sycl-f16-llama-cpp"),
                         ("vulkan", "vulkan-llama-cpp")])
        let expectations = [
            "nvidia-cuda-13": "cuda13-llama-cpp", "nvidia": "cuda12-llama-cpp", "metal": "metal-llama-cpp",
            "amd": "rocm-llama-cpp", "intel": "intel-sycl-f16-llama-cpp", "vulkan": "vulkan-llama-cpp",
            "default": "cpu-llama-cpp", "darwin-x86": "cpu-llama-cpp",
        ]
        for (capability, concrete) in expectations {
            XCTAssertEqual(Capability(capability).resolvedConcrete(full.capabilities), concrete, capability)
            XCTAssertTrue(Capability(capability).isCompatible(full), capability)
        }
    }

    func testMetaResolutionHasNoVendorPrefixFallback() {
        let entry = meta([("nvidia", "cuda12-whisper"), ("default", "cpu-whisper")])
        XCTAssertEqual(Capability("nvidia-cuda-13").resolve(entry.capabilities), "default")
        XCTAssertEqual(Capability("nvidia-cuda-13").resolvedConcrete(entry.capabilities), "cpu-whisper")
        let voxtral = meta([("metal-darwin-arm64", "metal-voxtral"), ("default", "cpu-voxtral")])
        XCTAssertEqual(Capability("metal").resolvedConcrete(voxtral.capabilities), "cpu-voxtral")
    }

    func testMetaFallsBackToCPUThenUncompatible() {
        let cpuOnly = meta([("cpu", "cpu-thing"), ("nvidia", "cuda-thing")])
        XCTAssertEqual(Capability("amd").resolve(cpuOnly.capabilities), "cpu")
        XCTAssertTrue(Capability("amd").isCompatible(cpuOnly))
        let gpuOnly = meta([("nvidia", "cuda-thing")])
        XCTAssertEqual(Capability("amd").resolve(gpuOnly.capabilities), "default")
        XCTAssertNil(Capability("amd").resolvedConcrete(gpuOnly.capabilities))
        XCTAssertFalse(Capability("amd").isCompatible(gpuOnly))
        XCTAssertTrue(Capability("nvidia").isCompatible(gpuOnly))
        XCTAssertTrue(Capability("disable").isCompatible(gpuOnly))
    }

    func testConcreteEntryCompatibility() {
        var concrete = GalleryEntry(name: "cuda13-llama-cpp", gallery: gallery)
        concrete.uri = "quay.io/go-skynet/local-ai-backends:latest-gpu-nvidia-cuda-13-llama-cpp"
        concrete.capabilities = [CapabilityMapping(capability: "default", concrete: "x")]
        XCTAssertFalse(concrete.isMeta, "a uri makes it concrete even with capabilities")
        XCTAssertFalse(Capability("default").isCompatible(concrete))
        XCTAssertTrue(Capability("nvidia-cuda-13").isCompatible(concrete))
        XCTAssertTrue(Capability("disable").isCompatible(concrete))
    }

    // MARK: Preference tokens (§2.6)

    func testPreferenceTokens() {
        let table: [String: [String]] = [
            "nvidia": ["cuda", "vulkan", "cpu"],
            "nvidia-cuda-13": ["cuda", "vulkan", "cpu"],
            "nvidia-l4t-cuda-12": ["cuda", "vulkan", "cpu"],
            "NVIDIA-CUDA-12": ["cuda", "vulkan", "cpu"],
            "amd": ["rocm", "hip", "vulkan", "cpu"],
            "amd-rocm-6": ["rocm", "hip", "vulkan", "cpu"],
            "intel": ["sycl", "intel", "cpu"],
            "metal": ["metal", "cpu"],
            "metal-darwin-arm64": ["metal", "cpu"],
            "darwin-x86": ["darwin-x86", "cpu"],
            "vulkan": ["vulkan", "cpu"],
            "default": ["cpu"],
            "disable": ["cpu"],
            "": ["cpu"],
        ]
        for (capability, tokens) in table {
            XCTAssertEqual(Capability(capability).preferenceTokens, tokens, capability)
        }
    }
}
