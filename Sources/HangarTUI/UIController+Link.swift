import Dispatch
import Foundation
import HangarEngine

/// The UI's side of the link to a running LocalAI (localai-api.md §12.2): after an upgrade, reinstall or rollback
/// whose backend still has models loaded on the previous build, a confirmation offers to restart them; `y` stops
/// them on the server so their next request runs the new build. Without a server, a one-time note says what a
/// running LocalAI sees at once and what not.
extension UIController {
    /// Asks the server (off the main thread) after a finished job the user started; offers the restart when models
    /// still run the previous build and no other question is open.
    func offerModelRestart(after event: JobEvent) {
        guard case .done = event.kind, [.upgrade, .reinstall, .rollback].contains(event.operation),
              state.jobs.first(where: { $0.job == event.job })?.background != true,
              engine.serverLink != nil else { return }
        let engine = self.engine
        let backend = event.backend
        DispatchQueue.global(qos: .userInitiated).async {
            let report = try? engine.loadedModels(on: backend)
            DispatchQueue.main.async {
                MainActor.assumeIsolated {
                    guard let report, !report.previousBuild.isEmpty, self.state.confirmation == nil else { return }
                    self.state.confirmation = Confirmation(
                        title: "Restart models on \(backend)?",
                        lines: ["\(report.previousBuild.joined(separator: ", ")) still run\(report.previousBuild.count == 1 ? "s" : "") the previous build of \(backend) on \(report.server).",
                                "Restarting stops \(report.previousBuild.count == 1 ? "it" : "them"); the next request loads the new build."],
                        effect: .restartModels(backend))
                    self.setNeedsDisplay()
                }
            }
        }
    }

    /// Stops the models on the server off the main thread, then says what happened and reloads.
    func restartModels(_ backend: String) {
        state.message = ("restarting the models on \(backend)\(state.glyphs.ellipsis)", false)
        let engine = self.engine
        DispatchQueue.global(qos: .userInitiated).async {
            let result = Result { try engine.restartModels(on: backend) }
            DispatchQueue.main.async {
                MainActor.assumeIsolated {
                    switch result {
                    case .success(let stopped):
                        self.state.message = (stopped.isEmpty
                            ? "no model is loaded on \(backend) any more"
                            : "restarted \(stopped.joined(separator: ", ")): the next request to each runs \(backend)'s new build", false)
                    case .failure(let error):
                        self.state.message = ((error as? HangarError)?.message ?? "\(error)", true)
                    }
                    self.reload()
                    self.setNeedsDisplay()
                }
            }
        }
    }

    /// Once per backends directory, without a server: what a running LocalAI sees of hangar's changes.
    public func showLiveChangesNoteOnce() {
        guard state.message == nil, let note = engine.liveChangesNoteOnce() else { return }
        state.message = ("note: " + note, false)
        setNeedsDisplay()
    }
}

extension EngineSnapshot {
    /// The server's loaded models per installed row (one `GET /system`), read with the galleries (it is network).
    mutating func addLoadedModels(_ engine: Engine) {
        guard let result = engine.loadedModelsByBackend() else { return }
        loadedModels = result.reports
        loadedModelsError = result.error
    }
}

extension UIState {
    /// Detail's "loaded by" line: the models the server has loaded on this backend, and those on the previous build.
    func loadedByLines(for row: InstalledBackend) -> [(label: String, value: String, role: StyleRole)] {
        if let report = snapshot.loadedModels[row.name], let line = report.line(dash: glyphs.dash) {
            let text = String(line.dropFirst("loaded by: ".count))
            return report.previousBuild.isEmpty
                ? [("loaded by", text, .text)]
                : [("loaded by", text + " (hangar restart-models \(row.name))", .warning)]
        }
        if let error = snapshot.loadedModelsError { return [("loaded by", "unknown: \(error)", .dim)] }
        return []
    }
}
