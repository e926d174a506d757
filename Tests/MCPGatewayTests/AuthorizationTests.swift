import Foundation
import HTTP
import MCPAuth
import MCPGateway
import Testing

/// DESIGN.md §5: grants, effective scopes, the scope each method and tool needs, existence not leaked.
@Suite struct AuthorizationTests {
    @Test func noGrantANonexistentAppAndATokenBoundElsewhereAllGetTheSameNotFound() throws {
        let h = try GatewayHarness()
        defer { h.close() }
        let carol = try h.token("carol@example.com")
        let alice = try h.token("alice@example.com")
        let boundToSSE = try h.token("alice@example.com", scopes: .all, app: h.app, env: "sse")
        let body = #"{"jsonrpc":"2.0","id":5,"method":"tools/list"}"#
        let noGrant = try h.rpc("json", token: carol, body)
        let noApp = try h.send("POST", "/mcp/no-such-app/prod", headers: [("Authorization", "Bearer \(alice)")], body: Array(body.utf8))
        let noEnv = try h.send("POST", "/mcp/\(h.app)/no-such-env", headers: [("Authorization", "Bearer \(alice)")], body: Array(body.utf8))
        let bound = try h.rpc("json", token: boundToSSE, body)
        for r in [noGrant, noApp, noEnv, bound] {
            #expect(r.status == 404)
            #expect(r.body == noGrant.body)
            #expect(r.header("WWW-Authenticate") == nil)
        }
        #expect(noGrant.message?["error"]?["message"]?.stringValue == "App not found")
        // The bound token works where it is bound.
        #expect(try h.rpc("sse", token: boundToSSE, body).status == 200)
        #expect(h.upstream.methods == ["tools/list"])
        #expect(try h.mcpRows().map { $0.string("decision") } == ["deny", "deny", "deny", "deny", "allow"])
    }

    @Test func aReadTokenListsOnlyReadOnlyToolsFromJSONAndEventStreamAnswers() throws {
        let h = try GatewayHarness()
        defer { h.close() }
        let read = try h.token(scopes: .read)
        let write = try h.token(scopes: [.read, .write])
        let all = try h.token(scopes: .all)
        for env in ["json", "sse"] {
            let r = try h.listTools(env, token: read)
            #expect(r.status == 200)
            #expect(r.toolNames == ["read_notes"], "\(env): \(r.text)")
            #expect(try h.listTools(env, token: write).toolNames == ["read_notes", "add_note"], "\(env)")
            #expect(try h.listTools(env, token: all).toolNames == ["read_notes", "add_note", "delete_note", "mystery"], "\(env)")
        }
        // The event stream keeps its other events (the notification before the response).
        let sse = try h.listTools("sse", token: read)
        #expect(sse.header("Content-Type")?.hasPrefix("text/event-stream") == true)
        #expect(sse.messages.first?["method"]?.stringValue == "notifications/message")
        #expect(sse.messages.count == 2)
    }

    @Test func aToolListLabelledWithAnotherContentTypeIsStillFiltered() throws {
        let h = try GatewayHarness()
        defer { h.close() }
        let read = try h.token(scopes: .read)
        let r = try h.listTools("plain", token: read)
        #expect(r.status == 200)
        let names = (try? JSON.parse(r.body))?["result"]?["tools"]?.arrayValue?.compactMap { $0["name"]?.stringValue }
        #expect(names == nil || names == ["read_notes"], "an unfiltered list would show tools the caller may not call: \(r.text)")
    }

    @Test func eachToolNeedsTheScopeItsAnnotationsSayAndAnUnannotatedToolNeedsDelete() throws {
        let h = try GatewayHarness()
        defer { h.close() }
        let all = try h.token(scopes: .all)
        _ = try h.listTools("json", token: all)  // the gateway learns the annotations
        let read = try h.token(scopes: .read)
        let write = try h.token(scopes: [.read, .write])
        let expectations: [(String, String?, String?)] = [
            // tool, needed beyond read, needed beyond write
            ("read_notes", nil, nil), ("add_note", "write", nil), ("delete_note", "delete", "delete"), ("mystery", "delete", "delete"),
        ]
        for (tool, forRead, forWrite) in expectations {
            for (token, needed) in [(read, forRead), (write, forWrite)] {
                let r = try h.call("json", token: token, tool)
                if let needed {
                    #expect(r.status == 403, "\(tool)")
                    #expect(r.header("WWW-Authenticate") ==
                            #"Bearer error="insufficient_scope", scope="\#(needed)", resource_metadata="https://gw.example.com/.well-known/oauth-protected-resource/mcp/\#(h.app)/json""#)
                    #expect(r.message?["id"] == .int(7))
                    #expect(r.message?["error"] != nil)
                } else {
                    #expect(r.status == 200, "\(tool): \(r.text)")
                    #expect(r.message?["result"]?["content"]?.arrayValue?.first?["text"]?.stringValue == "upstream did \(tool)")
                }
            }
        }
        // Only allowed calls reached the upstream.
        let called = h.upstream.requests.compactMap { $0.json }.filter { $0["method"]?.stringValue == "tools/call" }
            .compactMap { $0["params"]?["name"]?.stringValue }
        #expect(called == ["read_notes", "read_notes", "add_note"])
    }

