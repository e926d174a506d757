import Foundation
import Testing

/// The MCP revision matrix through `mcpctl serve`, with clients and servers nobody here wrote: every client
/// kind {mcp 1.30 (2025-11-25), mcp 2.3 in `legacy`, `2026-07-28` and `auto` mode} against every upstream
/// kind {FastMCP 1.x over HTTP (2025-11-25), an mcp 2.3 server over HTTP (2026-07-28, and 2025-11-25 on its
/// handshake path), FastMCP 1.x over stdio}. Each cell: an authenticated call works, no credentials is 401,
/// a tool above the token's scope is hidden and refused, and the audit log has the rows. One upstream of
/// each kind serves all cells.
@Suite(.serialized) struct RevisionMatrixInteropTests {
    struct Client {
        let sdk: String
        let mode: String
        /// The revision the client must end up speaking through the gateway.
        let era: String
    }

    static let clients = [
        Client(sdk: "mcp1", mode: "legacy", era: "handshake"),
        Client(sdk: "mcp2", mode: "legacy", era: "handshake"),
        Client(sdk: "mcp2", mode: "2026-07-28", era: "modern"),
        Client(sdk: "mcp2", mode: "auto", era: "modern"),
    ]
    static let upstreams = ["legacy-http", "modern-http", "stdio"]

    @Test func everyClientRevisionWorksThroughTheGatewayWithEveryUpstreamRevision() throws {
        let h = InteropHarness()
        let legacyPython = try InteropHarness.python("mcp1"), modernPython = try InteropHarness.python("mcp2")
        let legacyPort = try h.startUpstream(python: legacyPython)
        let modernPort = try h.startUpstream(python: modernPython)
        let script = InteropHarness.scripts.appendingPathComponent("upstream_server.py").path
        try h.mcpctl(["user", "add", "alice@example.com"])
        try h.mcpctl(["app", "add", "notes", "--env", "legacy-http", "--upstream", "http://127.0.0.1:\(legacyPort)/mcp"])
        try h.mcpctl(["app", "add", "notes", "--env", "modern-http", "--upstream", "http://127.0.0.1:\(modernPort)/mcp"])
        try h.mcpctl(["app", "add", "notes", "--env", "stdio", "--command", "\(legacyPython) \(script) --transport stdio"])
        try h.mcpctl(["grant", "add", "alice@example.com", "--app", "notes", "--role", "admin"])
        try h.mcpctl(["grant", "add", "alice@example.com", "--app", "mcpctl", "--env", "local", "--role", "viewer"])
        let read = try h.mcpctl(["token", "create", "--email", "alice@example.com", "--scopes", "read", "--name", "matrix"]).stdout
            .trimmingCharacters(in: .whitespacesAndNewlines)
        let server = try h.startServer()
        defer { kill(server.process.processIdentifier, SIGTERM); server.process.waitUntilExit() }
        let endpoints = RevisionMatrixInteropTests.upstreams.flatMap { ["--endpoint", "\($0)=\(server.url)/mcp/notes/\($0)"] }

        for client in RevisionMatrixInteropTests.clients {
            let row = try h.run(try InteropHarness.python(client.sdk), [InteropHarness.scripts.appendingPathComponent("revision_matrix.py").path,
                                                                          "--token", read, "--mode", client.mode] + endpoints, timeout: 120)
            let cells = row.json()["cells"] as? [String: [String: Any]] ?? [:]
            #expect(row.status == 0 && cells.count == 3, "\(client.sdk) \(client.mode): \(row.stderr)")
            for upstream in RevisionMatrixInteropTests.upstreams {
                let cell = cells[upstream] ?? [:]
                let label = "\(client.sdk) \(client.mode) → \(upstream): \(cell)"
                #expect(cell["era"] as? String == client.era, "\(label)")
                // Tools above a read token's scope are hidden, and refused when called anyway.
                #expect(cell["tools"] as? [String] == ["search_notes"], "\(label)")
                #expect(cell["call_ok"] as? Bool == true, "\(label)")
                #expect(cell["denied_status"] as? Int == 403, "\(label)")
                #expect(cell["unauthenticated_status"] as? Int == 401, "\(label)")
                // The narrowed list is never marked shareable: Cache-Control private, and for 2026-07-28 cacheScope private.
                let cache = cell["cache"] as? [[String: Any]] ?? []
                #expect(!cache.isEmpty && cache.allSatisfy { $0["cache_control"] as? String == "private" }, "\(label)")
                if client.era == "modern" {
                    #expect(cache.allSatisfy { $0["cacheScope"] as? String == "private" && ($0["ttlMs"] as? Int ?? .max) <= 60_000 }, "\(label)")
                }
            }
        }

        // The built-in app speaks 2026-07-28 too.
        let (bs, who) = try h.client(modernPython, url: "\(server.url)/mcp/mcpctl/local", headers: ["Authorization: Bearer \(read)"],
                                     ["--mode", "2026-07-28", "call", "whoami", "--args", "{}"])
        #expect(bs == 0 && (who["content"] as? [String])?.joined().contains("alice@example.com") == true, "built-in 2026-07-28: \(who)")

        // Every cell left its rows: allowed and refused calls named with their tool, per upstream.
        let events = try JSONSerialization.jsonObject(with: Data(try h.mcpctl(["audit", "list", "--source", "mcp", "--limit", "2000", "--json"]).stdout.utf8))
            as? [[String: Any]] ?? []
        for upstream in RevisionMatrixInteropTests.upstreams {
            let here = events.filter { $0["env"] as? String == upstream }
            let allowed = here.filter { $0["tool"] as? String == "search_notes" && $0["decision"] as? String == "allow" && $0["status"] as? Int == 200 }
            let refused = here.filter { $0["tool"] as? String == "delete_note" && $0["decision"] as? String == "deny" && $0["status"] as? Int == 403 }
            let anonymous = here.filter { $0["decision"] as? String == "deny" && $0["status"] as? Int == 401 }
            #expect(allowed.count >= RevisionMatrixInteropTests.clients.count, "\(upstream): \(allowed.count) allowed rows")
            #expect(refused.count >= RevisionMatrixInteropTests.clients.count, "\(upstream): \(refused.count) refused rows")
            #expect(anonymous.count >= RevisionMatrixInteropTests.clients.count, "\(upstream): \(anonymous.count) unauthenticated rows")
            #expect(allowed.allSatisfy { $0["email"] as? String == "alice@example.com" })
        }
        #expect(try h.mcpctl(["audit", "verify"]).status == 0)
    }
}
