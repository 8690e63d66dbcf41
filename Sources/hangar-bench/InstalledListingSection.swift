import Foundation
import HangarEngine

/// Section 2: listing 1,000 installed backends (LocalAI's algorithm) against the raw I/O it cannot avoid.
struct InstalledListingSection: BenchSection {
    let id = "installed_listing"
    let title = "list 1,000 installed backends vs raw readdir + read of every metadata.json"
    let backendCount = 1_000
    /// Absolute goal for one listing, in milliseconds.
    let goal = 50.0

    func run(_ options: BenchOptions) throws -> BenchReport {
        let root = NSTemporaryDirectory() + "hangar-bench-\(getpid())"
        let backends = root + "/backends"
        defer { try? FileManager.default.removeItem(atPath: root) }
        try makeInstallation(backends)

        var raw = Timing(id: "raw", "a) readdir + stat run.sh + read metadata.json")
        var list = Timing(id: "list", "b) InstalledBackends.list")
        var rows = 0
        for _ in 0..<3 {
            _ = try rawScan(backends)
            rows = try listOnce(backends, system: root + "/system")
        }
        for _ in 0..<options.iterations {
            _ = try raw.measure { try rawScan(backends) }
            rows = try list.measure { try listOnce(backends, system: root + "/system") }
        }
        var report = BenchReport(id: id, section: title)
        report.timings = [raw, list]
        report.checks = [
            BenchCheck(id: "list_ms", label: "b) median", value: list.median, goal: goal, unit: " ms"),
        ]
        report.facts = [
            ("backends", "\(backendCount) directories (every 10th a meta, every 5th shares an alias)"),
            ("rows listed", "\(rows)"),
            ("ratio b/a (median)", format(list.median / raw.median) + "×"),
        ]
        return report
    }

    private func listOnce(_ backends: String, system: String) throws -> Int {
        try InstalledBackends.list(backendsPath: backends, systemBackendsPath: system, capability: Capability("default")).rows.count
    }

    /// A backends dir shaped like a real one: concretes with run.sh and metadata, metas, shared aliases.
    private func makeInstallation(_ backends: String) throws {
        let fm = FileManager.default
        for i in 0..<backendCount {
            let name = String(format: "backend-%04d", i)
            let dir = backends + "/" + name
            try fm.createDirectory(atPath: dir, withIntermediateDirectories: true)
            let metadata: BackendMetadata
            if i % 10 == 9 {
                metadata = BackendMetadata(metaBackendFor: String(format: "backend-%04d", i - 1), name: name,
                                           galleryURL: "https://index.localai.io/backends", installedAt: "2026-08-22T22:44:05+02:00")
            } else {
                try "#!/bin/sh\n".write(toFile: dir + "/run.sh", atomically: false, encoding: .utf8)
                metadata = BackendMetadata(alias: i % 5 == 0 ? "alias-\(i / 50)" : name, name: name,
                                           galleryURL: "https://index.localai.io/backends",
                                           installedAt: "2026-08-22T22:44:03+02:00",
                                           uri: "quay.io/go-skynet/local-ai-backends:latest-\(name)",
                                           digest: "sha256:" + String(repeating: "ab", count: 32))
            }
            try metadata.encoded().write(toFile: dir + "/metadata.json", atomically: false, encoding: .utf8)
        }
    }

    /// The I/O floor: one readdir, then per entry a stat of run.sh and a read of metadata.json; no parsing.
    private func rawScan(_ backends: String) throws -> Int {
        guard let dir = opendir(backends) else { throw BenchFailure("cannot open \(backends)") }
        defer { closedir(dir) }
        var bytes = 0
        var buffer = [UInt8](repeating: 0, count: 4096)
        var st = stat()
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            if name.hasPrefix(".") { continue }
            let path = backends + "/" + name
            _ = stat(path + "/run.sh", &st)
            let fd = open(path + "/metadata.json", O_RDONLY)
            if fd >= 0 {
                bytes += buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
                close(fd)
            }
        }
        return bytes
    }
}
