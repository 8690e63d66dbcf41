import ArgumentParser
import HangarEngine

/// `hangar verify [NAME] [--json]`: re-checks installed backends' signatures on the registry.
struct VerifyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Re-check the sigstore signatures of installed backends against their gallery's verification: policy.",
        discussion: """
            For each installed registry backend (or NAME), the image digest recorded at install is looked up on the \
            registry again (referrers, referrers tag, legacy .sig) and its signature verified against the trusted \
            root (--trusted-root, else the public-good root hangar ships). Exit 1 when any check fails.
            """)

    @OptionGroup var global: GlobalOptions

    @Argument(help: "An installed backend (default: every installed backend).")
    var name: String?

    @Flag(help: "Print JSON.")
    var json = false

    func run() throws {
        let engine = try global.engine()
        let checks = try engine.verifyInstalled(name)
        if json {
            Output.json(.array(checks.map { check in
                var o = JSONObject()
                o["backend"] = .string(check.name)
                o["status"] = .string(check.status.rawValue)
                o["reason"] = .string(check.reason)
                if let record = check.record {
                    o["digest"] = .string(record.digest)
                    o["identity"] = .string(record.identity)
                    o["issuer"] = .string(record.issuer)
                    o["log_index"] = .number(String(record.logIndex))
                    o["signed_at"] = .number(String(record.signedAt))
                    o["verified_at"] = .string(record.verifiedAt)
                }
                return .object(o)
            }))
        } else if checks.isEmpty {
            Output.stdout("No installed backends to verify.")
        } else {
            var table = Table(header: ["BACKEND", "STATUS", "DETAIL"])
            for check in checks { table.add([check.name, check.status.rawValue, check.reason]) }
            Output.stdout(table.render())
        }
        if checks.contains(where: { $0.status == .failed }) { throw OperationsFailed() }
    }
}
