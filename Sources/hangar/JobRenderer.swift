import Dispatch
import Foundation
import HangarEngine
import Synchronization

/// Shows job events while a command waits: a live progress line on a terminal, plain lines otherwise,
/// JSON Lines with `--json`. Events arrive on one serial queue, so output is never interleaved.
final class JobRenderer: Sendable {
    enum Mode { case terminal, plain, jsonLines }

    private let mode: Mode
    private let queue = DispatchQueue(label: "hangar.cli.render")
    private let lastPlainDecile = LockedDictionary<JobID, Int>()
    private let started = LockedDictionary<JobID, Double>()

    init(json: Bool) {
        mode = json ? .jsonLines : (Output.stderrIsTerminal ? .terminal : .plain)
    }

    /// Subscribes to `jobs`; call `flush()` before printing anything else.
    func attach(to jobs: JobQueue) {
        jobs.subscribe(on: queue) { [self] event in render(event) }
    }

    /// Waits until every event delivered so far has been printed.
    func flush() { queue.sync {} }

    private func render(_ event: JobEvent) {
        switch mode {
        case .jsonLines: Output.stdout(JSONValue.object(event.jsonObject).compact())
        case .plain: renderPlain(event)
        case .terminal: renderTerminal(event)
        }
    }

    private func renderPlain(_ event: JobEvent) {
        let who = "\(event.operation.rawValue) \(event.backend)"
        switch event.kind {
        case .progress(let bytes, let total):
            guard total > 0 else { return }
            let decile = Int(bytes * 10 / total)
            if lastPlainDecile[event.job] != decile {
                lastPlainDecile[event.job] = decile
                Output.stderr("\(who): \(decile * 10)% (\(TextFormat.bytes(bytes)) of \(TextFormat.bytes(total)))")
            }
        default:
            if let line = event.kind.line() { Output.stderr("\(who): \(line)") }
        }
    }

    private func renderTerminal(_ event: JobEvent) {
        let who = "\(event.operation.rawValue) \(event.backend)"
        switch event.kind {
        case .progress(let bytes, let total):
            let now = Date().timeIntervalSince1970
            let start = started[event.job] ?? now
            if started[event.job] == nil { started[event.job] = now }
            let elapsed = max(0.001, now - start)
            let speed = Int64(Double(bytes) / elapsed)
            var line = "\(who): \(TextFormat.bytes(bytes))"
            if total > 0 {
                let percent = Int(bytes * 100 / total)
                let filled = Int(bytes * 30 / total)
                line = "\(who): [" + String(repeating: "#", count: filled) + String(repeating: "-", count: 30 - filled)
                    + "] \(percent)% \(TextFormat.bytes(bytes))/\(TextFormat.bytes(total))"
                if speed > 0 && bytes < total {
                    line += " \(TextFormat.bytes(speed))/s ETA \(TextFormat.duration(Int(Double(total - bytes) / Double(speed))))"
                }
            }
            FileHandle.standardError.write(Data(("\r\u{1B}[2K" + line).utf8))
        default:
            guard let line = event.kind.line() else { return }
            FileHandle.standardError.write(Data(("\r\u{1B}[2K" + who + ": " + line + "\n").utf8))
        }
    }
}

/// A small lock-protected dictionary for renderer bookkeeping.
final class LockedDictionary<Key: Hashable & Sendable, Value: Sendable>: Sendable {
    private let storage = Mutex<[Key: Value]>([:])

    subscript(key: Key) -> Value? {
        get { storage.withLock { $0[key] } }
        set { storage.withLock { $0[key] = newValue } }
    }
}

extension JobEvent {
    /// The JSON Lines form: `{"job":1,"operation":"upgrade","backend":"x","event":"phase","phase":"downloading",...}`.
    var jsonObject: JSONObject {
        var o = JSONObject()
        o["job"] = .number(String(job))
        o["operation"] = .string(operation.rawValue)
        o["backend"] = .string(backend)
        switch kind {
        case .queued: o["event"] = .string("queued")
        case .phase(let phase, let detail):
            o["event"] = .string("phase"); o["phase"] = .string(phase.rawValue); o["detail"] = .string(detail)
        case .progress(let bytes, let total):
            o["event"] = .string("progress"); o["bytes"] = .number(String(bytes)); o["total"] = .number(String(total))
        case .warning(let message): o["event"] = .string("warning"); o["message"] = .string(message)
        case .nodes(let nodes):
            o["event"] = .string("nodes")
            o["nodes"] = .array(nodes.map { node in
                var n = JSONObject()
                n["node_id"] = .string(node.nodeID)
                n["node_name"] = .string(node.nodeName)
                n["status"] = .string(node.status)
                n["percentage"] = .number(String(Int(node.percentage)))
                if !node.fileName.isEmpty { n["file_name"] = .string(node.fileName) }
                if let error = node.error { n["error"] = .string(error) }
                return .object(n)
            })
        case .done(let summary): o["event"] = .string("done"); o["summary"] = .string(summary)
        case .failed(let error): o["event"] = .string("failed"); o["error"] = .string(error)
        case .rolledBack(let error, let restored):
            o["event"] = .string("rolled_back"); o["error"] = .string(error); o["restored"] = .string(restored)
        case .cancelled(let detail): o["event"] = .string("cancelled"); o["detail"] = .string(detail)
        case .skipped(let reason): o["event"] = .string("skipped"); o["reason"] = .string(reason)
        }
        return o
    }
}
