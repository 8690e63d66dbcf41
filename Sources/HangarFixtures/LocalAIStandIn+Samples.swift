import Foundation

extension LocalAIStandIn {
    /// The remote-mode tests' gallery: piper 0.9.0 (an upgrade of the installed 0.8.0), kokoro 2.0.0 whose build is
    /// broken (its upgrade fails, and LocalAI then deletes kokoro: G1), whisper 1.5.0 on offer.
    public static let sampleGallery: [Entry] = [
        .init(name: "piper", version: "0.9.0", digest: "sha256:" + String(repeating: "b", count: 64), size: 6 << 20,
              description: "text to speech", tags: ["TTS"]),
        .init(name: "kokoro", version: "2.0.0", digest: "sha256:" + String(repeating: "c", count: 64), broken: true),
        .init(name: "whisper", version: "1.5.0", digest: "sha256:" + String(repeating: "d", count: 64), size: 3 << 20),
    ]

    /// Installs piper 0.8.0 and kokoro 1.0.0 of `sampleGallery` and runs the upgrade check: two upgrades pending.
    public func preinstallSamples() throws {
        try preinstall(Self.sampleGallery[0], version: "0.8.0", digest: "sha256:" + String(repeating: "a", count: 64))
        try preinstall(Self.sampleGallery[1], version: "1.0.0", digest: "sha256:" + String(repeating: "e", count: 64))
        runCheckNow()
    }
}
