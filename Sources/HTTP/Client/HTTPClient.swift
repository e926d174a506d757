import Foundation

/// A blocking HTTP/1.1 client for upstream servers, safe to share between threads.
///
/// Plain `http` goes over its own sockets with a keep-alive pool: a connection returns to the
/// pool once a response body has been read to its end, and is not reused if the server said
/// `Connection: close` or the body was abandoned. A pooled connection is polled before reuse (a server
/// that closed it while idle is noticed then) and is not reused once idle for longer than the server's
/// `Keep-Alive: timeout` allows. If a request on a pooled connection still fails before any byte of
/// a response arrived (the server closed or reset it as the request went out), it is sent once more on
/// a fresh connection if that is safe. RFC 9110 §9.2.2: an idempotent request (GET, HEAD, PUT, DELETE,
/// OPTIONS) may be retried; a non-idempotent one (a POST such as an MCP `tools/call`) only when it was
/// never applied — here, when writing it failed, so the server cannot have read it whole. A POST whose
/// bytes went out on a connection that then ended without an answer is not retried: a server that
/// crashed while running it looks the same, and the call must not run twice. A timeout is never
/// retried, nor a failure on a fresh connection. `https` goes through libcurl (loaded on first use,
/// see `CurlTransport`), which buffers the whole body before `send` returns.
public final class HTTPClient: Sendable {
    private let pool: ConnectionPool
    private let secureTransport = CurlTransport()
    /// Parsed request URLs: a gateway sends every request of an app/env to the same one.
    private let endpoints = MemoCache<Endpoint>()

    /// - Parameters:
    ///   - maxIdleConnectionsPerHost: idle keep-alive connections kept per `host:port`.
    ///   - idleConnectionTimeout: seconds an idle connection is kept before it is closed instead of reused.
    public init(maxIdleConnectionsPerHost: Int = 32, idleConnectionTimeout: Double = 30) {
        SignalWatcher.ignoreBrokenPipe()
        pool = ConnectionPool(maxIdlePerHost: maxIdleConnectionsPerHost, idleTimeout: idleConnectionTimeout)
    }

    deinit {
        pool.closeAll()
    }

    /// Idle pooled connections, all hosts together.
    public var idleConnectionCount: Int { pool.idleCount }

    /// Sends the request and returns once the response head has arrived; the body is read from the response.
    public func send(_ request: HTTPClientRequest) throws -> HTTPClientResponse {
        try send(request, fresh: false)
    }

    /// Sends the request and calls `then` with the response. On a server's loop thread (see `LoopThread`) the
    /// thread is not held while the upstream works: the request is written on a pooled connection, the loop
    /// watches the socket, and `then` runs there once an answer with a body of up to 64 KiB has arrived whole;
    /// the answer to anything larger, streamed or chunked goes to `then` on a worker thread, whose reads of the
    /// body may wait. What would wait before the answer (connecting, `https`, a retry on a fresh connection)
    /// runs on a worker too. A body the loop collects is charged to the request's `budget` while it arrives;
    /// one that does not fit fails with `budgetExceeded` once its head is read. Anywhere else, this is `send`
    /// followed by `then`. The request's timeout bounds the wait for the answer.
    public func send(_ request: HTTPClientRequest, then: @escaping @Sendable (Result<HTTPClientResponse, HTTPClientError>) -> Void) {
        guard let loop = EventLoop.current else {
            then(Self.result { try send(request) })
            return
        }
        let endpoint: Endpoint
        do throws(HTTPClientError) {
            endpoint = try endpoints.value(request.url.absoluteString) { (_) throws(HTTPClientError) in try Endpoint(request.url) }
        } catch {
            then(.failure(error))
            return
        }
        guard !endpoint.isSecure, request.connectTo == nil, HTTPSyntax.isToken(request.method.utf8),
              let pooled = pool.checkout(endpoint.key) else {
            Self.offLoop(loop, then) { [self] in Self.result { try send(request) } }
            return
        }
        // Written without waiting: what the socket does not take at once (a large body, an upstream that
        // reads slowly) a worker sends, then reads the answer.
        guard Self.coalesces(request.body) else {
            Self.offLoop(loop, then) { [self] in exchangeOrRetry(serialize(request, endpoint), request, on: pooled) }
            return
        }
        switch Socket.sendWithoutWaiting(pooled.fd, serialize(request, endpoint)) {
        case .sent:
            break
        case .failed:
            // Nothing of it was sent: once more on a fresh connection (the upstream cannot have read it).
            pooled.close()
            Self.offLoop(loop, then) { [self] in Self.result { try send(request, fresh: true) } }
            return
        case .rest(let rest):
            Self.offLoop(loop, then) { [self] in exchangeOrRetry(rest, request, on: pooled, partlySent: true) }
            return
        }
        let method = request.method
        pooled.interimAnswers = 0
        let found = Found()
        let budget = request.budget
        let watched = loop.watch(pooled.fd, until: .after(seconds: request.timeout), check: {
            found.ready = AnswerReadiness.readIsReady(pooled, method: method, budget: budget, charged: &found.charged)
            return found.ready != nil
        }) { [self] timedOut in
            // The reader charges what it keeps of the body itself.
            budget?.release(found.charged)
            found.charged = 0
            if !timedOut, case .overBudget(let limit) = found.ready {
                pooled.close()  // its body is left unread
                then(.failure(.budgetExceeded(limit: limit)))
            } else if timedOut || found.ready == .whole {
                then(answer(request, on: pooled, timedOut: timedOut))
            } else {
                Self.offLoop(loop, then) { [self] in answer(request, on: pooled, timedOut: false) }
            }
        }
        if !watched { Self.offLoop(loop, then) { [self] in answer(request, on: pooled, timedOut: false) } }
    }

