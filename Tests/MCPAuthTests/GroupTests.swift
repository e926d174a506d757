import Foundation
import MCPAuth
import Testing

/// Groups: a member's effective grants are their own and their groups', everywhere access is decided
/// (Policy.answer and the gateway's cache), and a change of membership is seen by the next request.
@Suite struct GroupTests {
    /// A store with app `notes` (envs `prod`, `staging`), users ada and bob, and group `eng` holding ada;
    /// `server` is a second connection to the same file, as `mcpctl serve` has.
    struct Fixture {
        let cli: Store
        let server: Store
        let ada: User
        let cache = AccessCache()

        init() throws {
            cli = try TestStore.make()
            server = try Store(path: cli.path)
            try Apps(store: cli).add(app: "notes", env: "prod", upstream: "http://127.0.0.1:9/", command: nil)
            try Apps(store: cli).add(app: "notes", env: "staging", upstream: "http://127.0.0.1:9/", command: nil)
            ada = try Users(store: cli).add(email: "ada@example.com", name: nil, password: nil)
            try Users(store: cli).add(email: "bob@example.com", name: nil, password: nil)
            try Groups(store: cli).add(name: "eng")
            try Groups(store: cli).addMember(group: "eng", email: "ada@example.com")
        }

        func answer(_ action: AccessRequest.Action, env: String = "prod", userID: Int64? = nil) throws -> AccessDecision {
            try Policy.answer(AccessRequest(userID: userID ?? ada.id, app: "notes", env: env, action: action), store: cli)
        }

        /// What the gateway does per request: one read transaction on its own connection, through the cache.
        func cached(_ action: AccessRequest.Action) throws -> AccessDecision {
            try server.db.read { try cache.view(server).decide(AccessRequest(userID: ada.id, app: "notes", env: "prod", action: action)).1 }
        }

        func generation() throws -> Int64? { try cli.db.first("SELECT value FROM policy_generation")?[0].int }
        func auditCount() throws -> Int64? { try cli.db.first("SELECT count(*) FROM audit")?[0].int }
    }

    @Test func aMembersAccessIsTheUnionOfTheirOwnGrantsAndTheirGroups() throws {
        let f = try Fixture()
        try Grants(store: f.cli).add(email: "ada@example.com", app: "notes", env: "prod", scopes: .read)
        try Grants(store: f.cli).add(group: "eng", app: "notes", env: "*", scopes: [.read, .write])
        let everything = try f.answer(.anything)
        #expect(everything.effective == [.read, .write])
        let read = try f.answer(.scope(.read))
        #expect(read.allowed && read.decidedBy == "grant notes/prod (viewer)" && read.via == nil)
        let write = try f.answer(.scope(.write))
        #expect(write.allowed && write.via == "group eng")
        #expect(write.decidedBy == "grant notes/* (editor) via group eng")
        #expect(write.reason == "grant editor on notes/* via group eng allows write")
        let delete = try f.answer(.scope(.delete))
        #expect(!delete.allowed && delete.hasAccess && delete.reason.contains("does not include delete"))
        // bob is in no group: the group's grant gives him nothing.
        let bob = try #require(try Users(store: f.cli).find("bob@example.com"))
        #expect(try !f.answer(.scope(.read), userID: bob.id).hasAccess)
    }

    @Test func theCacheAndTheStoreNameTheSameGroupGrant() throws {
        let f = try Fixture()
        try Grants(store: f.cli).add(group: "eng", app: "notes", env: "prod", scopes: .all)
        for d in [try f.answer(.scope(.delete)), try f.cached(.scope(.delete))] {
            #expect(d.allowed && d.via == "group eng" && d.decidedBy == "grant notes/prod (admin) via group eng")
        }
    }

    @Test func twoGroupsGrantingTogetherAreBothNamed() throws {
        let f = try Fixture()
        try Groups(store: f.cli).add(name: "ops")
        try Groups(store: f.cli).addMember(group: "ops", email: "ada@example.com")
        try Grants(store: f.cli).add(group: "eng", app: "notes", env: "prod", scopes: .read)
        try Grants(store: f.cli).add(group: "ops", app: "notes", env: "*", scopes: .write)
        let both = try f.answer(.scope([.read, .write]))
        #expect(both.allowed && both.via == "group eng + group ops")
    }

