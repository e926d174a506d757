import Foundation
import HTTP
import MCPAuth
import MCPGateway
import Testing

/// MCP sessions on HTTP upstreams belong to the user who opened them (MCP security best practices,
/// "session hijacking"), across restarts of the server too.
@Suite struct SessionTests {
    static let ping = #"{"jsonrpc":"2.0","id":7,"method":"ping"}"#

    @Test func aSessionIsServedOnlyToTheUserWhoOpenedIt() throws {
        let h = try GatewayHarness()
        defer { h.close() }
        let alice = try h.token("alice@example.com")
        let bob = try h.token("bob@example.com")
        let session = try #require(try h.initialize("json", token: alice).header("Mcp-Session-Id"))
        let seen = h.upstream.requests.count
        let stolen = try h.rpc("json", token: bob, SessionTests.ping, headers: [("Mcp-Session-Id", session)])
        #expect(stolen.status == 404)
        #expect(h.upstream.requests.count == seen, "the other user's request reached the upstream")
        #expect(try h.lastRow()?.string("reason") == "session unknown or opened by another user")
        #expect(try h.rpc("json", token: alice, SessionTests.ping, headers: [("Mcp-Session-Id", session)]).status == 200)
        // The same id on another environment of the app is another (unknown) session.
        #expect(try h.rpc("sse", token: alice, SessionTests.ping, headers: [("Mcp-Session-Id", session)]).status == 404)
    }

    @Test func aSessionIdTheGatewayNeverSawIsRefusedSoTheClientStartsANewSession() throws {
        let h = try GatewayHarness()
        defer { h.close() }
        let alice = try h.token("alice@example.com")
        let r = try h.rpc("json", token: alice, SessionTests.ping, headers: [("Mcp-Session-Id", "made-up-\(UUID().uuidString)")])
        #expect(r.status == 404)
        #expect(r.message?["error"]?["message"]?.stringValue == "Session not found")
        #expect(h.upstream.requests.isEmpty)
    }

    @Test(.enabled(if: GatewayHarness.isSQLite, "injects its fault with SQLite-only SQL"))
    func ownersSurviveARestartAndOnlyHashesAreStored() throws {
        let h = try GatewayHarness()
        defer { h.close() }
        let alice = try h.token("alice@example.com")
        let bob = try h.token("bob@example.com")
        let session = try #require(try h.initialize("json", token: alice).header("Mcp-Session-Id"))
        // A second gateway on the same store, as after `mcpctl serve` restarts: nothing in memory.
        let restarted = try Gateway(pool: try StorePool(path: h.dbPath), configuration: h.configuration, audit: h.audit,
                                    verifier: TokenVerifier(), log: RequestLog(level: .error))
        defer { restarted.close() }
        func ask(_ token: String) -> Int? {
            var headers = HTTPHeaders()
            headers["Authorization"] = "Bearer \(token)"
            headers["Content-Type"] = "application/json"
            headers["Accept"] = "application/json, text/event-stream"
            headers["Mcp-Session-Id"] = session
            return restarted.handle(HTTPRequest(method: "POST", target: h.path("json"), headers: headers,
                                                body: Array(SessionTests.ping.utf8), remoteAddress: "127.0.0.1"))?.resolved.status
        }
        #expect(ask(bob) == 404)
        #expect(ask(alice) == 200)
        let rows = try h.admin.db.query("SELECT hex(id_hash) AS h FROM mcp_sessions")
        #expect(rows.count == 1)
        #expect(rows.first?.string("h") == Hex.encode(SHA256.hash(Array(session.utf8))).uppercased())
    }

    @Test func deletingASessionForgetsIt() throws {
        let h = try GatewayHarness()
        defer { h.close() }
        let alice = try h.token("alice@example.com")
        let session = try #require(try h.initialize("json", token: alice).header("Mcp-Session-Id"))
        let deleted = try h.send("DELETE", h.path("json"), headers: [("Authorization", "Bearer \(alice)"), ("Mcp-Session-Id", session)])
        #expect(deleted.status < 300)
        #expect(try h.admin.db.query("SELECT 1 FROM mcp_sessions").isEmpty)
        #expect(try h.rpc("json", token: alice, SessionTests.ping, headers: [("Mcp-Session-Id", session)]).status == 404)
    }

