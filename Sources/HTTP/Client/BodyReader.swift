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
    /// Set while something else watches the connection's descriptor (a server's event loop): the connection
    /// is then neither pooled nor closed when the body ends, only at `close()`, so the descriptor cannot be
    /// reused under the watcher. `endedReusable` says what to do with it then.
    private var holdsConnection = false
    private var endedReusable = false

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

    /// The connection's descriptor while the body is being read off it; from then on it is held until `close()`.
    mutating func holdDescriptor() -> Int32? {
        guard let connection, !isEnded else { return nil }
        holdsConnection = true
        return connection.fd
    }

    private var isEnded: Bool {
        switch framing {
        case .finished, .closed: true
        default: false
        }
    }

    /// The next bytes of the body; nil at its end. `waiting`: blocks up to the timeout for them; otherwise
    /// takes only what has arrived and returns an empty array when nothing has.
    mutating func readChunk(waiting: Bool = true) throws(HTTPClientError) -> [UInt8]? {
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
                guard let received = try connection.fill(timeout: waiting ? timeout : nil) else { return [] }
                guard received > 0 else {
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
                    guard let received = try connection.fill(timeout: waiting ? timeout : nil) else { return [] }
                    guard received > 0 else {
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
                guard let received = try connection.fill(timeout: waiting ? timeout : nil) else { return [] }
                guard received > 0 else {
                    finish(reusable: false)
                    return nil
                }
            }
            return connection.take(upTo: connection.available)
        }
    }

    mutating func close() {
        switch framing {
        case .closed:
            break
        case .finished:
            // A body that ended while its connection was held: the connection is released now.
            holdsConnection = false
            if connection != nil { finish(reusable: endedReusable) }
        default:
            holdsConnection = false
            finish(reusable: false)
        }
        framing = .closed
    }

    /// Hands the connection back to the pool when the exchange ended cleanly, else closes it.
    private mutating func finish(reusable: Bool) {
        framing = .finished
        guard let connection else { return }
        if holdsConnection {
            endedReusable = reusable
            return
        }
        self.connection = nil
        if reusable, connection.available == 0, let pool {
            pool.checkin(connection)
        } else {
            connection.close()
        }
    }
}
