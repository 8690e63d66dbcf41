import Foundation
import Synchronization

/// How hangar's link to a LocalAI server stands, as the UI's header shows it: what answered last, how fast, and
/// what went wrong when nothing did.
public struct ServerConnection: Sendable, Equatable {
    /// The three states a user acts on differently: nothing to do, wait (hangar retries), fix the key.
    public enum State: Sendable, Equatable {
        case connected
        case unreachable
        case unauthorised
    }

    /// The server's root URL (`--server`).
    public var url: String
    /// LocalAI's own version (`GET /version`), once read.
    public var localAIVersion: String?
    public var state: State
    /// Seconds the last answered request took (a round trip plus the server's work).
    public var roundTrip: Double?
    /// The one-line error of the last failed request while not connected (never the key).
    public var error: String?
    /// When the last request answered (nil before any did).
    public var lastAnswer: Date?

    public init(url: String, localAIVersion: String? = nil, state: State = .connected, roundTrip: Double? = nil,
                error: String? = nil, lastAnswer: Date? = nil) {
        self.url = url
        self.localAIVersion = localAIVersion
        self.state = state
        self.roundTrip = roundTrip
        self.error = error
        self.lastAnswer = lastAnswer
    }
}

/// The outcome of every request, kept by the client so the header reads it without another request.
final class ServerConnectionRecord: Sendable {
    private let value: Mutex<ServerConnection>

    init(url: String) { value = Mutex(ServerConnection(url: url)) }

    var current: ServerConnection { value.withLock { $0 } }

    func answered(after seconds: Double) {
        value.withLock {
            $0.state = .connected
            $0.roundTrip = seconds
            $0.error = nil
            $0.lastAnswer = Date()
        }
    }

    /// A refused key, or no answer at all.
    func failed(_ failure: LocalAIFailure) {
        value.withLock {
            $0.state = failure.isAuthentication ? .unauthorised : .unreachable
            $0.error = failure.message
        }
    }

    func setVersion(_ version: String) { value.withLock { $0.localAIVersion = version } }
}
