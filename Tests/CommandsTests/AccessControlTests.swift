import Foundation
import MCPAuth
import Testing

/// Apps, grants, tool scopes and `can-i`, through the binary.
@Suite struct AccessControlTests {
    func setUp() throws -> CLIHarness {
        let h = CLIHarness()
        try h.user()
        try h.ok(["app", "add", "notes", "--env", "production", "--upstream", "http://127.0.0.1:9/mcp"])
        try h.ok(["app", "add", "notes", "--env", "staging", "--upstream", "https://staging.example.com/mcp"])
        return h
    }

    @Test func viewerCanReadButNotWriteAndTheReasonNamesTheGrant() throws {
        let h = try setUp()
        try h.ok(["grant", "add", "alice@example.com", "--app", "notes", "--env", "production", "--role", "viewer"])
        let yes = try h.run(["can-i", "alice@example.com", "read", "--app", "notes", "--env", "production"])
        #expect(yes.status == 0)
        #expect(yes.lines.first == "yes")
        #expect(yes.stdout.contains("viewer on notes/production"))
        let no = try h.run(["can-i", "alice@example.com", "write", "--app", "notes", "--env", "production"])
        #expect(no.status == 1)
        #expect(no.lines.first == "no")
        #expect(no.stdout.contains("viewer on notes/production"))
        try h.ok(["grant", "revoke", "alice@example.com", "--app", "notes", "--env", "production"])
        let after = try h.run(["can-i", "alice@example.com", "read", "--app", "notes", "--env", "production"])
        #expect(after.status == 1 && after.lines.first == "no")
    }

    @Test func aTokenBoundToStagingIsNotUsableOnProduction() throws {
        let h = try setUp()
        try h.ok(["grant", "add", "alice@example.com", "--app", "notes", "--env", "*", "--role", "editor"])
        let t = try h.token("alice@example.com", ["--app", "notes", "--env", "staging", "--scopes", "read,write"])
        let staging = try h.run(["can-i", "alice@example.com", "write", "--app", "notes", "--env", "staging", "--token", t.id])
        #expect(staging.status == 0)
        let prod = try h.run(["can-i", "alice@example.com", "read", "--app", "notes", "--env", "production", "--token", t.id, "--json"])
        #expect(prod.status == 1)
        let j = try prod.jsonObject()
        #expect(j["allowed"] as? Bool == false)
        #expect((j["reason"] as? String ?? "").contains("bound to notes/staging"))
    }

    @Test func tokenScopesNarrowWhatTheGrantAllows() throws {
        let h = try setUp()
        try h.ok(["grant", "add", "alice@example.com", "--app", "notes", "--role", "admin"])
        let t = try h.token("alice@example.com", ["--scopes", "read"])
        #expect(try h.run(["can-i", "alice@example.com", "delete", "--app", "notes", "--env", "production"]).status == 0)
        let r = try h.run(["can-i", "alice@example.com", "write", "--app", "notes", "--env", "production", "--token", t.id])
        #expect(r.status == 1 && r.stdout.contains("lacks scope write"))
    }

    @Test func canIListShowsEveryAppAndScope() throws {
        let h = try setUp()
        try h.ok(["grant", "add", "alice@example.com", "--app", "notes", "--env", "staging", "--scopes", "read,write"])
        try h.ok(["grant", "add", "alice@example.com", "--app", "mcpctl", "--env", "local", "--role", "viewer"])
        let items = try h.ok(["can-i", "alice@example.com", "--list", "--json"]).jsonArray()
        let pairs = items.map { "\($0["app"]!)/\($0["env"]!)=\(($0["scopes"] as? [String] ?? []).joined(separator: ","))" }
        #expect(pairs.sorted() == ["mcpctl/local=read", "notes/staging=read,write"])
    }

    @Test func toolScopeOverridesAnnotationsAndCanBeSetBeforeFirstUse() throws {
        let h = try setUp()
        try h.ok(["grant", "add", "alice@example.com", "--app", "notes", "--role", "editor"])
        // Unseen, unannotated tool: treated as destructive.
        let unseen = try h.run(["can-i", "alice@example.com", "tool/purge", "--app", "notes", "--env", "production"])
        #expect(unseen.status == 1 && unseen.stdout.contains("delete"))
        try h.ok(["tool", "scope", "notes", "purge", "write"])
        #expect(try h.run(["can-i", "alice@example.com", "tool/purge", "--app", "notes", "--env", "production"]).status == 0)
        let listed = try h.ok(["tool", "list", "notes", "--json"]).jsonArray()
        #expect(listed.first?["tool"] as? String == "purge" && listed.first?["scope"] as? String == "write")
        try h.ok(["tool", "scope", "notes", "purge", "auto"])
        #expect(try h.run(["can-i", "alice@example.com", "tool/purge", "--app", "notes", "--env", "production"]).status == 1)
        #expect(try h.run(["tool", "scope", "notes", "purge", "admin"]).status == 64)
    }

