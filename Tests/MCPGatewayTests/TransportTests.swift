import Dispatch
import Foundation
import HTTP
import MCPAuth
import MCPGateway
import Testing

/// Issue 4 item 2: the Streamable HTTP endpoint (MCP 2025-11-25 transport) in front of an HTTP upstream.
@Suite struct TransportTests {
    @Test func aForeignOriginIsRefusedWhileThePublicAllowListedAndAbsentOriginsAreAccepted() throws {
        let h = try GatewayHarness(gatewayConfig: { $0.allowedOrigins = ["https://ide.example.org"] })
        defer { h.close() }
        let token = try h.token()
        let ping = #"{"jsonrpc":"2.0","id":1,"method":"ping"}"#
        let foreign = try h.rpc("json", token: token, ping, headers: [("Origin", "https://evil.example.net")])
        #expect(foreign.status == 403)
        #expect(foreign.header("WWW-Authenticate") == nil)
        // A foreign origin is refused even without credentials (DNS rebinding), and the refusal is audited.
        #expect(try h.rpc("json", token: nil, ping, headers: [("Origin", "http://127.0.0.1:1")]).status == 403)
        #expect(try h.rpc("json", token: token, ping, headers: [("Origin", "https://gw.example.com")]).status == 200)
        #expect(try h.rpc("json", token: token, ping, headers: [("Origin", "https://IDE.example.org")]).status == 200)
        #expect(try h.rpc("json", token: token, ping).status == 200)
        #expect(h.upstream.methods == ["ping", "ping", "ping"])
        let rows = try h.mcpRows()
        #expect(rows.count == 5)
        #expect(rows.prefix(2).allSatisfy { $0.string("decision") == "deny" && $0.int("status") == 403 })
    }

