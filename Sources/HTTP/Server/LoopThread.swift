#if canImport(Glibc)
import Glibc
#endif

/// The server's loop thread, seen from a handler. A server told that some requests may be answered without
/// waiting (`HTTPServer(answersOnLoop:)`) runs the handler of those on its loop thread, which spares them the
/// hand-over to a worker. Such a handler must not block: whatever would wait (an upstream's answer, a remote
/// store, a child process) goes to `offload`, or, for an upstream request, to `HTTPClient.send(_:then:)`.
public enum LoopThread {
    /// Whether this thread is a server's loop thread (so the handler running here must not block).
    public static var isCurrent: Bool { EventLoop.current != nil }

    /// Runs `work` on one of the server's worker threads when called on its loop thread (here, as a worker
    /// would, when no worker can take it); anywhere else, runs it here.
    public static func elsewhere(_ work: @escaping @Sendable () -> Void) {
        guard let loop = EventLoop.current else { return work() }
        if !loop.submit(work) { EventLoop.asWorker(work) }
    }

    /// Runs `work` on one of the server's worker threads when called on its loop thread, and returns at once
    /// a response completed with what `work` gives; anywhere else, runs `work` here and returns its response.
    /// (A response that is itself deferred is waited for by the server in turn.)
    public static func offload(_ work: @escaping @Sendable () -> HTTPResponse) -> HTTPResponse {
        guard isCurrent else { return work() }
        let deferred = HTTPDeferredResponse()
        elsewhere { deferred.complete(work()) }
        return .deferred(deferred)
    }
}
