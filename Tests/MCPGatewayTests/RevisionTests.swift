import Foundation
import HTTP
import MCPAuth
import MCPGateway
import Testing

/// MCP 2026-07-28 through the gateway: the per-request envelope and the headers that mirror the body,
/// the gateway standing in for a 2026-07-28 server in front of 2025-11-25 upstreams (its own
/// `server/discover`, a session per caller), cache hints on narrowed lists, and trace propagation.
@Suite struct RevisionTests {
    static let version = "2026-07-28"

    /// A 2026-07-28 request body: `params` plus the per-request envelope in `_meta` (and `extraMeta`).
    static func body(_ method: String, id: String = "1", params: String = "", version: String = version, extraMeta: String = "") -> String {
        let meta = #""io.modelcontextprotocol/protocolVersion":"\#(version)","io.modelcontextprotocol/clientCapabilities":{},"# +
            #""io.modelcontextprotocol/clientInfo":{"name":"revision-test","version":"1"}\#(extraMeta)"#
        let rest = params.isEmpty ? "" : params + ","
        return #"{"jsonrpc":"2.0","id":\#(id),"method":"\#(method)","params":{\#(rest)"_meta":{\#(meta)}}}"#
    }

    /// The headers a 2026-07-28 client sends with `method` (and `name` as `Mcp-Name`).
    static func headers(_ method: String, name: String? = nil, version: String = version) -> [(String, String)] {
        var h = [("MCP-Protocol-Version", version), ("Mcp-Method", method)]
        if let name { h.append(("Mcp-Name", name)) }
        return h
    }

