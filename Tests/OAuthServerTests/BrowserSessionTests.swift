import Foundation
import HTTP
import MCPAuth
import Testing

/// Browser sessions kept in the store: they survive a restart, expire, and end with the user's credentials.
@Suite struct BrowserSessionTests {
    @Test func aSessionSurvivesARestartOfTheServer() throws {
        let first = try OAuthHarness()
        try first.user()
        let browser = SiteBrowser(first)
        try browser.signIn()
        first.http.shutdown(gracePeriod: 1)
        let second = try OAuthHarness(reopening: first)
        let again = SiteBrowser(second)
        again.cookies = browser.cookies
        let page = try again.get("/account")
        #expect(page.status == 200)
        #expect(page.text.contains("alice@example.com"))
    }

    @Test(arguments: ["last_seen_at = last_seen_at - 13 * 3600000", "created_at = created_at - 8 * 86400000"])
    func anIdleOrTooOldSessionIsRefused(aging: String) throws {
        let h = try OAuthHarness()
        try h.user()
        let browser = SiteBrowser(h)
        try browser.signIn()
        #expect(try browser.get("/account").status == 200)
        try h.store { _ = try $0.db.run("UPDATE browser_sessions SET \(aging)") }
        let r = try browser.get("/account")
        #expect(r.status == 303)
        #expect(r.location == "/login?next=%2Faccount")
        #expect(try h.store { try $0.db.first("SELECT COUNT(*) AS n FROM browser_sessions")?.int("n") } == 0)
    }

    @Test func disablingAUserEndsTheirSessions() throws {
        let h = try OAuthHarness()
        try h.user()
        let browser = SiteBrowser(h)
        try browser.signIn()
        _ = try h.store { try Users(store: $0).disable(email: "alice@example.com") }
        #expect(try h.store { try $0.db.first("SELECT COUNT(*) AS n FROM browser_sessions")?.int("n") } == 0)
        // Enabling the user again does not bring the old session back.
        try h.store { try Users(store: $0).enable(email: "alice@example.com") }
        #expect(try browser.get("/account").status == 303)
    }

    @Test func revokeAllEndsEveryTokenAndEverySessionOfTheUser() throws {
        let h = try OAuthHarness()
        try h.user()
        try h.user("bob@example.com")
        let client = try h.registerClient()
        let oauth = try h.obtainTokens(client)
        let refresh = try #require(oauth.json["refresh_token"]?.stringValue)
        _ = try h.store { try Tokens(store: $0).create(email: "alice@example.com", name: "ci", scopes: .read, app: nil, env: nil, lifetimeSeconds: 3600) }
        let bobs = try h.store { try Tokens(store: $0).create(email: "bob@example.com", name: "bob", scopes: .read, app: nil, env: nil, lifetimeSeconds: 3600) }
        let laptop = SiteBrowser(h), phone = SiteBrowser(h), bob = SiteBrowser(h)
        try laptop.signIn()
        try phone.signIn()
        try bob.signIn("bob@example.com")
        let r = try laptop.post("/account/revoke-all", [("csrf", try laptop.csrf()), ("action", "revoke-all")])
        #expect(r.status == 303)
        #expect(r.location == "/login?notice=revoked")
        #expect(try h.store { try Tokens(store: $0).list(email: "alice@example.com", includeInactive: false).count } == 0)
        #expect(try h.refresh(client, refresh).json["error"]?.stringValue == "invalid_grant")
        #expect(try laptop.get("/account").status == 303)
        #expect(try phone.get("/account").status == 303)
        // Nobody else loses anything.
        #expect(try bob.get("/account").status == 200)
        #expect(try h.store { try Tokens(store: $0).find(id: bobs.record.id)?.status() } == .active)
        var f = AuditFilter()
        f.action = "token.revoke_all"
        #expect(try h.store { try AuditQuery.list(f, limit: 1, db: $0.db) }.first?.text("source") == "account")
    }

    @Test func revokingAConnectedApplicationEndsOnlyThisUsersTokensAndConsent() throws {
        let h = try OAuthHarness()
        try h.user()
        try h.user("bob@example.com")
        let client = try h.registerClient(name: "Editor")
        let alices = try h.obtainTokens(client)
        let bobs = try h.obtainTokens(client, email: "bob@example.com")
        let browser = SiteBrowser(h)
        try browser.signIn()
        let page = try browser.get("/account")
        #expect(page.text.contains("data-client-id=\"\(client.id)\""))
        let r = try browser.post("/account/applications/\(client.id)/revoke", [("csrf", try browser.csrf()), ("action", "revoke")])
        #expect(r.status == 303)
        #expect(try h.refresh(client, alices.json["refresh_token"]?.stringValue ?? "").json["error"]?.stringValue == "invalid_grant")
        #expect(try h.refresh(client, bobs.json["refresh_token"]?.stringValue ?? "").status == 200)
        #expect(!(try browser.get("/account").text.contains("data-client-id=\"\(client.id)\"")))
        #expect(try h.store { try Clients(store: $0).find(client.id) } != nil)
        // Once disconnected it is not this user's any more: a second revoke is not found.
        let again = try browser.post("/account/applications/\(client.id)/revoke", [("csrf", try browser.csrf()), ("action", "revoke")])
        #expect(again.status == 404)
    }
}
