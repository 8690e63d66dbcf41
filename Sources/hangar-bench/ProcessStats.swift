import Foundation
import HangarFixtures

// What the UI sections measure a process and a tmux pane with.

/// Milliseconds from `start` until a capture of the pane satisfies `done` (polled as fast as tmux answers; one
/// capture costs a few milliseconds, which both the UI and its baseline pay alike).
func measureFrame(_ session: TmuxSession, _ start: () throws -> Void, until done: (String) -> Bool) throws -> Double {
    let clock = ContinuousClock()
    let began = clock.now
    try start()
    while clock.now - began < .seconds(20) {
        if done(session.screen()) { return milliseconds(clock.now - began) }
    }
    throw TUIBenchError("the pane never showed what was awaited; last screen:\n\(session.screen())")
}

/// utime + stime of a process, in clock ticks.
func cpuTicks(_ pid: pid_t) throws -> Int {
    guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
          let close = stat.lastIndex(of: ")") else { throw TUIBenchError("cannot read /proc/\(pid)/stat") }
    // Fields after the command name: state is field 3, utime 14 and stime 15.
    let fields = stat[stat.index(after: close)...].split(separator: " ")
    guard fields.count > 13, let user = Int(fields[11]), let system = Int(fields[12]) else {
        throw TUIBenchError("unexpected /proc/\(pid)/stat: \(stat)")
    }
    return user + system
}

/// A `kB` field of /proc/<pid>/status, e.g. VmHWM (peak resident memory).
func statusKiB(_ pid: pid_t, _ field: String) throws -> Int {
    guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
          let line = status.split(separator: "\n").first(where: { $0.hasPrefix(field + ":") }),
          let kib = Int(line.split(separator: " ")[1]) else { throw TUIBenchError("cannot read \(field) of \(pid)") }
    return kib
}

/// Waits until a capture of the pane satisfies `done`.
func waitForScreen(_ session: TmuxSession, _ what: String, timeout: Double = 10, _ done: (String) -> Bool) throws {
    let end = Date().addingTimeInterval(timeout)
    while Date() < end {
        if done(session.screen()) { return }
        usleep(20_000)
    }
    throw TUIBenchError("timed out waiting for \(what):\n\(session.screen())")
}
