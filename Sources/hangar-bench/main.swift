import Foundation

// hangar-bench: `swift run -c release hangar-bench [--gallery PATH] [--iterations N] [--json] [--only ID]`.
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

/// Every section, in the order they run.
let allSections: [any BenchSection] = [
    StartupSection(),
    GalleryParseSection(),
    ListProcessSection(),
    InstalledListingSection(),
    CheckLatencySection(),
    OCIInstallSection(),
    SigstoreSection(),
    TUISection(),
    HistorySection(),
    RollbackSection(),
    RemoteUISection(),
    ClusterSection(),
]
let sections = allSections.filter { section in options.only.map { $0 == section.id } ?? true }
if sections.isEmpty, let only = options.only {
    printError("hangar-bench: --only \(only): no such section; use one of \(allSections.map(\.id).joined(separator: ", "))")
    exit(2)
}

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
