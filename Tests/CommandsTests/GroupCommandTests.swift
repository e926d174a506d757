import Foundation
import MCPAuth
import Testing

/// `mcpctl group …`, `grant add|list|revoke --group` and `can-i` naming a group grant, through the binary.
@Suite struct GroupCommandTests {
    func setUp() throws -> CLIHarness {
        let h = CLIHarness()
        try h.user("alice@example.com")
        try h.user("bob@example.com")
        try h.ok(["app", "add", "notes", "--env", "production", "--upstream", "http://127.0.0.1:9/mcp"])
        try h.ok(["group", "add", "eng"])
        return h
    }

    @Test func aGroupGrantReachesMembersAndCanINamesItUntilTheMembershipIsRemoved() throws {
        let h = try setUp()
        try h.ok(["grant", "add", "--group", "eng", "--app", "notes", "--role", "editor"])
        let before = try h.run(["can-i", "alice@example.com", "write", "--app", "notes", "--env", "production"])
        #expect(before.status == 1)
        try h.ok(["group", "member", "add", "eng", "alice@example.com"])
        let yes = try h.run(["can-i", "alice@example.com", "write", "--app", "notes", "--env", "production"])
        #expect(yes.status == 0 && yes.lines == ["yes", "grant editor on notes/* via group eng allows write"])
        let json = try h.run(["can-i", "alice@example.com", "write", "--app", "notes", "--env", "production", "--json"]).jsonObject()
        #expect(json["allowed"] as? Bool == true && (json["reason"] as? String ?? "").contains("via group eng"))
        #expect(json["via"] as? String == "group eng")
        let list = try h.ok(["can-i", "alice@example.com", "--list"])
        #expect(list.stdout.contains("via group eng"))
        let items = try h.ok(["can-i", "alice@example.com", "--list", "--json"]).jsonArray()
        #expect(!items.isEmpty && items.allSatisfy { $0["via"] as? String == "group eng" }, "\(items)")
        #expect(try h.run(["can-i", "bob@example.com", "read", "--app", "notes", "--env", "production"]).status == 1)
        try h.ok(["group", "member", "remove", "eng", "alice@example.com"])
        let after = try h.run(["can-i", "alice@example.com", "read", "--app", "notes", "--env", "production"])
        #expect(after.status == 1 && after.lines.first == "no")
    }

    @Test func groupCommandsPrintTheDocumentedJSON() throws {
        let h = try setUp()
        let added = try h.ok(["group", "add", "ops", "--idp-group", "platform-operators", "--json"]).jsonObject()
        #expect(added["name"] as? String == "ops" && added["idp_group"] as? String == "platform-operators")
        #expect(added["member_count"] as? Int == 0 && added["created_at"] is String)
        let member = try h.ok(["group", "member", "add", "ops", "Alice@Example.com", "--json"]).jsonObject()
        #expect(member["group"] as? String == "ops" && member["email"] as? String == "alice@example.com" && member["member"] as? Bool == true)
        let grant = try h.ok(["grant", "add", "--group", "ops", "--app", "notes", "--env", "production", "--scopes", "read", "--json"]).jsonObject()
        #expect(grant["group"] as? String == "ops" && grant["email"] is NSNull && grant["role"] as? String == "viewer")
        #expect(grant["env"] as? String == "production" && grant["scopes"] as? [String] == ["read"])
        let shown = try h.ok(["group", "show", "ops", "--json"]).jsonObject()
        #expect((shown["members"] as? [[String: Any]])?.map { $0["email"] as? String } == ["alice@example.com"])
        #expect((shown["members"] as? [[String: Any]])?.first?["status"] as? String == "active")
        #expect((shown["grants"] as? [[String: Any]])?.map { $0["app"] as? String } == ["notes"])
        let groups = try h.ok(["group", "list", "--json"]).jsonArray()
        #expect(groups.map { $0["name"] as? String } == ["eng", "ops"])
        #expect(groups.map { $0["member_count"] as? Int } == [0, 1] && groups.map { $0["grant_count"] as? Int } == [0, 1])
        let removed = try h.ok(["group", "remove", "ops", "--json"]).jsonObject()
        #expect(removed["name"] as? String == "ops" && removed["removed"] as? Bool == true && removed["grant_count"] as? Int == 1)
        #expect(try h.ok(["grant", "list", "--json"]).jsonArray().isEmpty)
    }

