#if canImport(Glibc)
import Glibc
#endif
import Dispatch
import Foundation
import HTTP
import Synchronization
import Testing

/// A one-connection server that answers with fixed bytes, for responses `HTTPServer` never sends.
private func withRawServer(response: String, _ body: (Int) throws -> Void) throws {
    let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = 0
    inet_pton(AF_INET, "127.0.0.1", &address.sin_addr)
    _ = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(listener, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    }
    listen(listener, 4)
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    _ = withUnsafeMutablePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(listener, $0, &length) }
    }
    let port = Int(UInt16(bigEndian: address.sin_port))
    let done = DispatchSemaphore(value: 0)
    Thread.detachNewThread {
        defer { done.signal() }
        let fd = accept(listener, nil, nil)
        guard fd >= 0 else { return }
        var limit = timeval(tv_sec: 5, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &limit, socklen_t(MemoryLayout<timeval>.size))
        var scratch = [UInt8](repeating: 0, count: 4096)
        _ = recv(fd, &scratch, scratch.count, 0)
        let bytes = Array(response.utf8)
        _ = send(fd, bytes, bytes.count, Int32(MSG_NOSIGNAL))
        close(fd)
    }
    defer {
        // Never close the listener while the thread may still call accept on it: the number could be
        // reused by another test's socket (tests run in parallel in one process), and that accept would
        // then take a connection meant for someone else. Shutting it down wakes the accept instead.
        if done.wait(timeout: .now() + 5) == .timedOut {
            shutdown(listener, Int32(SHUT_RDWR))
            done.wait()
        }
        close(listener)
    }
    try body(port)
}

