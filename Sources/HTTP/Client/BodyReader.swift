/// Reads a response body off a client connection according to its framing (RFC 9112 §6.3).
struct BodyReader: ~Copyable {
    enum Framing {
        case length(remaining: Int)
        case chunked(ChunkedBodyDecoder)
        case untilClose
        case buffered([UInt8])
        case finished
        case closed
    }

    private var framing: Framing
    private var connection: ClientConnection?
    private let reusable: Bool
    private let pool: ConnectionPool?
    private let timeout: Double

    init(framing: Framing, connection: ClientConnection?, reusable: Bool, pool: ConnectionPool?, timeout: Double) {
        self.framing = framing
        self.connection = connection
        self.reusable = reusable
        self.pool = pool
        self.timeout = timeout
        if case .length(0) = framing { finish(reusable: reusable) }
    }

    init(buffered body: [UInt8]) {
        self.init(framing: .buffered(body), connection: nil, reusable: false, pool: nil, timeout: 0)
    }

    mutating func readChunk() throws(HTTPClientError) -> [UInt8]? {
        switch framing {
        case .finished:
            return nil
        case .closed:
            throw .responseClosed
        case .buffered(let body):
            framing = .finished
            return body.isEmpty ? nil : body
        case .length(let remaining):
            guard let connection else { throw .responseClosed }
            if connection.available == 0 {
                guard try connection.fill(timeout: timeout) > 0 else {
                    finish(reusable: false)
                    throw .connectionClosed
                }
            }
            let bytes = connection.take(upTo: remaining)
            framing = .length(remaining: remaining - bytes.count)
            if remaining == bytes.count { finish(reusable: reusable) }
            return bytes
        case .chunked(var decoder):
            guard let connection else { throw .responseClosed }
            var bytes: [UInt8] = []
            while bytes.isEmpty && !decoder.isDone {
                if connection.available > 0 {
                    do throws(HTTPParseError) {
                        try decoder.decode(connection.buffer, index: &connection.start, into: &bytes)
                    } catch {
                        finish(reusable: false)
                        throw .malformedResponse("invalid chunked body: \(error)")
                    }
                }
                if bytes.isEmpty && !decoder.isDone {
                    framing = .chunked(decoder)
                    guard try connection.fill(timeout: timeout) > 0 else {
                        finish(reusable: false)
                        throw .connectionClosed
                    }
                }
            }
            framing = .chunked(decoder)
            if decoder.isDone { finish(reusable: reusable) }
            return bytes.isEmpty ? nil : bytes
        case .untilClose:
            guard let connection else { throw .responseClosed }
            if connection.available == 0 {
                guard try connection.fill(timeout: timeout) > 0 else {
                    finish(reusable: false)
                    return nil
                }
            }
            return connection.take(upTo: connection.available)
        }
    }

    mutating func close() {
        switch framing {
        case .finished, .closed:
            framing = .closed
        default:
            finish(reusable: false)
            framing = .closed
        }
    }

    /// Hands the connection back to the pool when the exchange ended cleanly, else closes it.
    private mutating func finish(reusable: Bool) {
        framing = .finished
        guard let connection else { return }
        self.connection = nil
        if reusable, connection.available == 0, let pool {
            pool.checkin(connection)
        } else {
            connection.close()
        }
    }
}