    /// Worker: writes `message` (the request, or what of it the loop could not send) and reads the answer; as
    /// `send` does, once more on a fresh connection when that is safe (never after part of it went out).
    private func exchangeOrRetry(_ message: [UInt8], _ request: HTTPClientRequest, on connection: ClientConnection,
                                 partlySent: Bool = false) -> Result<HTTPClientResponse, HTTPClientError> {
        do throws(ExchangeFailure) {
            return .success(try exchange(message, request: request, on: connection))
        } catch {
            connection.close()
            let retry = !partlySent && (error.notSent || (error.unanswered && Self.isIdempotent(request.method)))
            return retry ? Self.result { try send(request, fresh: true) } : .failure(error.error)
        }
    }

    /// What the loop's wait for an answer found (loop thread only).
    private final class Found: @unchecked Sendable {
        var ready: AnswerReadiness.Ready?
        /// Bytes of the body being collected, charged to the request's budget until the answer is handed on.
        var charged = 0
    }

    /// Runs `work` (which may wait) on one of the loop's workers and hands its result to `then` there; here,
    /// when no worker can take it.
    private static func offLoop(_ loop: EventLoop, _ then: @escaping @Sendable (Result<HTTPClientResponse, HTTPClientError>) -> Void,
                                _ work: @escaping @Sendable () -> Result<HTTPClientResponse, HTTPClientError>) {
        if !loop.submit({ then(work()) }) { then(.failure(.connectionFailed("no thread to wait for the upstream"))) }
    }

    /// The answer waited for, read from what is buffered; as `send` does, a request that failed on its reused
    /// connection before any answer arrived goes once more on a fresh one when that is safe (RFC 9110 §9.2.2),
    /// off the loop thread.
    private func answer(_ request: HTTPClientRequest, on connection: ClientConnection, timedOut: Bool) -> Result<HTTPClientResponse, HTTPClientError> {
        guard !timedOut else {
            connection.close()
            return .failure(.timedOut)
        }
        do throws(ExchangeFailure) {
            return .success(try receive(request, on: connection))
        } catch {
            connection.close()
            if error.unanswered && Self.isIdempotent(request.method) && !LoopThread.isCurrent {
                return Self.result { try send(request, fresh: true) }
            }
            return .failure(error.error)
        }
    }

    private static func result(_ body: () throws -> HTTPClientResponse) -> Result<HTTPClientResponse, HTTPClientError> {
        do {
            return .success(try body())
        } catch let error as HTTPClientError {
            return .failure(error)
        } catch {
            return .failure(.connectionFailed("\(error)"))
        }
    }

