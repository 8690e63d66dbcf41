import ArgumentParser
import Foundation
import HangarEngine
import HangarTUI

/// `hangar ui` (the default): the full-screen terminal UI; the plain listing when not on a terminal.
struct UICommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ui",
        abstract: "Open the full-screen terminal UI (the default; prints the installed list when not on a terminal).")

    @OptionGroup var global: GlobalOptions

    @Option(help: "Colour theme: a name from the themes directory (default, light, high-contrast, monochrome) or a path (env HANGAR_THEME).")
    var theme: String?

    @Flag(name: .customLong("no-color"), help: "No colours (also when NO_COLOR is set); selection stays visible in reverse video.")
    var noColor = false

    @Flag(help: "ASCII glyphs only (the default when the locale is not UTF-8).")
    var ascii = false

    func run() throws {
        guard TerminalUI.isAvailable() else {
            // Pipes and CI get the same listing as `hangar list`.
            var list = try ListCommand.parse([])
            list.global = global
            try list.run()
            return
        }
        let engine = try global.engine(origin: "ui")
        let options = TUIOptions(theme: theme, noColor: noColor, asciiOnly: ascii ? true : nil)
        let status = MainActor.assumeIsolated { TerminalUI.run(engine: engine, options: options) }
        if status != 0 { throw OperationsFailed(code: status) }
    }
}
