import Foundation
import HTTP
import MCPAuth
import Testing

/// Attacks on the account pages, each performed: forged and cross-user form posts, open redirects, hostile
/// names. Every refusal must leave the store as it was.
@Suite struct AccountSecurityTests {
    /// A signed-in browser for alice, and one live personal token of hers.
    static func signedInWithToken(_ h: OAuthHarness) throws -> (SiteBrowser, TokenRecord) {
        try h.user()
        let browser = SiteBrowser(h)
        try browser.signIn()
        let token = try h.store { try Tokens(store: $0).create(email: "alice@example.com", name: "ci", scopes: .read, app: nil, env: nil,
                                                               lifetimeSeconds: 3600) }
        return (browser, token.record)
    }

    static func isLive(_ h: OAuthHarness, _ id: String) throws -> Bool {
        try h.store { try Tokens(store: $0).find(id: id)?.status() == .active }
    }

    static func tokenCount(_ h: OAuthHarness) throws -> Int64 {
        try h.store { try $0.db.first("SELECT COUNT(*) AS n FROM tokens")?.int("n") ?? -1 }
    }

    @Test(arguments: [nil, "wrong-token", ""])
    func aFormPostWithoutTheSessionsCSRFTokenIsRefusedAndChangesNothing(csrf: String?) throws {
        let h = try OAuthHarness()
        let (browser, token) = try AccountSecurityTests.signedInWithToken(h)
        let before = try AccountSecurityTests.tokenCount(h)
        let csrfField = csrf.map { [("csrf", $0)] } ?? []
        let revoke = try browser.post("/account/tokens/\(token.id)/revoke", csrfField + [("action", "revoke")])
        #expect(revoke.status == 403)
        #expect(revoke.text.contains("Nothing was changed"))
        let create = try browser.post("/account/tokens", csrfField + [("scope", "read"), ("action", "create")])
        #expect(create.status == 403)
        #expect(SiteBrowser.element("new-token", in: create.text) == nil)
        let all = try browser.post("/account/revoke-all", csrfField + [("action", "revoke-all")])
        #expect(all.status == 403)
        #expect(try AccountSecurityTests.isLive(h, token.id))
        #expect(try AccountSecurityTests.tokenCount(h) == before)
        #expect(try browser.get("/account").status == 200)
    }

    @Test func anotherSessionsCSRFTokenIsRefused() throws {
        let h = try OAuthHarness()
        let (victim, token) = try AccountSecurityTests.signedInWithToken(h)
        try h.user("mallory@example.com")
        let attacker = SiteBrowser(h)
        try attacker.signIn("mallory@example.com")
        let r = try victim.post("/account/tokens/\(token.id)/revoke", [("csrf", try attacker.csrf()), ("action", "revoke")])
        #expect(r.status == 403)
        #expect(try AccountSecurityTests.isLive(h, token.id))
    }

    @Test func revokingAnotherUsersTokenIsNotFoundAndTheTokenStaysLive() throws {
        let h = try OAuthHarness()
        let (_, token) = try AccountSecurityTests.signedInWithToken(h)
        try h.user("mallory@example.com")
        let attacker = SiteBrowser(h)
        try attacker.signIn("mallory@example.com")
        let csrf = try attacker.csrf()
        for verb in ["revoke", "rotate"] {
            let r = try attacker.post("/account/tokens/\(token.id)/\(verb)", [("csrf", csrf), ("action", verb)])
            #expect(r.status == 404)
            #expect(SiteBrowser.element("new-token", in: r.text) == nil)
        }
        #expect(try AccountSecurityTests.isLive(h, token.id))
        #expect(try h.store { try Tokens(store: $0).list(email: "alice@example.com", includeInactive: true).count } == 1)
    }

    @Test func revokingATokenThatDoesNotExistIsNotFound() throws {
        let h = try OAuthHarness()
        let (browser, token) = try AccountSecurityTests.signedInWithToken(h)
        let r = try browser.post("/account/tokens/tok_doesNotExist0000/revoke", [("csrf", try browser.csrf()), ("action", "revoke")])
        #expect(r.status == 404)
        #expect(try AccountSecurityTests.isLive(h, token.id))
    }

