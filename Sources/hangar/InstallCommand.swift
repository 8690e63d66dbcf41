import ArgumentParser
import HangarEngine

/// `hangar install NAME`: install a backend from the galleries (a meta picks the build for this host).
struct InstallCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "install",
        abstract: "Install a backend by gallery name (NAME or GALLERY@NAME).",
        discussion: "Without --force an installed, runnable backend is left as it is (LocalAI's ensure-installed).")

    @OptionGroup var global: GlobalOptions

    @Argument(help: "Gallery entry name, e.g. llama-cpp or localai@cpu-llama-cpp.")
    var name: String

    @Flag(help: "Install again even when the backend is already installed.")
    var force = false

    @Option(help: "Install exactly this build of the entry's image (a tag hangar versions lists) and pin it: upgrades leave it alone until hangar unhold.")
    var tag: String?

    @OptionGroup var nodeOption: NodeOption

    @OptionGroup var jobOptions: JobOptions

    func run() throws {
        try Self.install(name, force: force, tag: tag, node: nodeOption, global: global, jobOptions: jobOptions)
    }

    /// The body of `install` and `reinstall` (a forced install): one job, its events shown, exit 1 when it failed.
    static func install(_ name: String, force: Bool, tag: String? = nil, node: NodeOption, global: GlobalOptions,
                        jobOptions: JobOptions) throws {
        try node.check(global)
        if let node = node.node {
            if tag != nil { throw HangarError.configuration("--tag and --node do not go together: a LocalAI node installs gallery entries only") }
            try jobOptions.run(global) { [try $0.install(name, force: force, node: node)] }
            return
        }
        try jobOptions.run(global) { [try $0.install(name, force: force, tag: tag)] }
    }
}
