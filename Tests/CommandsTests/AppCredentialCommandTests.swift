import Foundation
import Testing

/// `app add|update|show` with upstream credential references, and `tool approve|diff` on a store with no
/// held tool: only references are stored and shown, and every bad input is refused, changing nothing.
@Suite struct AppCredentialCommandTests {
    @Test func referencesAreStoredAndShownAndUpdatedByNameButNeverAValue() throws {
        let h = CLIHarness()
        try h.ok(["app", "add", "notes", "--env", "prod", "--upstream", "http://127.0.0.1:9/mcp",
                  "--upstream-header", "Authorization=env:NOTES_AUTH", "--upstream-header", "X-Tenant=file:/etc/mcpctl/tenant"])
        let shown = try h.ok(["app", "show", "notes", "--env", "prod", "--json"]).jsonObject()
        let headers = try #require(shown["upstream_headers"] as? [[String: String]])
        #expect(headers == [["name": "Authorization", "reference": "env:NOTES_AUTH"], ["name": "X-Tenant", "reference": "file:/etc/mcpctl/tenant"]])
        // Replace one by name (case-insensitively), remove the other.
        try h.ok(["app", "update", "notes", "--env", "prod", "--upstream-header", "authorization=env:OTHER", "--upstream-header", "X-Tenant="])
        let after = try h.ok(["app", "show", "notes", "--env", "prod", "--json"]).jsonObject()
        #expect(after["upstream_headers"] as? [[String: String]] == [["name": "authorization", "reference": "env:OTHER"]])
        let text = try h.ok(["app", "show", "notes"]).stdout
        #expect(text.contains("authorization from env:OTHER"))
        let audit = try h.ok(["audit", "list", "--action", "app.update", "--json"]).jsonArray()
        let reason = audit.first?["reason"] as? String
        #expect(reason?.contains("header X-Tenant=(removed)") == true, "\(audit)")
    }

    @Test func badReferencesUnknownEnvironmentsAndMismatchedKindsAreRefusedAndChangeNothing() throws {
        let h = CLIHarness()
        try h.ok(["app", "add", "notes", "--env", "prod", "--upstream", "http://127.0.0.1:9/mcp"])
        try h.ok(["app", "add", "files", "--env", "local", "--command", "python3 server.py"])
        let before = try h.ok(["app", "list", "--json"]).stdout
        let refused: [([String], Int32)] = [
            (["app", "update", "notes", "--env", "prod", "--upstream-header", "Host=env:X"], 64),
            (["app", "update", "notes", "--env", "prod", "--upstream-header", "Mcp-Session-Id=env:X"], 64),
            (["app", "update", "notes", "--env", "prod", "--upstream-header", "Cookie=env:X"], 64),
            (["app", "update", "notes", "--env", "prod", "--upstream-header", "X-Key=plain-value"], 64),
            (["app", "update", "notes", "--env", "prod", "--upstream-header", "X-Key=file:relative"], 64),
            (["app", "update", "notes", "--env", "prod", "--env-var", "KEY=env:X"], 1),       // HTTP upstream: headers only
            (["app", "update", "files", "--env", "local", "--upstream-header", "X-Key=env:X"], 1),  // stdio: env vars only
            (["app", "update", "notes", "--env", "staging", "--timeout", "5s"], 1),
            (["app", "update", "nope", "--env", "prod", "--timeout", "5s"], 1),
            (["app", "update", "notes", "--env", "prod"], 1),
            (["app", "show", "nope"], 1),
        ]
        for (args, status) in refused {
            let r = try h.run(args)
            #expect(r.status == status && r.stderr.hasPrefix("Error: "), "\(args): \(r.status) \(r.stderr)")
        }
        #expect(try h.ok(["app", "list", "--json"]).stdout == before)
    }

    @Test func approvingOrDiffingAToolNobodyHeldIsAnError() throws {
        let h = CLIHarness()
        try h.ok(["app", "add", "notes", "--env", "prod", "--upstream", "http://127.0.0.1:9/mcp"])
        #expect(try h.run(["tool", "approve", "notes", "report"]).status == 1)
        #expect(try h.run(["tool", "approve", "nope", "report"]).status == 1)
        #expect(try h.run(["tool", "diff", "notes", "report"]).status == 1)
        #expect(try h.run(["tool", "approve", "notes", "report", "--env", "staging"]).stderr.contains("no environment 'staging'"))
    }
}
