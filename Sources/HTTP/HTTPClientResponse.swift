import Synchronization

/// A response from `HTTPClient` whose body is read on demand, piece by piece as it arrives.
///
/// Read the body with `readChunk()` (streaming, e.g. Server-Sent Events) or `readAll(limit:)`.
/// Once the body has been read to its end, the connection goes back to the client's pool;
/// `close()` (or dropping the response) before that closes the connection instead. It is
/// `Sendable` so a streaming handler can capture it; reads are serialized.
public final class HTTPClientResponse: Sendable {
    public let status: Int
    public let headers: HTTPHeaders
    private let reader: Mutex<BodyReader>

    init(status: Int, headers: HTTPHeaders, reader: consuming BodyReader) {
        self.status = status
        self.headers = headers
        self.reader = Mutex(reader)
    }

    deinit {
        close()
    }

    /// The next bytes of the body as soon as some are available; nil at the end of the body.
    /// Blocks up to the request's timeout, then throws `HTTPClientError.timedOut` (reading may continue).
    public func readChunk() throws -> [UInt8]? {
        try reader.withLock { reader throws(HTTPClientError) in try reader.readChunk() }
    }

    /// The whole remaining body; throws `bodyTooLarge` (and closes) if it exceeds `limit` bytes.
    public func readAll(limit: Int = 16 * 1024 * 1024) throws -> [UInt8] {
        var body: [UInt8] = []
        while let chunk = try readChunk() {
            guard chunk.count <= limit - body.count else {
                close()
                throw HTTPClientError.bodyTooLarge(limit: limit)
            }
            body.append(contentsOf: chunk)
        }
        return body
    }

    /// Stops reading: the connection is closed unless the body was already complete.
    public func close() {
        reader.withLock { $0.close() }
    }
}
