import Foundation
import HangarEngine
import HangarFixtures

/// Section: the cost of signature verification. (1) One bundle verified in process (a bundle made by a private
/// test sigstore, the same shape as cosign v3's: DSSE, SCT, SET, inclusion proof, checkpoint). (2) `hangar install`
/// of the 512 MiB image from a loopback registry with the gallery's `verification:` policy against the same install
/// without one.
struct SigstoreSection: BenchSection {
    let id = "sigstore"
    let title = "sigstore: one bundle verified; install of a 512 MiB image with verification vs without"
    let bundleGoalMs = 5.0
    let ratioGoal = 1.05
    let maxIterations = 5

    func run(_ options: BenchOptions) throws -> BenchReport {
        let root = NSTemporaryDirectory() + "hangar-bench-sigstore-\(getpid())"
        defer { try? FileManager.default.removeItem(atPath: root) }
        guard SigstoreTestPKI.isAvailable else { throw BenchFailure("python3 with cryptography is needed for the test sigstore") }
        let pki = try SigstoreTestPKI(directory: root + "/pki")

        let image = root + "/image"
        let unpacked = try OCIInstallSection().makeImageTree(image)
        let registry = try RegistryProcess()
        defer { registry.stop() }
        let pusher = ImagePusher(registry: registry.address, workDirectory: root + "/push")
        let pushed = try pusher.push(directory: image, repository: "bench/signed", tag: "latest", gzipLevel: 1)
        try? FileManager.default.removeItem(atPath: image)
        let manifest = try HTTPClient(options: HTTPClientOptions()).send(HTTPRequest(
            url: "\(registry.baseURL)/v2/bench/signed/manifests/\(pushed.manifestDigest)", method: "GET",
            headers: ["Accept": OCIMediaType.manifestAccept], resumeFrom: nil))
        let bundle = try pki.sign(digest: pushed.manifestDigest)
        try SigstoreTestPKI.attach(bundle: bundle, to: (pushed.manifestDigest, OCIMediaType.ociManifest, Int64(manifest.body.count)),
                                   repository: "bench/signed", pusher: pusher)

        // (1) In process: parse the trusted root once, then verify the bundle again and again.
        let verifier = SigstoreVerifier(root: try SigstoreTrustedRoot(path: pki.trustedRoot))
        let policy = try SigstorePolicy(GalleryVerification(issuer: "https://token.actions.githubusercontent.com",
                                                            identityRegex: "^https://github\\.com/mudler/LocalAI/"), gallery: "bench")
        let digest = (0..<32).map { i -> UInt8 in
            let hex = Array(pushed.manifestDigest.dropFirst(7).utf8)
            return UInt8(String(decoding: hex[(i * 2)..<(i * 2 + 2)], as: UTF8.self), radix: 16)!
        }
        var perBundle = Timing(id: "bundle", "verify one bundle (parse, SET, proof, checkpoint, chain, SCT, signature, policy)")
        let clock = ContinuousClock()
        _ = try verifier.verify(bundle: bundle, digest: digest, policy: policy)
        for _ in 0..<max(options.iterations, 20) {
            let started = clock.now
            _ = try verifier.verify(bundle: bundle, digest: digest, policy: policy)
            perBundle.samples.append(milliseconds(clock.now - started))
        }

        // (2) Whole installs, alternating, one warm-up each.
        let backends = root + "/backends"
        for dir in [backends, root + "/system", root + "/config", root + "/home"] {
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        }
        let gallery = root + "/gallery.yaml"
        try "---\n- name: big\n  uri: \"oci://\(registry.address)/bench/signed:latest\"\n".write(toFile: gallery, atomically: true, encoding: .utf8)
        var plainEnvironment = [
            "PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": root + "/home", "LANG": "C.UTF-8",
            "LOCALAI_BACKENDS_PATH": backends, "LOCALAI_BACKENDS_SYSTEM_PATH": root + "/system",
            "LOCALAI_CONFIG_DIR": root + "/config", "LOCALAI_FORCE_META_BACKEND_CAPABILITY": "default",
            "LOCALAI_BACKEND_GALLERIES": "[{\"name\":\"bench\",\"url\":\"file://\(gallery)\"}]",
        ]
        var verifiedEnvironment = plainEnvironment
        verifiedEnvironment["LOCALAI_BACKEND_GALLERIES"] = #"[{"name":"bench","url":"file://\#(gallery)","verification":{"issuer":"https://token.actions.githubusercontent.com","identity_regex":"^https://github\\.com/mudler/LocalAI/"}}]"#
        verifiedEnvironment["HANGAR_SIGSTORE_TRUSTED_ROOT"] = pki.trustedRoot
        verifiedEnvironment["LOCALAI_REQUIRE_BACKEND_INTEGRITY"] = "true"
        plainEnvironment["HANGAR_SIGSTORE_TRUSTED_ROOT"] = nil

        var plain = Timing(id: "install_unverified", "a) hangar install, gallery without verification:")
        var verified = Timing(id: "install_verified", "b) hangar install --require-backend-integrity, gallery with verification:")
        let iterations = min(options.iterations, maxIterations)
        for round in 0...iterations {
            for (environment, isVerified) in [(plainEnvironment, false), (verifiedEnvironment, true)] {
                let started = clock.now
                let run = try HangarExecutable.run(["install", "big"], environment: environment, directory: root, timeout: 600)
                let elapsed = milliseconds(clock.now - started)
                guard run.status == 0 else { throw BenchFailure("hangar install failed:\n\(run.transcript)") }
                guard try FileTree.treeSize(backends + "/big").bytes >= unpacked else { throw BenchFailure("incomplete install") }
                let records = (try? String(contentsOfFile: backends + "/.hangar/signatures.json", encoding: .utf8)) ?? ""
                let recorded = records.contains(pushed.manifestDigest)
                guard recorded == isVerified else { throw BenchFailure("the \(isVerified ? "verified" : "plain") install recorded \(recorded ? "a" : "no") verification") }
                if round > 0 { if isVerified { verified.samples.append(elapsed) } else { plain.samples.append(elapsed) } }
                let uninstall = try HangarExecutable.run(["uninstall", "big"], environment: environment, directory: root, timeout: 120)
                guard uninstall.status == 0 else { throw BenchFailure("hangar uninstall failed:\n\(uninstall.transcript)") }
                try? FileManager.default.removeItem(atPath: backends + "/.hangar/signatures.json")
            }
        }

        var report = BenchReport(id: id, section: title)
        report.timings = [perBundle, plain, verified]
        report.checks = [
            BenchCheck(id: "bundle_ms", label: "one bundle (median)", value: perBundle.median, goal: bundleGoalMs, unit: " ms"),
            BenchCheck(id: "verified_install_ratio", label: "b/a (median)", value: verified.median / plain.median, goal: ratioGoal, unit: "×"),
        ]
        report.facts = [
            ("bundle", "v0.3, DSSE in-toto statement, P-256 leaf with an SCT, Rekor v1 dsse entry with SET, 7-leaf inclusion proof and signed checkpoint, from a test sigstore"),
            ("image", "the 512 MiB one of oci_install (1 layer, gzip -1), signed by a referrer found through the sha256-<hex> tag"),
            ("runs", "\(perBundle.samples.count) bundle verifications in process; \(iterations) installs of each after one warm-up, alternating"),
        ]
        return report
    }
}