    /// `send`, on a fresh connection (not a pooled one) when `fresh`.
    private func send(_ request: HTTPClientRequest, fresh: Bool) throws -> HTTPClientResponse {
        let endpoint = try endpoints.value(request.url.absoluteString) { (_) throws(HTTPClientError) in try Endpoint(request.url) }
        guard HTTPSyntax.isToken(request.method.utf8) else { throw HTTPClientError.invalidRequest("invalid method") }
        if endpoint.isSecure {
            let (status, headers, body) = try secureTransport.send(Self.withExtraFieldsInHeaders(request))
            return HTTPClientResponse(status: status, headers: headers, reader: BodyReader(buffered: body))
        }
        let message = serialize(request, endpoint)
        var retried = fresh
        while true {
            // A retry goes to a fresh connection: if the upstream restarted, every pooled one is dead.
            let pooled = retried || request.connectTo != nil ? nil : pool.checkout(endpoint.key)
            let connection: ClientConnection
            if let pooled {
                connection = pooled
            } else {
                do throws(SocketError) {
                    connection = ClientConnection(fd: try Socket.connect(host: request.connectTo ?? endpoint.host, port: endpoint.port,
                                                                         timeout: request.timeout),
                                                  key: endpoint.key)
                } catch {
                    throw error.code == ETIMEDOUT ? HTTPClientError.timedOut : .connectionFailed(error.description)
                }
            }
            do throws(ExchangeFailure) {
                return try exchange(message, request: request, on: connection)
            } catch {
                connection.close()
                if pooled != nil && !retried && (error.notSent || (error.unanswered && Self.isIdempotent(request.method))) {
                    retried = true
                    continue
                }
                throw error.error
            }
        }
    }

    private struct ExchangeFailure: Error {
        var error: HTTPClientError
        /// The connection failed (not timed out) before any byte of a response arrived: the request was
        /// not sent whole, or the server closed or reset the connection without answering.
        var unanswered = false
        /// Writing the request failed: the server cannot have read it whole.
        var notSent = false
    }

    /// RFC 9110 §9.2.2: methods whose repetition has the same effect as one request.
    static func isIdempotent(_ method: String) -> Bool {
        switch method {
        case "GET", "HEAD", "PUT", "DELETE", "OPTIONS", "TRACE": true
        default: false
        }
    }

    /// RFC 9110 §8.6: methods whose requests are expected to have content (Content-Length is sent even when 0).
    static func expectsContent(_ method: String) -> Bool {
        switch method {
        case "POST", "PUT", "PATCH": true
        default: false
        }
    }

    /// `request` with its extra fields added to its headers (libcurl takes one list of fields).
    static func withExtraFieldsInHeaders(_ request: HTTPClientRequest) -> HTTPClientRequest {
        guard !request.extraFields.isEmpty else { return request }
        var merged = request
        for field in request.extraFields.fields { merged.headers.add(field.name, field.value) }
        return merged
    }

    private func exchange(_ message: [UInt8], request: HTTPClientRequest,
                          on connection: ClientConnection) throws(ExchangeFailure) -> HTTPClientResponse {
        try write(message, request: request, on: connection)
        return try receive(request, on: connection)
    }

    private func write(_ message: [UInt8], request: HTTPClientRequest, on connection: ClientConnection) throws(ExchangeFailure) {
        connection.setSendTimeout(request.timeout)
        do throws(SocketError) {
            try connection.send(message)
            if !Self.coalesces(request.body) {
                try connection.send(request.body)
            }
        } catch {
            // SO_SNDTIMEO: a send blocked for the whole timeout fails with EAGAIN.
            if error.code == EAGAIN || error.code == EWOULDBLOCK { throw ExchangeFailure(error: .timedOut) }
            throw ExchangeFailure(error: .connectionFailed(error.description), unanswered: true, notSent: true)
        }
    }

