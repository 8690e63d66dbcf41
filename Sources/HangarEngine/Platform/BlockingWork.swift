import Foundation
import Synchronization

/// Work items that mostly wait on the network, run at once.
public enum BlockingWork {
    /// Runs `body(0) … body(count - 1)` on up to `width` dedicated threads and returns when every call has returned.
    /// Dedicated threads, not `concurrentPerform`: that caps at the core count, so on 2 cores it would run two
    /// requests at a time however many were asked for.
    public static func run(_ count: Int, width: Int, _ body: @escaping @Sendable (Int) -> Void) {
        guard count > 0 else { return }
        let next = Counter()
        let finished = DispatchGroup()
        for _ in 0..<min(max(1, width), count) {
            finished.enter()
            let thread = Thread {
                defer { finished.leave() }
                while true {
                    let i = next.value.add(1, ordering: .relaxed).oldValue
                    guard i < count else { return }
                    body(i)
                }
            }
            thread.start()
        }
        finished.wait()
    }

    /// The next item to take, shared by the threads (an `Atomic` itself cannot be captured).
    private final class Counter: Sendable {
        let value = Atomic<Int>(0)
    }
}
