import Foundation
import HTTP
import MCPAuth
import MCPGateway
import Testing

/// Issue 4 item 1: hard limits answered with the right status before the gateway sees the request.
@Suite struct LimitsTests {
    @Test func anOversizedBodyGets413() throws {
        let h = try GatewayHarness(serverConfig: { $0.maxBodyBytes = 1024 })
        defer { h.close() }
        let token = try h.token()
        let big = #"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"read_notes","arguments":{"q":""# +
            String(repeating: "x", count: 4096) + #""}}}"#
        let r = try h.rpc("json", token: token, big)
        #expect(r.status == 413)
        #expect(h.upstream.requests.isEmpty)
        // A body within the limit goes through.
        #expect(try h.rpc("json", token: token, #"{"jsonrpc":"2.0","id":2,"method":"ping"}"#).status == 200)
    }

    @Test func aClientThatSendsItsHeadTooSlowlyGets408() throws {
        let h = try GatewayHarness(serverConfig: { $0.headTimeout = 0.3 })
        defer { h.close() }
        let socket = try RawSocket(port: h.port)
        socket.send("POST \(h.path("json")) HTTP/1.1\r\nHost: gw\r\n")
        let answer = try socket.readUntilClosed(timeout: 10)
        #expect(answer.hasPrefix("HTTP/1.1 408"), "\(answer)")
        #expect(h.upstream.requests.isEmpty)
    }

    @Test func anOversizedHeadGets431() throws {
        let h = try GatewayHarness(serverConfig: { $0.maxHeadBytes = 2048 })
        defer { h.close() }
        let token = try h.token()
        let r = try h.rpc("json", token: token, #"{"jsonrpc":"2.0","id":1,"method":"ping"}"#,
                          headers: [("X-Padding", String(repeating: "p", count: 4096))])
        #expect(r.status == 431)
        #expect(h.upstream.requests.isEmpty)
    }
}
