/// A response a handler returns: status, header fields and either a whole body or a stream.
///
/// The server owns framing: it removes any `Content-Length`, `Transfer-Encoding` and
/// `Connection` fields set here and writes its own (RFC 9112 §6). A `Connection: close`
/// set by the handler still makes the server close the connection after this response.
public struct HTTPResponse: Sendable {
    /// How the body is produced.
    public enum Body: Sendable {
        /// A complete body, sent with `Content-Length`.
        case bytes([UInt8])
        /// A complete body sent like `bytes`, released (see `HeldBytes`) once it has been written.
        case held(HeldBytes)
        /// A body produced while the response is being sent, with `Transfer-Encoding: chunked`
        /// (close-delimited for HTTP/1.0 clients). The closure runs on the connection's thread;
        /// every `write` is flushed immediately, which is what Server-Sent Events need.
        /// If the closure throws, the connection is closed without the final chunk so the
        /// client sees an incomplete response.
        case stream(@Sendable (any HTTPBodyWriter) throws -> Void)
        /// A body produced like `stream`, from a source the server's event loop waits on: between
        /// deliveries the response holds no thread (see `HTTPEventSource`).
        case events(any HTTPEventSource)
        /// Not a body but the whole response, finished later (see `HTTPDeferredResponse`): the status and
        /// header fields of this value are not used.
        case deferred(HTTPDeferredResponse)
    }

    public var status: Int
    public var headers: HTTPHeaders
    public var body: Body

    public init(status: Int, headers: HTTPHeaders = HTTPHeaders(), body: Body = .bytes([])) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    /// A response its handler completes later, from any thread; none of the server's threads waits for it.
    public static func deferred(_ response: HTTPDeferredResponse) -> HTTPResponse {
        HTTPResponse(status: 200, body: .deferred(response))
    }

    /// This response, or for a deferred one the response it is completed with (waited for on this thread).
    public var resolved: HTTPResponse {
        guard case .deferred(let deferred) = body else { return self }
        return deferred.wait().resolved
    }

    /// A `text/plain; charset=utf-8` response.
    public static func text(_ string: String, status: Int = 200) -> HTTPResponse {
        HTTPResponse(status: status, headers: HTTPHeaders([("Content-Type", "text/plain; charset=utf-8")]),
                     body: .bytes(Array(string.utf8)))
    }

    /// An `application/json` response with already-encoded bytes.
    public static func json(_ bytes: [UInt8], status: Int = 200) -> HTTPResponse {
        HTTPResponse(status: status, headers: HTTPHeaders([("Content-Type", "application/json")]),
                     body: .bytes(bytes))
    }

    /// A `text/html; charset=utf-8` response.
    public static func html(_ string: String, status: Int = 200) -> HTTPResponse {
        HTTPResponse(status: status, headers: HTTPHeaders([("Content-Type", "text/html; charset=utf-8")]),
                     body: .bytes(Array(string.utf8)))
    }

    /// A `text/event-stream` response (Server-Sent Events) with `Cache-Control: no-cache`;
    /// write `SSEEvent.encoded()` bytes to the writer.
    public static func eventStream(status: Int = 200, headers: HTTPHeaders = HTTPHeaders(),
                                   _ produce: @escaping @Sendable (any HTTPBodyWriter) throws -> Void) -> HTTPResponse {
        var all = headers
        all["Content-Type"] = "text/event-stream"
        if !all.contains("Cache-Control") { all["Cache-Control"] = "no-cache" }
        return HTTPResponse(status: status, headers: all, body: .stream(produce))
    }

    /// The standard reason phrase for `status`, or an empty string (RFC 9110 §15).
    public static func reasonPhrase(for status: Int) -> String {
        HTTPStatus.reasonPhrase(status)
    }
}
