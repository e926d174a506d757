import Foundation
import HTTP
import MCPAuth
import MCPGateway
import Testing

/// On an embedded store, a call to an HTTP upstream with one of mcpctl's tokens is answered by the server's
/// event loop itself: no thread waits for the upstream, and a slow upstream holds up no other call. Whatever
/// would wait there (a large or streamed answer, a connection to open) moves to a worker and is answered
/// as before.
@Suite struct LoopPathTests {
    static let ping = #"{"jsonrpc":"2.0","id":7,"method":"ping"}"#

    func addEnvironment(_ h: GatewayHarness, _ name: String, upstream: String, timeout: Double? = nil) throws {
        try Apps(store: h.admin).add(app: h.app, env: name, upstream: upstream, command: nil, timeoutSeconds: timeout)
    }

    /// Calls `env` from another thread and, while that call waits, makes twenty calls to the `json`
    /// environment, which must all be answered before it; returns the status the slow call got at last.
    func callsGoOn(_ h: GatewayHarness, whileCalling env: String) throws -> Int {
        let token = try h.token()
        let slow = Locked<Int?>(nil)
        let done = DispatchSemaphore(value: 0)
        Thread.detachNewThread {
            let status = (try? h.rpc(env, token: token, Self.ping).status) ?? -1
            slow.withLock { $0 = status }
            done.signal()
        }
        // Meanwhile the slow call waits on a loop (its row is not written before its answer).
        Thread.sleep(forTimeInterval: 0.5)
        for _ in 0..<20 {
            #expect(try h.rpc("json", token: token, Self.ping).status == 200)
        }
        #expect(slow.value == nil, "twenty calls to another upstream were answered while the call to \(env) waited")
        done.wait()
        return slow.value ?? -1
    }

