#if canImport(Glibc)
import Glibc
#endif

/// One client connection, served in turns: the event loop owns it while it waits for bytes (reading, parsing,
/// timing each phase of the request), a worker thread owns it while a complete request is answered, and it goes
/// back to the loop for the next request while it is kept alive (RFC 9112 §9.3).
///
/// Only its current owner touches it; each hand-over goes through a lock (the worker pool's queue, the loop's
/// return queue), which orders the accesses of the two threads.
///
/// Which timeout applies depends on the parser's phase: `idleTimeout` while waiting for the first byte of a
/// request (then close silently), `headTimeout` from that byte until the head is complete, `bodyTimeout` from
/// there until the body is complete (then 408 and close).
final class HTTPConnection: @unchecked Sendable {
    /// What a worker decided after answering.
    enum Outcome {
        /// Wait on the loop for more of the next request.
        case wait
        /// Close at once: the exchange ended cleanly or the client is gone.
        case close
        /// Answer with this error, then close without losing the answer to a reset. Carries the request
        /// line of the failed request when it had arrived.
        case fail(HTTPParseError, (method: String, target: String)?)
    }

    static let continueResponse = Array("HTTP/1.1 100 Continue\r\n\r\n".utf8)

    let fd: Int32
    let remoteAddress: String
    var parser: HTTPRequestParser
    private var date = HTTPDate()

    /// The phase the running timeout belongs to, and when that phase began.
    var phase = HTTPRequestParser.Phase.idle
    var phaseStart = Deadline.now
    /// Answered with an error and no longer sending: what the client still sends is discarded until it closes
    /// or the linger time (counted from `phaseStart`) is up.
    var lingering = false

    /// The loop's bookkeeping: the `TimeoutList` this connection waits in (by index) and its neighbours there.
    var waitingIn: Int?
    var previous: HTTPConnection?
    var next: HTTPConnection?

    init(fd: Int32, remoteAddress: String, configuration: HTTPServerConfiguration) {
        self.fd = fd
        self.remoteAddress = remoteAddress
        parser = HTTPRequestParser(configuration: configuration)
    }

    /// On a worker: answers `request`, then every further request already received whole, in order.
    func answer(_ request: HTTPRequest, handler: @Sendable (HTTPRequest) -> HTTPResponse,
                isStopping: @Sendable () -> Bool) -> Outcome {
        var request = request
        while true {
            guard respond(to: request, handler: handler, isStopping: isStopping) else { return .close }
            phase = parser.phase
            phaseStart = .now
            switch parser.next() {
            case .request(let following):
                request = following
                request.remoteAddress = remoteAddress
            case .error(let error):
                return .fail(error, parser.currentRequestLine)
            case .needMoreData:
                if parser.takeContinueExpectation() {
                    // RFC 9110 §10.1.1: the client waits for this interim response before sending the body.
                    guard (try? Socket.sendAll(fd, Self.continueResponse)) != nil else { return .close }
                }
                return .wait
            }
        }
    }

    /// Runs the handler and writes its response; returns whether to keep the connection.
    private func respond(to request: HTTPRequest, handler: @Sendable (HTTPRequest) -> HTTPResponse,
                         isStopping: @Sendable () -> Bool) -> Bool {
        let response = handler(request)
        let keepAlive = request.wantsKeepAlive && !isStopping()
        do {
            return try HTTPResponseWriter.write(response, for: request, keepAlive: keepAlive, date: date.now(), fd: fd)
        } catch {
            return false
        }
    }
}
