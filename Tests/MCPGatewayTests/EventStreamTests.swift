import Dispatch
import Foundation
import HTTP
import MCPAuth
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// Open `GET` event streams through the gateway: a stream waiting for its upstream holds no thread of the
/// server, its events still arrive in order, and ordinary requests are served alongside many of them.
@Suite struct EventStreamTests {
    static let streams = 500

    @Test func fiveHundredIdleEventStreamsHoldFewThreadsWhileOrdinaryRequestsAreServed() throws {
        raiseOpenFileLimit()
        let h = try GatewayHarness(serverConfig: { $0.maxConnections = 4_000; $0.maxConnectionsPerAddress = 4_000 })
        defer { h.close() }
        let upstream = try SilentStreamUpstream()
        defer { upstream.close() }
        try Apps(store: h.admin).add(app: h.app, env: "silent", upstream: "http://127.0.0.1:\(upstream.port)/", command: nil)
        let token = try h.token()
        var open: [HTTPClientResponse] = []
        for _ in 0..<Self.streams {
            let response = try openStream(h, token: token)
            #expect(response.status == 200)
            open.append(response)
        }
        #expect(eventually { upstream.streamCount == Self.streams })
        // A worker per stream would be 500. The server's own count: the process's would include the threads
        // of the upstream and of tests running alongside. Workers that answered linger briefly, then retire.
        #expect(eventually { h.server.workerThreadCount < 64 }, "\(h.server.workerThreadCount) workers with \(Self.streams) open streams")
        #expect(h.server.activeConnectionCount >= Self.streams)

        // Ordinary requests from several clients at once are all served while the streams stay open.
        let served = Locked(0)
        DispatchQueue.concurrentPerform(iterations: 4) { _ in
            for _ in 0..<50 where (try? h.rpc("json", token: token, #"{"jsonrpc":"2.0","id":1,"method":"ping"}"#).status) == 200 {
                served.withLock { $0 += 1 }
            }
        }
        #expect(served.withLock { $0 } == 200)

        // Every parked stream still delivers.
        for index in 0..<Self.streams { upstream.send(event(index), on: index) }
        var delivered = 0
        for (index, response) in open.enumerated() {
            if try readEvents(response, count: 1).map(\.id) == ["\(index)"] { delivered += 1 }
        }
        #expect(delivered == Self.streams)
        for response in open { response.close() }
    }

    @Test func eventsOnAParkedStreamArriveInOrderEvenWhenSplitAcrossChunks() throws {
        let h = try GatewayHarness()
        defer { h.close() }
        let upstream = try SilentStreamUpstream()
        defer { upstream.close() }
        try Apps(store: h.admin).add(app: h.app, env: "silent", upstream: "http://127.0.0.1:\(upstream.port)/", command: nil)
        let response = try openStream(h, token: try h.token())
        #expect(response.status == 200)
        #expect(eventually { upstream.streamCount == 1 })
        for index in 0..<40 {
            let bytes = event(index)
            if index % 3 == 0 {
                // Half an event now, the rest after the gateway has had time to park the stream again.
                upstream.send(Array(bytes[..<(bytes.count / 2)]), on: 0)
                usleep(20_000)
                upstream.send(Array(bytes[(bytes.count / 2)...]), on: 0)
            } else {
                upstream.send(bytes, on: 0)
            }
            if index % 7 == 0 { usleep(30_000) }
        }
        #expect(try readEvents(response, count: 40).map(\.id) == (0..<40).map { String($0) })
        response.close()
    }

    @Test func aQuietParkedStreamGetsKeepAliveCommentsAndEndsWhenTheUpstreamEndsIt() throws {
        let h = try GatewayHarness(gatewayConfig: { $0.upstreamTimeout = 1 })
        defer { h.close() }
        let upstream = try SilentStreamUpstream()
        defer { upstream.close() }
        try Apps(store: h.admin).add(app: h.app, env: "silent", upstream: "http://127.0.0.1:\(upstream.port)/", command: nil)
        let response = try openStream(h, token: try h.token())
        #expect(eventually { upstream.streamCount == 1 })
        var received: [UInt8] = []
        while !ByteSearch.contains(received, Array(": keep-alive".utf8)), let chunk = try response.readChunk() { received += chunk }
        #expect(ByteSearch.contains(received, Array(": keep-alive".utf8)))
        upstream.send(event(1), on: 0)
        upstream.finish(0)
        var rest: [UInt8] = []
        while let chunk = try response.readChunk() { rest += chunk }
        var parser = SSEParser()
        #expect(parser.feed(rest).map(\.id) == ["1"])
    }

    // MARK: - Helpers

    private func openStream(_ h: GatewayHarness, token: String) throws -> HTTPClientResponse {
        var headers = HTTPHeaders()
        headers["Authorization"] = "Bearer \(token)"
        headers["Accept"] = "text/event-stream"
        return try h.client.send(HTTPClientRequest(method: "GET", url: "http://127.0.0.1:\(h.port)\(h.path("silent"))",
                                                   headers: headers, timeout: 10)!)
    }

    private func event(_ index: Int) -> [UInt8] {
        SSEEvent(event: "message", data: #"{"jsonrpc":"2.0","method":"notifications/n\#(index)"}"#, id: "\(index)").encoded()
    }

    /// Reads until `count` events (not comments) have arrived.
    private func readEvents(_ response: HTTPClientResponse, count: Int) throws -> [SSEEvent] {
        var parser = SSEParser()
        var events: [SSEEvent] = []
        while events.count < count, let chunk = try response.readChunk() { events += parser.feed(chunk) }
        return events
    }
}

/// Each stream takes a descriptor in the client, two in the gateway and one in the upstream.
private func raiseOpenFileLimit() {
    var limit = rlimit()
    getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
    limit.rlim_cur = limit.rlim_max
    setrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
}

/// An upstream that answers every request with the head of a chunked event stream and then sends only
/// what the test tells it to: one thread accepts, so it holds no thread per stream either.
private final class SilentStreamUpstream: @unchecked Sendable {
    let port: Int
    private let listener: Int32
    private let sockets = Locked<[Int32]>([])

    init() throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        inet_pton(AF_INET, "127.0.0.1", &address.sin_addr)
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 }
        }
        guard bound, listen(fd, 1024) == 0 else {
            Glibc.close(fd)
            throw POSIXError(.EADDRINUSE)
        }
        listener = fd
        port = Int(UInt16(bigEndian: address.sin_port))
        let thread = Thread { [self] in acceptLoop() }
        thread.stackSize = 512 * 1024
        thread.start()
    }

    var streamCount: Int { sockets.withLock { $0.count } }

    /// Sends `bytes` as one chunk on the `index`th stream opened.
    func send(_ bytes: [UInt8], on index: Int) {
        var frame = Array(String(bytes.count, radix: 16).utf8) + [13, 10] + bytes + [13, 10]
        writeAll(sockets.withLock { $0[index] }, &frame)
    }

    /// Ends the `index`th stream with the last chunk.
    func finish(_ index: Int) {
        var last = Array("0\r\n\r\n".utf8)
        writeAll(sockets.withLock { $0[index] }, &last)
    }

    func close() {
        Glibc.shutdown(listener, Int32(SHUT_RDWR))
        Glibc.close(listener)
        for fd in sockets.withLock({ $0 }) { Glibc.close(fd) }
    }

    private func acceptLoop() {
        while true {
            let fd = accept(listener, nil, nil)
            guard fd >= 0 else {
                if errno == EINTR { continue }
                return
            }
            var head: [UInt8] = []
            var byte: UInt8 = 0
            while !head.suffix(4).elementsEqual([13, 10, 13, 10]), recv(fd, &byte, 1, 0) == 1 { head.append(byte) }
            var answer = Array("HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n".utf8)
            writeAll(fd, &answer)
            sockets.withLock { $0.append(fd) }
        }
    }

    private func writeAll(_ fd: Int32, _ bytes: inout [UInt8]) {
        var offset = 0
        while offset < bytes.count {
            let sent = bytes[offset...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if sent <= 0 { return }
            offset += sent
        }
    }
}