    @Test func callsToAnHTTPUpstreamAreAnsweredWithoutAWorkerThreadOnAnEmbeddedStoreOnly() throws {
        let h = try GatewayHarness()
        defer { h.close() }
        let token = try h.token()
        // The first call opens the connection to the upstream, on a worker; it ends once idle for a while.
        #expect(try h.rpc("json", token: token, Self.ping).status == 200)
        if GatewayHarness.isSQLite { #expect(eventually { h.server.workerThreadCount == 0 }) }
        for _ in 0..<30 {
            let reply = try h.rpc("json", token: token, Self.ping)
            #expect(reply.status == 200)
            #expect(reply.messages.first?["id"] == .int(7))
        }
        #expect(try h.mcpRows().count == 31, "every call is audited")
        if GatewayHarness.isSQLite {
            #expect(h.server.workerThreadCount == 0, "no worker thread was started for 30 calls over the pooled connection")
        } else {
            // PostgreSQL reads wait on the network: those requests go to workers.
            #expect(h.server.workerThreadCount > 0)
        }
    }

    @Test func onlyPostsOfAtMost16KiBToAnEndpointWithAnMcpctlTokenAreAnsweredOnTheLoop() throws {
        let h = try GatewayHarness()
        defer { h.close() }
        let token = try h.token()
        func request(_ method: String = "POST", target: String = "/mcp/notes/prod", bearer: String? = nil, body: Int = 40) -> HTTPRequest {
            var headers = HTTPHeaders()
            headers["Authorization"] = "Bearer " + (bearer ?? token)
            return HTTPRequest(method: method, target: target, headers: headers, body: Array(repeating: UInt8(ascii: " "), count: body))
        }
        let onLoop = GatewayHarness.isSQLite  // PostgreSQL reads wait on the network: never on the loop
        for target in ["/mcp/notes/prod", "/mcp/notes/prod/", "/mcp/n/p?x=1"] {
            #expect(h.gateway.answersOnLoop(request(target: target)) == onLoop, "\(target)")
        }
        for target in ["/mcp/notes", "/mcp/notes/", "/mcp//prod", "/mcp/notes//", "/mcp/notes/prod/x", "/mcp/notes/prod//",
                       "/mcpx/notes/prod", "/oauth/token", "/"] {
            #expect(!h.gateway.answersOnLoop(request(target: target)), "\(target)")
        }
        #expect(!h.gateway.answersOnLoop(request("GET")))
        #expect(!h.gateway.answersOnLoop(request("DELETE")))
        #expect(!h.gateway.answersOnLoop(request(body: 16 * 1024 + 1)))
        #expect(h.gateway.answersOnLoop(request(body: 16 * 1024)) == onLoop)
        // Anything that is not one of mcpctl's tokens may be an outside issuer's, which is asked over the network.
        #expect(!h.gateway.answersOnLoop(request(bearer: "eyJhbGciOiJSUzI1NiJ9.e30.c2ln")))
        #expect(!h.gateway.answersOnLoop(request(bearer: String(token.dropLast()) + (token.hasSuffix("A") ? "B" : "A"))), "a bad checksum")
        var none = request()
        none.headers.remove("Authorization")
        #expect(!h.gateway.answersOnLoop(none))
    }

    @Test func aHungUpstreamHoldsUpNoOtherCallAndIsAnswered504AtItsTimeout() throws {
        let h = try GatewayHarness()
        defer { h.close() }
        let hang = try FaultUpstream("hang", dir: h.dir)
        try addEnvironment(h, "hang", upstream: hang.url, timeout: 5)
        #expect(try callsGoOn(h, whileCalling: "hang") == 504)
        let row = try h.mcpRows().first { $0.string("env") == "hang" }
        #expect(row?.string("reason") == "upstream_timeout")
    }

    @Test func anEventStreamOverAnUpstreamConnectionTheLoopWaitedOnBeforeDeliversItsEvents() throws {
        let h = try GatewayHarness()
        defer { h.close() }
        let token = try h.token()
        for _ in 0..<3 { #expect(try h.rpc("json", token: token, Self.ping).status == 200) }
        var headers = HTTPHeaders()
        headers["Authorization"] = "Bearer \(token)"
        headers["Accept"] = "text/event-stream"
        let stream = try h.client.send(HTTPClientRequest(method: "GET", url: "http://127.0.0.1:\(h.port)\(h.path("json"))",
                                                         headers: headers, timeout: 10)!)
        defer { stream.close() }
        #expect(stream.status == 200)
        var received: [UInt8] = []
        while !ByteSearch.contains(received, Array("notifications/first".utf8)), let chunk = try stream.readChunk() { received += chunk }
        h.upstream.releaseStream()
        while !ByteSearch.contains(received, Array("notifications/second".utf8)), let chunk = try stream.readChunk() { received += chunk }
        #expect(ByteSearch.contains(received, Array("notifications/second".utf8)), "the stream was parked and went on")
    }

    @Test func anUpstreamFloodingInterimAnswersHoldsUpNoOtherCall() throws {
        let h = try GatewayHarness()
        defer { h.close() }
        let flood = try FaultUpstream("interim", 4, dir: h.dir)
        try addEnvironment(h, "flood", upstream: flood.url, timeout: 3)
        #expect([502, 504].contains(try callsGoOn(h, whileCalling: "flood")))
    }

    @Test func largeChunkedAndStreamedAnswersAreReadOffTheLoopAndArriveWhole() throws {
        let h = try GatewayHarness()
        defer { h.close() }
        let big = try FaultUpstream("big", 300_000, dir: h.dir)
        let chunked = try FaultUpstream("chunked", 200_000, dir: h.dir)
        let sse = try FaultUpstream("sse", 100_000, dir: h.dir)
        try addEnvironment(h, "big", upstream: big.url)
        try addEnvironment(h, "chunked", upstream: chunked.url)
        try addEnvironment(h, "sse", upstream: sse.url)
        let token = try h.token()
        for (env, size) in [("big", 300_000), ("chunked", 200_000), ("sse", 100_000)] {
            for _ in 0..<3 {  // the second and third go over a pooled connection
                let reply = try h.rpc(env, token: token, Self.ping)
                #expect(reply.status == 200, "\(env)")
                #expect(reply.messages.first?["result"]?["blob"]?.stringValue?.count == size, "\(env)")
            }
        }
        #expect(eventually { h.gateway.bufferedBytes == 0 })
        #expect(try h.mcpRows().filter { $0.int("status") == 200 }.count == 9)
    }

    @Test(.enabled(if: GatewayHarness.isSQLite, "on PostgreSQL a worker reads the answer, charging the budget as it reads"))
    func aBodyTheLoopCollectsIsChargedToTheBufferBudgetWhileItArrives() throws {
        let h = try GatewayHarness(gatewayConfig: { $0.maxBufferedBytes = 1024 * 1024 })
        defer { h.close() }
        let stall = try FaultUpstream("stall", 50_000, dir: h.dir)
        try addEnvironment(h, "stall", upstream: stall.url)
        let token = try h.token()
        #expect(try h.rpc("stall", token: token, Self.ping).status == 200)  // a connection to pool
        let reply = Locked<(status: Int, blob: Int)?>(nil)
        let done = DispatchSemaphore(value: 0)
        Thread.detachNewThread {
            let r = try? h.rpc("stall", token: token, Self.ping)
            reply.withLock { $0 = r.map { ($0.status, $0.messages.first?["result"]?["blob"]?.stringValue?.count ?? -1) } }
            done.signal()
        }
        // Head and 100 bytes are in; the whole declared body is charged while the loop waits for the rest.
        #expect(eventually(within: 1.4) { h.gateway.bufferedBytes >= 50_000 })
        #expect(done.wait(timeout: .now() + 10) == .success)
        #expect(reply.withLock { $0?.status } == 200)
        #expect(reply.withLock { $0?.blob } == 50_000)
        #expect(eventually { h.gateway.bufferedBytes == 0 })
    }

    @Test(.enabled(if: GatewayHarness.isSQLite, "on PostgreSQL a worker reads the answer, charging the budget as it reads"))
    func aBodyPastTheBufferBudgetIsRefusedAsSoonAsItsHeadArrives() throws {
        let h = try GatewayHarness(gatewayConfig: { $0.maxBufferedBytes = 40_000 })
        defer { h.close() }
        let stall = try FaultUpstream("stall", 50_000, dir: h.dir)
        // Waiting for the stalled body (1.5 s) would end in 504 after this timeout.
        try addEnvironment(h, "stall", upstream: stall.url, timeout: 1)
        let token = try h.token()
        #expect(try h.rpc("stall", token: token, Self.ping).status == 200)  // a connection to pool
        let refused = try h.rpc("stall", token: token, Self.ping)
        #expect(refused.status == 503)
        #expect(refused.header("Retry-After") == "1")
        #expect(try h.lastRow()?.string("reason")?.contains("--max-buffered-bytes") == true)
        #expect(eventually { h.gateway.bufferedBytes == 0 })
        #expect(try h.rpc("json", token: token, Self.ping).status == 200)
    }

    @Test func anUpstreamThatClosesWithoutAnsweringIs502() throws {
        let h = try GatewayHarness()
        defer { h.close() }
        let drop = try FaultUpstream("drop", dir: h.dir)
        try addEnvironment(h, "drop", upstream: drop.url)
        let token = try h.token()
        for _ in 0..<3 {
            let reply = try h.rpc("drop", token: token, Self.ping)
            #expect(reply.status == 502)
        }
        #expect(try h.mcpRows().allSatisfy { $0.int("status") == 502 && ($0.string("reason") ?? "").hasPrefix("upstream unavailable") })
        // The gateway still answers other calls.
        #expect(try h.rpc("json", token: token, Self.ping).status == 200)
    }
}