@Suite struct HTTPClientTests {
    @Test func extraFieldsAreSentAfterTheHeadersAndOnesThatCouldSplitTheRequestAreRefused() throws {
        let fields: @Sendable (HTTPRequest) -> HTTPResponse = { request in
            HTTPResponse.text(request.headers.map { "\($0.name): \($0.value)" }.joined(separator: "\n"))
        }
        try withServer(handler: fields) { _, port in
            var request = HTTPClientRequest(method: "POST", url: url(port), body: "x".bytes)
            request.headers["X-First"] = "1"
            // A value that would end the field and start another (RFC 9110 §5.5: no CR or LF in a value).
            let injected = request.extraFields.add("X-Injected", "a\r\nX-Evil: 1")
            // Fields the client writes itself are not taken twice.
            let length = request.extraFields.add("Content-Length", "99")
            let host = request.extraFields.add("host", "elsewhere.example")
            let parent = request.extraFields.add("traceparent", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01")
            let state = request.extraFields.add("tracestate", "k=v")
            let third = request.extraFields.add("X-Third", "no room")
            #expect([injected, length, host, parent, state, third] == [false, false, false, true, true, false])
            let response = try HTTPClient().send(request)
            let lines = String(decoding: try response.readAll(), as: UTF8.self).split(separator: "\n").map(String.init)
            #expect(lines.filter { $0.hasPrefix("X-") || $0.hasPrefix("trace") } == [
                "X-First: 1", "traceparent: 00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01", "tracestate: k=v",
            ])
            #expect(lines.filter { $0.lowercased().hasPrefix("host:") }.count == 1)
            #expect(lines.contains("Content-Length: 1"))
        }
    }

    @Test func sendsABodyAndReadsAContentLengthResponse() throws {
        try withServer(handler: echoHandler) { _, port in
            let client = HTTPClient()
            let response = try client.send(HTTPClientRequest(method: "POST", url: url(port, "/echo?q=1"), body: "payload".bytes))
            #expect(response.status == 200)
            #expect(response.headers["Content-Type"] == "text/plain; charset=utf-8")
            #expect(String(decoding: try response.readAll(), as: UTF8.self) == "POST /echo payload")
        }
    }

    @Test func sendsLargeBodiesIntact() throws {
        let big = (0..<300_000).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        try withServer(handler: { request in .json(request.body) }) { _, port in
            let client = HTTPClient()
            let response = try client.send(HTTPClientRequest(method: "PUT", url: url(port), body: big))
            #expect(try response.readAll() == big)
        }
    }

    @Test func reusesAKeepAliveConnection() throws {
        try withServer(handler: echoHandler) { server, port in
            let client = HTTPClient()
            for path in ["/one", "/two", "/three"] {
                let response = try client.send(HTTPClientRequest(url: url(port, path)))
                #expect(String(decoding: try response.readAll(), as: UTF8.self) == "GET \(path) ")
            }
            #expect(client.idleConnectionCount == 1)
            #expect(server.activeConnectionCount == 1)
        }
    }

    @Test func doesNotReuseAConnectionWhoseBodyWasAbandoned() throws {
        try withServer(handler: { _ in .text(String(repeating: "z", count: 100_000)) }) { _, port in
            let client = HTTPClient()
            let response = try client.send(HTTPClientRequest(url: url(port)))
            _ = try response.readChunk()
            response.close()
            #expect(client.idleConnectionCount == 0)
            #expect(throws: HTTPClientError.responseClosed) { try response.readChunk() }
        }
    }

    @Test func doesNotReuseAConnectionTheServerCloses() throws {
        try withServer(handler: { _ in
            var response = HTTPResponse.text("bye")
            response.headers["Connection"] = "close"
            return response
        }) { _, port in
            let client = HTTPClient()
            for _ in 0..<2 {
                let response = try client.send(HTTPClientRequest(url: url(port)))
                #expect(try response.readAll() == "bye".bytes)
            }
            #expect(client.idleConnectionCount == 0)
        }
    }

    @Test func recoversWhenTheServerClosedAPooledConnection() throws {
        try withServer(configure: { $0.idleTimeout = 0.3 }, handler: echoHandler) { server, port in
            let client = HTTPClient()
            _ = try client.send(HTTPClientRequest(url: url(port, "/a"))).readAll()
            var waited = 0
            while server.activeConnectionCount > 0 && waited < 500 {
                Thread.sleep(forTimeInterval: 0.01)
                waited += 1
            }
            let response = try client.send(HTTPClientRequest(method: "POST", url: url(port, "/b"), body: "x".bytes))
            #expect(String(decoding: try response.readAll(), as: UTF8.self) == "POST /b x")
        }
    }

    @Test func streamsAResponseIncrementally() throws {
        let firstRead = DispatchSemaphore(value: 0)
        let handler: @Sendable (HTTPRequest) -> HTTPResponse = { _ in
            .eventStream { writer in
                try writer.write(SSEEvent(data: "first", id: "1").encoded())
                // The second event is only written once the client has seen the first one.
                let seen = firstRead.wait(timeout: .now() + 10) == .success
                try writer.write(SSEEvent(data: seen ? "second" : "late", id: "2").encoded())
            }
        }
        try withServer(handler: handler) { _, port in
            let client = HTTPClient()
            let response = try client.send(HTTPClientRequest(method: "POST", url: url(port, "/mcp"), body: "{}".bytes))
            #expect(response.headers["Content-Type"] == "text/event-stream")
            var parser = SSEParser()
            var events: [SSEEvent] = []
            while events.isEmpty, let chunk = try response.readChunk() { events += parser.feed(chunk) }
            #expect(events == [SSEEvent(data: "first", id: "1")])
            firstRead.signal()
            while let chunk = try response.readChunk() { events += parser.feed(chunk) }
            #expect(events.map(\.data) == ["first", "second"])
            #expect(client.idleConnectionCount == 1)
        }
    }

    @Test func relaysAnUpstreamStreamThroughAServer() throws {
        try withServer(handler: { _ in
            .eventStream { writer in
                for index in 1...3 { try writer.write(SSEEvent(data: "\(index)").encoded()) }
            }
        }) { _, upstreamPort in
            let client = HTTPClient()
            let gateway: @Sendable (HTTPRequest) -> HTTPResponse = { _ in
                do {
                    let upstream = try client.send(HTTPClientRequest(url: url(upstreamPort)))
                    return .eventStream { writer in
                        while let chunk = try upstream.readChunk() { try writer.write(chunk) }
                    }
                } catch {
                    return .text("upstream failed", status: 502)
                }
            }
            try withServer(handler: gateway) { _, gatewayPort in
                let response = try client.send(HTTPClientRequest(url: url(gatewayPort)))
                var parser = SSEParser()
                #expect(parser.feed(try response.readAll()).map(\.data) == ["1", "2", "3"])
            }
        }
    }

    @Test func readsABodyDelimitedByConnectionClose() throws {
        try withRawServer(response: "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nuntil the end") { port in
            let client = HTTPClient()
            let response = try client.send(HTTPClientRequest(url: url(port)))
            #expect(try response.readAll() == "until the end".bytes)
            #expect(client.idleConnectionCount == 0)
        }
    }

    @Test func skipsInterimResponsesAndToleratesBareLF() throws {
        try withRawServer(response: "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\nContent-Length: 2\nX-Folded: a\n b\n\nok") { port in
            let response = try HTTPClient().send(HTTPClientRequest(method: "POST", url: url(port), body: "x".bytes))
            #expect(response.status == 201)
            #expect(response.headers["X-Folded"] == "a b")
            #expect(try response.readAll() == "ok".bytes)
        }
    }

    @Test func reportsATruncatedBody() throws {
        try withRawServer(response: "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort") { port in
            let response = try HTTPClient().send(HTTPClientRequest(url: url(port)))
            #expect(throws: HTTPClientError.connectionClosed) { try response.readAll() }
        }
    }

    @Test func enforcesTheReadAllLimit() throws {
        try withServer(handler: { _ in .text(String(repeating: "a", count: 5000)) }) { _, port in
            let response = try HTTPClient().send(HTTPClientRequest(url: url(port)))
            #expect(throws: HTTPClientError.bodyTooLarge(limit: 100)) { try response.readAll(limit: 100) }
        }
    }

    @Test func timesOutWaitingForASilentServer() throws {
        let release = DispatchSemaphore(value: 0)
        try withServer(handler: { _ in
            _ = release.wait(timeout: .now() + 10)
            return .text("late")
        }) { _, port in
            defer { release.signal() }
            #expect(throws: HTTPClientError.timedOut) {
                try HTTPClient().send(HTTPClientRequest(url: url(port), timeout: 0.3))
            }
        }
    }

    @Test func failsToConnectToAClosedPort() throws {
        let server = HTTPServer(configuration: HTTPServerConfiguration(port: 0), handler: echoHandler)
        let port = try server.start()
        server.shutdown()
        #expect(throws: HTTPClientError.self) { try HTTPClient().send(HTTPClientRequest(url: url(port))) }
    }

    @Test func aRefusedConnectionIsNotATimeout() throws {
        let server = HTTPServer(configuration: HTTPServerConfiguration(port: 0), handler: echoHandler)
        let port = try server.start()
        server.shutdown()
        let error = #expect(throws: HTTPClientError.self) { try HTTPClient().send(HTTPClientRequest(url: url(port))) }
        #expect(error?.isTimeout == false)
        guard case .connectionFailed? = error else {
            Issue.record("expected connectionFailed, got \(String(describing: error))")
            return
        }
    }

    @Test func aConnectionClosedWithoutAnAnswerIsNotATimeout() throws {
        // The server reads the request and closes without answering.
        try withRawServer(response: "") { port in
            let error = #expect(throws: HTTPClientError.self) {
                try HTTPClient().send(HTTPClientRequest(method: "POST", url: url(port), body: "x".bytes, timeout: 10))
            }
            #expect(error == .connectionClosed)
            #expect(error?.isTimeout == false)
        }
    }

    @Test func aServerThatNeverAnswersIsATimeoutWithinThatRequestsOwnTimeout() throws {
        let release = DispatchSemaphore(value: 0)
        try withServer(handler: { _ in
            _ = release.wait(timeout: .now() + 10)
            return .text("late")
        }) { _, port in
            defer { release.signal() }
            let client = HTTPClient()
            let error = #expect(throws: HTTPClientError.self) { try client.send(HTTPClientRequest(url: url(port), timeout: 0.3)) }
            #expect(error?.isTimeout == true)
        }
    }

    @Test func aServerThatStopsReadingTheRequestIsATimeout() throws {
        // A listener that never accepts: the kernel completes the handshake, then nobody reads, so the send blocks.
        let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(listener) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        inet_pton(AF_INET, "127.0.0.1", &address.sin_addr)
        _ = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(listener, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        listen(listener, 4)
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(listener, $0, &length) }
        }
        let port = Int(UInt16(bigEndian: address.sin_port))
        let body = [UInt8](repeating: 0x61, count: 64 * 1024 * 1024)
        #expect(throws: HTTPClientError.timedOut) {
            try HTTPClient().send(HTTPClientRequest(method: "POST", url: url(port), body: body, timeout: 0.5))
        }
    }

    @Test func rejectsURLsThatAreNotHTTP() {
        #expect(throws: HTTPClientError.self) {
            try HTTPClient().send(HTTPClientRequest(url: URL(string: "ftp://example.com/")!))
        }
    }
}
