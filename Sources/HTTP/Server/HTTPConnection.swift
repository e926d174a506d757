#if canImport(Glibc)
import Glibc
#endif

/// One client connection, served on its own thread: read, parse, call the handler, write,
/// and repeat while the connection is kept alive (RFC 9112 §9.3).
///
/// Which timeout applies depends on the parser's phase: `idleTimeout` while waiting for the
/// first byte of a request (then close silently), `headTimeout` from that byte until the head
/// is complete, `bodyTimeout` from there until the body is complete (then 408 and close).
struct HTTPConnection {
    private enum Ending {
        /// Close at once: the exchange ended cleanly or the client is gone.
        case close
        /// Answer with this error, then close without losing the answer to a reset. Carries the request
        /// line of the failed request when it had arrived.
        case fail(HTTPParseError, (method: String, target: String)?)
    }

    static let readBufferSize = 16 * 1024

    let fd: Int32
    let remoteAddress: String
    let wakeFD: Int32
    let configuration: HTTPServerConfiguration
    let handler: @Sendable (HTTPRequest) -> HTTPResponse
    let isStopping: @Sendable () -> Bool
    let onRejection: (@Sendable (HTTPRejection) -> Void)?

    /// Serves requests until the connection ends; the caller closes the socket afterwards.
    /// Returns whether the close should linger (an error response was sent).
    func run() -> Bool {
        let readBuffer = UnsafeMutableRawBufferPointer.allocate(byteCount: Self.readBufferSize, alignment: 16)
        defer { readBuffer.deallocate() }
        switch serve(readBuffer) {
        case .close:
            return false
        case .fail(let error, let line):
            onRejection?(HTTPRejection(status: error.status, reason: error.description, method: line?.method, target: line?.target,
                                       remoteAddress: remoteAddress))
            try? Socket.sendAll(fd, HTTPResponseWriter.errorResponse(status: error.status, message: error.description))
            return true
        }
    }

    private func serve(_ readBuffer: UnsafeMutableRawBufferPointer) -> Ending {
        var parser = HTTPRequestParser(configuration: configuration)
        var date = HTTPDate()
        var phase = HTTPRequestParser.Phase.idle
        var phaseStart = Deadline.now
        while true {
            switch parser.next() {
            case .request(var request):
                request.remoteAddress = remoteAddress
                guard respond(to: request, date: &date) else { return .close }
                phase = parser.phase
                phaseStart = .now
                continue
            case .error(let error):
                return .fail(error, parser.currentRequestLine)
            case .needMoreData:
                break
            }
            if parser.takeContinueExpectation() {
                // RFC 9110 §10.1.1: the client waits for this interim response before sending the body.
                guard (try? Socket.sendAll(fd, Array("HTTP/1.1 100 Continue\r\n\r\n".utf8))) != nil else { return .close }
            }
            let current = parser.phase
            if current != phase {
                phase = current
                phaseStart = .now
            }
            let stopping = isStopping()
            if phase == .idle && stopping { return .close }
            let deadline = switch phase {
            case .idle: phaseStart.adding(seconds: configuration.idleTimeout)
            case .head: phaseStart.adding(seconds: configuration.headTimeout)
            case .body: phaseStart.adding(seconds: configuration.bodyTimeout)
            }
            // Only an idle connection listens for shutdown; one mid-request finishes its request first.
            switch Socket.waitReadable(fd, until: deadline, wakeFD: phase == .idle && !stopping ? wakeFD : nil) {
            case .woken:
                return .close
            case .timedOut:
                return phase == .idle ? .close : .fail(.requestTimeout, parser.currentRequestLine)
            case .ready:
                let count = Socket.receive(fd, into: readBuffer)
                guard count > 0 else { return .close }
                parser.feed(UnsafeRawBufferPointer(rebasing: readBuffer[0..<count]))
            }
        }
    }

    /// Runs the handler and writes its response; returns whether to keep the connection.
    private func respond(to request: HTTPRequest, date: inout HTTPDate) -> Bool {
        let response = handler(request)
        let keepAlive = request.wantsKeepAlive && !isStopping()
        do {
            return try HTTPResponseWriter.write(response, for: request, keepAlive: keepAlive, date: date.now(), fd: fd)
        } catch {
            return false
        }
    }
}