    @Test(arguments: ["remove member", "revoke group grant", "narrow group grant", "remove group", "raw SQL delete membership"])
    func aChangeOfGroupsIsSeenByTheGatewaysNextRequest(change: String) throws {
        let f = try Fixture()
        try Grants(store: f.cli).add(group: "eng", app: "notes", env: "*", scopes: [.read, .write])
        #expect(try f.cached(.scope(.write)).allowed)
        #expect(try f.cached(.scope(.write)).allowed)  // answered from memory
        let before = try f.generation()
        switch change {
        case "remove member": try Groups(store: f.cli).removeMember(group: "eng", email: "ada@example.com")
        case "revoke group grant": _ = try Grants(store: f.cli).revoke(group: "eng", app: "notes", env: nil)
        case "narrow group grant": try Grants(store: f.cli).add(group: "eng", app: "notes", env: "*", scopes: .read)
        case "remove group": try Groups(store: f.cli).remove("eng")
        default: try f.cli.db.run("DELETE FROM group_members")
        }
        #expect(try f.generation() != before)
        let after = try f.cached(.scope(.write))
        #expect(!after.allowed)
        #expect(after.hasAccess == (change == "narrow group grant"))
    }

    @Test func aDisabledMemberGetsNothingThroughAGroupUntilEnabled() throws {
        let f = try Fixture()
        try Grants(store: f.cli).add(group: "eng", app: "notes", env: "*", scopes: .all)
        #expect(try f.cached(.scope(.read)).allowed)
        _ = try Users(store: f.cli).disable(email: "ada@example.com")
        #expect(try Grants(store: f.cli).applicable(userID: f.ada.id, app: "notes", env: "prod").isEmpty)
        #expect(try !f.answer(.scope(.read)).hasAccess)
        #expect(try !f.cached(.scope(.read)).hasAccess)
        // The membership itself stays: enabling the user gives the group's access back.
        try Users(store: f.cli).enable(email: "ada@example.com")
        #expect(try f.answer(.scope(.read)).via == "group eng")
    }

    @Test func aUsersEffectiveGrantListShowsTheirGroupsGrants() throws {
        let f = try Fixture()
        try Grants(store: f.cli).add(email: "ada@example.com", app: "notes", env: "staging", scopes: .read)
        try Grants(store: f.cli).add(group: "eng", app: "notes", env: "prod", scopes: [.read, .write])
        let ada = try Grants(store: f.cli).list(email: "ada@example.com")
        #expect(ada.map(\.label) == ["viewer on notes/staging", "editor on notes/prod via group eng"])
        #expect(ada.allSatisfy { $0.email == "ada@example.com" })
        #expect(try Grants(store: f.cli).list(email: "bob@example.com").isEmpty)
        let all = try Grants(store: f.cli).list()
        #expect(all.map { $0.group ?? $0.email } == ["ada@example.com", "eng"])
        #expect(try Grants(store: f.cli).list(group: "eng").map(\.env) == ["prod"])
    }

    @Test(arguments: ["", " eng", "eng ", "e\u{1B}[31mng", "a\nb", "a\rb", "\u{202E}gne", "a\u{2066}b", "a\u{0}b", "a\u{7F}b",
                      String(repeating: "g", count: GroupName.maxLength + 1)])
    func aHostileGroupNameIsRefusedAndNothingIsStored(name: String) throws {
        let f = try Fixture()
        let (generation, audit) = (try f.generation(), try f.auditCount())
        #expect(throws: DomainError.self) { try Groups(store: f.cli).add(name: name) }
        #expect(throws: DomainError.self) { try Groups(store: f.cli).addMember(group: name, email: "bob@example.com") }
        #expect(throws: DomainError.self) { try Grants(store: f.cli).add(group: name, app: "notes", env: "*", scopes: .read) }
        let idpGroup = name.count > GroupName.maxLength ? String(repeating: "g", count: GroupName.maxIdPGroupLength + 1) : name
        #expect(throws: DomainError.self) { try Groups(store: f.cli).add(name: "ok", idpGroup: idpGroup) }
        #expect(try Groups(store: f.cli).list().map(\.name) == ["eng"])
        #expect(try f.generation() == generation && f.auditCount() == audit)
    }

