import Foundation
import Synchronization

/// A TCP forwarder on 127.0.0.1 that holds every request for a fixed delay before passing it to an upstream
/// 127.0.0.1 port: a stand-in for a distant registry (benchmarks: `check` through +50 ms per request).
/// A "request" is the first bytes a client sends on a connection, or after the upstream last answered, so
/// keep-alive connections are delayed once per request too.
public final class DelayProxy: Sendable {
    /// Shared with the connection threads (an `Atomic` itself cannot be captured).
    private final class DelayCounter: Sendable {
        let value = Atomic<Int>(0)
        func increment() { value.add(1, ordering: .relaxed) }
    }

    private let listener: LoopbackListener
    private let delayed: DelayCounter

    /// The port clients connect to.
    public var port: Int { listener.port }
    /// `127.0.0.1:<port>`, for image references and URLs.
    public var hostPort: String { "127.0.0.1:\(port)" }
    /// How many requests were held so far.
    public var delayedRequests: Int { delayed.value.load(ordering: .relaxed) }

    /// Starts listening at once; `stop()` (or deinit) closes every connection and joins its threads.
    public init(upstreamPort: Int, delay: Double) throws {
        let delayed = DelayCounter()
        self.delayed = delayed
        self.listener = try LoopbackListener { client, listener in
            DelayProxy.forward(client, upstreamPort: upstreamPort, delay: delay, listener: listener, delayed: delayed)
        }
    }

    deinit { listener.stop() }

    public func stop() { listener.stop() }

    private static func forward(_ client: Int32, upstreamPort: Int, delay: Double, listener: LoopbackListener,
                                delayed: DelayCounter) {
        let upstream = connectLoopback(port: upstreamPort)
        guard upstream >= 0 else { return }
        guard listener.track(upstream) else { close(upstream); return }
        defer { listener.finish(upstream) }
        var newRequest = true
        var buffer = [UInt8](repeating: 0, count: 64 << 10)
        var fds = [pollfd(fd: client, events: Int16(POLLIN), revents: 0),
                   pollfd(fd: upstream, events: Int16(POLLIN), revents: 0)]
        while !listener.isStopped {
            guard poll(&fds, 2, 50) >= 0 || errno == EINTR else { return }
            if fds[0].revents != 0 {
                let n = buffer.withUnsafeMutableBytes { recv(client, $0.baseAddress, $0.count, 0) }
                if n <= 0 { return }
                if newRequest {
                    newRequest = false
                    delayed.increment()
                    guard sleepUnlessStopped(delay, listener) else { return }
                }
                guard buffer.withUnsafeBytes({ sendAll(upstream, UnsafeRawBufferPointer(rebasing: $0[..<n])) }) else { return }
            }
            if fds[1].revents != 0 {
                let n = buffer.withUnsafeMutableBytes { recv(upstream, $0.baseAddress, $0.count, 0) }
                if n <= 0 { return }
                newRequest = true
                guard buffer.withUnsafeBytes({ sendAll(client, UnsafeRawBufferPointer(rebasing: $0[..<n])) }) else { return }
            }
        }
    }

    private static func sleepUnlessStopped(_ seconds: Double, _ listener: LoopbackListener) -> Bool {
        let end = Date().addingTimeInterval(seconds)
        while Date() < end {
            if listener.isStopped { return false }
            usleep(useconds_t(max(0, min(end.timeIntervalSinceNow, 0.01)) * 1_000_000))
        }
        return true
    }
}
