import Foundation

/// Runs body up to 1 + backoff.count times while it throws a transient HTTPFailure, sleeping the backoff
/// (cancellable: throws `CancelledError`). `attempt` is 0 for the first try. Any other error ends at once.
public func withHTTPRetries<T>(backoff: [Double], isCancelled: @Sendable () -> Bool,
                               _ body: (_ attempt: Int) throws -> T) throws -> T {
    var attempt = 0
    while true {
        do {
            return try body(attempt)
        } catch var failure as HTTPFailure where failure.isTransient {
            guard attempt < backoff.count else {
                if attempt > 0 { failure.message += " (gave up after \(attempt + 1) attempts)" }
                throw failure
            }
            try sleepCancellable(backoff[attempt], isCancelled: isCancelled)
            attempt += 1
        }
    }
}

/// Sleeps in short slices so a cancel is noticed within ~20 ms.
private func sleepCancellable(_ seconds: Double, isCancelled: () -> Bool) throws {
    let end = monotonicSeconds() + seconds
    while true {
        if isCancelled() { throw CancelledError() }
        let left = end - monotonicSeconds()
        if left <= 0 { return }
        usleep(useconds_t(min(left, 0.02) * 1_000_000))
    }
}