    @Test func grantListShowsUsersAndGroupsGrantsAndRevokeTakesAGroup() throws {
        let h = try setUp()
        try h.ok(["group", "member", "add", "eng", "alice@example.com"])
        try h.ok(["grant", "add", "bob@example.com", "--app", "notes", "--role", "viewer"])
        try h.ok(["grant", "add", "--group", "eng", "--app", "notes", "--env", "production", "--role", "admin"])
        let all = try h.ok(["grant", "list", "--json"]).jsonArray()
        #expect(all.map { ($0["email"] as? String) ?? "group " + ($0["group"] as? String ?? "?") } == ["bob@example.com", "group eng"])
        let alice = try h.ok(["grant", "list", "--email", "alice@example.com", "--json"]).jsonArray()
        #expect(alice.count == 1 && alice[0]["group"] as? String == "eng" && alice[0]["email"] as? String == "alice@example.com")
        #expect(try h.ok(["grant", "list", "--group", "eng", "--json"]).jsonArray().count == 1)
        let table = try h.ok(["grant", "list"]).stdout
        #expect(table.contains("GROUP") && table.contains("eng"))
        #expect(try h.run(["grant", "revoke", "--group", "eng", "--app", "notes", "--env", "staging"]).status == 1)
        let revoked = try h.ok(["grant", "revoke", "--group", "eng", "--app", "notes", "--json"]).jsonObject()
        #expect(revoked["group"] as? String == "eng" && revoked["revoked"] as? Int == 1)
        #expect(try h.ok(["grant", "list", "--email", "alice@example.com", "--json"]).jsonArray().isEmpty)
        let audit = try h.ok(["audit", "list", "--action", "grant.revoke", "--json"]).jsonArray()
        #expect(audit.first?["source"] as? String == "cli" && (audit.first?["reason"] as? String ?? "").contains("group eng"))
    }

    @Test func unknownGroupsUsersAndBadCombinationsAreRefusedAndChangeNothing() throws {
        let h = try setUp()
        try h.ok(["group", "member", "add", "eng", "alice@example.com"])
        let head = try h.ok(["audit", "head"]).stdout
        let failures: [([String], Int32, String)] = [
            (["group", "member", "add", "nope", "alice@example.com"], 1, "no group named 'nope'"),
            (["group", "member", "add", "eng", "nobody@example.com"], 1, "no user"),
            (["group", "member", "add", "eng", "alice@example.com"], 1, "already a member"),
            (["group", "member", "remove", "eng", "bob@example.com"], 1, "not a member"),
            (["group", "add", "ENG"], 1, "already exists"),
            (["group", "show", "nope"], 1, "no group named"),
            (["group", "remove", "nope"], 1, "no group named"),
            (["grant", "add", "--group", "nope", "--app", "notes", "--role", "viewer"], 1, "no group named"),
            (["grant", "add", "--group", "eng", "--app", "nope", "--role", "viewer"], 1, "no app named"),
            (["grant", "add", "alice@example.com", "--group", "eng", "--app", "notes", "--role", "viewer"], 64, "not both"),
            (["grant", "add", "--app", "notes", "--role", "viewer"], 64, "--group"),
            (["grant", "revoke", "--group", "eng", "--app", "notes"], 1, "no grant"),
            (["grant", "list", "--group", "nope"], 1, "no group named"),
            (["group", "member", "add", "eng"], 64, "Missing expected argument"),
            (["group", "membr", "add", "eng", "alice@example.com"], 64, "Did you mean 'member'"),
        ]
        for (args, status, message) in failures {
            let r = try h.run(args)
            #expect(r.status == status, "mcpctl \(args.joined(separator: " ")) exited \(r.status): \(r.stderr)")
            #expect(r.stderr.contains(message), "mcpctl \(args.joined(separator: " ")): \(r.stderr)")
        }
        #expect(try h.ok(["audit", "head"]).stdout == head)
        #expect(try h.ok(["group", "list", "--json"]).jsonArray().map { $0["name"] as? String } == ["eng"])
    }

    @Test(arguments: ["Eve\u{1B}[31m", "Alice\nBob", "Carol\rMallory", "tab\tname", "gnp\u{202E}exe", "iso\u{2067}late",
                      "c1\u{9B}2J", " padded", "", String(repeating: "g", count: 65)])
    func hostileGroupNamesAreRefusedEscapedAndChangeNothing(name: String) throws {
        let h = try setUp()
        let head = try h.ok(["audit", "head"]).stdout
        let idpGroup = name.count > 64 ? String(repeating: "g", count: 257) : name
        for args in [["group", "add", name], ["group", "add", "ok", "--idp-group", idpGroup], ["group", "show", name],
                     ["group", "member", "add", name, "alice@example.com"],
                     ["grant", "add", "--group", name, "--app", "notes", "--role", "viewer"]] {
            let r = try h.run(args)
            #expect(r.status == 1, "\(args.debugDescription) exited \(r.status)")
            #expect(r.stderr.hasPrefix("Error:"))
            #expect(HostileInputCLITests.raw(r.stderr).isEmpty, "\(r.stderr.debugDescription)")
        }
        #expect(try h.ok(["group", "list", "--json"]).jsonArray().map { $0["name"] as? String } == ["eng"])
        #expect(try h.ok(["audit", "head"]).stdout == head)
    }

    @Test func aDisabledMemberIsToldNoEvenThroughAGroup() throws {
        let h = try setUp()
        try h.ok(["group", "member", "add", "eng", "alice@example.com"])
        try h.ok(["grant", "add", "--group", "eng", "--app", "notes", "--role", "viewer"])
        try h.ok(["user", "disable", "alice@example.com"])
        let r = try h.run(["can-i", "alice@example.com", "read", "--app", "notes", "--env", "production"])
        #expect(r.status == 1 && r.lines.first == "no")
        #expect(try h.ok(["can-i", "alice@example.com", "--list", "--json"]).jsonArray().isEmpty)
    }
}