    @Test func toolListExplainsAnnotationsSeenByTheGateway() throws {
        let h = try setUp()
        let store = try Store(path: h.dbPath)
        try ToolScopes(store: store).record(app: "notes", env: "production", tools: [
            ("search", .object([("readOnlyHint", .bool(true))]), "Search"),
            ("add", .object([("destructiveHint", .bool(false))]), nil),
            ("drop", nil, nil),
        ])
        let list = try h.ok(["tool", "list", "notes", "--env", "production", "--json"]).jsonArray()
        let scopes = Dictionary(uniqueKeysWithValues: list.map { ($0["tool"] as! String, $0["scope"] as! String) })
        #expect(scopes == ["search": "read", "add": "write", "drop": "delete"])
        #expect(try h.ok(["tool", "list", "notes"]).stdout.contains("readOnlyHint"))
    }

    @Test func appsValidateUpstreamsAndStoreCommandsAsArgv() throws {
        let h = CLIHarness()
        #expect(try h.run(["app", "add", "x", "--env", "e", "--upstream", "ftp://example.com"]).status == 1)
        #expect(try h.run(["app", "add", "x", "--env", "e", "--upstream", "http://user:pw@example.com/mcp"]).status == 1)
        #expect(try h.run(["app", "add", "x", "--env", "e"]).status == 64)
        #expect(try h.run(["app", "add", "mcpctl", "--env", "e", "--upstream", "http://127.0.0.1/"]).status == 1)
        #expect(try h.run(["app", "add", "x y", "--env", "e", "--upstream", "http://127.0.0.1/"]).status == 1)
        let r = try h.ok(["app", "add", "files", "--env", "local", "--command", "python3 'my server.py' --root \"/srv/a b\" x\\ y", "--json"]).jsonObject()
        #expect(r["command"] as? [String] == ["python3", "my server.py", "--root", "/srv/a b", "x y"])
        #expect(try h.run(["app", "add", "bad", "--env", "e", "--command", "python3 'unterminated"]).status == 64)
        let list = try h.ok(["app", "list", "--json"]).jsonArray()
        #expect(list.contains { $0["app"] as? String == "mcpctl" && $0["env"] as? String == "local" })
        #expect(try h.run(["app", "remove", "mcpctl"]).status == 1)
        try h.ok(["app", "remove", "files"])
        #expect(try h.ok(["app", "list", "--json"]).jsonArray().count == 1)
    }

    @Test func grantsNeedAnExistingUserAndAppAndRoleOrScopes() throws {
        let h = try setUp()
        #expect(try h.run(["grant", "add", "nobody@example.com", "--app", "notes", "--role", "viewer"]).status == 1)
        #expect(try h.run(["grant", "add", "alice@example.com", "--app", "nope", "--role", "viewer"]).status == 1)
        #expect(try h.run(["grant", "add", "alice@example.com", "--app", "notes", "--env", "nope", "--role", "viewer"]).status == 1)
        #expect(try h.run(["grant", "add", "alice@example.com", "--app", "notes", "--role", "owner"]).status == 64)
        #expect(try h.run(["grant", "add", "alice@example.com", "--app", "notes"]).status == 64)
        #expect(try h.run(["grant", "add", "alice@example.com", "--app", "notes", "--role", "viewer", "--scopes", "read"]).status == 64)
        let g = try h.ok(["grant", "add", "alice@example.com", "--app", "notes", "--scopes", "read,write", "--json"]).jsonObject()
        #expect(g["env"] as? String == "*" && g["role"] as? String == "editor")
        #expect(try h.ok(["grant", "list", "--email", "alice@example.com", "--json"]).jsonArray().count == 1)
        #expect(try h.run(["grant", "revoke", "alice@example.com", "--app", "notes", "--env", "staging"]).status == 1)
    }
}