    @Test func revokingOnesOwnTokenKillsItAndIsAuditedAsAnAccountAction() throws {
        let h = try OAuthHarness()
        let (browser, token) = try AccountSecurityTests.signedInWithToken(h)
        let r = try browser.post("/account/tokens/\(token.id)/revoke", [("csrf", try browser.csrf()), ("action", "revoke")])
        #expect(r.status == 303)
        #expect(r.location == "/account?done=token-revoked")
        #expect(try !AccountSecurityTests.isLive(h, token.id))
        var f = AuditFilter()
        f.action = "token.revoke"
        let row = try #require(try h.store { try AuditQuery.list(f, limit: 1, db: $0.db) }.first)
        #expect(row.text("source") == "account")
        #expect(row.text("token_id") == token.id)
    }

    @Test func rotatingOnesOwnTokenShowsTheNewSecretAndKillsTheOldOne() throws {
        let h = try OAuthHarness()
        let (browser, token) = try AccountSecurityTests.signedInWithToken(h)
        let r = try browser.post("/account/tokens/\(token.id)/rotate", [("csrf", try browser.csrf()), ("grace", "0"), ("action", "rotate")])
        #expect(r.status == 200)
        #expect(r.headers["Cache-Control"] == "no-store")
        let secret = try #require(SiteBrowser.element("new-token", in: r.text))
        let fresh = try #require(try h.store { try Tokens(store: $0).find(secret: secret) })
        #expect(fresh.rotatedFrom == token.id)
        #expect(try !AccountSecurityTests.isLive(h, token.id))
    }

    @Test(arguments: ["//evil.example", "https://evil.example/", "/\\evil.example", "//evil.example/account", "javascript:alert(1)",
                      "/login?next=/login", "/\tevil.example"])
    func signInNeverRedirectsOffTheSite(next: String) throws {
        let h = try OAuthHarness()
        try h.user()
        let browser = SiteBrowser(h)
        let r = try browser.signIn(next: next)
        #expect(r.status == 303)
        #expect(r.location == "/account")
    }

    @Test func signInKeepsALocalNext() throws {
        let h = try OAuthHarness()
        try h.user()
        let r = try SiteBrowser(h).signIn(next: "/account#tokens")
        #expect(r.location == "/account#tokens")
    }

    @Test func aSignInPostWithoutTheFormsTokenIsRefused() throws {
        let h = try OAuthHarness()
        try h.user()
        let r = try h.postForm("/login", [("email", "alice@example.com"), ("password", OAuthHarness.password)])
        #expect(r.status == 403)
        #expect(!r.headers.values(for: "Set-Cookie").contains { $0.hasPrefix("mcpctl_session=") })
    }

    /// Login CSRF by a planted cookie: behind https the sign-in form's cookie is `__Host-` prefixed
    /// (RFC 6265bis §4.1.3.2), so a cookie a sibling domain or a plain-http attacker set, with a form token
    /// computed from it, signs nobody in.
    @Test func behindHttpsAPlantedSignInCookieCannotSignTheBrowserIn() throws {
        let h = try OAuthHarness { $0.publicURL = "https://auth.example.com" }
        try h.user()
        let form = try h.get("/login")
        let cookie = try #require(form.headers.values(for: "Set-Cookie").first { $0.hasPrefix("__Host-mcpctl_login=") })
        #expect(cookie.contains("Path=/;") && cookie.contains("Secure") && cookie.contains("HttpOnly"))
        #expect(!form.headers.values(for: "Set-Cookie").contains { $0.hasPrefix("mcpctl_login=") })
        // The form token is an HMAC of the cookie under a constant anyone can read: whoever sets the cookie can compute it.
        let planted = String(repeating: "a", count: 32)
        let forged = Base64URL.encode(HMAC.sha256(key: Array(planted.utf8), message: Array("mcpctl form token v1".utf8)))
        let r = try h.postForm("/login", [("csrf", forged), ("next", "/account"),
                                          ("email", "alice@example.com"), ("password", OAuthHarness.password)],
                               headers: [("Cookie", "mcpctl_login=\(planted)")])
        #expect(r.status == 403)
        #expect(!r.headers.values(for: "Set-Cookie").contains { $0.contains("mcpctl_session=") })
    }

