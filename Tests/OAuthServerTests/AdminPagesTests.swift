import Foundation
import HTTP
import MCPAuth
import Testing

/// The admin pages: operators only, the same operations as the CLI, audited with source `admin`.
@Suite struct AdminPagesTests {
    /// A harness with an operator (admin on the built-in app) signed in, and alice as an ordinary user.
    static func operatorBrowser(_ h: OAuthHarness, env: String = "local") throws -> SiteBrowser {
        try h.user()
        try h.user("root@example.com", grants: [])
        try h.store { _ = try Grants(store: $0).add(email: "root@example.com", app: Apps.builtInApp, env: env, scopes: .all) }
        let browser = SiteBrowser(h)
        try browser.signIn("root@example.com")
        return browser
    }

    @Test func anOrdinaryUserAndAnAnonymousVisitorGetNotFoundAtAdmin() throws {
        let h = try OAuthHarness()
        try h.user(grants: [("notes", "dev", .all), (Apps.builtInApp, Apps.builtInEnv, [.read, .write])])
        let token = try h.store { try Tokens(store: $0).create(email: "alice@example.com", name: nil, scopes: .read, app: nil, env: nil, lifetimeSeconds: 3600) }
        let browser = SiteBrowser(h)
        try browser.signIn()
        let unknown = try browser.get("/no-such-page")
        for path in ["/admin", "/admin/tokens", "/admin/audit", "/admin/sessions"] {
            let r = try browser.get(path)
            #expect(r.status == 404)
            #expect(r.text == unknown.text)
            #expect(try h.get(path).status == 404)
        }
        let csrf = try browser.csrf()
        let post = try browser.post("/admin/tokens/\(token.record.id)/revoke", [("csrf", csrf), ("action", "revoke")])
        #expect(post.status == 404)
        #expect(try h.store { try Tokens(store: $0).find(id: token.record.id)?.status() } == .active)
        #expect(!(try browser.get("/account").text.contains("href=\"/admin\"")))
    }

    @Test(arguments: ["local", "*"])
    func anOperatorSeesTheAdminPages(env: String) throws {
        let h = try OAuthHarness()
        let browser = try AdminPagesTests.operatorBrowser(h, env: env)
        for path in ["/admin", "/admin/tokens", "/admin/applications", "/admin/sessions", "/admin/audit?source=oauth&limit=5"] {
            #expect(try browser.get(path).status == 200, "\(path)")
        }
        #expect(try browser.get("/admin").text.contains("alice@example.com"))
    }

    @Test func anOperatorDisablesAUserWhichEndsTheirSessionsAndIsAuditedAsAdmin() throws {
        let h = try OAuthHarness()
        let admin = try AdminPagesTests.operatorBrowser(h)
        let alice = SiteBrowser(h)
        try alice.signIn()
        let r = try admin.post("/admin/users/alice%40example.com/disable", [("csrf", try admin.csrf()), ("action", "disable")])
        #expect(r.status == 303)
        #expect(try alice.get("/account").status == 303)
        var f = AuditFilter()
        f.action = "user.disable"
        let row = try #require(try h.store { try AuditQuery.list(f, limit: 1, db: $0.db) }.first)
        #expect(row.text("source") == "admin")
        #expect(row.text("actor") == "root@example.com")
    }

    @Test func anAdminPostWithoutTheFormTokenChangesNothing() throws {
        let h = try OAuthHarness()
        let admin = try AdminPagesTests.operatorBrowser(h)
        let r = try admin.post("/admin/users/alice%40example.com/disable", [("action", "disable")])
        #expect(r.status == 403)
        #expect(try h.store { try Users(store: $0).find("alice@example.com")?.disabledAt } == nil)
    }

    @Test func anOperatorEndsABrowserSessionAndRevokesATokenAndAnApplication() throws {
        let h = try OAuthHarness()
        let admin = try AdminPagesTests.operatorBrowser(h)
        let alice = SiteBrowser(h)
        try alice.signIn()
        let client = try h.registerClient()
        _ = try h.obtainTokens(client)
        let token = try h.store { try Tokens(store: $0).create(email: "alice@example.com", name: nil, scopes: .read, app: nil, env: nil, lifetimeSeconds: 3600) }
        let cookie = try #require(alice.cookies["mcpctl_session"])
        let sessionID = try #require(try h.store {
            try $0.db.first("SELECT id FROM browser_sessions WHERE secret_hash = ?", [.blob(SHA256.hash(cookie))])?.string("id")
        })
        let csrf = try admin.csrf()
        #expect(try admin.post("/admin/sessions/\(sessionID)/revoke", [("csrf", csrf), ("action", "revoke")]).status == 303)
        #expect(try alice.get("/account").status == 303)
        #expect(try admin.post("/admin/tokens/\(token.record.id)/revoke", [("csrf", csrf), ("action", "revoke")]).status == 303)
        #expect(try h.store { try Tokens(store: $0).find(id: token.record.id)?.status() } == .revoked)
        #expect(try admin.post("/admin/applications/\(client.id)/revoke", [("csrf", csrf), ("action", "revoke")]).status == 303)
        #expect(try h.store { try Clients(store: $0).find(client.id) } == nil)
        #expect(try admin.post("/admin/tokens/tok_doesNotExist0000/revoke", [("csrf", csrf), ("action", "revoke")]).status == 404)
    }

    @Test func aHostileClientNameIsEscapedOnTheAdminPages() throws {
        let h = try OAuthHarness()
        let admin = try AdminPagesTests.operatorBrowser(h)
        let client = try h.registerClient(name: "<script>alert(1)</script>")
        _ = try h.obtainTokens(client)
        for path in ["/admin/applications", "/admin/audit?client=" + client.id] {
            let page = try admin.get(path)
            #expect(!page.text.contains("<script>alert"), "\(path)")
        }
        #expect(try admin.get("/admin/applications").text.contains("&lt;script&gt;alert(1)&lt;/script&gt;"))
    }

    @Test func theAuditSearchFiltersLikeAuditList() throws {
        let h = try OAuthHarness()
        let admin = try AdminPagesTests.operatorBrowser(h)
        let page = try admin.get("/admin/audit?source=oauth&action=oauth.login&email=alice%40example.com")
        #expect(page.status == 200)
        #expect(page.text.contains("No audit events match"))
        let own = try admin.get("/admin/audit?action=oauth.login&email=root%40example.com")
        #expect(own.text.contains("oauth.login"))
        #expect(try admin.get("/admin/audit?source=bogus").status == 400)
    }
}
