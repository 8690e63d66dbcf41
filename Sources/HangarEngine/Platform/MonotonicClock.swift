import Dispatch

/// The one monotonic clock of hangar: seconds since an arbitrary start, never going back (timeouts, throttles,
/// speeds, ETAs and durations all measure with it).
public enum MonotonicClock {
    /// Seconds on the monotonic clock.
    public static func now() -> Double { Double(DispatchTime.now().uptimeNanoseconds) / 1e9 }
}
