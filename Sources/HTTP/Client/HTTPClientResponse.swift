/// A response from `HTTPClient` whose body is read on demand, piece by piece as it arrives.
///
/// Read the body with `readChunk()` (streaming, e.g. Server-Sent Events) or `readAll(limit:)`.
/// Once the body has been read to its end, the connection goes back to the client's pool;
/// `close()` (or dropping the response) before that closes the connection instead. It is
/// `Sendable` so a streaming handler can capture it; reads are serialized.
public final class HTTPClientResponse: Sendable {
    public let status: Int
    public let headers: HTTPHeaders
    private let reader: Guarded<BodyReader>

    init(status: Int, headers: HTTPHeaders, reader: consuming BodyReader) {
        self.status = status
        self.headers = headers
        self.reader = Guarded(reader)
    }

    deinit {
        close()
    }

    /// The next bytes of the body as soon as some are available; nil at the end of the body.
    /// Blocks up to the request's timeout, then throws `HTTPClientError.timedOut` (reading may continue).
    public func readChunk() throws -> [UInt8]? {
        try reader.withLock { reader throws(HTTPClientError) in try reader.readChunk() }
    }

    /// The next bytes of the body that have arrived already, without waiting: an empty array when none
    /// have, nil at the end of the body.
    public func readAvailableChunk() throws -> [UInt8]? {
        try reader.withLock { reader throws(HTTPClientError) in try reader.readChunk(waiting: false) }
    }

    /// The descriptor the body arrives on, for a caller that waits for it to become readable (an
    /// `HTTPEventSource`); nil when the body is not read off a socket (an https answer, buffered whole) or
    /// has ended. From this call on the connection stays open, and is neither pooled nor reused, until
    /// `close()`: whoever waits on the descriptor never finds it taken over.
    public func holdDescriptor() -> Int32? {
        reader.withLock { $0.holdDescriptor() }
    }

    /// The whole remaining body; throws `bodyTooLarge` (and closes) if it exceeds `limit` bytes.
    ///
    /// With a `budget`, each piece is charged to it before it is buffered; if a piece does not fit, what was
    /// charged is released, the response is closed and `budgetExceeded` is thrown. On success the returned
    /// bytes stay charged: the caller calls `budget.release(body.count)` once it no longer holds them.
    public func readAll(limit: Int = 16 * 1024 * 1024, budget: ByteBudget? = nil) throws -> [UInt8] {
        var body: [UInt8] = []
        do {
            while let chunk = try readChunk() {
                guard chunk.count <= limit - body.count else { throw HTTPClientError.bodyTooLarge(limit: limit) }
                if let budget, !budget.tryCharge(chunk.count) { throw HTTPClientError.budgetExceeded(limit: budget.limit) }
                body.append(contentsOf: chunk)
            }
        } catch {
            budget?.release(body.count)
            close()
            throw error
        }
        return body
    }

    /// Stops reading: the connection is closed unless the body was already complete.
    public func close() {
        reader.withLock { $0.close() }
    }
}
