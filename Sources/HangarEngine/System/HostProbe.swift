import Foundation

/// Everything capability detection reads from the host, held as plain values and paths so tests can
/// describe a fake machine (temp sysfs tree, temp PATH with fake tools) instead of the real one.
public struct HostProbe: Sendable {
    /// LocalAI's variable that forces the capability verbatim.
    public static let forceCapabilityVariable = "LOCALAI_FORCE_META_BACKEND_CAPABILITY"
    /// LocalAI's variable that relocates the capability run file.
    public static let runFileVariable = "LOCALAI_FORCE_META_BACKEND_CAPABILITY_RUN_FILE"
    public static let defaultRunFile = "/run/localai/capability"
    public static let cuda13Directory = "/usr/local/cuda-13"
    public static let cuda12Directory = "/usr/local/cuda-12"

    /// The process environment (also supplies `PATH` for tool lookups).
    public var environment: [String: String]
    /// Go's `runtime.GOOS` spelling: `linux`, `darwin`.
    public var os: String
    /// Go's `runtime.GOARCH` spelling: `amd64`, `arm64`.
    public var arch: String
    public var hasCUDA13Directory: Bool
    public var hasCUDA12Directory: Bool
    /// Root holding `card*/device/vendor` (normally `/sys/class/drm`).
    public var drmRoot: String
    /// Stand-in for LocalAI's Tegra/Spark/Thor SoC probe: this file existing on linux/arm64 means an
    /// NVIDIA SoC (Jetson images ship `/etc/nv_tegra_release`). nil skips the check.
    public var tegraReleaseFile: String?
    /// Fixed VRAM for tests; nil measures it (sysfs for AMD, `nvidia-smi` for NVIDIA).
    public var vramBytesOverride: UInt64?

    public init(environment: [String: String], os: String, arch: String,
                hasCUDA13Directory: Bool = false, hasCUDA12Directory: Bool = false,
                drmRoot: String = "/sys/class/drm", tegraReleaseFile: String? = nil,
                vramBytesOverride: UInt64? = nil) {
        self.environment = environment
        self.os = os
        self.arch = arch
        self.hasCUDA13Directory = hasCUDA13Directory
        self.hasCUDA12Directory = hasCUDA12Directory
        self.drmRoot = drmRoot
        self.tegraReleaseFile = tegraReleaseFile
        self.vramBytesOverride = vramBytesOverride
    }

    /// The real host, read now (LocalAI also evaluates the CUDA directories once at start).
    public static func live() -> HostProbe {
        #if os(macOS)
        let os = "darwin"
        #else
        let os = "linux"
        #endif
        #if arch(arm64)
        let arch = "arm64"
        #else
        let arch = "amd64"
        #endif
        return HostProbe(environment: ProcessInfo.processInfo.environment, os: os, arch: arch,
                         hasCUDA13Directory: isDirectory(cuda13Directory),
                         hasCUDA12Directory: isDirectory(cuda12Directory),
                         tegraReleaseFile: "/etc/nv_tegra_release")
    }

    /// The run file LocalAI consults (`LOCALAI_FORCE_META_BACKEND_CAPABILITY_RUN_FILE` or the default).
    public var capabilityRunFile: String {
        if let path = environment[Self.runFileVariable], !path.isEmpty { return path }
        return Self.defaultRunFile
    }

    /// The run file's raw content when it exists as a readable regular file (LocalAI: stat, then read).
    public func readCapabilityRunFile() -> String? {
        let path = capabilityRunFile
        guard !Self.isDirectory(path), let data = FileManager.default.contents(atPath: path) else { return nil }
        return String(decoding: data, as: UTF8.self)
    }

    /// `exec.LookPath` over the probe's `PATH`: the first regular executable file named `name`.
    public func executablePath(_ name: String) -> String? {
        guard let searchPath = environment["PATH"] else { return nil }
        for directory in searchPath.split(separator: ":", omittingEmptySubsequences: true) {
            let candidate = directory.hasSuffix("/") ? "\(directory)\(name)" : "\(directory)/\(name)"
            if !Self.isDirectory(candidate), FileManager.default.isExecutableFile(atPath: candidate) {
                return candidate
            }
        }
        return nil
    }

