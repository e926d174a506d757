import Foundation
import MCPAuth
import Testing

/// Connected applications: registration, listing, revoke, block, prune.
@Suite struct ClientCommandTests {
    @Test func registerPrintsTheSecretOnceForConfidentialClients() throws {
        let h = CLIHarness()
        try h.ok(["init"])
        let pub = try h.ok(["client", "register", "--name", "Build bot", "--redirect-uri", "http://127.0.0.1:7777/cb", "--json"]).jsonObject()
        #expect(pub["client_secret"] == nil && pub["registration"] as? String == "cli")
        let conf = try h.ok(["client", "register", "--name", "Portal", "--redirect-uri", "https://portal.example.com/cb",
                             "--redirect-uri", "com.example.app:/cb", "--confidential", "--json"]).jsonObject()
        let secret = try #require(conf["client_secret"] as? String)
        #expect(TokenSecret.kind(of: secret) == "cs")
        let id = try #require(conf["client_id"] as? String)
        let shown = try h.ok(["client", "show", id, "--json"])
        #expect(!shown.stdout.contains(secret))
        #expect(try shown.jsonObject()["redirect_uris"] as? [String] == ["https://portal.example.com/cb", "com.example.app:/cb"])
        let store = try Store(path: h.dbPath)
        #expect(try Clients(store: store).authenticate(clientID: id, secret: secret))
        #expect(try !Clients(store: store).authenticate(clientID: id, secret: TokenSecret.generate(kind: "cs")))
    }

    @Test func badRedirectURIsAreRefused() throws {
        let h = CLIHarness()
        try h.ok(["init"])
        for uri in ["http://example.com/cb", "https://example.com/cb#frag", "https://user@example.com/cb", "javascript:alert(1)",
                    "myapp:/cb", "not a uri", "file:///etc/passwd"] {
            let r = try h.run(["client", "register", "--name", "x", "--redirect-uri", uri])
            #expect(r.status == 1, "accepted \(uri)")
        }
        #expect(try h.ok(["client", "list", "--json"]).jsonArray().isEmpty)
    }

    func oauthTokens(_ h: CLIHarness, clientID: String) throws -> (access: String, refresh: String) {
        let store = try Store(path: h.dbPath)
        let user = try #require(try Users(store: store).find("alice@example.com"))
        let tokens = Tokens(store: store)
        return try store.db.write {
            try store.db.run("INSERT INTO consents (user_id, client_id, app, env, scopes, created_at, updated_at) VALUES (?, ?, 'mcpctl', 'local', 'read', 0, 0)",
                             [.integer(user.id), .text(clientID)])
            let family = "fam_test"
            let rt = try tokens.insert(kind: .refresh, userID: user.id, clientID: clientID, name: nil, scopes: .read, app: "mcpctl", env: "local",
                                       ttlSeconds: 3600, rotatedFrom: nil, familyID: family, parentID: nil)
            let at = try tokens.insert(kind: .access, userID: user.id, clientID: clientID, name: nil, scopes: .read, app: "mcpctl", env: "local",
                                       ttlSeconds: 3600, rotatedFrom: nil, familyID: family, parentID: rt.record.id)
            return (at.secret, rt.secret)
        }
    }

    @Test func clientListShowsConsentsAndClientRevokeRemovesItsTokens() throws {
        let h = CLIHarness()
        try h.user()
        let id = try #require(try h.ok(["client", "register", "--name", "Editor", "--redirect-uri", "http://localhost/cb", "--json"]).jsonObject()["client_id"] as? String)
        let (access, _) = try oauthTokens(h, clientID: id)
        let list = try h.ok(["client", "list", "--email", "alice@example.com", "--json"]).jsonArray()
        #expect(list.count == 1)
        for key in ["client_id", "name", "registration", "redirect_uris", "scopes", "users", "created_at", "last_used_at", "revoked_at"] {
            #expect(list[0].keys.contains(key), "missing key \(key)")
        }
        #expect(list[0]["users"] as? Int == 1 && list[0]["scopes"] as? [String] == ["read"])
        let oauthTokens = try h.ok(["token", "list", "--email", "alice@example.com", "--json"]).jsonArray()
        #expect(Set(oauthTokens.compactMap { $0["kind"] as? String }) == ["access", "refresh"])
        #expect(oauthTokens.allSatisfy { $0["client_id"] as? String == id })
        try h.ok(["client", "revoke", id])
        let store = try Store(path: h.dbPath)
        #expect(try TokenVerifier().verify(secret: access, db: store.db).failureValue == .unknown)
        #expect(try h.ok(["token", "list", "--all", "--json"]).jsonArray().isEmpty)
        #expect(try h.ok(["client", "list", "--all", "--json"]).jsonArray().isEmpty)
        #expect(try h.run(["client", "show", id]).status == 1)
    }

    @Test func blockKeepsTheRecordButRefusesItsTokens() throws {
        let h = CLIHarness()
        try h.user()
        let id = try #require(try h.ok(["client", "register", "--name", "Agent", "--redirect-uri", "http://localhost/cb", "--json"]).jsonObject()["client_id"] as? String)
        let (access, _) = try oauthTokens(h, clientID: id)
        try h.ok(["client", "block", id])
        let store = try Store(path: h.dbPath)
        #expect(try TokenVerifier().verify(secret: access, db: store.db).failureValue == .revoked)
        #expect(try h.ok(["client", "list", "--json"]).jsonArray().isEmpty)
        let all = try h.ok(["client", "list", "--all", "--json"]).jsonArray()
        #expect(all.first?["revoked_at"] is String)
    }

    @Test func pruneDeletesOnlyUnusedClientsAndDryRunChangesNothing() throws {
        let h = CLIHarness()
        try h.user()
        let old = try #require(try h.ok(["client", "register", "--name", "Old", "--redirect-uri", "http://localhost/cb", "--json"]).jsonObject()["client_id"] as? String)
        let busy = try #require(try h.ok(["client", "register", "--name", "Busy", "--redirect-uri", "http://localhost/cb", "--json"]).jsonObject()["client_id"] as? String)
        _ = try oauthTokens(h, clientID: busy)
        let store = try Store(path: h.dbPath)
        let longAgo = Clock.nowMillis() - 40 * 86_400_000
        try store.db.run("UPDATE clients SET created_at = ?", [.integer(longAgo)])
        let dry = try h.ok(["client", "prune", "--unused-for", "30d", "--dry-run", "--json"]).jsonObject()
        #expect((dry["clients"] as? [[String: Any]])?.compactMap { $0["client_id"] as? String } == [old])
        #expect(try h.ok(["client", "list", "--json"]).jsonArray().count == 2)
        try h.ok(["client", "prune", "--unused-for", "30d"])
        #expect(try h.ok(["client", "list", "--json"]).jsonArray().compactMap { $0["client_id"] as? String } == [busy])
    }
}

extension Result {
    var failureValue: Failure? { if case .failure(let f) = self { return f }; return nil }
}