    @Test func signOutNeedsTheFormTokenAndThenEndsTheSession() throws {
        let h = try OAuthHarness()
        try h.user()
        let browser = SiteBrowser(h)
        try browser.signIn()
        #expect(try browser.post("/logout", [("action", "logout")]).status == 403)
        #expect(try browser.get("/account").status == 200)
        let cookie = try #require(browser.cookies["mcpctl_session"])
        let r = try browser.post("/logout", [("csrf", try browser.csrf()), ("action", "logout")])
        #expect(r.status == 303)
        // The old cookie, replayed, no longer signs anyone in.
        #expect(try h.get("/account", headers: [("Cookie", "mcpctl_session=\(cookie)")]).status == 303)
        #expect(try h.store { try BrowserSessions(store: $0).list().count } == 0)
    }

    @Test func aHostileClientNameIsEscapedOnTheAccountPage() throws {
        let h = try OAuthHarness()
        try h.user()
        let client = try h.registerClient(name: "<script>alert(1)</script><img src=x onerror=alert(2)>\"'")
        _ = try h.obtainTokens(client)
        let browser = SiteBrowser(h)
        try browser.signIn()
        let page = try browser.get("/account")
        #expect(page.text.contains("data-client-id=\"\(client.id)\""))
        #expect(page.text.contains("&lt;script&gt;alert(1)&lt;/script&gt;&lt;img src=x onerror=alert(2)&gt;&quot;&#39;"))
        #expect(!page.text.contains("<script>alert"))
        #expect(!page.text.contains("<img src=x"))
    }

    @Test func creationRefusesScopesTheGrantDoesNotAllowAndExpiriesPastTheCap() throws {
        let h = try OAuthHarness { $0.maxTokenTTL = 7 * 86_400 }
        try h.user(grants: [("notes", "dev", .read), ("files", "prod", .all)])
        let browser = SiteBrowser(h)
        try browser.signIn()
        let csrf = try browser.csrf()
        let before = try AccountSecurityTests.tokenCount(h)
        let noneLeft = try browser.post("/account/tokens", [("csrf", csrf), ("scope", "delete"), ("app", "notes"), ("env", "dev"),
                                                            ("expires", "1d"), ("action", "create")])
        #expect(noneLeft.status == 400)
        #expect(noneLeft.text.contains("allow none of the chosen permissions"))
        let tooLong = try browser.post("/account/tokens", [("csrf", csrf), ("scope", "read"), ("expires", "30d"), ("action", "create")])
        #expect(tooLong.status == 400)
        let never = try browser.post("/account/tokens", [("csrf", csrf), ("scope", "read"), ("expires", "never"), ("action", "create")])
        #expect(never.status == 400)
        #expect(try AccountSecurityTests.tokenCount(h) == before)
        // The page offers no expiry past the cap.
        #expect(!(try browser.get("/account").text.contains("value=\"30d\"")))
    }

    @Test func withSelfServiceTokensOffTheFormIsHiddenAndAPostIsRefused() throws {
        let h = try OAuthHarness { $0.selfServiceTokens = false }
        try h.user()
        let browser = SiteBrowser(h)
        try browser.signIn()
        #expect(!(try browser.get("/account").text.contains("value=\"create\"")))
        let r = try browser.post("/account/tokens", [("csrf", try browser.csrf()), ("scope", "read"), ("action", "create")])
        #expect(r.status == 403)
        #expect(try AccountSecurityTests.tokenCount(h) == 0)
    }
}
