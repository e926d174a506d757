#if canImport(Glibc)
import Glibc
#endif
import Dispatch

/// A response whose handler finishes it later, from any thread. The handler returns
/// `HTTPResponse.deferred(_:)` at once, and the thread that ran it goes on to other work; the server sends the
/// response when `complete(_:)` is called, and until then the connection holds no thread. Its status, header
/// fields and body all come with `complete`.
///
/// For work the handler waits on without computing: a commit that other threads batch, say. The connection
/// answers nothing after it until it is complete (RFC 9112 §9.3.2: responses go out in the order of requests).
public final class HTTPDeferredResponse: @unchecked Sendable {
    private let lock = Guarded()
    // Guarded by `lock`: the response once completed, and what its waiters do with it.
    private var response: HTTPResponse?
    private var waiters: [@Sendable (HTTPResponse) -> Void] = []
    private var completed = false

    public init() {}

    /// Hands over the response. Called once; later calls are ignored. When the server is already waiting,
    /// it sends the response on the calling thread before this returns (without blocking on a slow client: what
    /// the socket does not take at once is sent by one of its worker threads).
    public func complete(_ response: HTTPResponse) {
        let waiting = lock.withLock { () -> [@Sendable (HTTPResponse) -> Void] in
            guard !completed else { return [] }
            completed = true
            self.response = response
            defer { waiters = [] }
            return waiters
        }
        for waiter in waiting { waiter(response) }
    }

    /// The server's side: runs `then` with the response, at once on this thread when it is complete already,
    /// otherwise on the thread that completes it.
    func whenComplete(_ then: @escaping @Sendable (HTTPResponse) -> Void) {
        let ready = lock.withLock { () -> HTTPResponse? in
            if response == nil { waiters.append(then) }
            return response
        }
        if let ready { then(ready) }
    }

    /// Blocks until the response is complete: for a caller outside the server that needs it whole.
    public func wait() -> HTTPResponse {
        let done = DispatchSemaphore(value: 0)
        let box = ResponseBox()
        whenComplete { response in
            box.response = response
            done.signal()
        }
        done.wait()
        return box.response ?? HTTPResponse(status: 500)
    }

    private final class ResponseBox: @unchecked Sendable {
        var response: HTTPResponse?
    }
}
