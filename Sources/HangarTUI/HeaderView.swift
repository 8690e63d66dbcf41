import Foundation
import HangarEngine

/// The two header lines: host capability, backends path, galleries, auto-upgrade and the last check.
@MainActor
enum HeaderView {
    static func draw(_ state: UIState, _ canvas: Canvas) {
        let s = state.snapshot
        let dot = " \(state.glyphs.separator) "
        let forced: String
        switch s.capability.source {
        case .detected: forced = "detected"
        case .runFile: forced = "from run file"
        case .flag, .environment: forced = "forced"
        }
        let line1 = s.server.map { " hangar\(dot)" + serverText($0, state) }
            ?? " hangar\(dot)capability \(s.capability.value) (\(forced))\(dot)backends \(s.backendsPath)"
        var galleries = s.galleries.map { g -> String in
            if g.entryCount == 0 { return "\(g.gallery.name) failed" }
            if let age = g.cacheAge { return "\(g.gallery.name) \(g.entryCount) entries (cached copy, \(TextFormat.age(age)) old)" }
            return "\(g.gallery.name) \(g.entryCount) entries"
        }.joined(separator: ", ")
        if galleries.isEmpty { galleries = s.galleriesLoaded ? "none" : "reading\(state.glyphs.ellipsis)" }
        let auto = state.snapshot.settings?.autoUpgradeBackends == true ? "on" : "off"
        let read = s.staleSince.map { "STALE: last read \(TextFormat.clock($0))" } ?? "read \(TextFormat.clock(s.loadedAt))"
        let line2 = " gallery \(galleries), \(read)\(dot)auto-upgrade \(auto)\(dot)\(checkText(state))"
        let trouble = s.server.map { $0.state != .connected } ?? false
        Widgets.bar(canvas, y: 0, text: state.glyphs.truncate(line1, canvas.width), role: trouble ? .error : .header)
        Widgets.bar(canvas, y: 1, text: state.glyphs.truncate(line2, canvas.width), role: s.staleSince == nil ? .header : .warning)
    }

    /// `server http://gpu-box:8080 · LocalAI v3.5.0 · connected, 48 ms`, `… · not answering, retrying in 8 s`,
    /// `… · unauthorised: check the key in LOCALAI_API_KEY`.
    static func serverText(_ server: ServerConnection, _ state: UIState) -> String {
        let dot = " \(state.glyphs.separator) "
        var text = "server \(server.url)"
        if let version = server.localAIVersion { text += "\(dot)LocalAI \(version)" }
        switch server.state {
        case .connected:
            text += "\(dot)connected" + (server.roundTrip.map { ", \(max(1, Int(($0 * 1000).rounded()))) ms" } ?? "")
        case .unreachable:
            if let at = state.serverRetryAt {
                text += "\(dot)not answering, retrying in \(max(1, Int((at - state.now).rounded(.up)))) s"
            } else {
                text += "\(dot)not answering"
            }
        case .unauthorised:
            // The error ends with the fix after its "(HTTP 401…): " part.
            let fix = server.error.flatMap { error in error.range(of: "): ").map { String(error[$0.upperBound...]) } } ?? ""
            text += "\(dot)unauthorised" + (fix.isEmpty ? "" : ": " + fix)
        }
        return text
    }

    /// `checking…`, `last check 02:31:07: 3 upgrades`, `last check failed: …`, `not checked yet`.
    static func checkText(_ state: UIState) -> String {
        let u = state.upgrades
        if u.isChecking { return "checking for upgrades \(state.glyphs.spinner[state.spinnerFrame % state.glyphs.spinner.count])" }
        guard let last = u.lastCheck else { return "not checked yet" }
        if let error = u.error { return "last check \(TextFormat.clock(last)) failed: \(error)" }
        let count = u.report?.upgrades.count ?? 0
        return "last check \(TextFormat.clock(last)): " + (count == 0 ? "up to date" : "\(count) upgrade\(count == 1 ? "" : "s")")
    }

    static func tabLabels(_ state: UIState) -> [Screen: String] {
        let active = state.activeJobs.count
        return [.backends: "Backends (\(state.snapshot.installed.count))",
                .catalog: "Catalog",
                .jobs: active > 0 ? "Jobs (\(active) active)" : "Jobs (\(state.jobs.count))",
                .detail: "Detail", .settings: "Settings"]
    }
}