    @Test func sessionsOlderThanTheMaximumAgeAreUnknown() throws {
        let h = try GatewayHarness()
        defer { h.close() }
        let sessions = MCPSessions(store: h.admin)
        let user = try #require(try Users(store: h.admin).find("alice@example.com")?.id)
        let now = Clock.nowMillis()
        try sessions.register(id: "old", userID: user, app: h.app, env: "json", now: now - MCPSessions.maxAgeMillis - 1)
        try sessions.register(id: "new", userID: user, app: h.app, env: "json", now: now)
        #expect(try sessions.owner(id: "old", app: h.app, env: "json", now: now) == nil)
        #expect(try sessions.owner(id: "new", app: h.app, env: "json", now: now) == user)
        #expect(try sessions.prune(now: now) == 1)
    }

    /// The attack: open a session where the grant is small (read on `stdio`), then present it on an
    /// endpoint where the grant is large (`stdio2`), so the call is authorized by one environment's grant
    /// but executed by the other environment's process.
    @Test func aStdioSessionPresentedOnAnotherEnvironmentOrByAnotherUserIsAnUnknownSession() throws {
        let h = try GatewayHarness(stdio: true)
        defer { h.close() }
        try Apps(store: h.admin).add(app: h.app, env: "stdio2", upstream: nil, command: [StdioScript.python, "-u", h.dir + "/stdio_server.py"])
        _ = try Users(store: h.admin).add(email: "dave@example.com", name: nil, password: nil)
        try Grants(store: h.admin).add(email: "dave@example.com", app: h.app, env: "stdio", scopes: .read)
        try Grants(store: h.admin).add(email: "dave@example.com", app: h.app, env: "stdio2", scopes: .all)
        let dave = try h.token("dave@example.com")
        let bob = try h.token("bob@example.com")
        let session = try #require(try h.initialize("stdio", token: dave).header("Mcp-Session-Id"))

        let crossEnv = try h.call("stdio2", token: dave, "delete_note", headers: [("Mcp-Session-Id", session)])
        #expect(crossEnv.status == 404, "\(crossEnv.text)")
        #expect(crossEnv.message?["error"]?["message"]?.stringValue == "Session not found")
        let row = try h.lastRow()
        #expect(row?.string("decision") == "deny")
        #expect(row?.string("reason") == "session unknown or opened by another user")
        // A listing through the foreign session reaches no process and records nothing for stdio2.
        #expect(try h.listTools("stdio2", token: dave, headers: [("Mcp-Session-Id", session)]).status == 404)
        #expect(try ToolScopes(store: h.admin).list(app: h.app, env: "stdio2").isEmpty, "stdio's tools were recorded as stdio2's")
        #expect(try h.send("DELETE", h.path("stdio2"), headers: [("Authorization", "Bearer \(dave)"), ("Mcp-Session-Id", session)]).status == 404)

        // Another user, on the right environment: unknown too, for calls and for DELETE.
        #expect(try h.call("stdio", token: bob, "read_notes", headers: [("Mcp-Session-Id", session)]).status == 404)
        #expect(try h.send("DELETE", h.path("stdio"), headers: [("Authorization", "Bearer \(bob)"), ("Mcp-Session-Id", session)]).status == 404)
        #expect(try h.mcpRows().suffix(4).allSatisfy { $0.string("decision") == "deny" })

        // None of that touched the session: its owner still uses it where it was opened.
        #expect(try h.rpc("stdio", token: dave, SessionTests.ping, headers: [("Mcp-Session-Id", session)]).status == 200)
    }

    @Test func anHTTPUpstreamSessionCannotBeDeletedOrStreamedByAnotherUserOrOnAnotherEnvironment() throws {
        let h = try GatewayHarness()
        defer { h.close() }
        let alice = try h.token("alice@example.com")
        let bob = try h.token("bob@example.com")
        let session = try #require(try h.initialize("json", token: alice).header("Mcp-Session-Id"))
        let seen = h.upstream.requests.count
        for (token, env) in [(bob, "json"), (alice, "sse"), (alice, "plain")] {
            let deleted = try h.send("DELETE", h.path(env), headers: [("Authorization", "Bearer \(token)"), ("Mcp-Session-Id", session)])
            #expect(deleted.status == 404, "\(env)")
            let stream = try h.send("GET", h.path(env), headers: [("Authorization", "Bearer \(token)"), ("Accept", "text/event-stream"),
                                                                  ("Mcp-Session-Id", session)])
            #expect(stream.status == 404, "\(env)")
            #expect(try h.lastRow()?.string("decision") == "deny")
        }
        #expect(h.upstream.requests.count == seen, "a foreign request reached the upstream")
        #expect(try h.admin.db.query("SELECT 1 FROM mcp_sessions").count == 1, "the owner's session was forgotten")
        #expect(try h.rpc("json", token: alice, SessionTests.ping, headers: [("Mcp-Session-Id", session)]).status == 200)
    }
}
