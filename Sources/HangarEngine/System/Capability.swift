import CHangarSystem
import Foundation

/// LocalAI's capability string (`default`, `nvidia-cuda-13`, `metal`, a forced value, ...) and the
/// rules that depend on it: meta resolution, compatibility filtering and alias preference.
public struct Capability: Sendable, Equatable, Hashable, CustomStringConvertible {
    public static let defaultValue = "default"
    /// Forcing this value turns the compatibility filter off.
    public static let disabledValue = "disable"

    public let value: String

    public init(_ value: String) { self.value = value }

    public var description: String { value }

    /// `LOCALAI_FORCE_META_BACKEND_CAPABILITY=disable`: every entry counts as compatible.
    public var filterDisabled: Bool { value == Self.disabledValue }

    /// LocalAI's `Capability(capMap)` (§2.4): the key a meta entry resolves to. There is deliberately no
    /// vendor-prefix fallback (`nvidia-cuda-13` does not fall back to `nvidia`), so hangar picks the
    /// same build LocalAI would; the result may be absent from the map (meta then not installable).
    public func resolve(_ map: [CapabilityMapping]) -> String {
        if map.contains(where: { $0.capability == value }) { return value }
        if map.contains(where: { $0.capability == Self.defaultValue }) { return Self.defaultValue }
        if map.contains(where: { $0.capability == "cpu" }) { return "cpu" }
        return Self.defaultValue
    }

    /// The concrete entry name a meta map resolves to, if the resolved key is present.
    public func resolvedConcrete(_ map: [CapabilityMapping]) -> String? {
        let key = resolve(map)
        return map.first { $0.capability == key }?.concrete
    }

    /// LocalAI's `IsBackendCompatible` (§2.5): substring rules on `lower(name + " " + uri)`, first match wins.
    public func isBackendCompatible(name: String, uri: String) -> Bool {
        if filterDisabled { return true }
        // Byte-level search in a lower-cased copy on the stack: this runs twice for every gallery entry on every
        // listing, where String.contains and a heap copy per call showed up.
        let count = name.utf8.count + 1 + uri.utf8.count
        return withUnsafeTemporaryAllocation(of: UInt8.self, capacity: count) { buffer in
            var i = 0
            for byte in name.utf8 { buffer[i] = byte >= 0x41 && byte <= 0x5A ? byte | 0x20 : byte; i += 1 }
            buffer[i] = 0x20
            i += 1
            for byte in uri.utf8 { buffer[i] = byte >= 0x41 && byte <= 0x5A ? byte | 0x20 : byte; i += 1 }
            let haystack = UnsafeRawBufferPointer(UnsafeBufferPointer(rebasing: buffer[0..<count]))
            func has(_ needle: StaticString) -> Bool {
                needle.withUTF8Buffer { n in hangar_contains_bytes(haystack.baseAddress, haystack.count, n.baseAddress, n.count) != 0 }
            }
            if has("darwin") || has("mlx") || has("metal") { return value == "metal" || value == "darwin-x86" }
            if has("l4t") { return value.hasPrefix("nvidia-l4t") }
            if has("cuda") || has("nvidia") { return value.hasPrefix("nvidia") }
            if has("rocm") || has("hip") || has("amd") { return value == "amd" }
            if has("sycl") || has("intel") { return value == "intel" }
            return true
        }
    }

    /// `GalleryBackend.IsCompatibleWith`: a meta needs its resolved key in its map; a concrete build
    /// must pass ``isBackendCompatible(name:uri:)``.
    public func isCompatible(_ entry: GalleryEntry) -> Bool {
        if filterDisabled { return true }
        if entry.isMeta {
            let key = resolve(entry.capabilities)
            return entry.capabilities.contains { $0.capability == key }
        }
        return isBackendCompatible(name: entry.name, uri: entry.uri)
    }

    /// `BackendPreferenceTokens` (§2.6): substrings of installed directory names, best first, chosen by
    /// lower-cased prefix so every `nvidia-*` variant prefers CUDA builds.
    public var preferenceTokens: [String] {
        let lowered = value.lowercased()
        if lowered.hasPrefix("nvidia") { return ["cuda", "vulkan", "cpu"] }
        if lowered.hasPrefix("amd") { return ["rocm", "hip", "vulkan", "cpu"] }
        if lowered.hasPrefix("intel") { return ["sycl", "intel", "cpu"] }
        if lowered.hasPrefix("metal") { return ["metal", "cpu"] }
        if lowered.hasPrefix("darwin-x86") { return ["darwin-x86", "cpu"] }
        if lowered.hasPrefix("vulkan") { return ["vulkan", "cpu"] }
        return ["cpu"]
    }
}

/// The capability in effect and why, so the UI can tell the user where it came from.
public struct CapabilityReport: Sendable, Equatable {
    /// Where the value came from, highest precedence first.
    public enum Source: Sendable, Equatable {
        /// hangar's own `--capability` flag.
        case flag
        /// `LOCALAI_FORCE_META_BACKEND_CAPABILITY`.
        case environment(variable: String)
        /// The capability run file (official images write it at build time).
        case runFile(path: String)
        /// Computed from the hardware.
        case detected(Detection)
    }

