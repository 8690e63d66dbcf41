import ArgumentParser
import HangarEngine

/// `--json` of the commands that print a result: one JSON document instead of text (each command's discussion
/// says its shape).
struct JSONOutput: ParsableArguments {
    @Flag(help: "Print JSON instead of text (the shape is the command's contract for scripts).")
    var json = false
}

/// What every command that runs jobs (install, reinstall, upgrade, uninstall) takes besides the global options:
/// how to show the jobs' events.
struct JobOptions: ParsableArguments {
    @Flag(help: "Print job events as JSON Lines.")
    var json = false

    /// Submits jobs on an engine for `global`, shows their events until all finished, and fails the command
    /// (exit 1) when any did not succeed. Returns the submitted ids in order.
    @discardableResult
    func run(_ global: GlobalOptions, submit: (Engine) throws -> [JobID]) throws -> [JobID] {
        let engine = try global.engine()
        var ids: [JobID] = []
        let failed = try JobRunner.run(engine, json: json) { engine in
            ids = try submit(engine)
            return ids
        }
        if failed > 0 { throw OperationsFailed() }
        return ids
    }
}

/// Runs submitted jobs to the end while rendering their events, then reports the failures.
enum JobRunner {
    /// Waits for `jobs` in order; returns how many did not succeed.
    static func run(_ engine: Engine, json: Bool, submit: (Engine) throws -> [JobID]) throws -> Int {
        let renderer = JobRenderer(json: json)
        renderer.attach(to: engine.jobs)
        let ids: [JobID]
        do {
            ids = try submit(engine)
        } catch {
            // Jobs queued before the failing one still run to the end: never exit under a running operation.
            engine.jobs.waitAll()
            renderer.flush()
            throw error
        }
        var failures = 0
        for id in ids where !engine.jobs.wait(id).isSuccess { failures += 1 }
        renderer.flush()
        return failures
    }
}
