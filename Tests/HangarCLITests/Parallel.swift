import Foundation
import HangarFixtures

/// Runs `count` independent cases on `workers` threads and returns every failure message they reported.
/// The cases spend most of their time waiting for child processes, so a few more threads than cores keeps both
/// cores busy; XCTest assertions are made afterwards on the test's own thread.
func runInParallel(_ count: Int, workers: Int = 3, _ body: @escaping @Sendable (Int) -> [String]) -> [String] {
    let next = Locked(0)
    let failures = Locked<[String]>([])
    let group = DispatchGroup()
    for _ in 0..<max(1, min(workers, count)) {
        group.enter()
        let thread = Thread {
            while true {
                let index = next.update { value -> Int in
                    defer { value += 1 }
                    return value
                }
                guard index < count else { break }
                let found = body(index)
                if !found.isEmpty { failures.update { $0.append(contentsOf: found) } }
            }
            group.leave()
        }
        thread.start()
    }
    group.wait()
    return failures.get()
}
