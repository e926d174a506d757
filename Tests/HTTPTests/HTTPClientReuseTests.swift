import Dispatch
import Foundation
import HTTP
import Synchronization
import Testing

@Suite struct HTTPClientReuseTests {
    /// The upstream closes a keep-alive connection after 0.5 s idle and says nothing about it in advance.
    /// Calls spaced well clear of that time either reuse a connection the upstream still keeps or meet one it
    /// has closed, which the poll before reuse notices: no call fails, not even a POST (never sent twice).
    @Test func pooledConnectionsThatTheUpstreamClosedWhileIdleAreNoticedBeforeReuse() throws {
        let errors = try callsSpaced([0.30, 0.35, 0.70, 0.75], method: "POST")
        #expect(errors == [])
    }

    /// Calls spaced just below, at and just above the upstream's idle timeout race its close: some requests go
    /// out on a connection the upstream is closing at that moment. An idempotent request that meets the close
    /// is sent again on a fresh connection, so none fails. (A POST that met it is not resent — RFC 9110 §9.2.2 —
    /// see `aPostThatWentOutOnAReusedConnectionThatThenEndsIsNotSentAgain`.)
    @Test func idempotentCallsThatRaceTheUpstreamsIdleCloseNeverCauseAnError() throws {
        let errors = try callsSpaced([0.46, 0.48, 0.49, 0.50, 0.51, 0.52, 0.54], method: "GET")
        #expect(errors == [])
    }

    /// Ten workers each make 30 calls through one client to an upstream that closes connections idle for
    /// 0.5 s, sleeping the given spacings in turn; returns the errors (and wrong answers) they met.
    private func callsSpaced(_ spacings: [Double], method: String) throws -> [String] {
        let errors = Mutex<[String]>([])
        try withServer(configure: { $0.idleTimeout = 0.5 }, handler: echoHandler) { _, port in
            let client = HTTPClient()
            let calls = Atomic(0)
            let done = DispatchGroup()
            for worker in 0..<10 {
                done.enter()
                Thread.detachNewThread {
                    defer { done.leave() }
                    for call in 0..<30 {
                        Thread.sleep(forTimeInterval: spacings[(worker + call) % spacings.count])
                        do {
                            let body = method == "POST" ? "\(worker)-\(call)".bytes : []
                            let path = "/call/\(worker)-\(call)"
                            let request = HTTPClientRequest(method: method, url: url(port, path), body: body, timeout: 10)
                            let text = String(decoding: try client.send(request).readAll(), as: UTF8.self)
                            if text != "\(method) \(path) \(String(decoding: body, as: UTF8.self))" {
                                errors.withLock { $0.append("wrong answer \(text)") }
                            }
                        } catch {
                            errors.withLock { $0.append("\(error)") }
                        }
                        calls.add(1, ordering: .relaxed)
                    }
                }
            }
            done.wait()
            #expect(calls.load(ordering: .relaxed) == 300)
        }
        return errors.withLock { $0 }
    }

    @Test(arguments: [CountingServer.Drop.close, .reset], ["GET", "DELETE"])
    func anIdempotentRequestThatMeetsTheUpstreamClosingAReusedConnectionIsSentAgainOnAFreshOne(drop: CountingServer.Drop,
                                                                                              method: String) throws {
        let server = CountingServer(response: "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", dropsSecondRequests: drop)
        defer { server.stop() }
        let client = HTTPClient()
        for _ in 0..<3 {
            #expect(try client.send(HTTPClientRequest(method: method, url: url(server.port))).readAll() == "ok".bytes)
        }
        // Each reuse met a close; each retry opened a fresh connection, and the next call reused that one.
        #expect(server.acceptedConnections == 3)
    }

    /// RFC 9110 §9.2.2: a POST (an MCP tools/call) that went out whole and met a connection ending without an
    /// answer may have been applied, so it is not sent again: the caller gets the error, the upstream saw it once.
    @Test(arguments: [CountingServer.Drop.close, .reset])
    func aPostThatWentOutOnAReusedConnectionThatThenEndsIsNotSentAgain(drop: CountingServer.Drop) throws {
        let server = CountingServer(response: "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", dropsSecondRequests: drop)
        defer { server.stop() }
        let client = HTTPClient()
        #expect(try client.send(HTTPClientRequest(method: "POST", url: url(server.port), body: "{}".bytes)).readAll() == "ok".bytes)
        #expect(throws: HTTPClientError.self) {
            _ = try client.send(HTTPClientRequest(method: "POST", url: url(server.port), body: "{}".bytes)).readAll()
        }
        #expect(server.acceptedConnections == 1)
    }

    @Test func dropsAPooledConnectionOnceTheUpstreamsKeepAliveTimeoutIsNear() throws {
        let server = CountingServer(response: "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nKeep-Alive: timeout=1, max=100\r\n\r\nok")
        defer { server.stop() }
        let client = HTTPClient()
        #expect(try client.send(HTTPClientRequest(url: url(server.port))).readAll() == "ok".bytes)
        // timeout=1 leaves a reuse window of half a second; this wait is longer.
        Thread.sleep(forTimeInterval: 0.7)
        #expect(try client.send(HTTPClientRequest(url: url(server.port))).readAll() == "ok".bytes)
        #expect(server.acceptedConnections == 2)
    }

    @Test func reusesAConnectionWithinTheUpstreamsKeepAliveTimeout() throws {
        let server = CountingServer(response: "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nKeep-Alive: timeout=60\r\n\r\nok")
        defer { server.stop() }
        let client = HTTPClient()
        for _ in 0..<3 { #expect(try client.send(HTTPClientRequest(url: url(server.port))).readAll() == "ok".bytes) }
        #expect(server.acceptedConnections == 1)
    }

    @Test func neverReusesAConnectionAfterKeepAliveMaxZero() throws {
        let server = CountingServer(response: "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nKeep-Alive: timeout=60, max=0\r\n\r\nok")
        defer { server.stop() }
        let client = HTTPClient()
        for _ in 0..<2 { #expect(try client.send(HTTPClientRequest(url: url(server.port))).readAll() == "ok".bytes) }
        #expect(server.acceptedConnections == 2)
        #expect(client.idleConnectionCount == 0)
    }
}
