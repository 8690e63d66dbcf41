import Foundation
import HangarEngine
import HangarFixtures

/// Section: `hangar install` of a backend image that unpacks to about 512 MiB, pulled from a real docker-registry on
/// loopback, against `curl` of the same blob piped through `sha256sum` (waited for, compared with the digest) and
/// `tar -xz`; plus hangar's peak memory.
struct OCIInstallSection: BenchSection {
    let id = "oci_install"
    let title = "install a 512 MiB image from a loopback registry vs curl | tee (sha256sum, compared) | tar -xz"
    /// Hangar's median over the baseline's.
    let ratioGoal = 1.3
    /// Peak resident memory of the hangar process, MiB.
    let memoryGoalMiB = 64.0
    /// Big transfers: a handful of runs give a stable median without taking minutes.
    let maxIterations = 5

    func run(_ options: BenchOptions) throws -> BenchReport {
        let root = NSTemporaryDirectory() + "hangar-bench-oci-\(getpid())"
        defer { try? FileManager.default.removeItem(atPath: root) }
        let image = root + "/image"
        let unpacked = try makeImageTree(image)

        let registry = try RegistryProcess()
        defer { registry.stop() }
        let pusher = ImagePusher(registry: registry.address, workDirectory: root + "/push")
        let pushed = try pusher.push(directory: image, repository: "bench/big", tag: "latest", index: true, gzipLevel: 1)
        try? FileManager.default.removeItem(atPath: image)
        try? FileManager.default.removeItem(atPath: root + "/push")
        let layer = pushed.layers[0]
        let blobURL = "\(registry.baseURL)/v2/bench/big/blobs/\(layer.digest)"

        let backends = root + "/backends"
        for dir in [backends, root + "/system", root + "/config", root + "/home"] {
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        }
        let gallery = root + "/gallery.yaml"
        try "---\n- name: big\n  uri: \"oci://\(registry.address)/bench/big:latest\"\n".write(toFile: gallery, atomically: true, encoding: .utf8)
        let environment = [
            "PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": root + "/home", "LANG": "C.UTF-8",
            "LOCALAI_BACKENDS_PATH": backends, "LOCALAI_BACKENDS_SYSTEM_PATH": root + "/system",
            "LOCALAI_CONFIG_DIR": root + "/config", "LOCALAI_FORCE_META_BACKEND_CAPABILITY": "default",
            "LOCALAI_BACKEND_GALLERIES": "[{\"name\":\"bench\",\"url\":\"file://\(gallery)\"}]",
        ]
        let target = root + "/baseline"
        // The hash goes through a FIFO to a waited-for sha256sum and is compared with the digest, as hangar does.
        let baselineScript = """
            set -eo pipefail; mkdir -p "$2"; rm -f "$3.fifo"; mkfifo "$3.fifo"
            sha256sum < "$3.fifo" > "$3" & hasher=$!
            curl -fsS "$1" | tee "$3.fifo" | tar -xz -C "$2"
            wait $hasher; rm -f "$3.fifo"; read -r sum _ < "$3"
            [ "sha256:$sum" = "$4" ] || { echo "baseline: blob digest sha256:$sum, expected $4" >&2; exit 1; }
            """

        var baseline = Timing(id: "baseline", "a) curl | tee (sha256sum, compared with the digest) | tar -xz")
        var hangar = Timing(id: "hangar", "b) hangar install (verify + extract while streaming)")
        var peakRSS: Int64 = 0
        let iterations = min(options.iterations, maxIterations)
        let clock = ContinuousClock()
        // One warm-up of each, then alternate; cleanup happens outside the timed part.
        for round in 0...iterations {
            var started = clock.now
            try shell(baselineScript, [blobURL, target, root + "/baseline.sha256", layer.digest])
            if round > 0 { baseline.samples.append(milliseconds(clock.now - started)) }
            try FileManager.default.removeItem(atPath: target)

            started = clock.now
            let run = try HangarExecutable.runMeasuringMemory(["install", "big"], environment: environment, directory: root,
                                                              timeout: 600)
            if round > 0 { hangar.samples.append(milliseconds(clock.now - started)) }
            guard run.run.status == 0 else { throw BenchFailure("hangar install failed:\n\(run.run.transcript)") }
            // The timing only counts if the whole tree arrived.
            let installed = try FileTree.treeSize(backends + "/big")
            guard installed.bytes >= unpacked else {
                throw BenchFailure("hangar installed \(installed.bytes) bytes, expected at least \(unpacked)")
            }
            if round > 0 { peakRSS = max(peakRSS, run.maxRSSBytes) }
            let uninstall = try HangarExecutable.run(["uninstall", "big"], environment: environment, directory: root, timeout: 120)
            guard uninstall.status == 0 else { throw BenchFailure("hangar uninstall failed:\n\(uninstall.transcript)") }
        }

        let ratio = hangar.median / baseline.median
        let peakMiB = Double(peakRSS) / Double(1 << 20)
        var report = BenchReport(id: id, section: title)
        report.timings = [baseline, hangar]
        report.checks = [
            BenchCheck(id: "install_ratio", label: "b/a (median)", value: ratio, goal: ratioGoal, unit: "×"),
            BenchCheck(id: "install_peak_rss_mib", label: "b) peak RSS", value: peakMiB, goal: memoryGoalMiB, unit: " MiB"),
        ]
        report.facts = [
            ("image", "1 layer, \(TextFormat.bytes(layer.size)) gzip-compressed, \(TextFormat.bytes(unpacked)) unpacked (half random, half text)"),
            ("registry", "docker-registry on \(registry.address), blobs in its page-cached storage"),
            ("peak RSS", "VmHWM of the hangar process, sampled every 2 ms"),
            ("runs", "\(iterations) of each after one warm-up, alternating"),
            ("same work", "both stream the same blob from the same registry, hash it and compare with the layer digest, and write the whole tree; hangar's tree size is checked after every run"),
        ]
        return report
    }

    /// run.sh plus 64 files of 8 MiB: every other one random (incompressible), the rest repetitive text.
    /// Returns the bytes written.
    func makeImageTree(_ dir: String) throws -> Int64 {
        try FileManager.default.createDirectory(atPath: dir + "/lib", withIntermediateDirectories: true)
        try "#!/bin/sh\necho big\n".write(toFile: dir + "/run.sh", atomically: true, encoding: .utf8)
        chmod(dir + "/run.sh", 0o755)
        guard let random = FileHandle(forReadingAtPath: "/dev/urandom") else { throw BenchFailure("no /dev/urandom") }
        defer { try? random.close() }
        let fileSize = 8 << 20
        var line = Array("layer \(dir) weights 0123456789 abcdefghijklmnopqrstuvwxyz\n".utf8)
        var text = [UInt8]()
        text.reserveCapacity(fileSize)
        while text.count < fileSize {
            text += line
            line.swapAt(6, (text.count / line.count) % line.count)
        }
        let compressible = Data(text.prefix(fileSize))
        var total: Int64 = 0
        for i in 0..<64 {
            let data = i % 2 == 0 ? random.readData(ofLength: fileSize) : compressible
            try data.write(to: URL(fileURLWithPath: dir + "/lib/part-\(i).bin"))
            total += Int64(data.count)
        }
        return total
    }

    private func shell(_ script: String, _ arguments: [String]) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/bash")
        process.arguments = ["-c", script, "baseline"] + arguments
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw BenchFailure("baseline pipeline exited \(process.terminationStatus)") }
    }
}
