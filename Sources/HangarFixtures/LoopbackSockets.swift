import Dispatch
import Foundation
import Synchronization

/// The accept loop and connection bookkeeping shared by the loopback servers: one thread per connection,
/// and `stop()` unblocks and joins every one of them, so a stopped server leaves no thread behind.
final class LoopbackListener: Sendable {
    let port: Int
    private let listenFD: Int32
    private let stopped = Atomic<Bool>(false)
    private let open = Mutex<Set<Int32>>([])
    private let threads = DispatchGroup()

    /// Binds 127.0.0.1 on an ephemeral port and serves each accepted connection with `handle` on its own thread.
    init(handle: @escaping @Sendable (_ fd: Int32, _ listener: LoopbackListener) -> Void) throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw FixtureError("socket: \(String(cString: strerror(errno)))") }
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        var address = loopbackAddress(port: 0)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0, listen(fd, 128) == 0 else {
            close(fd)
            throw FixtureError("bind/listen on 127.0.0.1: \(String(cString: strerror(errno)))")
        }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        self.listenFD = fd
        self.port = Int(UInt16(bigEndian: address.sin_port))
        threads.enter()
        Thread.detachNewThread { [self] in
            defer { threads.leave() }
            while !stopped.load(ordering: .acquiring) {
                let client = accept(fd, nil, nil)
                if client < 0 {
                    if errno == EINTR || errno == ECONNABORTED { continue }
                    break
                }
                guard track(client) else { close(client); break }
                threads.enter()
                Thread.detachNewThread { [self] in
                    defer { threads.leave() }
                    handle(client, self)
                    finish(client)
                }
            }
        }
    }

    var isStopped: Bool { stopped.load(ordering: .acquiring) }

    /// Stops accepting, breaks every open connection and waits for all connection threads to end.
    func stop() {
        guard !stopped.exchange(true, ordering: .acquiringAndReleasing) else { return }
        shutdown(listenFD, Int32(SHUT_RDWR))
        open.withLock { fds in for fd in fds { shutdown(fd, Int32(SHUT_RDWR)) } }
        threads.wait()
        close(listenFD)
    }

    /// Registers an extra descriptor (e.g. an upstream connection) so `stop()` breaks it too.
    func track(_ fd: Int32) -> Bool {
        open.withLock { fds in
            if stopped.load(ordering: .acquiring) { return false }
            fds.insert(fd)
            return true
        }
    }

    /// Closes a descriptor registered with `track`.
    func finish(_ fd: Int32) {
        open.withLock { _ = $0.remove(fd) }
        close(fd)
    }

    /// Sleeps up to `seconds`, returning early (false) when the server stops or the peer on `fd` hangs up.
    func wait(_ seconds: Double, watching fd: Int32) -> Bool {
        let end = Date().addingTimeInterval(seconds)
        while Date() < end {
            if isStopped { return false }
            var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            if poll(&p, 1, 20) > 0 {
                var byte: UInt8 = 0
                if recv(fd, &byte, 1, Int32(MSG_PEEK | MSG_DONTWAIT)) <= 0 { return false }
                // The peer sent more (a pipelined request); keep waiting, it is read later.
                usleep(20_000)
            }
        }
        return !isStopped
    }
}

/// A fixture that could not start, with the system call that failed.
public struct FixtureError: Error, CustomStringConvertible, Sendable {
    public var description: String
    init(_ description: String) { self.description = description }
}

func loopbackAddress(port: UInt16) -> sockaddr_in {
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = port.bigEndian
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    return address
}

/// Connects to 127.0.0.1:`port`; -1 when nothing listens there.
func connectLoopback(port: Int) -> Int32 {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { return -1 }
    var address = loopbackAddress(port: UInt16(port))
    let rc = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    }
    if rc != 0 { close(fd); return -1 }
    return fd
}

/// Writes every byte (false when the peer went away); never raises SIGPIPE.
@discardableResult
func sendAll(_ fd: Int32, _ bytes: UnsafeRawBufferPointer) -> Bool {
    var offset = 0
    while offset < bytes.count {
        let n = send(fd, bytes.baseAddress! + offset, bytes.count - offset, Int32(MSG_NOSIGNAL))
        if n < 0 && errno == EINTR { continue }
        if n <= 0 { return false }
        offset += n
    }
    return true
}

@discardableResult
func sendAll(_ fd: Int32, _ bytes: [UInt8]) -> Bool {
    bytes.withUnsafeBytes { sendAll(fd, $0) }
}