    @Test func unknownGroupsUsersAppsAndDuplicatesChangeNothing() throws {
        let f = try Fixture()
        try Grants(store: f.cli).add(group: "eng", app: "notes", env: "*", scopes: .read)
        let (generation, audit) = (try f.generation(), try f.auditCount())
        let attempts: [(String, () throws -> Void)] = [
            ("unknown group", { try Groups(store: f.cli).addMember(group: "nope", email: "ada@example.com") }),
            ("unknown user", { try Groups(store: f.cli).addMember(group: "eng", email: "nobody@example.com") }),
            ("already a member", { try Groups(store: f.cli).addMember(group: "eng", email: "ada@example.com") }),
            ("not a member", { try Groups(store: f.cli).removeMember(group: "eng", email: "bob@example.com") }),
            ("same name, other case", { try Groups(store: f.cli).add(name: "ENG") }),
            ("unknown app", { try Grants(store: f.cli).add(group: "eng", app: "nope", env: "*", scopes: .read) }),
            ("unknown env", { try Grants(store: f.cli).add(group: "eng", app: "notes", env: "nope", scopes: .read) }),
            ("no grant there", { _ = try Grants(store: f.cli).revoke(group: "eng", app: "notes", env: "prod") }),
            ("remove unknown group", { try Groups(store: f.cli).remove("nope") }),
        ]
        for (what, attempt) in attempts {
            #expect(throws: DomainError.self, "\(what)") { try attempt() }
        }
        #expect(try f.generation() == generation && f.auditCount() == audit)
        #expect(try Groups(store: f.cli).members(of: "eng").map(\.email) == ["ada@example.com"])
    }

    @Test func everyGroupChangeIsAuditedWithTheGroupNamed() throws {
        let f = try Fixture()
        try Grants(store: f.cli).add(group: "eng", app: "notes", env: "*", scopes: .read)
        _ = try Grants(store: f.cli).revoke(group: "eng", app: "notes", env: "*")
        try Groups(store: f.cli).removeMember(group: "eng", email: "ada@example.com")
        try Groups(store: f.cli).remove("eng")
        let rows = try f.cli.db.query("SELECT action, source, email, target, reason FROM audit WHERE action LIKE 'group.%' OR action LIKE 'grant.%' ORDER BY seq")
        #expect(rows.map { $0.string("action") ?? "" } == ["group.add", "group.member.add", "grant.add", "grant.revoke", "group.member.remove", "group.remove"])
        #expect(rows.allSatisfy { $0.string("source") == "cli" && $0.string("target") == "eng" && ($0.string("reason") ?? "").contains("group eng") })
        #expect(rows.filter { $0.string("action")?.hasPrefix("group.member") == true }.allSatisfy { $0.string("email") == "ada@example.com" })
    }

    @Test func aGroupGrantOnARemovedEnvironmentDoesNotComeBackWithTheEnvironment() throws {
        let f = try Fixture()
        try Grants(store: f.cli).add(group: "eng", app: "notes", env: "staging", scopes: .all)
        try Apps(store: f.cli).remove(app: "notes", env: "staging")
        try Apps(store: f.cli).add(app: "notes", env: "staging", upstream: "http://127.0.0.1:9/", command: nil)
        #expect(try !f.answer(.scope(.read), env: "staging").hasAccess)
        #expect(try Grants(store: f.cli).list(group: "eng").isEmpty)
    }

    @Test func aMalformedGroupGrantRowIsRefusedNotReadAsNoScopes() throws {
        let f = try Fixture()
        try Grants(store: f.cli).add(group: "eng", app: "notes", env: "*", scopes: .read)
        for bad in ["sudo", "", "read,sudo"] {
            try f.cli.db.run("UPDATE group_grants SET scopes = ?", [.text(bad)])
            #expect(throws: MalformedRow.self, "scopes = '\(bad)'") { try f.answer(.scope(.read)) }
            #expect(throws: MalformedRow.self) { try Grants(store: f.cli).list(group: "eng") }
        }
    }
}
