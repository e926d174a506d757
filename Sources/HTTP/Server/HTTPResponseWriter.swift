#if canImport(Glibc)
import Glibc
#endif

/// Serializes responses onto a connection: status line, header fields with the framing the
/// server chooses (RFC 9112 §6), and the body.
enum HTTPResponseWriter {
    private enum Framing {
        case none
        case length(Int)
        case chunked
        case closeDelimited
    }

    /// Bodies up to this size go out in the same send(2) as the head.
    private static let coalesceLimit = 64 * 1024

    /// The head of a whole body with `Content-Length`, and whether the body goes after it.
    private static func wholeHead(_ body: [UInt8], status: Int, response: HTTPResponse, request: HTTPRequest, keepAlive: Bool,
                                  date: String) -> (head: [UInt8], sendBody: Bool) {
        let forbidsBody = HTTPStatus.forbidsBody(status)
        // RFC 9110 §8.6: no Content-Length in 1xx and 204 responses; RFC 9110 §9.3.2: HEAD gets the GET headers.
        let framing: Framing = forbidsBody ? .none : .length(body.count)
        let bytes = head(status: status, headers: response.headers, framing: framing,
                         keepAlive: keepAlive, version: request.version, date: date)
        return (bytes, request.method != "HEAD" && !forbidsBody && !body.isEmpty)
    }

    /// A response with a whole body of up to `coalesceLimit` bytes (`.bytes` or `.held`, which the caller
    /// releases once sent) as the bytes that go on the wire, and whether the connection may carry another
    /// request after it; nil for a larger body (not copied here) and for a streamed or deferred one.
    static func serialized(_ response: HTTPResponse, for request: HTTPRequest, keepAlive: Bool,
                           date: String) -> (bytes: [UInt8], keepAlive: Bool, held: HeldBytes?)? {
        let body: [UInt8], held: HeldBytes?
        switch response.body {
        case .bytes(let bytes) where bytes.count <= coalesceLimit: (body, held) = (bytes, nil)
        case .held(let whole) where whole.bytes.count <= coalesceLimit: (body, held) = (whole.bytes, whole)
        default: return nil
        }
        let (status, keepAlive) = effective(response, keepAlive: keepAlive)
        var (bytes, sendBody) = wholeHead(body, status: status, response: response, request: request, keepAlive: keepAlive, date: date)
        if sendBody { bytes.append(contentsOf: body) }
        return (bytes, keepAlive, held)
    }

    /// The status sent (an impossible one becomes 500) and whether the connection stays open after it (not
    /// when the handler asked for `Connection: close`).
    private static func effective(_ response: HTTPResponse, keepAlive: Bool) -> (status: Int, keepAlive: Bool) {
        ((100...999).contains(response.status) ? response.status : 500, keepAlive && !closeRequested(response))
    }

    /// A whole body with `Content-Length`, in the same send(2) as the head when it is small.
    private static func writeWhole(_ body: [UInt8], status: Int, response: HTTPResponse, request: HTTPRequest, keepAlive: Bool,
                                   date: String, fd: Int32) throws(SocketError) {
        var (bytes, sendBody) = wholeHead(body, status: status, response: response, request: request, keepAlive: keepAlive, date: date)
        if sendBody && body.count <= coalesceLimit {
            bytes.append(contentsOf: body)
            try Socket.sendAll(fd, bytes)
        } else {
            try Socket.sendAll(fd, bytes)
            if sendBody { try Socket.sendAll(fd, body) }
        }
    }

    /// Writes `response` to `request`; returns whether the connection may carry another request.
    /// An `.events` body is run to its end on the calling thread here; the server parks it instead
    /// (`beginStream`, then `HTTPEventSource.pump` from its loop).
    static func write(_ response: HTTPResponse, for request: HTTPRequest, keepAlive: Bool, date: String,
                      fd: Int32) throws(SocketError) -> Bool {
        let (status, keepAlive) = effective(response, keepAlive: keepAlive)
        switch response.body {
        case .bytes(let body):
            try writeWhole(body, status: status, response: response, request: request, keepAlive: keepAlive, date: date, fd: fd)
            return keepAlive

        case .held(let held):
            defer { held.release() }
            try writeWhole(held.bytes, status: status, response: response, request: request, keepAlive: keepAlive, date: date, fd: fd)
            return keepAlive

        case .stream(let produce):
            guard let started = try beginStream(response, for: request, keepAlive: keepAlive, date: date, fd: fd) else { return keepAlive }
            do {
                try produce(started.writer)
            } catch {
                started.writer.abandon()
                return false
            }
            return started.writer.finish() && started.keepAlive

        case .events(let source):
            guard let started = try beginStream(response, for: request, keepAlive: keepAlive, date: date, fd: fd) else {
                source.close()
                return keepAlive
            }
            do {
                try source.run(started.writer)
            } catch {
                started.writer.abandon()
                return false
            }
            return started.writer.finish() && started.keepAlive

        case .deferred(let deferred):
            return try write(deferred.wait(), for: request, keepAlive: keepAlive, date: date, fd: fd)
        }
    }

