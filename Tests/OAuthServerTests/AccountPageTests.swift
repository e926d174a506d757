import Foundation
import HTTP
import MCPAuth
import Testing

/// The account page: signing in, what it shows, and creating, rotating and revoking one's own tokens.
@Suite struct AccountPageTests {
    @Test func theAccountPageWithoutASessionSendsTheBrowserToSignIn() throws {
        let h = try OAuthHarness()
        let r = try h.get("/account")
        #expect(r.status == 303)
        #expect(r.location == "/login?next=%2Faccount")
    }

    @Test func signingInLeadsToTheAccountPageWithItsFourSections() throws {
        let h = try OAuthHarness()
        try h.user()
        let browser = SiteBrowser(h)
        let r = try browser.signIn(next: "/account")
        #expect(r.status == 303)
        #expect(r.location == "/account")
        let page = try browser.get("/account")
        #expect(page.status == 200)
        for heading in ["Tokens", "Connected applications", "Access", "Recent activity"] { #expect(page.text.contains(">\(heading)</h2>")) }
        #expect(page.text.contains("name=\"viewport\""))
        #expect(page.headers["Content-Security-Policy"]?.contains("frame-ancestors 'none'") == true)
        #expect(page.headers["X-Frame-Options"] == "DENY")
        #expect(page.headers["Referrer-Policy"] == "no-referrer")
    }

    @Test func aWrongPasswordAtLoginSignsNobodyIn() throws {
        let h = try OAuthHarness()
        try h.user()
        let browser = SiteBrowser(h)
        let r = try browser.signIn(password: "not the password")
        #expect(r.status == 303)
        #expect(r.location?.hasPrefix("/login?") == true)
        #expect(try browser.get("/account").status == 303)
    }

    @Test func creatingATokenShowsItsSecretOnceWithTheScopesTheGrantAllows() throws {
        let h = try OAuthHarness()
        try h.user(grants: [("notes", "dev", .read)])
        let browser = SiteBrowser(h)
        try browser.signIn()
        let csrf = try browser.csrf()
        let r = try browser.post("/account/tokens", [("csrf", csrf), ("name", "laptop"), ("scope", "read"), ("scope", "write"),
                                                     ("app", "notes"), ("env", "dev"), ("expires", "7d"), ("action", "create")])
        #expect(r.status == 200)
        #expect(r.headers["Cache-Control"] == "no-store")
        let secret = try #require(SiteBrowser.element("new-token", in: r.text))
        let record = try #require(try h.store { try Tokens(store: $0).find(secret: secret) })
        #expect(record.email == "alice@example.com")
        #expect(record.scopes == .read)
        #expect(record.app == "notes" && record.env == "dev")
        #expect(r.text.contains("&quot;Token&quot;: &quot;\(secret)&quot;"))
        let account = try browser.get("/account")
        #expect(account.text.contains("data-token-id=\"\(record.id)\""))
        #expect(!account.text.contains(secret))
        let audit = try h.store { try AuditQuery.list({ var f = AuditFilter(); f.action = "token.create"; return f }(), limit: 1, db: $0.db) }
        #expect(audit.first?.text("source") == "account")
    }
}
