#if canImport(Glibc)
import Glibc
#endif

/// One TCP connection of `HTTPClient` to an upstream, with the bytes read but not yet consumed.
///
/// It has exactly one owner at a time (a request in flight, a response body being read, or the
/// pool), which hands it over explicitly; that is why it is `@unchecked Sendable`.
final class ClientConnection: @unchecked Sendable {
    let fd: Int32
    /// `host:port` of the upstream, the pool key.
    let key: String
    private(set) var buffer: [UInt8] = []
    /// Start of the unconsumed bytes in `buffer`.
    var start = 0
    var idleSince = Deadline.now
    /// Seconds this connection may stay idle and still be reused, when the server announced how long it
    /// keeps idle connections (`Keep-Alive: timeout=N`); nil leaves it to the pool's own idle timeout.
    var reuseWindow: Double?
    /// Interim (1xx) answers taken while the loop waited for the final one (see `AnswerReadiness`).
    var interimAnswers = 0
    /// The final answer's head as the loop parsed it while it waited (`AnswerReadiness`), and its length from
    /// `start`: its reader takes it instead of parsing the head again. Gone once any byte is consumed.
    var parsedHead: (head: HTTPResponseHead, length: Int)?
    private var isClosed = false
    /// The SO_SNDTIMEO and SO_RCVTIMEO last set, so that a request with the same timeout as the previous
    /// one on this connection costs no setsockopt(2).
    private var sendTimeout = -1.0
    private var receiveTimeout = -1.0
    private static let readSize = 16 * 1024

    init(fd: Int32, key: String) {
        self.fd = fd
        self.key = key
    }

    deinit {
        if !isClosed { Glibc.close(fd) }
    }

    var available: Int { buffer.count - start }
    var isOpen: Bool { !isClosed }

    func send(_ bytes: [UInt8]) throws(SocketError) {
        try Socket.sendAll(fd, bytes)
    }

    /// A send blocked for `seconds` fails with EAGAIN (SO_SNDTIMEO).
    func setSendTimeout(_ seconds: Double) {
        setTimeout(SO_SNDTIMEO, seconds, last: &sendTimeout)
    }

    /// Sets SO_SNDTIMEO or SO_RCVTIMEO unless it already has this value; between 1 ms (0 would mean
    /// "never") and a day.
    private func setTimeout(_ option: Int32, _ seconds: Double, last: inout Double) {
        let clamped = max(0.001, min(seconds, 86_400))
        guard clamped != last else { return }
        var value = timeval(tv_sec: Int(clamped), tv_usec: Int((clamped - clamped.rounded(.down)) * 1_000_000))
        if setsockopt(fd, SOL_SOCKET, option, &value, socklen_t(MemoryLayout<timeval>.size)) == 0 { last = clamped }
    }

    /// Waits up to `timeout` seconds and appends what arrives; returns the count, 0 at end of stream.
    /// With no `timeout`, takes only what has arrived already and returns nil when nothing has.
    func fill(timeout: Double?) throws(HTTPClientError) -> Int? {
        if start > 0 && (start == buffer.count || start >= 16 * 1024) {
            buffer.removeSubrange(0..<start)
            start = 0
        }
        // One blocking recv(2) bounded by SO_RCVTIMEO, rather than poll(2) and then recv(2).
        if let timeout { setTimeout(SO_RCVTIMEO, timeout, last: &receiveTimeout) }
        // Read on the stack: a connection held open for hours (an event stream) keeps no read buffer of its own.
        let received = withUnsafeTemporaryAllocation(byteCount: Self.readSize, alignment: 16) { scratch in
            let count = Socket.receive(fd, into: scratch, waiting: timeout != nil)
            if count > 0 { buffer.append(contentsOf: UnsafeRawBufferPointer(rebasing: scratch[0..<count])) }
            return count
        }
        if received < 0 {
            if errno == EAGAIN || errno == EWOULDBLOCK {
                guard timeout == nil else { throw .timedOut }
                // Nothing more for now: a stream that waits gives its consumed bytes' memory back.
                if available == 0 {
                    buffer = []
                    start = 0
                }
                return nil
            }
            // A reset after the server closed is the same as a close for the caller.
            if errno == ECONNRESET || errno == EPIPE { return 0 }
            throw .connectionFailed(SocketError("recv").description)
        }
        return received
    }

    /// Takes up to `count` unconsumed bytes.
    func take(upTo count: Int) -> [UInt8] {
        let taken = min(count, available)
        let bytes = Array(buffer[start..<(start + taken)])
        start += taken
        parsedHead = nil
        return bytes
    }

    func consume(_ count: Int) {
        start += count
        parsedHead = nil
    }

    /// The head at `start`: the one the loop parsed, or parsed now; nil while it is incomplete.
    func head() throws(HTTPClientError) -> (head: HTTPResponseHead, end: Int)? {
        if let parsedHead { return (parsedHead.head, start + parsedHead.length) }
        return try HTTPResponseHead.parse(buffer, from: start)
    }

    /// Gives back the read buffer's memory before the connection waits in the pool: the buffer grows to
    /// the largest answer read through it, and an idle connection must not keep that much memory.
    func releaseBuffer() {
        if buffer.capacity > 64 * 1024 { buffer = [] } else { buffer.removeAll(keepingCapacity: true) }
        start = 0
        parsedHead = nil
    }

    /// True if the connection looks usable: nothing to read (a close or stray bytes would be readable).
    /// A non-blocking poll(2), so an upstream's close while the connection sat idle is seen before reuse.
    var isReusable: Bool {
        guard !isClosed, available == 0 else { return false }
        var entry = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        return poll(&entry, 1, 0) == 0
    }

    func close() {
        guard !isClosed else { return }
        isClosed = true
        Glibc.close(fd)
    }
}