    /// A streamed body whose head has been sent: the writer for its body, and whether the connection may
    /// carry another request once the body is finished.
    struct StreamStart {
        let writer: SocketBodyWriter
        let keepAlive: Bool
    }

    /// A `Connection: close` set by the handler makes the server close the connection after the response.
    static func closeRequested(_ response: HTTPResponse) -> Bool {
        guard let connection = response.headers["Connection"] else { return false }
        return HTTPSyntax.listContains(connection, "close")
    }

    /// Sends the head of a streamed response (`.stream` or `.events`); nil when the response has no body
    /// (HEAD, or a status that forbids one) and is complete with its head.
    static func beginStream(_ response: HTTPResponse, for request: HTTPRequest, keepAlive: Bool, date: String,
                            fd: Int32) throws(SocketError) -> StreamStart? {
        let status = (100...999).contains(response.status) ? response.status : 500
        let forbidsBody = HTTPStatus.forbidsBody(status)
        if request.method == "HEAD" || forbidsBody {
            let framing: Framing = forbidsBody ? .none : .chunked
            try Socket.sendAll(fd, head(status: status, headers: response.headers, framing: framing,
                                        keepAlive: keepAlive, version: request.version, date: date))
            return nil
        }
        // RFC 9112 §7: HTTP/1.0 clients do not know chunked; their stream ends when the connection closes.
        let chunked = request.version != "HTTP/1.0"
        let keepAlive = keepAlive && chunked
        try Socket.sendAll(fd, head(status: status, headers: response.headers,
                                    framing: chunked ? .chunked : .closeDelimited,
                                    keepAlive: keepAlive, version: request.version, date: date))
        return StreamStart(writer: SocketBodyWriter(fd: fd, chunked: chunked), keepAlive: keepAlive)
    }

    /// A complete short response for an error the server raises itself; the connection closes after it.
    static func errorResponse(status: Int, message: String) -> [UInt8] {
        var date = HTTPDate()
        let body = Array((message + "\n").utf8)
        var bytes = head(status: status, headers: HTTPHeaders([("Content-Type", "text/plain; charset=utf-8")]),
                         framing: .length(body.count), keepAlive: false, version: "HTTP/1.1",
                         date: date.now())
        bytes.append(contentsOf: body)
        return bytes
    }

    private static func head(status: Int, headers: HTTPHeaders, framing: Framing, keepAlive: Bool,
                             version: String, date: String) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(256)
        func append(_ string: String) { bytes.append(contentsOf: string.utf8) }
        append("HTTP/1.1 \(status) \(HTTPStatus.reasonPhrase(status))\r\n")
        var hasDate = false
        for field in headers {
            if HTTPSyntax.equalsIgnoringCase(field.name, "Content-Length")
                || HTTPSyntax.equalsIgnoringCase(field.name, "Transfer-Encoding")
                || HTTPSyntax.equalsIgnoringCase(field.name, "Connection") {
                continue
            }
            if HTTPSyntax.equalsIgnoringCase(field.name, "Date") { hasDate = true }
            append(field.name)
            append(": ")
            append(field.value)
            append("\r\n")
        }
        // RFC 9110 §6.6.1: an origin server with a clock sends Date.
        if !hasDate {
            append("Date: ")
            append(date)
            append("\r\n")
        }
        switch framing {
        case .none, .closeDelimited: break
        case .length(let length): append("Content-Length: \(length)\r\n")
        case .chunked: append("Transfer-Encoding: chunked\r\n")
        }
        if !keepAlive {
            append("Connection: close\r\n")
        } else if version == "HTTP/1.0" {
            append("Connection: keep-alive\r\n")
        }
        append("\r\n")
        return bytes
    }
}
