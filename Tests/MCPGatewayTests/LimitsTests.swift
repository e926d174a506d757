import Foundation
import HTTP
import MCPAuth
import MCPGateway
import Testing

/// Issue 4 item 1: hard limits answered with the right status before the gateway sees the request;
/// item 6: each such refusal of a request to an MCP endpoint still gets its audit row.
@Suite struct LimitsTests {
    /// The audit row of a request the HTTP layer refused.
    static func expectRefusalRow(_ h: GatewayHarness, status: Int, env: String = "json", method: String = "post") throws {
        let row = try h.lastRow()
        #expect(row?.int("status") == Int64(status))
        #expect(row?.string("decision") == "deny")
        #expect(row?.string("app") == h.app && row?.string("env") == env)
        #expect(row?.string("action") == "mcp.\(method)")
        #expect(row?.string("reason")?.hasPrefix("refused by the HTTP layer") == true, "\(row?.string("reason") ?? "no row")")
        #expect(row?.string("remote_addr")?.isEmpty == false)
        #expect(try AuditVerifier.verify(db: h.admin.db).ok)
    }

    @Test func anOversizedBodyGets413() throws {
        let h = try GatewayHarness(serverConfig: { $0.maxBodyBytes = 1024 })
        defer { h.close() }
        let token = try h.token()
        let big = #"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"read_notes","arguments":{"q":""# +
            String(repeating: "x", count: 4096) + #""}}}"#
        let r = try h.rpc("json", token: token, big)
        #expect(r.status == 413)
        #expect(h.upstream.requests.isEmpty)
        try LimitsTests.expectRefusalRow(h, status: 413)
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
        try LimitsTests.expectRefusalRow(h, status: 408)
    }

    @Test func anOversizedHeadGets431() throws {
        let h = try GatewayHarness(serverConfig: { $0.maxHeadBytes = 2048 })
        defer { h.close() }
        let token = try h.token()
        let r = try h.rpc("json", token: token, #"{"jsonrpc":"2.0","id":1,"method":"ping"}"#,
                          headers: [("X-Padding", String(repeating: "p", count: 4096))])
        #expect(r.status == 431)
        #expect(h.upstream.requests.isEmpty)
        try LimitsTests.expectRefusalRow(h, status: 431)
    }

    @Test func refusalsOfOtherPathsAreNotGatewayRows() throws {
        let h = try GatewayHarness(serverConfig: { $0.maxBodyBytes = 64 })
        defer { h.close() }
        let before = try h.mcpRows().count
        let r = try h.send("POST", "/oauth/token", body: Array(String(repeating: "x", count: 1024).utf8))
        #expect(r.status == 413)
        #expect(try h.mcpRows().count == before)
    }
}
