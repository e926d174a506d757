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
    private var waiters: [(id: Int, run: @Sendable (HTTPResponse) -> Void)] = []
    private var nextWaiter = 0
    private var completed = false

    public init() {}

    /// Hands over the response. Called once; later calls are ignored. When the server is already waiting,
    /// it sends the response on the calling thread before this returns (without blocking on a slow client: what
    /// the socket does not take at once is sent by one of its worker threads).
    public func complete(_ response: HTTPResponse) {
        let waiting = lock.withLock { () -> [(id: Int, run: @Sendable (HTTPResponse) -> Void)] in
            guard !completed else { return [] }
            completed = true
            self.response = response
            defer { waiters = [] }
            return waiters
        }
        for waiter in waiting { waiter.run(response) }
    }

    /// The server's side: runs `then` with the response, at once on this thread when it is complete already,
    /// otherwise on the thread that completes it.
    func whenComplete(_ then: @escaping @Sendable (HTTPResponse) -> Void) {
        _ = register(then)
    }

    /// Runs `then` at once with the response when it is complete (and returns nil), else registers it and
    /// returns its id.
    private func register(_ then: @escaping @Sendable (HTTPResponse) -> Void) -> Int? {
        let (ready, id) = lock.withLock { () -> (HTTPResponse?, Int?) in
            guard response == nil else { return (response, nil) }
            nextWaiter += 1
            waiters.append((nextWaiter, then))
            return (nil, nextWaiter)
        }
        if let ready { then(ready) }
        return id
    }

    /// Blocks until the response is complete: for a caller outside the server that needs it whole.
    public func wait() -> HTTPResponse {
        wait(seconds: nil) ?? HTTPResponse(status: 500)
    }

    /// Blocks until the response is complete, or at most `seconds` (nil: as long as it takes); nil when it
    /// was not complete in time, and then nothing of this wait is left behind.
    func wait(seconds: Double?) -> HTTPResponse? {
        let done = DispatchSemaphore(value: 0)
        let box = ResponseBox()
        guard let id = register({ response in
            box.response = response
            done.signal()
        }) else { return box.response }
        guard let seconds else {
            done.wait()
            return box.response
        }
        if done.wait(timeout: .now() + seconds) == .timedOut {
            let withdrawn = lock.withLock { () -> Bool in
                guard let index = waiters.firstIndex(where: { $0.id == id }) else { return false }
                waiters.remove(at: index)
                return true
            }
            if withdrawn { return nil }
            // Completed as the wait ran out: the answer is on its way to this waiter.
            done.wait()
        }
        return box.response
    }

    private final class ResponseBox: @unchecked Sendable {
        var response: HTTPResponse?
    }
}