    /// What hardware detection saw.
    public struct Detection: Sendable, Equatable {
        public var os: String
        public var arch: String
        /// `nvidia`, `amd`, `intel`, `vulkan`, `apple`, or "" (none / not probed on macOS).
        public var vendor: String
        /// Which probe found the vendor (e.g. `sysfs /sys/class/drm/card0`).
        public var vendorEvidence: String
        /// nil when the algorithm never needed it.
        public var vramBytes: UInt64?
        /// The CUDA directory that chose the variant, if any.
        public var cudaDirectory: String?
        /// One line: why this value.
        public var reason: String

        public init(os: String, arch: String, vendor: String = "", vendorEvidence: String = "",
                    vramBytes: UInt64? = nil, cudaDirectory: String? = nil, reason: String) {
            self.os = os
            self.arch = arch
            self.vendor = vendor
            self.vendorEvidence = vendorEvidence
            self.vramBytes = vramBytes
            self.cudaDirectory = cudaDirectory
            self.reason = reason
        }
    }

    public var value: String
    public var source: Source

    public init(value: String, source: Source) {
        self.value = value
        self.source = source
    }

    public var capability: Capability { Capability(value) }

    /// One line for the UI, e.g. `forced by LOCALAI_FORCE_META_BACKEND_CAPABILITY`.
    public var explanation: String {
        switch source {
        case .flag: return "forced by --capability"
        case .environment(let variable): return "forced by \(variable)"
        case .runFile(let path): return "read from \(path)"
        case .detected(let detection): return "detected: \(detection.reason)"
        }
    }

    static let lowVRAMLimit: UInt64 = 4 * 1024 * 1024 * 1024

    /// LocalAI's `getSystemCapabilities` (§2.3) in its exact order, with hangar's `--capability`
    /// (`forced`, empty = unset) ahead of everything.
    public static func detect(probe: HostProbe, forced: String?) -> CapabilityReport {
        if let forced, !forced.isEmpty { return CapabilityReport(value: forced, source: .flag) }
        let variable = HostProbe.forceCapabilityVariable
        if let value = probe.environment[variable], !value.isEmpty {
            return CapabilityReport(value: value, source: .environment(variable: variable))
        }
        if let content = probe.readCapabilityRunFile() {
            // Even an empty file wins, as in LocalAI: the capability is then "" (only CPU-like builds match).
            let trimmed = content.trimmingCharacters(in: .whitespacesAndNewlines)
            return CapabilityReport(value: trimmed, source: .runFile(path: probe.capabilityRunFile))
        }
        var detection = Detection(os: probe.os, arch: probe.arch, reason: "")
        func detected(_ value: String, _ reason: String) -> CapabilityReport {
            detection.reason = reason
            return CapabilityReport(value: value, source: .detected(detection))
        }
        let platform = "\(probe.os)/\(probe.arch)"
        if probe.os == "darwin" && probe.arch == "arm64" { return detected("metal", "\(platform) always uses metal") }
        if probe.os == "darwin" && probe.arch == "amd64" { return detected("darwin-x86", "\(platform) always uses darwin-x86") }

        let (vendor, evidence) = probe.detectGPUVendor()
        detection.vendor = vendor
        detection.vendorEvidence = evidence
        let cudaDirectory = probe.hasCUDA13Directory ? HostProbe.cuda13Directory
            : probe.hasCUDA12Directory ? HostProbe.cuda12Directory : nil
        let gpu = "\(vendor) GPU (\(evidence))"

        if probe.os == "linux" && probe.arch == "arm64" && vendor == "nvidia" {
            detection.cudaDirectory = cudaDirectory
            let suffix = probe.hasCUDA13Directory ? "-cuda-13" : probe.hasCUDA12Directory ? "-cuda-12" : ""
            let because = cudaDirectory.map { " and \($0)" } ?? ", no /usr/local/cuda-13 or -12"
            return detected("nvidia-l4t" + suffix, "\(gpu) on \(platform)\(because)")
        }
        if vendor.isEmpty { return detected(Capability.defaultValue, "no GPU found") }

        let vram = probe.vramBytes(vendor: vendor)
        detection.vramBytes = vram
        if vram <= lowVRAMLimit {
            let amount = vram == 0 ? "unknown VRAM" : "only \(Self.gibibytes(vram)) VRAM"
            return detected(Capability.defaultValue, "\(gpu) with \(amount) (4 GiB or less uses CPU builds)")
        }
        if vendor == "nvidia" {
            detection.cudaDirectory = cudaDirectory
            let suffix = probe.hasCUDA13Directory ? "-cuda-13" : probe.hasCUDA12Directory ? "-cuda-12" : ""
            let because = cudaDirectory.map { " and \($0)" } ?? ", no /usr/local/cuda-13 or -12"
            return detected("nvidia" + suffix, "\(gpu) with \(Self.gibibytes(vram)) VRAM\(because)")
        }
        return detected(vendor, "\(gpu) with \(Self.gibibytes(vram)) VRAM")
    }

    /// `24.0 GiB`, one decimal, without Foundation formatting.
    static func gibibytes(_ bytes: UInt64) -> String {
        let tenths = (bytes * 10 + (1 << 29)) >> 30
        return "\(tenths / 10).\(tenths % 10) GiB"
    }
}