    static func call(_ h: GatewayHarness, _ env: String, token: String?, tool: String, extraMeta: String = "",
                     headers extra: [(String, String)] = []) throws -> Reply {
        try h.rpc(env, token: token, body("tools/call", params: #""name":"\#(tool)","arguments":{}"#, extraMeta: extraMeta),
                  headers: headers("tools/call", name: tool) + extra)
    }

    // MARK: Headers that mirror the body (the attack: route on one tool, run another)

    @Test func aModernCallNamingOneToolInItsHeaderAndAnotherInItsBodyIsRefusedAndNeverForwarded() throws {
        let h = try GatewayHarness()
        defer { h.close() }
        let reader = try h.token(scopes: .read)
        // The header says the harmless tool (what a proxy in front would authorize); the body deletes.
        let reply = try h.rpc("json", token: reader, Self.body("tools/call", params: #""name":"delete_note","arguments":{}"#),
                              headers: Self.headers("tools/call", name: "read_notes"))
        #expect(reply.status == 400)
        #expect(reply.message?["error"]?["code"]?.intValue == -32020)
        #expect(!h.upstream.methods.contains("tools/call"))
        let row = try #require(try h.lastRow())
        #expect(row.string("decision") == "deny" && row.int("status") == 400 && row.string("tool") == "delete_note")
    }

    @Test func aProtocolVersionHeaderThatDisagreesWithTheEnvelopeIsAHeaderMismatch() throws {
        let h = try GatewayHarness()
        defer { h.close() }
        let token = try h.token()
        // Claims the 2025-11-25 route (sessions) in the header while the body is a 2026-07-28 request.
        let older = try h.rpc("json", token: token, Self.body("tools/list"), headers: Self.headers("tools/list", version: "2025-11-25"))
        #expect(older.status == 400 && older.message?["error"]?["code"]?.intValue == -32020)
        let other = try h.rpc("json", token: token, Self.body("tools/list", version: "2099-01-01"), headers: Self.headers("tools/list"))
        #expect(other.status == 400 && other.message?["error"]?["code"]?.intValue == -32020)
        // On a 2026-07-28 request the mirrored headers are required: a missing Mcp-Method disagrees.
        let unnamed = try h.rpc("json", token: token, Self.body("tools/list"), headers: [("MCP-Protocol-Version", Self.version)])
        #expect(unnamed.status == 400 && unnamed.message?["error"]?["code"]?.intValue == -32020)
        let noName = try h.rpc("json", token: token, Self.body("tools/call", params: #""name":"read_notes""#), headers: Self.headers("tools/call"))
        #expect(noName.status == 400 && noName.message?["error"]?["code"]?.intValue == -32020)
        // Headers and body agree on a version the gateway does not speak: -32022 naming the one it does.
        let future = try h.rpc("json", token: token, Self.body("tools/list", version: "2099-01-01"),
                               headers: Self.headers("tools/list", version: "2099-01-01"))
        #expect(future.status == 400 && future.message?["error"]?["code"]?.intValue == -32022)
        #expect(future.message?["error"]?["data"]?["supported"] == .array([.string(Self.version)]))
        // An envelope without its required keys is invalid params.
        let bare = try h.rpc("json", token: token, #"{"jsonrpc":"2.0","id":1,"method":"tools/list","params":{}}"#, headers: Self.headers("tools/list"))
        #expect(bare.status == 400 && bare.message?["error"]?["code"]?.intValue == -32602)
        #expect(!h.upstream.methods.contains("tools/list"))
        #expect(try h.mcpRows().allSatisfy { $0.string("decision") == "deny" && $0.int("status") == 400 })
    }

    // MARK: The gateway standing in for a 2026-07-28 server

    @Test func aModernClientOfAHandshakeUpstreamGetsTheGatewaysOwnDiscoverAndItsOwnUpstreamSession() throws {
        let h = try GatewayHarness()
        defer { h.close() }
        let alice = try h.token(), bob = try h.token("bob@example.com")
        #expect(try h.rpc("json", token: nil, Self.body("server/discover"), headers: Self.headers("server/discover")).status == 401)
        let discover = try h.rpc("json", token: alice, Self.body("server/discover"), headers: Self.headers("server/discover"))
        #expect(discover.status == 200)
        let result = try #require(discover.message?["result"])
        #expect(result["supportedVersions"] == .array([.string(Self.version)]))
        #expect(result["capabilities"]?["tools"] != nil && result["resultType"] == "complete")
        #expect(result["_meta"]?["io.modelcontextprotocol/serverInfo"]?["name"] == "fake-upstream")
        #expect(discover.header("Mcp-Session-Id") == nil)
        // The upstream saw the gateway's handshake, never the caller's credentials.
        let initialize = try #require(h.upstream.requests.first { $0.json?["method"] == "initialize" })
        #expect(initialize.json?["params"]?["protocolVersion"] == "2025-11-25")
        #expect(h.upstream.methods.contains("notifications/initialized"))
        #expect(h.upstream.requests.allSatisfy { $0.headers["Authorization"] == nil })

        let called = try Self.call(h, "json", token: alice, tool: "read_notes")
        #expect(called.status == 200 && called.message?["result"]?["resultType"] == "complete")
        #expect(called.header("Mcp-Session-Id") == nil)
        let forwarded = try #require(h.upstream.requests.last { $0.json?["method"] == "tools/call" })
        let aliceSession = try #require(forwarded.headers["Mcp-Session-Id"])
        #expect(forwarded.headers["MCP-Protocol-Version"] == "2025-11-25")

        // Another user gets a session of their own; the same user keeps theirs.
        _ = try Self.call(h, "json", token: bob, tool: "read_notes")
        _ = try Self.call(h, "json", token: alice, tool: "read_notes")
        let sessions = h.upstream.requests.filter { $0.json?["method"] == "tools/call" }.compactMap { $0.headers["Mcp-Session-Id"] }
        #expect(sessions.count == 3 && sessions[0] == aliceSession && sessions[1] != aliceSession && sessions[2] == aliceSession)
        #expect(h.upstream.methods.filter { $0 == "initialize" }.count == 2)
    }

    @Test func aSessionIDOnAModernRequestIsNeitherCheckedNorForwarded() throws {
        let h = try GatewayHarness()
        defer { h.close() }
        let token = try h.token()
        let reply = try Self.call(h, "json", token: token, tool: "read_notes", headers: [("Mcp-Session-Id", "someone-elses-session")])
        #expect(reply.status == 200)
        #expect(h.upstream.requests.allSatisfy { $0.headers["Mcp-Session-Id"] != "someone-elses-session" })
    }

    @Test func aModernClientOfAStdioUpstreamSharesOneProcessAcrossItsRequests() throws {
        let h = try GatewayHarness(stdio: true)
        defer { h.close() }
        let reader = try h.token(scopes: .read)
        let discover = try h.rpc("stdio", token: reader, Self.body("server/discover"), headers: Self.headers("server/discover"))
        #expect(discover.status == 200 && discover.message?["result"]?["supportedVersions"] != nil)
        let listed = try h.rpc("stdio", token: reader, Self.body("tools/list"), headers: Self.headers("tools/list"))
        #expect(listed.status == 200 && !listed.toolNames.contains("delete_note") && listed.toolNames.contains("read_notes"))
        #expect(try Self.call(h, "stdio", token: reader, tool: "read_notes").status == 200)
        #expect(try Self.call(h, "stdio", token: reader, tool: "delete_note").status == 403)
        #expect(h.gateway.stdioProcessCount == 1)
    }

    @Test func idleUpstreamSessionsHeldForModernClientsAreClosed() throws {
        let h = try GatewayHarness(gatewayConfig: { $0.sessionIdleTimeout = 0.2 })
        defer { h.close() }
        #expect(try Self.call(h, "json", token: try h.token(), tool: "read_notes").status == 200)
        let session = try #require(h.upstream.requests.last { $0.json?["method"] == "tools/call" }?.headers["Mcp-Session-Id"])
        #expect(eventually(within: 15) { h.upstream.requests.contains { $0.method == "DELETE" && $0.headers["Mcp-Session-Id"] == session } })
    }

    // MARK: Cache hints

    @Test func aListNarrowedForOneCallerIsNeverMarkedShareable() throws {
        let h = try GatewayHarness()
        defer { h.close() }
        let reader = try h.token(scopes: .read)
        let modern = try h.rpc("json", token: reader, Self.body("tools/list"), headers: Self.headers("tools/list"))
        #expect(modern.status == 200 && modern.toolNames == ["read_notes"])
        let result = try #require(modern.message?["result"])
        #expect(result["cacheScope"] == "private")
        #expect((result["ttlMs"]?.intValue ?? .max) <= 60_000)
        #expect(modern.header("Cache-Control") == "private")
        let legacy = try h.listTools("json", token: reader)
        #expect(legacy.status == 200 && legacy.header("Cache-Control") == "private")
    }

    // MARK: Trace context

    @Test func theCallersTraceReachesTheUpstreamUnderTheGatewaysOwnSpan() throws {
        let h = try GatewayHarness()
        defer { h.close() }
        let token = try h.token()
        let trace = "4bf92f3577b34da6a3ce929d0e0e4736", parent = "00f067aa0ba902b7"
        let traceparent = "00-\(trace)-\(parent)-01"
        // 2025-11-25: the header.
        _ = try h.call("json", token: token, "read_notes", headers: [("traceparent", traceparent), ("tracestate", "vendor=1")])
        let legacy = try #require(h.upstream.requests.last { $0.json?["method"] == "tools/call" })
        let sent = try #require(legacy.headers["traceparent"])
        #expect(sent.hasPrefix("00-\(trace)-") && sent.hasSuffix("-01") && !sent.contains(parent))
        #expect(legacy.headers["tracestate"] == "vendor=1")
        // 2026-07-28: `_meta`, kept there (and in the header) for the upstream.
        _ = try Self.call(h, "json", token: token, tool: "read_notes", extraMeta: #","traceparent":"\#(traceparent)""#)
        let modern = try #require(h.upstream.requests.last { $0.json?["method"] == "tools/call" })
        let inMeta = try #require(modern.json?["params"]?["_meta"]?["traceparent"]?.stringValue)
        #expect(inMeta.hasPrefix("00-\(trace)-") && !inMeta.contains(parent))
        #expect(modern.headers["traceparent"] == inMeta)
        // A malformed traceparent is not passed on.
        _ = try h.call("json", token: token, "read_notes", headers: [("traceparent", "00-\(String(repeating: "0", count: 32))-\(parent)-01")])
        #expect(h.upstream.requests.last { $0.json?["method"] == "tools/call" }?.headers["traceparent"] == nil)
    }
}

/// A 2026-07-28 upstream: 2026-07-28 requests pass through as sent (no handshake, no session), list cache
/// hints are narrowed with the list.
@Suite struct ModernUpstreamTests {
    @Test func modernRequestsToAModernUpstreamPassThroughWithoutASessionAndKeepTheirHeaders() throws {
        let h = try GatewayHarness()
        defer { h.close() }
        let upstream = try ModernUpstream()
        defer { upstream.close() }
        try Apps(store: h.admin).add(app: h.app, env: "modern", upstream: "http://127.0.0.1:\(upstream.port)/mcp", command: nil)
        let reader = try h.token(scopes: .read)
        let discover = try h.rpc("modern", token: reader, RevisionTests.body("server/discover"), headers: RevisionTests.headers("server/discover"))
        #expect(discover.status == 200 && discover.message?["result"]?["supportedVersions"] == .array(["2026-07-28"]))
        let called = try RevisionTests.call(h, "modern", token: reader, tool: "read_notes",
                                            headers: [("Mcp-Session-Id", "not-a-session"), ("Mcp-Param-Region", "eu")])
        #expect(called.status == 200)
        let call = try #require(upstream.requests.last { $0.json?["method"] == "tools/call" })
        #expect(call.headers["MCP-Protocol-Version"] == "2026-07-28" && call.headers["Mcp-Method"] == "tools/call" && call.headers["Mcp-Name"] == "read_notes")
        #expect(call.headers["Mcp-Param-Region"] == "eu" && call.headers["Mcp-Session-Id"] == nil && call.headers["Authorization"] == nil)
        #expect(call.json?["params"]?["_meta"]?["io.modelcontextprotocol/protocolVersion"] == "2026-07-28")
        #expect(!upstream.requests.contains { $0.json?["method"] == "initialize" })
        // The tool was unknown: the gateway asked for the list first, as a 2026-07-28 request of its own.
        let refresh = try #require(upstream.requests.first { $0.json?["method"] == "tools/list" })
        #expect(refresh.headers["MCP-Protocol-Version"] == "2026-07-28" && refresh.json?["params"]?["_meta"]?["io.modelcontextprotocol/protocolVersion"] == "2026-07-28")
        // The upstream said its list may be shared for five minutes; narrowed for this caller it may not.
        let listed = try h.rpc("modern", token: reader, RevisionTests.body("tools/list"), headers: RevisionTests.headers("tools/list"))
        #expect(listed.toolNames == ["read_notes"])
        #expect(listed.message?["result"]?["cacheScope"] == "private" && listed.message?["result"]?["ttlMs"] == .int(60_000))
        #expect(listed.header("Cache-Control") == "private")
    }
}

/// The sessions the gateway holds for 2026-07-28 clients stay within the upstream's own limits.
@Suite struct UpstreamSessionLimitTests {
    @Test func aModernClientBeyondTheStdioSessionLimitGetsTheLimitsAnswerNotAnotherProcess() throws {
        let h = try GatewayHarness(stdio: true, gatewayConfig: { $0.maxStdioSessions = 1 })
        defer { h.close() }
        #expect(try RevisionTests.call(h, "stdio", token: try h.token(), tool: "read_notes").status == 200)
        let bob = try RevisionTests.call(h, "stdio", token: try h.token("bob@example.com"), tool: "read_notes")
        #expect(bob.status == 503)
        #expect(h.gateway.stdioProcessCount == 1)
        let row = try #require(try h.lastRow())
        #expect(row.string("email") == "bob@example.com" && row.string("decision") == "deny" && row.int("status") == 503)
    }
}
