/// A streamed response body fed from a descriptor (typically an upstream's socket) that the server waits on
/// without holding a thread: its event loop watches `descriptor`, and a worker runs `pump` only when bytes
/// arrived there or the source stayed quiet for `quietInterval` seconds. A stream that is silent for hours
/// costs a connection's memory, never a thread.
///
/// Framing is as for `.stream` (chunked, or close-delimited for HTTP/1.0); every write is sent at once.
public protocol HTTPEventSource: AnyObject, Sendable {
    /// The descriptor whose readability means `pump` has work. It stays open, and its bytes are read by no
    /// one else, until `close()`.
    var descriptor: Int32 { get }
    /// Seconds without readability after which `pump` is called with `quiet` set.
    var quietInterval: Double { get }
    /// Passes on to `writer` everything the source has ready, without waiting for more (bytes the source
    /// buffered itself included: the descriptor only tells of bytes not yet read). `quiet`: nothing arrived
    /// for `quietInterval`. Returns false when the stream has ended; throws to cut the stream (the client
    /// then sees an incomplete response, as when a `.stream` closure throws).
    func pump(_ writer: any HTTPBodyWriter, quiet: Bool) throws -> Bool
    /// Releases the source; called once, however the stream ended.
    func close()
}

extension HTTPEventSource {
    /// Runs the stream to its end on the calling thread (for a consumer that is not the server's loop).
    public func run(_ writer: any HTTPBodyWriter) throws {
        defer { close() }
        var quiet = false
        while try pump(writer, quiet: quiet) {
            quiet = Socket.waitReadable(descriptor, until: .after(seconds: quietInterval)) == .timedOut
        }
    }
}
