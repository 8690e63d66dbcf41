import Foundation
import HangarEngine

/// Rollback (`R`) and the kept previous versions, for Backends, Detail and Settings.
extension UIState {
    /// The kept previous versions behind `row`, most recent first (a meta's are its concrete's, an alias's its build's).
    public func generations(for row: InstalledBackend) -> [BackendGeneration] {
        guard !row.isSystem else { return [] }
        let owner: String
        if row.isMeta, let target = row.metadata?.metaBackendFor, !target.isEmpty {
            owner = target
        } else {
            owner = String(row.directory.split(separator: "/").last ?? Substring(row.name))
        }
        return snapshot.generations[owner] ?? []
    }

    /// `R`: asks, naming the version installed now and the one that comes back.
    mutating func rollbackSelected() {
        guard let row = selectedBackend, screen == .backends || screen == .detail else {
            message = ("no backend selected", true)
            return
        }
        guard let previous = generations(for: row).first else {
            let why = snapshot.keepGenerations == 0 ? "keeping them is off in Settings" : "one is kept at each upgrade or reinstall"
            message = ("no previous version of \(row.name) is kept (\(why))", true)
            return
        }
        if let job = activeJob(for: row.name) {
            message = ("\(row.name) already has a job (#\(job.job), \(job.stateWord))", true)
            return
        }
        let age = TextFormat.age(max(0, Int(wallClock.timeIntervalSince1970 - previous.replacedAt)))
        confirmation = Confirmation(
            title: "Roll back \(row.name)?",
            lines: ["Puts \(previous.label) back in place of \(row.versionBadge) (replaced \(age) ago).",
                    "\(row.versionBadge) is kept as the previous version, so R again rolls forward."],
            effect: .rollback(row.name))
    }

    /// Settings: the number of previous versions kept per backend, 0 to the maximum.
    func keepGenerationsEffect(step: Int) -> [Effect] {
        let count = min(HangarSettings.maxKeepGenerations, max(0, snapshot.keepGenerations + (step >= 0 ? 1 : -1)))
        return count == snapshot.keepGenerations ? [] : [.setKeepGenerations(count)]
    }

    /// Detail's lines for the kept versions: one per generation (version or short digest, when replaced, size).
    func generationLines(for row: InstalledBackend) -> [(label: String, value: String, role: StyleRole)] {
        if snapshot.server != nil {
            return [("previous", "not kept on a LocalAI server (it deletes the replaced build; r reinstalls)", .dim)]
        }
        let kept = generations(for: row)
        guard !kept.isEmpty else {
            return [("previous", snapshot.keepGenerations == 0 ? "none kept (off in Settings)" : "none kept yet", .dim)]
        }
        return kept.map { generation in
            let age = TextFormat.age(max(0, Int(wallClock.timeIntervalSince1970 - generation.replacedAt)))
            let hint = generation.number == 1 ? "  (R rolls back)" : ""
            return ("previous \(generation.number)",
                    "\(generation.label), replaced \(age) ago, \(TextFormat.bytes(generation.diskBytes))\(hint)", .text)
        }
    }
}
