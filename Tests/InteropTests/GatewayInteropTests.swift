import Foundation
import Testing

/// The gateway against clients and servers nobody here wrote: the MCP Python SDK's own client (mcp 1.x
/// and 2.x) through `mcpctl serve` to FastMCP upstreams over HTTP and over stdio.
@Suite(.serialized) struct GatewayInteropTests {
    @Test(arguments: ["mcp1", "mcp2"])
    func sdkClientThroughGatewayToFastMCPUpstreams(sdk: String) throws {
        let h = InteropHarness()
        let client = try InteropHarness.python(sdk)
        let serverPython = try InteropHarness.python("mcp1")
        let upstreamPort = try h.startUpstream(python: serverPython)
        let script = InteropHarness.scripts.appendingPathComponent("upstream_server.py").path
        try h.mcpctl(["user", "add", "alice@example.com"])
        try h.mcpctl(["app", "add", "notes", "--env", "http", "--upstream", "http://127.0.0.1:\(upstreamPort)/mcp"])
        try h.mcpctl(["app", "add", "notes", "--env", "stdio", "--command", "\(serverPython) \(script) --transport stdio"])
        try h.mcpctl(["grant", "add", "alice@example.com", "--app", "notes", "--role", "admin"])
        try h.mcpctl(["grant", "add", "alice@example.com", "--app", "mcpctl", "--env", "local", "--role", "viewer"])
        let read = try h.mcpctl(["token", "create", "--email", "alice@example.com", "--scopes", "read", "--name", "reader"]).stdout
            .trimmingCharacters(in: .whitespacesAndNewlines)
        let full = try h.mcpctl(["token", "create", "--email", "alice@example.com", "--scopes", "read,write,delete"]).stdout
            .trimmingCharacters(in: .whitespacesAndNewlines)
        let server = try h.startServer()
        let bearer = ["Authorization: Bearer \(read)"]

        for env in ["http", "stdio"] {
            let url = "\(server.url)/mcp/notes/\(env)"
            // A read token lists only the read-only tool and can call it.
            let (ls, tools) = try h.client(client, url: url, headers: bearer, ["list-tools"])
            #expect(ls == 0, "\(sdk) \(env) list-tools: \(tools)")
            #expect(tools["tools"] as? [String] == ["search_notes"], "\(sdk) \(env): \(tools)")
            let (cs, called) = try h.client(client, url: url, headers: bearer, ["call", "search_notes", "--args", #"{"query": "milk"}"#])
            #expect(cs == 0 && called["is_error"] as? Bool == false, "\(sdk) \(env) call: \(called)")
            #expect((called["content"] as? [String])?.joined().contains("buy milk") == true)
            // The destructive tool needs `delete`: 403 insufficient_scope with the needed scope.
            let (ds, denied) = try h.client(client, url: url, headers: bearer, ["call", "delete_note", "--args", #"{"note_id": 1}"#])
            #expect(ds == 3 && denied["status"] as? Int == 403, "\(sdk) \(env) delete: \(denied)")
            let challenge = denied["www_authenticate"] as? String ?? ""
            #expect(challenge.contains("insufficient_scope") && challenge.contains("scope=\"delete\"") && challenge.contains("resource_metadata="))
            // The Email + Token header pair works too, and a full token sees all three tools.
            let pair = ["Email: alice@example.com", "Token: \(full)"]
            let (ps, all) = try h.client(client, url: url, headers: pair, ["list-tools"])
            #expect(ps == 0 && Set(all["tools"] as? [String] ?? []) == ["search_notes", "add_note", "delete_note"], "\(sdk) \(env) pair: \(all)")
            let (ws, added) = try h.client(client, url: url, headers: pair, ["call", "add_note", "--args", #"{"text": "from \#(sdk)"}"#])
            #expect(ws == 0 && added["is_error"] as? Bool == false, "\(sdk) \(env) add: \(added)")
            // The pair with someone else's email is refused.
            let (ms, mismatch) = try h.client(client, url: url, headers: ["Email: bob@example.com", "Token: \(full)"], ["list-tools"])
            #expect(ms == 3 && mismatch["status"] as? Int == 401)
        }

        // The built-in app answers whoami.
        let (bs, who) = try h.client(client, url: "\(server.url)/mcp/mcpctl/local", headers: bearer, ["call", "whoami", "--args", "{}"])
        #expect(bs == 0 && (who["content"] as? [String])?.joined().contains("alice@example.com") == true, "\(sdk) whoami: \(who)")

        // No grant, or no such app: the same "not found" either way.
        let (ns, nothing) = try h.client(client, url: "\(server.url)/mcp/nope/prod", headers: bearer, ["list-tools"])
        #expect(ns != 0 && nothing["status"] as? Int == 404, "\(sdk) missing app: \(nothing)")

        // Revoked from the shell: the very next call is refused.
        try h.mcpctl(["token", "revoke", read])
        let (rs, revoked) = try h.client(client, url: "\(server.url)/mcp/notes/http", headers: bearer, ["call", "search_notes", "--args", #"{"query": "x"}"#])
        #expect(rs == 3 && revoked["status"] as? Int == 401, "\(sdk) after revoke: \(revoked)")
        #expect((revoked["www_authenticate"] as? String ?? "").contains("invalid_token"))

        // The audit log shows the allowed and denied calls with tool names.
        let events = try JSONSerialization.jsonObject(with: Data(try h.mcpctl(["audit", "list", "--source", "mcp", "--limit", "500", "--json"]).stdout.utf8)) as? [[String: Any]] ?? []
        func has(_ tool: String, _ decision: String, _ status: Int) -> Bool {
            events.contains { $0["tool"] as? String == tool && $0["decision"] as? String == decision && $0["status"] as? Int == status && $0["email"] as? String == "alice@example.com" }
        }
        #expect(has("search_notes", "allow", 200))
        #expect(has("delete_note", "deny", 403))
        #expect(has("add_note", "allow", 200))
        #expect(events.contains { $0["decision"] as? String == "deny" && $0["status"] as? Int == 401 && ($0["reason"] as? String ?? "").contains("revoked") })
        #expect(events.allSatisfy { !($0["reason"] as? String ?? "").contains("mcp_pat_") })
        #expect(try h.mcpctl(["audit", "verify"]).status == 0)
        // Tools seen by the gateway are recorded with the scope each needs.
        let seen = try JSONSerialization.jsonObject(with: Data(try h.mcpctl(["tool", "list", "notes", "--env", "http", "--json"]).stdout.utf8)) as? [[String: Any]] ?? []
        let scopes = Dictionary(uniqueKeysWithValues: seen.map { ($0["tool"] as? String ?? "", $0["scope"] as? String ?? "") })
        #expect(scopes == ["search_notes": "read", "add_note": "write", "delete_note": "delete"])
        kill(server.process.processIdentifier, SIGTERM)
        server.process.waitUntilExit()
        #expect(server.process.terminationStatus == 0)
    }
}

/// The README's first command: `serve --quickstart` ends with an authenticated endpoint a real client can use.
@Suite struct QuickstartInteropTests {
    @Test func quickstartPrintsAWorkingClientConfiguration() throws {
        let h = InteropHarness()
        let port = InteropHarness.freePort()
        let (p, out, err) = try h.spawn(InteropHarness.binary, ["serve", "--quickstart", "--listen", "127.0.0.1:\(port)"])
        defer { kill(p.processIdentifier, SIGTERM); p.waitUntilExit() }
        var text = ""
        let deadline = Date().addingTimeInterval(30)
        while Date() < deadline {
            text = (try? String(contentsOf: out, encoding: .utf8)) ?? ""
            let log = (try? String(contentsOf: err, encoding: .utf8)) ?? ""
            if log.contains("msg=listening") { break }
            usleep(50_000)
        }
        let start = try #require(text.firstIndex(of: "{"), "no configuration printed: \(text)")
        let end = try #require(text.range(of: "\n}\n")?.upperBound)
        let config = try #require(try JSONSerialization.jsonObject(with: Data(text[start..<end].utf8)) as? [String: Any])
        let server = try #require((config["mcpServers"] as? [String: Any])?["mcpctl"] as? [String: Any])
        let url = try #require(server["url"] as? String)
        let auth = try #require((server["headers"] as? [String: String])?["Authorization"])
        #expect(url == "http://127.0.0.1:\(port)/mcp/mcpctl/local")
        let (status, who) = try h.client(try InteropHarness.python("mcp2"), url: url, headers: ["Authorization: \(auth)"],
                                         ["call", "whoami", "--args", "{}"])
        #expect(status == 0 && (who["content"] as? [String])?.joined().contains("admin@localhost") == true, "\(who)")
        // Running it again reuses the user and grant and replaces the token.
        let again = try h.run(InteropHarness.binary, ["token", "list", "--json"])
        #expect(again.stdout.components(separatedBy: "\"quickstart\"").count == 2)
    }
}