    /// A client may call a tool without listing first: the gateway asks the upstream for its list (in the
    /// caller's session) and decides by the annotations; only a tool the upstream does not list needs delete.
    @Test func aToolCalledBeforeAnyListingIsDecidedByTheListTheGatewayFetchesFirst() throws {
        let h = try GatewayHarness()
        defer { h.close() }
        let read = try h.token(scopes: .read)
        let session = try #require(try h.initialize("json", token: read).header("Mcp-Session-Id"))
        let r = try h.call("json", token: read, "read_notes", headers: [("Mcp-Session-Id", session)])
        #expect(r.status == 200, "\(r.text)")
        let listed = try #require(h.upstream.requests.first { $0.json?["method"]?.stringValue == "tools/list" })
        #expect(listed.headers["Mcp-Session-Id"] == session, "the list is asked for within the caller's session")
        #expect(try ToolScopes(store: h.admin).list(app: h.app, env: "json").count == 4, "the fetched list is remembered")
        // A tool the upstream does not list falls to delete, and never reaches the upstream.
        let unlisted = try h.call("json", token: read, "wipe_everything", headers: [("Mcp-Session-Id", session)])
        #expect(unlisted.status == 403)
        #expect((unlisted.header("WWW-Authenticate") ?? "").contains(#"scope="delete""#))
        #expect(!h.upstream.methods.contains("tools/call") || h.upstream.requests.compactMap { $0.json?["params"]?["name"]?.stringValue } == ["read_notes"])
        // Known tools are decided without asking again.
        let lists = h.upstream.methods.filter { $0 == "tools/list" }.count
        #expect(try h.call("json", token: read, "add_note", headers: [("Mcp-Session-Id", session)]).status == 403)
        #expect(h.upstream.methods.filter { $0 == "tools/list" }.count == lists)
    }

    @Test func anEventStreamUpstreamsToolListIsFetchedToo() throws {
        let h = try GatewayHarness()
        defer { h.close() }
        let read = try h.token(scopes: .read)
        #expect(try h.call("sse", token: read, "read_notes").status == 200)
        #expect(try h.call("sse", token: read, "delete_note").status == 403)
    }

    @Test func aToolListChangedNotificationInARelayedEventStreamMakesTheNextCallAskAgain() throws {
        let h = try GatewayHarness()
        defer { h.close() }
        try Apps(store: h.admin).add(app: h.app, env: "changing", upstream: "http://127.0.0.1:\(h.upstream.port)/changing", command: nil)
        let read = try h.token(scopes: .read)
        let all = try h.token(scopes: .all)
        _ = try h.listTools("changing", token: read)
        #expect(try h.call("changing", token: read, "read_notes").status == 200)
        let changed = try h.call("changing", token: all, "retool")
        #expect(changed.messages.first?["method"]?.stringValue == "notifications/tools/list_changed", "relayed as sent")
        let after = try h.call("changing", token: read, "read_notes")
        #expect(after.status == 403, "decided by the stale annotations: \(after.text)")
    }

    @Test func aStdioToolCalledBeforeAnyListingIsDecidedByItsProcessesList() throws {
        let h = try GatewayHarness(stdio: true)
        defer { h.close() }
        let read = try h.token(scopes: .read)
        let session = try #require(try h.initialize("stdio", token: read).header("Mcp-Session-Id"))
        let r = try h.call("stdio", token: read, "read_notes", headers: [("Mcp-Session-Id", session)])
        #expect(r.status == 200, "\(r.text)")
        #expect(r.message?["result"]?["content"]?.arrayValue?.first?["text"]?.stringValue == "stdio did read_notes")
        #expect(try h.call("stdio", token: read, "no_such_tool", headers: [("Mcp-Session-Id", session)]).status == 403)
    }

