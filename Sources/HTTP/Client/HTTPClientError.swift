/// Why an `HTTPClient` exchange failed.
public enum HTTPClientError: Error, Sendable, Equatable, CustomStringConvertible {
    case invalidURL(String)
    case invalidRequest(String)
    /// Connecting, sending or receiving failed at the socket level (refused, reset, unreachable, unknown host).
    case connectionFailed(String)
    /// The request's `timeout` passed while connecting, while a send was blocked, or while waiting for the
    /// server. The only case that means "timed out": a refused or reset connection is never this.
    /// Reading the body may be retried after this.
    case timedOut
    /// The server closed (or reset) the connection before the response was complete.
    case connectionClosed
    case malformedResponse(String)
    /// `readAll(limit:)` saw more bytes than allowed.
    case bodyTooLarge(limit: Int)
    /// The body was read after `close()`.
    case responseClosed
    /// `readAll(limit:budget:)`: buffering the body would exceed the shared `ByteBudget` of that size;
    /// nothing more was buffered and the response was closed.
    case budgetExceeded(limit: Int)

    /// True for `timedOut` only: the upstream did not answer in time (a gateway answers 504), as opposed to
    /// a refused, reset or closed connection or a malformed answer (502).
    public var isTimeout: Bool { self == .timedOut }

    public var description: String {
        switch self {
        case .invalidURL(let url): "invalid URL: \(url)"
        case .invalidRequest(let reason): "invalid request: \(reason)"
        case .connectionFailed(let reason): "connection failed: \(reason)"
        case .timedOut: "timed out waiting for the server"
        case .connectionClosed: "the server closed the connection before the response was complete"
        case .malformedResponse(let reason): "malformed response: \(reason)"
        case .bodyTooLarge(let limit): "response body larger than \(limit) bytes"
        case .responseClosed: "the response was already closed"
        case .budgetExceeded(let limit): "buffering the response body would exceed the shared budget of \(limit) bytes"
        }
    }
}
