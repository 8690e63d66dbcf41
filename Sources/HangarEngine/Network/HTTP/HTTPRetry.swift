import Foundation

/// Retries of transient HTTP failures with backoff, shared by every transfer (galleries, registries, tarballs).
public enum HTTPRetry {
    /// Runs body up to 1 + backoff.count times while it throws a transient HTTPFailure, sleeping the backoff
    /// (cancellable: throws `CancelledError`). `attempt` is 0 for the first try. Any other error ends at once.
    public static func run<T>(backoff: [Double], isCancelled: @Sendable () -> Bool,
                            _ body: (_ attempt: Int) throws -> T) throws -> T {
        var attempt = 0
        while true {
            do {
                return try body(attempt)
            } catch var failure as HTTPFailure where failure.isTransient {
                guard attempt < backoff.count else {
                    // A failure an inner loop already gave up on keeps its own count instead of getting a second one.
                    if attempt > 0 && !failure.message.contains("(gave up after ") {
                        failure.message += " (gave up after \(attempt + 1) attempts)"
                    }
                    throw failure
                }
                // Slices of 20 ms: a cancel during a long backoff is noticed at once.
                guard sleepUntil(MonotonicClock.now() + backoff[attempt], slice: 0.02, isCancelled: isCancelled) else {
                    throw CancelledError()
                }
                attempt += 1
            }
        }
    }
}
