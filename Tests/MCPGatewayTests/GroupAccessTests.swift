import Foundation
import HTTP
import MCPAuth
import MCPGateway
import Testing

/// A grant to a group reaches each member's requests through the gateway, and a membership removed
/// through another connection (as `mcpctl group member remove` in another process) is refused on the
/// very next request.
@Suite struct GroupAccessTests {
    @Test func aGroupMembersTokenReachesAToolThroughTheGroupUntilTheMembershipIsRemoved() throws {
        let h = try GatewayHarness()
        defer { h.close() }
        let group = "eng-" + h.app
        try Groups(store: h.admin).add(name: group)
        try Grants(store: h.admin).add(group: group, app: h.app, env: "*", scopes: [.read, .write])
        let carol = try h.token("carol@example.com")
        #expect(try h.call("json", token: carol, "read_notes").status == 404)

        try Groups(store: h.admin).addMember(group: group, email: "carol@example.com")
        #expect(try h.listTools("json", token: carol).toolNames.sorted() == ["add_note", "read_notes"])
        #expect(try h.call("json", token: carol, "add_note").status == 200)
        #expect(try h.lastRow()?.string("decision") == "allow")
        let delete = try h.call("json", token: carol, "delete_note")
        #expect(delete.status == 403)
        #expect((try h.lastRow()?.string("reason") ?? "").contains("via group \(group)"))

        try Groups(store: try Store(path: h.dbPath)).removeMember(group: group, email: "carol@example.com")
        let after = try h.call("json", token: carol, "add_note")
        #expect(after.status == 404)
        #expect(after.message?["error"]?["message"]?.stringValue == "App not found")
        #expect(h.upstream.methods.filter { $0 == "tools/call" }.count == 1)
    }

    @Test func theBuiltInCanIToolAndWhoamiSeeGroupGrants() throws {
        let h = try GatewayHarness()
        defer { h.close() }
        let group = "eng-" + h.app
        try Groups(store: h.admin).add(name: group)
        try Groups(store: h.admin).addMember(group: group, email: "carol@example.com")
        try Grants(store: h.admin).add(group: group, app: Apps.builtInApp, env: Apps.builtInEnv, scopes: .read)
        try Grants(store: h.admin).add(group: group, app: h.app, env: "json", scopes: .read)
        let carol = try h.token("carol@example.com", scopes: .read)
        func call(_ tool: String, _ arguments: String) throws -> JSON? {
            let body = #"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"\#(tool)","arguments":\#(arguments)}}"#
            let r = try h.send("POST", "/mcp/mcpctl/local", headers: [("Authorization", "Bearer \(carol)"), ("Content-Type", "application/json")],
                               body: Array(body.utf8))
            #expect(r.status == 200)
            return r.message?["result"]?["structuredContent"]
        }
        let yes = try call("can_i", #"{"action":"read","app":"\#(h.app)","env":"json"}"#)
        #expect(yes?["allowed"]?.boolValue == true)
        #expect(yes?["reason"]?.stringValue == "grant viewer on \(h.app)/json via group \(group) allows read")
        let no = try call("can_i", #"{"action":"write","app":"\#(h.app)","env":"json"}"#)
        #expect(no?["allowed"]?.boolValue == false)
        let grants = try call("whoami", "{}")?["grants"]?.arrayValue ?? []
        #expect(grants.compactMap { $0["group"]?.stringValue } == [group, group])
    }
}
