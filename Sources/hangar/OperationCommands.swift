import ArgumentParser
import HangarEngine

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
