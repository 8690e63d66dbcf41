import Dispatch

/// Paces a copy or download to a byte rate (the demo's visible progress), sleeping in short slices so a cancel is
/// noticed at once.
struct Throttle: Sendable {
    /// Bytes per second.
    public let rate: Int64
    private let started = MonotonicClock.now()
    /// Longest single sleep, so a cancelled job never waits on the throttle.
    static let slice = 0.05

    /// Nil for no throttle (nil or a rate of 0 or less).
    public init?(bytesPerSecond: Int64?) {
        guard let bytesPerSecond, bytesPerSecond > 0 else { return nil }
        rate = bytesPerSecond
    }

    /// Sleeps until `done` bytes are no further along than the rate allows; returns early once `isCancelled()`.
    public func pace(_ done: Int64, isCancelled: () -> Bool) {
        _ = sleepUntil(started + Double(done) / Double(rate), slice: Self.slice, isCancelled: isCancelled)
    }
}

/// Sleeps until `deadline` (on `MonotonicClock.now()`) in slices of at most `slice` seconds, checking `isCancelled()`
/// before each; false when cancelled.
func sleepUntil(_ deadline: Double, slice: Double, isCancelled: () -> Bool) -> Bool {
    while true {
        if isCancelled() { return false }
        let left = deadline - MonotonicClock.now()
        if left <= 0 { return true }
        usleep(useconds_t(min(left, slice) * 1_000_000))
    }
}