    /// GPU vendors found under the DRM root as `(card, vendor)`, cards in name order; connector
    /// entries (`card0-HDMI-A-1`) and unknown PCI vendors are skipped.
    public func sysfsGPUs() -> [(card: String, vendor: String)] {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: drmRoot) else { return [] }
        var found: [(card: String, vendor: String)] = []
        for name in names.sorted() where Self.isCardEntry(name) {
            guard let raw = Self.readTrimmed("\(drmRoot)/\(name)/device/vendor") else { continue }
            switch raw.lowercased() {
            case "0x10de": found.append((name, "nvidia"))
            case "0x1002": found.append((name, "amd"))
            case "0x8086": found.append((name, "intel"))
            default: continue
            }
        }
        return found
    }

    /// The GPU vendor in LocalAI's order (§2.2, without ghw): sysfs → vendor tools on PATH → Tegra
    /// → `vulkaninfo` → Apple → none. `evidence` says which probe decided, for the user.
    public func detectGPUVendor() -> (vendor: String, evidence: String) {
        let cards = sysfsGPUs()
        for vendor in ["nvidia", "amd", "intel"] {
            if let card = cards.first(where: { $0.vendor == vendor }) {
                return (vendor, "sysfs \(drmRoot)/\(card.card)")
            }
        }
        let tools: [(tool: String, vendor: String)] = [
            ("nvidia-smi", "nvidia"), ("rocm-smi", "amd"), ("xpu-smi", "intel"), ("intel_gpu_top", "intel"),
        ]
        for entry in tools {
            if let path = executablePath(entry.tool) { return (entry.vendor, "\(path) on PATH") }
        }
        if os == "linux", arch == "arm64", let tegra = tegraReleaseFile, FileManager.default.fileExists(atPath: tegra) {
            return ("nvidia", "NVIDIA SoC (\(tegra))")
        }
        if let path = executablePath("vulkaninfo") { return ("vulkan", "\(path) on PATH") }
        if os == "darwin", let path = executablePath("system_profiler") { return ("apple", "\(path) on PATH") }
        return ("", "no GPU found")
    }

    /// Best-effort total VRAM in bytes: AMD from sysfs `mem_info_vram_total`, NVIDIA from `nvidia-smi`
    /// (MiB per GPU, summed) when it is on PATH; 0 when unknown, which LocalAI treats as "too small".
    public func vramBytes(vendor: String) -> UInt64 {
        if let fixed = vramBytesOverride { return fixed }
        switch vendor {
        case "amd":
            var total: UInt64 = 0
            for card in sysfsGPUs() where card.vendor == "amd" {
                if let text = Self.readTrimmed("\(drmRoot)/\(card.card)/device/mem_info_vram_total"),
                   let bytes = UInt64(text) {
                    total += bytes
                }
            }
            return total
        case "nvidia":
            guard let tool = executablePath("nvidia-smi"),
                  let output = run(tool, ["--query-gpu=memory.total", "--format=csv,noheader,nounits"]) else { return 0 }
            var mebibytes: UInt64 = 0
            for line in output.split(whereSeparator: \.isNewline) {
                if let value = UInt64(line.trimmingCharacters(in: .whitespaces)) { mebibytes += value }
            }
            return mebibytes * 1024 * 1024
        default:
            return 0
        }
    }

    /// Runs a probe tool with a 5 s limit: a wedged GPU driver must not hang hangar.
    private func run(_ executable: String, _ arguments: [String]) -> String? {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.environment = environment
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        process.standardInput = FileHandle.nullDevice
        let finished = DispatchSemaphore(value: 0)
        process.terminationHandler = { _ in finished.signal() }
        do { try process.run() } catch { return nil }
        if finished.wait(timeout: .now() + 5) == .timedOut {
            process.terminate()
            return nil
        }
        guard process.terminationStatus == 0 else { return nil }
        let data = output.fileHandleForReading.readDataToEndOfFile()
        return String(decoding: data, as: UTF8.self)
    }

    static func isCardEntry(_ name: String) -> Bool {
        guard name.hasPrefix("card") else { return false }
        let suffix = name.dropFirst(4)
        return !suffix.isEmpty && suffix.allSatisfy { $0.isASCII && $0.isNumber }
    }

    static func isDirectory(_ path: String) -> Bool {
        var isDirectory: ObjCBool = false
        return FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) && isDirectory.boolValue
    }

    static func readTrimmed(_ path: String) -> String? {
        guard let data = FileManager.default.contents(atPath: path) else { return nil }
        return String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }
}
