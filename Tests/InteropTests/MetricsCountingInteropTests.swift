import Foundation
import Testing

/// What /metrics counts beyond the gateway's own answers: sign-ins wherever they happen (the authorization
/// flow, not only /login) and requests the HTTP layer refuses before routing; read by Prometheus's parser.
@Suite struct MetricsCountingInteropTests {
    static let password = "correct horse battery staple"

    @Test func aSignInInsideTheAuthorizationFlowIsCounted() throws {
        let h = InteropHarness()
        let python = try InteropHarness.python("mcp1")
        let upstream = try h.startUpstream(python: python)
        try h.addUser("alice@example.com", password: Self.password)
        try h.mcpctl(["app", "add", "notes", "--env", "dev", "--upstream", "http://127.0.0.1:\(upstream)/mcp"])
        try h.mcpctl(["grant", "add", "alice@example.com", "--app", "notes", "--env", "dev", "--role", "viewer"])
        let metricsPort = InteropHarness.freePort()
        let server = try h.startServer(["--metrics-listen", "127.0.0.1:\(metricsPort)"])
        // The MCP SDK's OAuth client: discovery, registration, the sign-in form inside /oauth/authorize, consent.
        let r = try h.run(python, [InteropHarness.scripts.appendingPathComponent("oauth_client.py").path, "--url", "\(server.url)/mcp/notes/dev",
                                   "--state", h.dir.appendingPathComponent("state.json").path, "--email", "alice@example.com",
                                   "--password", Self.password, "--timeout", "60", "list-tools"], timeout: 120)
        #expect(r.status == 0, "\(r.stdout) \(r.stderr.suffix(2000))")
        #expect(r.json()["authorizations"] as? Int == 1)
        let s = try MetricsInteropTests().scrape(h, "http://127.0.0.1:\(metricsPort)/metrics")
        #expect(s.value("mcpctl_sign_ins_total", ["outcome": "success", "method": "password"]) == 1)
        #expect(s.value("mcpctl_sign_ins_total", ["outcome": "failure"]) == 0)
        #expect(!s.text.contains("alice@example.com"))
        h.stop(server.process)
    }

    @Test func requestsTheHTTPLayerRefusesAreCountedWithTheirStatusAndNoUnknownNames() throws {
        let h = InteropHarness()
        try h.mcpctl(["init"])
        let metricsPort = InteropHarness.freePort()
        let server = try h.startServer(["--metrics-listen", "127.0.0.1:\(metricsPort)", "--max-body", "1024"])
        func curl(_ args: [String]) throws -> Int {
            Int(try h.run("/usr/bin/curl", ["-s", "-o", "/dev/null", "-w", "%{http_code}"] + args).stdout) ?? -1
        }
        let big = String(repeating: "x", count: 4096)
        #expect(try curl(["-X", "POST", "\(server.url)/mcp/mcpctl/local", "-H", "Content-Type: application/json", "-d", big]) == 413)
        #expect(try curl(["\(server.url)/mcp/mcpctl/local", "-H", "X-Filler: \(String(repeating: "y", count: 20_000))"]) == 431)
        #expect(try curl(["-X", "POST", "\(server.url)/mcp/attacker-chosen-name/x", "-d", big]) == 413)
        // Not an MCP endpoint: the OAuth server's refusals are not MCP requests.
        #expect(try curl(["-X", "POST", "\(server.url)/oauth/token", "-d", big]) == 413)
        // A request line too long (its target is known only when it arrived whole before the limit).
        #expect(try curl(["\(server.url)/mcp/mcpctl/local?q=\(String(repeating: "z", count: 20_000))"]) == 414)

        let s = try MetricsInteropTests().scrape(h, "http://127.0.0.1:\(metricsPort)/metrics")
        #expect(s.value("mcpctl_requests_total", ["app": "mcpctl", "env": "local", "decision": "deny", "status": "413"]) == 1)
        #expect(s.value("mcpctl_requests_total", ["app": "mcpctl", "env": "local", "decision": "deny", "status": "431"]) == 1)
        #expect(s.value("mcpctl_requests_total", ["app": "unknown", "env": "unknown", "decision": "deny", "status": "413"]) == 1)
        #expect(s.value("mcpctl_requests_total", ["status": "413"]) == 2, "the /oauth/token refusal is no MCP request")
        #expect(s.value("mcpctl_requests_total", ["decision": "deny", "status": "414"]) == 1)
        #expect(!s.text.contains("attacker-chosen-name"))
        h.stop(server.process)
    }
}