    /// Reads the response head (what is buffered first, then from the socket) and returns the response.
    private func receive(_ request: HTTPClientRequest, on connection: ClientConnection) throws(ExchangeFailure) -> HTTPClientResponse {
        var receivedAnything = connection.available > 0
        while true {
            let parsed: (head: HTTPResponseHead, end: Int)?
            do throws(HTTPClientError) {
                parsed = try connection.head()
            } catch {
                throw ExchangeFailure(error: error)
            }
            if let (head, end) = parsed {
                connection.consume(end - connection.start)
                // RFC 9110 §15.2: interim 1xx responses precede the final one (101 is final: nothing else follows).
                if (100..<200).contains(head.status) && head.status != 101 { continue }
                let framing: HTTPResponseHead.Framing
                do throws(HTTPClientError) {
                    framing = try head.framing(requestMethod: request.method)
                } catch {
                    throw ExchangeFailure(error: error)
                }
                let keepAlive = head.keepAlive
                let reusable = head.allowsReuse && !keepAlive.refusesMore && !(request.headers["Connection"].map {
                    HTTPSyntax.listContains($0, "close")
                } ?? false)
                connection.reuseWindow = keepAlive.timeout.map { Self.reuseWindow(serverTimeout: $0) }
                let bodyFraming: BodyReader.Framing = switch framing {
                case .none: .length(remaining: 0)
                case .length(let length): .length(remaining: length)
                case .chunked: .chunked(ChunkedBodyDecoder(maxBodyBytes: Int.max, maxTrailerBytes: HTTPResponseHead.maxBytes,
                                                           maxTrailerCount: HTTPResponseHead.maxFields))
                case .untilClose: .untilClose
                }
                let reader = BodyReader(framing: bodyFraming, connection: connection,
                                        reusable: reusable && !(framing == .untilClose),
                                        pool: pool, timeout: request.timeout)
                return HTTPClientResponse(status: head.status, headers: head.headers, reader: reader)
            }
            let received: Int
            do throws(HTTPClientError) {
                received = try connection.fill(timeout: request.timeout) ?? 0
            } catch {
                throw ExchangeFailure(error: error)
            }
            guard received > 0 else {
                throw ExchangeFailure(error: .connectionClosed, unanswered: !receivedAnything && connection.available == 0)
            }
            receivedAnything = true
        }
    }

    /// Bodies up to this size are sent in the same write as the head.
    private static let coalesceLimit = 64 * 1024

    private static func coalesces(_ body: [UInt8]) -> Bool { body.count <= coalesceLimit }

    /// How long a connection may be reused after a server said it keeps idle connections `timeout` seconds:
    /// a margin short of it (a second, or half of a short timeout), so a request does not meet the close.
    static func reuseWindow(serverTimeout timeout: Double) -> Double {
        max(timeout - 1, timeout / 2)
    }

    /// The request head (and a small body) as one write. Each field is copied straight from its strings:
    /// nothing is built per field, extra fields included.
    private func serialize(_ request: HTTPClientRequest, _ endpoint: Endpoint) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(Self.headRoom(request) + (Self.coalesces(request.body) ? request.body.count : 0))
        func append(_ string: String) { bytes.append(contentsOf: string.utf8) }
        func field(_ name: String, _ value: String) {
            append(name)
            append(": ")
            append(value)
            append("\r\n")
        }
        append(request.method)
        append(" ")
        append(endpoint.target)
        append(" HTTP/1.1\r\n")
        if !request.headers.contains("Host") { field("Host", endpoint.hostHeader) }
        for f in request.headers {
            if HTTPSyntax.equalsIgnoringCase(f.name, "Content-Length")
                || HTTPSyntax.equalsIgnoringCase(f.name, "Transfer-Encoding") { continue }
            field(f.name, f.value)
        }
        // Refused at `ExtraFields.add` when the client writes them itself: sent as they are.
        if let f = request.extraFields.first { field(f.name, f.value) }
        if let f = request.extraFields.second { field(f.name, f.value) }
        // RFC 9110 §8.6: a user agent sends Content-Length when there is content or the method expects it.
        if !request.body.isEmpty || Self.expectsContent(request.method) {
            field("Content-Length", String(request.body.count))
        }
        append("\r\n")
        if Self.coalesces(request.body) { bytes.append(contentsOf: request.body) }
        return bytes
    }

    /// Bytes enough for a usual head: a fixed allowance, plus the extra fields (so adding them never makes
    /// the buffer grow and copy itself).
    private static func headRoom(_ request: HTTPClientRequest) -> Int {
        var room = 512
        if let f = request.extraFields.first { room += f.name.utf8.count + f.value.utf8.count + 4 }
        if let f = request.extraFields.second { room += f.name.utf8.count + f.value.utf8.count + 4 }
        return room
    }
}
