import Foundation

// hangar-bench: `swift run -c release hangar-bench [--gallery PATH] [--iterations N] [--json]`.
// Exits 1 when a goal fails, 2 on bad arguments or a section error.

let packageRoot = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent()  // hangar-bench
    .deletingLastPathComponent()  // Sources
    .deletingLastPathComponent()
let defaultGallery = packageRoot.deletingLastPathComponent()
    .appendingPathComponent("shared/fixtures/localai-backend-index.yaml").path

let options: BenchOptions
switch BenchOptions.parse(Array(CommandLine.arguments.dropFirst()), defaultGallery: defaultGallery) {
case .run(let parsed): options = parsed
case .exit(let status): exit(status)
}

#if DEBUG
printError("hangar-bench: debug build; figures are only meaningful with `swift run -c release hangar-bench`")
#endif

/// The sections, run in order.
let sections: [any BenchSection] = [
    GalleryParseSection(),
    InstalledListingSection(),
    CheckLatencySection(),
    OCIInstallSection(),
    TUISection(),
]

var reports: [BenchReport] = []
for section in sections {
    do {
        reports.append(try section.run(options))
    } catch {
        printError("hangar-bench: \(section.title): \(error)")
        exit(2)
    }
}

print(options.json ? renderJSON(reports, iterations: options.iterations) : renderTable(reports, iterations: options.iterations))
exit(reports.allSatisfy { $0.checks.allSatisfy(\.passed) } ? 0 : 1)