    /// MCP server/tools: `notifications/tools/list_changed` means the remembered annotations may be wrong;
    /// the next call asks again, so a tool that became destructive needs delete at once.
    @Test func aToolListChangedNotificationMakesTheNextCallAskForTheListAgain() throws {
        let h = try GatewayHarness(stdio: true)
        defer { h.close() }
        let all = try h.token(scopes: .all)
        let readWrite = try h.token(scopes: [.read, .write])
        let session = [("Mcp-Session-Id", try #require(try h.initialize("stdio", token: all).header("Mcp-Session-Id")))]
        _ = try h.listTools("stdio", token: all, headers: session)
        #expect(try h.call("stdio", token: readWrite, "read_notes", headers: session).status == 200)
        // The process turns read_notes destructive and announces that its list changed.
        #expect(try h.call("stdio", token: all, "retool", headers: session).status == 200)
        let after = try h.call("stdio", token: readWrite, "read_notes", headers: session)
        #expect(after.status == 403, "decided by the stale annotations: \(after.text)")
        #expect((after.header("WWW-Authenticate") ?? "").contains(#"scope="delete""#))
        let remembered = try ToolScopes(store: h.admin).list(app: h.app, env: "stdio").first { $0.tool.name == "read_notes" }
        #expect(remembered?.scope == .delete, "the changed list was fetched and remembered")
    }

    @Test func anOperatorOverrideChangesBothTheListingAndTheCallPermission() throws {
        let h = try GatewayHarness()
        defer { h.close() }
        let read = try h.token(scopes: .read)
        let scopes = ToolScopes(store: h.admin)
        // Loosen: the destructive tool becomes a read tool.
        try scopes.setOverride(app: h.app, tool: "delete_note", scope: .read)
        // Tighten: the read-only tool now needs write.
        try scopes.setOverride(app: h.app, tool: "read_notes", scope: .write)
        for env in ["json", "sse"] {
            #expect(try h.listTools(env, token: read).toolNames == ["delete_note"], "\(env)")
        }
        #expect(try h.call("json", token: read, "delete_note").status == 200)
        let tightened = try h.call("json", token: read, "read_notes")
        #expect(tightened.status == 403)
        #expect((tightened.header("WWW-Authenticate") ?? "").contains(#"scope="write""#))
        // Back to the annotations ("auto").
        try scopes.setOverride(app: h.app, tool: "delete_note", scope: nil)
        try scopes.setOverride(app: h.app, tool: "read_notes", scope: nil)
        #expect(try h.listTools("json", token: read).toolNames == ["read_notes"])
        #expect(try h.call("json", token: read, "delete_note").status == 403)
        #expect(try h.call("json", token: read, "read_notes").status == 200)
    }

    @Test func methodsNeedReadAndUnknownMethodsNeedDelete() throws {
        let h = try GatewayHarness()
        defer { h.close() }
        let read = try h.token(scopes: .read)
        #expect(try h.initialize("json", token: read).status == 200)
        #expect(try h.rpc("json", token: read, #"{"jsonrpc":"2.0","id":2,"method":"ping"}"#).status == 200)
        #expect(try h.rpc("json", token: read, #"{"jsonrpc":"2.0","id":3,"method":"resources/list"}"#).status == 200)
        let unknown = try h.rpc("json", token: read, #"{"jsonrpc":"2.0","id":4,"method":"admin/wipe"}"#)
        #expect(unknown.status == 403)
        #expect((unknown.header("WWW-Authenticate") ?? "").contains(#"scope="delete""#))
        #expect(!h.upstream.methods.contains("admin/wipe"))
    }

    @Test func effectiveScopesAreTheTokensScopesIntersectedWithTheGrant() throws {
        let h = try GatewayHarness()
        defer { h.close() }
        // dave: viewer on the app; his full-scope token is still only a reader there.
        _ = try Users(store: h.admin).add(email: "dave@example.com", name: nil, password: nil)
        try Grants(store: h.admin).add(email: "dave@example.com", app: h.app, env: "json", scopes: .read)
        let dave = try h.token("dave@example.com", scopes: .all)
        #expect(try h.listTools("json", token: dave).toolNames == ["read_notes"])
        let r = try h.call("json", token: dave, "add_note")
        #expect(r.status == 403)
        #expect((r.header("WWW-Authenticate") ?? "").contains(#"scope="write""#))
        #expect(try h.lastRow()?.string("reason")?.contains("grant") == true)
        // His grant is on `json` only.
        #expect(try h.listTools("sse", token: dave).status == 404)
    }

    @Test func toolsListedByAnUpstreamAreRecordedWithTheScopeEachNeeds() throws {
        let h = try GatewayHarness()
        defer { h.close() }
        let read = try h.token(scopes: .read)
        _ = try h.listTools("json", token: read)
        let seen = try ToolScopes(store: h.admin).list(app: h.app, env: "json")
        let scopes = Dictionary(uniqueKeysWithValues: seen.map { ($0.tool.name, $0.scope) })
        #expect(scopes == ["read_notes": .read, "add_note": .write, "delete_note": .delete, "mystery": .delete])
    }

    @Test func everyPageOfAPaginatedToolListIsFilteredAndRemembered() throws {
        let h = try GatewayHarness()
        defer { h.close() }
        let read = try h.token(scopes: .read)
        let first = try h.listTools("paged", token: read)
        #expect(first.toolNames == ["read_notes"])
        #expect(first.message?["result"]?["nextCursor"]?.stringValue == "2")
        let second = try h.listTools("paged", token: read, cursor: "2")
        #expect(second.toolNames == ["late_reader"])
        // A tool listed on the second page is callable with the scope its annotations ask for.
        let call = try h.call("paged", token: read, "late_reader")
        #expect(call.status == 200, "\(call.text)")
        let names = Set(try ToolScopes(store: h.admin).list(app: h.app, env: "paged").map(\.tool.name))
        #expect(names == ["read_notes", "add_note", "delete_note", "mystery", "late_reader"])
        // Listing the first page again does not forget the second.
        _ = try h.listTools("paged", token: read)
        #expect(try h.call("paged", token: read, "late_reader").status == 200)
    }

    @Test func theToolListIsRecordedAgainAfterTheEnvironmentWasRemovedAndAddedBack() throws {
        let h = try GatewayHarness()
        defer { h.close() }
        let read = try h.token(scopes: .read)
        _ = try h.listTools("json", token: read)
        #expect(try h.call("json", token: read, "read_notes").status == 200)
        // The operator removes the environment (its tools go with it) and adds it back.
        try Apps(store: h.admin).remove(app: h.app, env: "json")
        try Apps(store: h.admin).add(app: h.app, env: "json", upstream: "http://127.0.0.1:\(h.upstream.port)/json", command: nil)
        try Grants(store: h.admin).add(email: "alice@example.com", app: h.app, env: "*", scopes: .all)
        #expect(try h.listTools("json", token: read).toolNames == ["read_notes"])
        #expect(try ToolScopes(store: h.admin).list(app: h.app, env: "json").count == 4, "the list is remembered again")
        #expect(try h.call("json", token: read, "read_notes").status == 200)
    }

    @Test func theBuiltInAppAnswersWhoamiAndItsListingHonoursOverrides() throws {
        let h = try GatewayHarness()
        defer { h.close() }
        try Grants(store: h.admin).add(email: "alice@example.com", app: Apps.builtInApp, env: Apps.builtInEnv, scopes: .read)
        let read = try h.token(scopes: .read)
        let path = "/mcp/mcpctl/local"
        func post(_ body: String) throws -> Reply {
            try h.send("POST", path, headers: [("Authorization", "Bearer \(read)"), ("Content-Type", "application/json")], body: Array(body.utf8))
        }
        let who = try post(#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"whoami","arguments":{}}}"#)
        #expect(who.status == 200)
        #expect(who.message?["result"]?["structuredContent"]?["email"]?.stringValue == "alice@example.com")
        let listed = try post(#"{"jsonrpc":"2.0","id":2,"method":"tools/list"}"#)
        #expect(Set(listed.toolNames) == ["whoami", "audit_query", "list_connected_applications", "list_my_tokens", "can_i"])
        // An override that puts a built-in tool out of reach also hides it (tools/list shows only callable tools).
        try ToolScopes(store: h.admin).setOverride(app: Apps.builtInApp, tool: "audit_query", scope: .delete)
        #expect(try post(#"{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"audit_query","arguments":{}}}"#).status == 403)
        #expect(!(try post(#"{"jsonrpc":"2.0","id":4,"method":"tools/list"}"#).toolNames.contains("audit_query")))
        // carol has no grant on the built-in app: not found, like any app.
        let carol = try h.token("carol@example.com")
        let denied = try h.send("POST", path, headers: [("Authorization", "Bearer \(carol)")], body: Array(#"{"jsonrpc":"2.0","id":1,"method":"ping"}"#.utf8))
        #expect(denied.status == 404)
    }
}
