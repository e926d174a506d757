/// Why an `HTTPClient` exchange failed.
public enum HTTPClientError: Error, Sendable, Equatable, CustomStringConvertible {
    case invalidURL(String)
    case invalidRequest(String)
    /// Connecting, sending or receiving failed at the socket level.
    case connectionFailed(String)
    /// Nothing arrived within the request's timeout. Reading the body may be retried after this.
    case timedOut
    /// The server closed the connection before the response was complete.
    case connectionClosed
    case malformedResponse(String)
    /// `readAll(limit:)` saw more bytes than allowed.
    case bodyTooLarge(limit: Int)
    /// The body was read after `close()`.
    case responseClosed

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
        }
    }
}
