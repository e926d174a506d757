/// A streamed response (`.events`) whose head has been sent, waiting on its source between deliveries: the
/// event loop watches `descriptor` and hands the connection to a worker when bytes arrive there or the
/// source has been quiet for its `quietInterval` (counted from the connection's `phaseStart`).
final class ParkedStream {
    let source: any HTTPEventSource
    let writer: SocketBodyWriter
    /// Whether the connection may carry another request once the body is finished.
    let keepAlive: Bool
    /// The source's descriptor, read once: it stays the same until the source is closed.
    let descriptor: Int32
    let quietInterval: Double
    /// Whether `descriptor` has been added to the loop's epoll set (it is removed before the source closes).
    var watched = false

    init(source: any HTTPEventSource, writer: SocketBodyWriter, keepAlive: Bool) {
        self.source = source
        self.writer = writer
        self.keepAlive = keepAlive
        descriptor = source.descriptor
        quietInterval = max(0.001, source.quietInterval)
    }
}
