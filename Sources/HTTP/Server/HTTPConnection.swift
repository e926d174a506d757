#if canImport(Glibc)
import Glibc
#endif

/// One client connection, served in turns: the event loop owns it while it waits for bytes (reading, parsing,
/// timing each phase of the request), a worker thread owns it while a complete request is answered, and it goes
/// back to the loop for the next request while it is kept alive (RFC 9112 §9.3). A connection that keeps
/// sending requests right after its responses stays with its worker while it does.
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
        /// The response is an event stream whose head is sent: the loop waits on its source (`stream`).
        case park
        /// The handler finishes the response later; whoever completes it sends it (see `EventLoop.deliver`).
        case deferred(HTTPDeferredResponse, Exchange)
    }

    private enum Responded {
        case keep
        case close
        case park
        case deferred(HTTPDeferredResponse, Exchange)
    }

    /// A request whose response is still to be written, and whether the connection may be kept alive after it.
    struct Exchange: @unchecked Sendable {
        let request: HTTPRequest
        let keepAlive: Bool
    }

    /// Where a worker's turn with the connection begins.
    enum Turn {
        /// A complete request to answer.
        case request(HTTPRequest)
        /// A response completed after its handler returned, to write before going on.
        case response(HTTPResponse, Exchange)
        /// The response before has just been finished: go on with the next request.
        case next
    }

    /// What a worker needs besides the connection.
    struct Service: Sendable {
        let configuration: HTTPServerConfiguration
        let handler: @Sendable (HTTPRequest) -> HTTPResponse
        let isStopping: @Sendable () -> Bool
        /// Readable once shutdown has begun.
        let wakeFD: Int32
        /// Bounds the workers waiting in a follow-up window at once.
        let followUps: FollowUpSlots
    }

    static let continueResponse = Array("HTTP/1.1 100 Continue\r\n\r\n".utf8)
    static let readBufferSize = 16 * 1024
    /// A connection whose last request followed its previous response within this time is likely to send the
    /// next one as soon: the worker waits this long for it before handing the connection back to the loop,
    /// which spares a busy connection a trip through the loop for every request.
    static let followUpWindow = 0.05

    let fd: Int32
    let remoteAddress: String
    var parser: HTTPRequestParser
    private var date = HTTPDate()

    /// The phase the running timeout belongs to, and when that phase began.
    var phase = HTTPRequestParser.Phase.idle
    var phaseStart = Deadline.now
    /// When the last response was written (nil before the first), and whether the request after it came
    /// within `followUpWindow`.
    var lastAnswered: Deadline?
    var followsUpQuickly = false
    /// Answered with an error and no longer sending: what the client still sends is discarded until it closes
    /// or the linger time (counted from `phaseStart`) is up.
    var lingering = false
    /// The event stream this connection's response is waiting on, while there is one.
    var stream: ParkedStream?

    /// The loop's bookkeeping: the `TimeoutList` this connection waits in (by index) and its neighbours there.
    var waitingIn: Int?
    var previous: HTTPConnection?
    var next: HTTPConnection?

    init(fd: Int32, remoteAddress: String, configuration: HTTPServerConfiguration) {
        self.fd = fd
        self.remoteAddress = remoteAddress
        parser = HTTPRequestParser(configuration: configuration)
    }

    /// Restarts the phase timer when the parser's phase changed.
    func notePhase() {
        let current = parser.phase
        if current != phase {
            phase = current
            phaseStart = .now
        }
    }

    /// When the running phase times out.
    func deadline(_ configuration: HTTPServerConfiguration) -> Deadline {
        let seconds = switch phase {
        case .idle: configuration.idleTimeout
        case .head: configuration.headTimeout
        case .body: configuration.bodyTimeout
        }
        return phaseStart.adding(seconds: seconds)
    }

    /// On the loop, as the first bytes of a request arrive: notes whether they followed the last response quickly.
    func noteArrival() {
        guard phase == .idle, let lastAnswered else { return }
        followsUpQuickly = !lastAnswered.adding(seconds: Self.followUpWindow).hasPassed
    }

    /// On a worker: begins with `turn`, then answers every further request that arrives whole while the
    /// connection follows up quickly, in order.
    func answer(_ turn: Turn, _ service: Service) -> Outcome {
        withUnsafeTemporaryAllocation(byteCount: Self.readBufferSize, alignment: 16) { buffer in
            var request: HTTPRequest?
            var responded: Responded?
            switch turn {
            case .request(let first): request = first
            case .response(let response, let exchange): responded = send(response, exchange)
            case .next: break
            }
            while true {
                if let current = request {
                    responded = respond(to: current, service)
                }
                switch responded {
                case .keep, nil: break
                case .close: return .close
                case .park: return .park
                case .deferred(let deferred, let exchange): return .deferred(deferred, exchange)
                }
                noteAnswered()
                switch awaitNext(service, buffer) {
                case .request(let following): request = following
                case .ended(let outcome): return outcome
                }
            }
        }
    }

    private enum Next {
        case request(HTTPRequest)
        case ended(Outcome)
    }

    /// Parses what is buffered and, for a connection that follows up quickly, reads on while the next bytes
    /// come within `followUpWindow`; the phase timeouts apply as on the loop.
    private func awaitNext(_ service: Service, _ buffer: UnsafeMutableRawBufferPointer) -> Next {
        let waits = followsUpQuickly && service.followUps.take()
        defer { if waits { service.followUps.release() } }
        let window = Deadline.after(seconds: waits ? Self.followUpWindow : 0)
        while true {
            switch parser.next() {
            case .request(var following):
                following.remoteAddress = remoteAddress
                return .request(following)
            case .error(let error):
                return .ended(.fail(error, parser.currentRequestLine))
            case .needMoreData:
                break
            }
            if parser.takeContinueExpectation() {
                // RFC 9110 §10.1.1: the client waits for this interim response before sending the body.
                guard (try? Socket.sendAll(fd, Self.continueResponse)) != nil else { return .ended(.close) }
            }
            notePhase()
            let stopping = service.isStopping()
            // Only an idle connection is closed for shutdown; one mid-request finishes its request first.
            if phase == .idle && stopping { return .ended(.close) }
            let phaseDeadline = deadline(service.configuration)
            guard !window.hasPassed else { return .ended(.wait) }
            switch Socket.waitReadable(fd, until: min(window, phaseDeadline), wakeFD: phase == .idle && !stopping ? service.wakeFD : nil) {
            case .woken:
                return .ended(.close)
            case .timedOut:
                guard phaseDeadline.hasPassed else {
                    followsUpQuickly = false
                    return .ended(.wait)
                }
                return .ended(phase == .idle ? .close : .fail(.requestTimeout, parser.currentRequestLine))
            case .ready:
                let count = Socket.receive(fd, into: buffer)
                guard count > 0 else { return .ended(.close) }
                parser.feed(UnsafeRawBufferPointer(rebasing: buffer[0..<count]))
            }
        }
    }

    /// A response has been written: the next request's phase starts now.
    func noteAnswered() {
        phase = parser.phase
        phaseStart = .now
        lastAnswered = phaseStart
    }

    /// After a deferred response is complete: its bytes on the wire, and whether the connection may carry
    /// another request after it; nil when it is not a whole body (a worker sends it with `answer`).
    func serialized(_ response: HTTPResponse, _ exchange: Exchange) -> (bytes: [UInt8], keepAlive: Bool, held: HeldBytes?)? {
        HTTPResponseWriter.serialized(response, for: exchange.request, keepAlive: exchange.keepAlive, date: date.now())
    }

    /// Runs the handler and writes its response, or the head of an event stream to park.
    private func respond(to request: HTTPRequest, _ service: Service) -> Responded {
        let response = service.handler(request)
        return send(response, Exchange(request: request, keepAlive: request.wantsKeepAlive && !service.isStopping()))
    }

    /// Writes `response`, or the head of an event stream to park; a deferred one is left to its completion.
    private func send(_ response: HTTPResponse, _ exchange: Exchange) -> Responded {
        let (request, keepAlive) = (exchange.request, exchange.keepAlive)
        if case .deferred(let deferred) = response.body { return .deferred(deferred, exchange) }
        do {
            guard case .events(let source) = response.body else {
                return try HTTPResponseWriter.write(response, for: request, keepAlive: keepAlive, date: date.now(), fd: fd) ? .keep : .close
            }
            return try park(source, response, for: request, keepAlive: keepAlive)
        } catch {
            if case .events(let source) = response.body, stream == nil { source.close() }
            return .close
        }
    }

    private func park(_ source: any HTTPEventSource, _ response: HTTPResponse, for request: HTTPRequest,
                      keepAlive: Bool) throws(SocketError) -> Responded {
        let keepAlive = keepAlive && !HTTPResponseWriter.closeRequested(response)
        guard let started = try HTTPResponseWriter.beginStream(response, for: request, keepAlive: keepAlive, date: date.now(), fd: fd) else {
            source.close()
            return keepAlive ? .keep : .close
        }
        stream = ParkedStream(source: source, writer: started.writer, keepAlive: started.keepAlive)
        return .park
    }
}
