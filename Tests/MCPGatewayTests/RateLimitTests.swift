import Foundation
import HTTP
import MCPAuth
import MCPGateway
import Testing

/// Requests without a working credential are limited per client address, and beyond the limit summarised
/// in the audit log, so that nobody can fill the disk without a credential; behind a trusted proxy the
/// client's address (X-Forwarded-For) is the one recorded and limited.
@Suite struct RateLimitTests {
    static let ping = #"{"jsonrpc":"2.0","id":1,"method":"ping"}"#

    @Test func fiveHundredUnauthenticatedRequestsWriteABoundedNumberOfRowsAndEveryOneIsCounted() throws {
        let h = try GatewayHarness()
        defer { h.close() }
        var statuses: [Int: Int] = [:]
        var retryAfter: String?
        for i in 0..<500 {
            // Alternating no credential and a wrong one: both count.
            let r = try h.rpc("json", token: i % 2 == 0 ? nil : "mcp_pat_wrong", RateLimitTests.ping)
            statuses[r.status, default: 0] += 1
            if r.status == 429 { retryAfter = r.header("Retry-After") }
        }
        #expect((statuses[401] ?? 0) >= 120)
        #expect((statuses[429] ?? 0) > 300, "\(statuses)")
        #expect(Int(retryAfter ?? "") ?? 0 >= 1)
        // A valid credential from the same address is not limited.
        #expect(try h.rpc("json", token: try h.token(), RateLimitTests.ping).status == 200)
        h.gateway.close()  // writes the summaries still pending
        let rows = try h.mcpRows()
        #expect(rows.count < 200, "one row per refused request: \(rows.count)")
        let summaries = rows.filter { $0.string("action") == "mcp.rate_limited" }
        #expect(!summaries.isEmpty)
        let summarised = summaries.compactMap { $0.string("reason")?.split(separator: " ").dropFirst(2).first.flatMap { Int($0) } }
        #expect(summarised.reduce(0, +) == statuses[429], "every refused request is counted: \(summaries.map { $0.string("reason") ?? "" })")
        #expect(summaries.allSatisfy { $0.string("remote_addr") == "127.0.0.1" && $0.int("status") == 429 })
        #expect(h.upstream.requests.count == 1)
    }

    @Test func behindATrustedProxyTheForwardedClientIsAuditedAndLimited() throws {
        let h = try GatewayHarness(gatewayConfig: { $0.trustedProxies = ["127.0.0.1"]; $0.unauthenticatedPerMinute = 3 })
        defer { h.close() }
        let token = try h.token()
        #expect(try h.rpc("json", token: token, RateLimitTests.ping, headers: [("X-Forwarded-For", "198.51.100.1, 203.0.113.7")]).status == 200)
        #expect(try h.lastRow()?.string("remote_addr") == "203.0.113.7", "the right-most address the proxy added")
        for _ in 0..<3 {
            #expect(try h.rpc("json", token: nil, RateLimitTests.ping, headers: [("X-Forwarded-For", "203.0.113.7")]).status == 401)
        }
        #expect(try h.rpc("json", token: nil, RateLimitTests.ping, headers: [("X-Forwarded-For", "203.0.113.7")]).status == 429)
        // Another client behind the same proxy has its own allowance.
        #expect(try h.rpc("json", token: nil, RateLimitTests.ping, headers: [("X-Forwarded-For", "203.0.113.8")]).status == 401)
        #expect(try h.lastRow()?.string("remote_addr") == "203.0.113.8")
    }

    @Test func withoutATrustedProxyXForwardedForIsIgnored() throws {
        let h = try GatewayHarness(gatewayConfig: { $0.unauthenticatedPerMinute = 2 })
        defer { h.close() }
        for spoofed in ["203.0.113.1", "203.0.113.2"] {
            #expect(try h.rpc("json", token: nil, RateLimitTests.ping, headers: [("X-Forwarded-For", spoofed)]).status == 401)
        }
        #expect(try h.lastRow()?.string("remote_addr") == "127.0.0.1")
        // A made-up forwarded address does not buy a fresh allowance.
        #expect(try h.rpc("json", token: nil, RateLimitTests.ping, headers: [("X-Forwarded-For", "203.0.113.3")]).status == 429)
    }
}