    @Test func notificationsAndClientResponsesAreAcceptedWith202() throws {
        let h = try GatewayHarness()
        defer { h.close() }
        let token = try h.token(scopes: .read)
        let n = try h.rpc("json", token: token, #"{"jsonrpc":"2.0","method":"notifications/initialized"}"#)
        #expect(n.status == 202)
        #expect(n.body.isEmpty)
        let response = try h.rpc("json", token: token, #"{"jsonrpc":"2.0","id":"srv-1","result":{}}"#)
        #expect(response.status == 202)
        #expect(try h.mcpRows().map { $0.string("method") } == ["notifications/initialized", "response"])
    }

    @Test func theGetStreamIsForwardedAndItsEventsArriveAsTheyAreSent() throws {
        let h = try GatewayHarness()
        defer { h.close() }
        let token = try h.token(scopes: .read)
        let session = try h.initialize("json", token: token).header("Mcp-Session-Id")!
        var headers = HTTPHeaders()
        headers["Authorization"] = "Bearer \(token)"
        headers["Accept"] = "text/event-stream"
        headers["Mcp-Session-Id"] = session
        headers["Last-Event-ID"] = "0"
        let request = HTTPClientRequest(method: "GET", url: "http://127.0.0.1:\(h.port)\(h.path("json"))", headers: headers, timeout: 10)!
        let response = try h.client.send(request)
        #expect(response.status == 200)
        #expect(response.headers["Content-Type"]?.hasPrefix("text/event-stream") == true)
        // The first event arrives while the upstream still holds back the second.
        var parser = SSEParser()
        var events: [SSEEvent] = []
        while events.isEmpty, let chunk = try response.readChunk() { events += parser.feed(chunk) }
        #expect(events.map(\.data) == [#"{"jsonrpc":"2.0","method":"notifications/first"}"#])
        h.upstream.releaseStream()
        while let chunk = try response.readChunk() { events += parser.feed(chunk) }
        #expect(events.map(\.id) == ["1", "2"])
        let get = h.upstream.requests.first { $0.method == "GET" }
        #expect(get?.headers["Last-Event-ID"] == "0")
        #expect(get?.headers["Mcp-Session-Id"] == session)
        let row = try h.lastRow()
        #expect(row?.string("action") == "mcp.get")
        #expect(row?.string("decision") == "allow")
        #expect(row?.int("status") == 200)
    }

    @Test func deleteIsForwardedAndOtherMethodsGet405() throws {
        let h = try GatewayHarness()
        defer { h.close() }
        let token = try h.token(scopes: .read)
        let session = try h.initialize("json", token: token).header("Mcp-Session-Id")!
        let auth = ("Authorization", "Bearer \(token)")
        let deleted = try h.send("DELETE", h.path("json"), headers: [auth, ("Mcp-Session-Id", session)])
        #expect(deleted.status == 204)
        #expect(h.upstream.requests.last?.method == "DELETE")
        #expect(h.upstream.requests.last?.headers["Mcp-Session-Id"] == session)
        // The upstream forgot the session; the client is told so (404), as the transport asks.
        let after = try h.rpc("json", token: token, #"{"jsonrpc":"2.0","id":2,"method":"ping"}"#, headers: [("Mcp-Session-Id", session)])
        #expect(after.status == 404)
        for method in ["PUT", "PATCH", "HEAD", "OPTIONS"] {
            let r = try h.send(method, h.path("json"), headers: [auth])
            #expect(r.status == 405, "\(method)")
            #expect(r.header("Allow") == "POST, GET, DELETE")
        }
        #expect(!h.upstream.requests.contains { ["PUT", "PATCH", "HEAD", "OPTIONS"].contains($0.method) })
    }

    @Test func batchesAndInvalidJSONGet400ButOnlyAfterAuthentication() throws {
        let h = try GatewayHarness()
        defer { h.close() }
        let token = try h.token(scopes: .read)
        let cases: [(String, Int?)] = [
            ("{not json", -32700),
            (#"[{"jsonrpc":"2.0","id":1,"method":"ping"},{"jsonrpc":"2.0","id":2,"method":"ping"}]"#, -32600),
            (#"{"jsonrpc":"1.0","id":1,"method":"ping"}"#, -32600),
            (#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{}}"#, -32600),
        ]
        for (body, code) in cases {
            let anonymous = try h.rpc("json", token: nil, body)
            #expect(anonymous.status == 401, "\(body)")
            let r = try h.rpc("json", token: token, body)
            #expect(r.status == 400, "\(body)")
            #expect(r.message?["error"]?["code"]?.intValue == code.map(Int64.init))
        }
        #expect(h.upstream.requests.isEmpty)
        #expect(try h.mcpRows().count == cases.count * 2)
    }

    @Test func sessionAndProtocolHeadersPassBothWaysButClientCredentialsNeverReachTheUpstream() throws {
        let h = try GatewayHarness(gatewayConfig: { $0.allowedOrigins = ["https://ide.example.org"] })
        defer { h.close() }
        let token = try h.token()
        let initialized = try h.initialize("json", token: token, headers: [("MCP-Protocol-Version", "2025-11-25"),
                                                                            ("Cookie", "sid=browser-secret"), ("Origin", "https://ide.example.org")])
        #expect(initialized.status == 200)
        let session = try #require(initialized.header("Mcp-Session-Id"))
        #expect(session.hasPrefix("up-session-"))
        #expect(initialized.header("MCP-Protocol-Version") == "2025-11-25")
        let called = try h.rpc("json", token: nil, #"{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"read_notes","arguments":{}}}"#,
                               headers: [("Email", "alice@example.com"), ("Token", token), ("Mcp-Session-Id", session),
                                         ("MCP-Protocol-Version", "2025-06-18"), ("Mcp-Method", "tools/call"), ("Mcp-Name", "read_notes"),
                                         ("Cookie", "sid=browser-secret"), ("Proxy-Authorization", "Basic c2VjcmV0")])
        #expect(called.status == 200, "\(called.text)")
        _ = try h.listTools("json", token: token, headers: [("Mcp-Session-Id", session)])
        let ok = try h.call("json", token: token, "read_notes", headers: [("Mcp-Session-Id", session), ("MCP-Protocol-Version", "2025-06-18")])
        #expect(ok.status == 200)
        #expect(ok.header("MCP-Protocol-Version") == "2025-06-18")
        let seen = h.upstream.requests
        #expect(seen.count >= 3)
        for r in seen {
            for name in ["Authorization", "Token", "Email", "Cookie", "Origin", "Proxy-Authorization"] {
                #expect(r.headers[name] == nil, "\(name) reached the upstream")
            }
            #expect(!r.headers.description.contains(token), "the secret reached the upstream")
        }
        #expect(seen.dropFirst().allSatisfy { $0.headers["Mcp-Session-Id"] == session })
        let revision = seen.first { $0.headers["Mcp-Method"] == "tools/call" }
        #expect(revision?.headers["Mcp-Name"] == "read_notes", "2026-07-28 headers are forwarded untouched")
    }

    @Test func aSessionCreatedByOneUserIsNotFoundForAnother() throws {
        let h = try GatewayHarness()
        defer { h.close() }
        let alice = try h.token("alice@example.com")
        let bob = try h.token("bob@example.com")
        let session = try #require(try h.initialize("json", token: alice).header("Mcp-Session-Id"))
        let hijack = try h.rpc("json", token: bob, #"{"jsonrpc":"2.0","id":2,"method":"ping"}"#, headers: [("Mcp-Session-Id", session)])
        #expect(hijack.status == 404)
        let stream = try h.send("GET", h.path("json"), headers: [("Authorization", "Bearer \(bob)"), ("Mcp-Session-Id", session)])
        #expect(stream.status == 404)
        let end = try h.send("DELETE", h.path("json"), headers: [("Authorization", "Bearer \(bob)"), ("Mcp-Session-Id", session)])
        #expect(end.status == 404)
        #expect(try h.rpc("json", token: alice, #"{"jsonrpc":"2.0","id":3,"method":"ping"}"#, headers: [("Mcp-Session-Id", session)]).status == 200)
        #expect(h.upstream.methods == ["initialize", "ping"])
        #expect(try h.mcpRows().filter { $0.string("email") == "bob@example.com" }.allSatisfy { $0.string("decision") == "deny" })
    }

    @Test func anUnreachableUpstreamGets502AndIsAudited() throws {
        let h = try GatewayHarness()
        defer { h.close() }
        // A port nobody listens on: bind one, note it, close it.
        let probe = HTTPServer(configuration: HTTPServerConfiguration(host: "127.0.0.1", port: 0)) { _ in HTTPResponse(status: 200) }
        let dead = try probe.start()
        probe.shutdown(gracePeriod: 0)
        try Apps(store: h.admin).add(app: h.app, env: "down", upstream: "http://127.0.0.1:\(dead)/mcp", command: nil)
        let token = try h.token()
        let r = try h.rpc("down", token: token, #"{"jsonrpc":"2.0","id":1,"method":"ping"}"#)
        #expect(r.status == 502)
        #expect(r.message?["error"] != nil)
        let row = try h.lastRow()
        #expect(row?.int("status") == 502)
        #expect(row?.string("reason")?.contains("upstream") == true)
    }

    @Test(arguments: [401, 403])
    func anUpstreamThatRefusesTheGatewayGets502NotItsOwnChallenge(status: Int) throws {
        let h = try GatewayHarness()
        defer { h.close() }
        // An upstream that wants credentials of its own: the client's token was fine, so the client must not
        // see a 401/403 (an OAuth client would start re-authorizing against mcpctl).
        let guarded = HTTPServer(configuration: HTTPServerConfiguration(host: "127.0.0.1", port: 0)) { _ in
            HTTPResponse(status: status, headers: HTTPHeaders([("WWW-Authenticate", "Bearer realm=\"upstream\""), ("Content-Type", "application/json")]),
                         body: .bytes(Array(#"{"error":"unauthorized"}"#.utf8)))
        }
        let port = try guarded.start()
        defer { guarded.shutdown(gracePeriod: 0) }
        try Apps(store: h.admin).add(app: h.app, env: "guarded", upstream: "http://127.0.0.1:\(port)/mcp", command: nil)
        let r = try h.rpc("guarded", token: try h.token(), #"{"jsonrpc":"2.0","id":1,"method":"ping"}"#)
        #expect(r.status == 502)
        #expect(r.header("WWW-Authenticate") == nil)
        #expect(r.message?["error"]?["message"]?.stringValue?.contains("HTTP \(status)") == true)
        let row = try h.lastRow()
        #expect(row?.int("status") == 502 && row?.string("reason") == "upstream answered \(status)")
    }

    @Test func aGETStreamFromAnHTTPSUpstreamIsAnswered405AtOnce() throws {
        let h = try GatewayHarness()
        defer { h.close() }
        // Nothing listens there: a forwarded GET would fail with 502, so 405 shows it was answered without trying.
        try Apps(store: h.admin).add(app: h.app, env: "tls", upstream: "https://127.0.0.1:1/mcp", command: nil)
        let token = try h.token()
        let r = try h.send("GET", h.path("tls"), headers: [("Authorization", "Bearer \(token)"), ("Accept", "text/event-stream")])
        #expect(r.status == 405)
        #expect(r.header("Allow") == "POST, DELETE")
        #expect(try h.lastRow()?.string("reason") == "no event stream from an https upstream (answers are buffered)")
    }
}
