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

    @Test func oneSessionServesTheAccountPagesAndTheAuthorizationFlow() throws {
        let h = try OAuthHarness()
        try h.user()
        let client = try h.registerClient()
        let browser = SiteBrowser(h)
        try browser.signIn()
        // Signed in at /login, the authorization request goes straight to the consent page.
        let consent = try browser.get(h.authorizeQuery(client, verifier: OAuthHarness.verifier()))
        #expect(consent.status == 200)
        #expect(consent.text.contains("name=\"decision\" value=\"approve\""))
        #expect(!consent.text.contains("name=\"password\""))
        // And signed in during the authorization flow, the account page knows the user.
        let oauthBrowser = Browser(h)
        _ = try oauthBrowser.login(try oauthBrowser.get(h.authorizeQuery(client, verifier: OAuthHarness.verifier())))
        let account = try h.get("/account", headers: [("Cookie", "mcpctl_session=\(oauthBrowser.cookies["mcpctl_session"] ?? "")")])
        #expect(account.status == 200)
    }

    @Test func timesShowRelativeWithTheExactTimeOnHoverAndEmptySectionsSayWhatToDo() throws {
        let h = try OAuthHarness()
        try h.user()
        _ = try h.store { try Tokens(store: $0).create(email: "alice@example.com", name: "ci", scopes: .read, app: nil, env: nil, lifetimeSeconds: 3 * 86_400) }
        let browser = SiteBrowser(h)
        try browser.signIn()
        let page = try browser.get("/account")
        #expect(page.text.contains(">in 3 days</time>"))
        #expect(page.text.range(of: #"<time datetime="\d{4}-\d\d-\d\dT[^"]+Z" title="\d{4}-"#, options: .regularExpression) != nil)
        #expect(page.text.contains("No application is connected to your account."))
        #expect(page.text.contains("<label for=\"token-name\">"))
    }

    @Test func theStylesheetAndScriptAreServedFromThisServer() throws {
        let h = try OAuthHarness()
        let css = try h.get("/assets/mcpctl.css")
        #expect(css.status == 200)
        #expect(css.headers["Content-Type"]?.hasPrefix("text/css") == true)
        let js = try h.get("/assets/copy.js")
        #expect(js.status == 200)
        #expect(js.headers["Content-Type"]?.hasPrefix("text/javascript") == true)
    }

    @Test func aUserNamedByTheTrustedProxyGetsASessionWhoseFormsWork() throws {
        let h = try OAuthHarness { $0.trustedUserHeader = "X-Remote-User"; $0.trustedProxies = ["127.0.0.1"] }
        try h.user()
        let page = try h.get("/account", headers: [("X-Remote-User", "alice@example.com")])
        #expect(page.status == 200)
        let cookie = try #require(page.headers.values(for: "Set-Cookie").first { $0.hasPrefix("mcpctl_session=") })
        let value = String(cookie.dropFirst("mcpctl_session=".count).prefix { $0 != ";" })
        let csrf = try #require(Browser.hidden("csrf", in: page.text))
        let r = try h.postForm("/account/tokens", [("csrf", csrf), ("scope", "read"), ("action", "create")],
                               headers: [("X-Remote-User", "alice@example.com"), ("Cookie", "mcpctl_session=\(value)")])
        #expect(r.status == 200)
        #expect(SiteBrowser.element("new-token", in: r.text) != nil)
    }
}
