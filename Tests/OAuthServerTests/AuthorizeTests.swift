import Foundation
import HTTP
import MCPAuth
import Testing

/// Removes the per-transaction secrets from a page, so two pages can be compared.
func withoutSecrets(_ html: String) -> String {
    var out = html
    for name in ["tx", "csrf"] {
        if let v = Browser.hidden(name, in: out) { out = out.replacingOccurrences(of: v, with: "…") }
    }
    return out
}

@Suite struct AuthorizeTests {
    @Test func unknownClientGetsAnErrorPageNeverARedirect() throws {
        let h = try OAuthHarness()
        let fake = OAuthHarness.RegisteredClient(id: "client_doesnotexist", secret: nil, redirectURI: "https://evil.example.com/cb")
        let r = try h.get(h.authorizeQuery(fake, verifier: OAuthHarness.verifier()))
        #expect(r.status == 400)
        #expect(r.location == nil)
        #expect(r.text.contains("Unknown application"))
        let missing = try h.get("/oauth/authorize?response_type=code&redirect_uri=https%3A%2F%2Fevil.example.com%2Fcb")
        #expect(missing.status == 400 && missing.location == nil)
    }

    @Test(arguments: [
        "http://127.0.0.1:33418/callback/extra",   // different path
        "http://127.0.0.1:33418/callback?x=1",     // extra query
        "http://127.0.0.1:33418/callback/",        // trailing slash
        "http://localhost:33418/callback",         // other loopback name
        "https://127.0.0.1:33418/callback",        // other scheme
        "http://127.0.0.1:33418/CALLBACK",         // path case
        "http://127.0.0.1.evil.example/callback",  // look-alike host
        "https://evil.example.com/callback",
    ])
    func unregisteredRedirectURIGetsAnErrorPageNeverARedirect(uri: String) throws {
        let h = try OAuthHarness()
        let client = try h.registerClient()
        let r = try h.get(h.authorizeQuery(client, verifier: OAuthHarness.verifier(), redirectURI: uri))
        #expect(r.status == 400, "\(uri)")
        #expect(r.location == nil)
        #expect(r.text.contains("Invalid redirect URI"))
    }

    @Test func loopbackRedirectAcceptsAnyPort() throws {
        // RFC 8252 §7.3: native apps get an ephemeral port at run time.
        let h = try OAuthHarness()
        try h.user()
        let client = try h.registerClient(redirectURI: "http://127.0.0.1/callback")
        let verifier = OAuthHarness.verifier()
        let browser = Browser(h)
        var page = try browser.get(h.authorizeQuery(client, verifier: verifier, redirectURI: "http://127.0.0.1:51234/callback"))
        #expect(page.status == 200)
        page = try browser.login(page)
        let r = try browser.decide(page)
        #expect(r.location?.hasPrefix("http://127.0.0.1:51234/callback?code=") == true)
        let code = try #require(r.redirectParams["code"])
        let t = try h.exchange(client, code: code, verifier: verifier, redirectURI: "http://127.0.0.1:51234/callback")
        #expect(t.status == 200)
    }

    @Test func missingPKCEIsRefusedByRedirectWithStateAndIss() throws {
        let h = try OAuthHarness()
        let client = try h.registerClient()
        // Errors go back to the client only for a user who already approved it (RFC 9700 §4.11.2).
        let browser = try h.approvedBrowser(client)
        let r = try browser.get(h.authorizeQuery(client, verifier: OAuthHarness.verifier(), state: "s1", omit: ["code_challenge", "code_challenge_method"]))
        #expect(r.status == 303)
        #expect(r.location?.hasPrefix(client.redirectURI + "?") == true)
        #expect(r.redirectParams["error"] == "invalid_request")
        #expect(r.redirectParams["state"] == "s1")
        #expect(r.redirectParams["iss"] == h.issuer)
        #expect(r.redirectParams["code"] == nil)
    }

    @Test func plainPKCEAndAMissingMethodAreRefused() throws {
        // RFC 7636 §4.3: no method means plain; OAuth 2.1 and RFC 9700 §2.1.1 want S256.
        let h = try OAuthHarness()
        let client = try h.registerClient()
        // Errors go back to the client only for a user who already approved it (RFC 9700 §4.11.2).
        let browser = try h.approvedBrowser(client)
        let v = OAuthHarness.verifier()
        let plain = try browser.get(h.authorizeQuery(client, verifier: v, omit: ["code_challenge_method", "code_challenge"],
                                               extra: [("code_challenge", v), ("code_challenge_method", "plain")]))
        #expect(plain.redirectParams["error"] == "invalid_request")
        let none = try browser.get(h.authorizeQuery(client, verifier: v, omit: ["code_challenge_method"]))
        #expect(none.redirectParams["error"] == "invalid_request")
        let short = try browser.get(h.authorizeQuery(client, verifier: v, omit: ["code_challenge"], extra: [("code_challenge", "abc")]))
        #expect(short.redirectParams["error"] == "invalid_request")
    }

    @Test func missingOrForeignResourceIsInvalidTarget() throws {
        let h = try OAuthHarness()
        let client = try h.registerClient()
        // Errors go back to the client only for a user who already approved it (RFC 9700 §4.11.2).
        let browser = try h.approvedBrowser(client)
        let v = OAuthHarness.verifier()
        let missing = try browser.get(h.authorizeQuery(client, verifier: v, omit: ["resource"]))
        #expect(missing.redirectParams["error"] == "invalid_target")
        #expect(missing.redirectParams["iss"] == h.issuer)
        for bad in ["https://other.example.com/mcp/notes/dev", h.issuer + "/api/notes/dev", h.issuer + "/mcp/notes/dev?x=1",
                    h.issuer + "/mcp/notes", h.issuer + "/mcp/notes/dev#frag", "notes/dev"] {
            let r = try browser.get(h.authorizeQuery(client, verifier: v, resource: bad))
            #expect(r.redirectParams["error"] == "invalid_target", "\(bad)")
        }
        let twice = try browser.get(h.authorizeQuery(client, verifier: v, extra: [("resource", h.resource("notes", "prod"))]))
        #expect(twice.redirectParams["error"] == "invalid_target")
    }

    @Test func unsupportedResponseTypeAndRepeatedParametersAreRefused() throws {
        let h = try OAuthHarness()
        let client = try h.registerClient()
        // Errors go back to the client only for a user who already approved it (RFC 9700 §4.11.2).
        let browser = try h.approvedBrowser(client)
        let v = OAuthHarness.verifier()
        let token = try browser.get(h.authorizeQuery(client, verifier: v, omit: ["response_type"], extra: [("response_type", "token")]))
        #expect(token.redirectParams["error"] == "unsupported_response_type")
        let twice = try browser.get(h.authorizeQuery(client, verifier: v, extra: [("state", "again")]))
        #expect(twice.redirectParams["error"] == "invalid_request")
        // A repeated client_id or redirect_uri cannot be trusted to redirect to: error page.
        let clientTwice = try browser.get(h.authorizeQuery(client, verifier: v, extra: [("client_id", "client_other")]))
        #expect(clientTwice.status == 400 && clientTwice.location == nil)
    }

    @Test func loginPageHasTheExactFormFieldsAndAntiFramingHeaders() throws {
        let h = try OAuthHarness()
        let client = try h.registerClient()
        let r = try h.get(h.authorizeQuery(client, verifier: OAuthHarness.verifier()))
        #expect(r.status == 200)
        #expect(r.text.contains("<input type=\"email\" name=\"email\">"))
        #expect(r.text.contains("<input type=\"password\" name=\"password\">"))
        let csp = r.headers["Content-Security-Policy"] ?? ""
        #expect(csp.contains("frame-ancestors 'none'"))
        #expect(csp.contains("default-src 'none'"))
        #expect(csp.contains("form-action 'self'"))
        #expect(r.headers["X-Frame-Options"] == "DENY")
        #expect(r.headers["Referrer-Policy"] == "no-referrer")
        #expect(r.headers["Cache-Control"] == "no-store")
        #expect(!r.text.contains("<script"))
        #expect(!r.text.contains("src=\"http"), "no third-party resources")
    }

    @Test func wrongPasswordAndUnknownEmailLookTheSame() throws {
        let h = try OAuthHarness()
        try h.user()
        let client = try h.registerClient()
        func attempt(_ email: String, _ password: String) throws -> (Int, String) {
            let browser = Browser(h)
            let page = try browser.get(h.authorizeQuery(client, verifier: OAuthHarness.verifier()))
            let tx = try #require(Browser.hidden("tx", in: page.text))
            let csrf = try #require(Browser.hidden("csrf", in: page.text))
            let r = try browser.post([("tx", tx), ("csrf", csrf), ("email", email), ("password", password)])
            let next = try browser.get(r.location ?? "")
            return (r.status, withoutSecrets(next.text))
        }
        let wrongPassword = try attempt("alice@example.com", "not the password")
        let unknownEmail = try attempt("nobody@example.com", "not the password")
        #expect(wrongPassword.0 == 303 && unknownEmail.0 == 303)
        #expect(wrongPassword.1 == unknownEmail.1)
        #expect(wrongPassword.1.contains("Incorrect email or password"))
        let audit = try h.store { try $0.db.query("SELECT reason FROM audit WHERE action = 'oauth.login' AND decision = 'deny' ORDER BY seq").compactMap { $0.string("reason") } }
        #expect(audit == ["wrong password", "unknown email"])
    }

    @Test func failedLoginsAreThrottledPerAccount() throws {
        let h = try OAuthHarness { $0.loginLimits = LoginThrottle.Limits(perAccount: 3, perAddress: 100, windowSeconds: 900) }
        try h.user()
        let client = try h.registerClient()
        let browser = Browser(h)
        var page = try browser.get(h.authorizeQuery(client, verifier: OAuthHarness.verifier()))
        for _ in 0..<3 { page = try browser.login(page, password: "wrong password") }
        // Even the right password is refused while the account is locked, without being checked.
        let r = try browser.postLogin(page)
        #expect(r.status == 429)
        #expect(Int(r.headers["Retry-After"] ?? "") ?? 0 > 0)
        #expect(r.text.contains("Too many failed sign-in attempts"))
        #expect(r.text.contains("name=\"password\""))
        #expect(!r.headers.values(for: "Set-Cookie").contains { $0.hasPrefix("mcpctl_session=") })
        // Another account from the same address is unaffected.
        try h.user("bob@example.com")
        let other = try Browser(h).authorize(h.authorizeQuery(client, verifier: OAuthHarness.verifier()), email: "bob@example.com")
        #expect(!other.isEmpty)
    }

    @Test func failedLoginsAreThrottledPerAddress() throws {
        let h = try OAuthHarness { $0.loginLimits = LoginThrottle.Limits(perAccount: 100, perAddress: 3, windowSeconds: 900) }
        try h.user()
        let client = try h.registerClient()
        let browser = Browser(h)
        var page = try browser.get(h.authorizeQuery(client, verifier: OAuthHarness.verifier()))
        for i in 0..<3 { page = try browser.login(page, email: "guess\(i)@example.com", password: "wrong password") }
        let r = try browser.postLogin(page)
        #expect(r.status == 429 && r.headers["Retry-After"] != nil)
        #expect(r.text.contains("Too many failed sign-in attempts"))
    }

    /// The attack: behind https, a sibling subdomain plants a plain binding cookie whose value it knows
    /// (`Domain=.example.com`), the one its own transaction is bound to, and sends the victim there. The
    /// binding is a `__Host-` cookie, which no other host can set: the planted one binds nothing.
    @Test func behindHTTPSTheBrowserBindingIsAHostCookieAndAPlantedPlainOneBindsNothing() throws {
        let h = try OAuthHarness { $0.publicURL = "https://auth.example.com" }
        try h.user()
        let client = try h.registerClient()
        let attacker = Browser(h)
        let page = try attacker.get(h.authorizeQuery(client, verifier: OAuthHarness.verifier()))
        let cookie = try #require(page.headers.values(for: "Set-Cookie").first { $0.hasPrefix("__Host-mcpctl_browser=") },
                                  "\(page.headers.values(for: "Set-Cookie"))")
        #expect(cookie.contains("Path=/;") && cookie.contains("Secure") && cookie.contains("HttpOnly") && !cookie.contains("Domain"))
        let binding = try #require(attacker.cookies["__Host-mcpctl_browser"])
        let tx = try #require(Browser.hidden("tx", in: page.text))
        #expect(try attacker.get("/oauth/authorize?tx=\(tx)").status == 200, "the attacker's own browser continues")

        let victim = Browser(h)
        victim.cookies["mcpctl_browser"] = binding
        #expect(try victim.get("/oauth/authorize?tx=\(tx)").status == 403)
        // Knowing the binding, the attacker can compute the form's CSRF token (an HMAC keyed by it).
        let csrf = Base64URL.encode(HMAC.sha256(key: Array(binding.utf8), message: Array("mcpctl authorization form v1\u{0}\(tx)".utf8)))
        let posted = try victim.post([("tx", tx), ("csrf", csrf), ("email", "alice@example.com"), ("password", OAuthHarness.password)])
        #expect(posted.status == 403, "the planted binding made the attacker's form the victim's: \(posted.status)")
    }

    @Test func sessionCookieIsHttpOnlySameSiteLaxAndOnlySecureBehindHttps() throws {
        for secure in [false, true] {
            let h = try OAuthHarness { if secure { $0.publicURL = "https://auth.example.com" } }
            try h.user()
            let client = try h.registerClient()
            let browser = Browser(h)
            let page = try browser.get(h.authorizeQuery(client, verifier: OAuthHarness.verifier()))
            let tx = try #require(Browser.hidden("tx", in: page.text))
            let csrf = try #require(Browser.hidden("csrf", in: page.text))
            let r = try browser.post([("tx", tx), ("csrf", csrf), ("email", "alice@example.com"), ("password", OAuthHarness.password)])
            // RFC 6265bis §4.1.3.2: behind https the cookie is `__Host-` prefixed, which needs Secure and Path=/.
            let name = secure ? "__Host-mcpctl_session=" : "mcpctl_session="
            let cookie = try #require(r.headers.values(for: "Set-Cookie").first { $0.hasPrefix(name) })
            #expect(cookie.contains("HttpOnly"))
            #expect(cookie.contains("SameSite=Lax"))
            #expect(cookie.contains("Path=/;"))
            #expect(cookie.contains("Secure") == secure)
            // Only a hash of the session id is kept: the cookie value appears nowhere in the store.
            let value = String(cookie.dropFirst(name.count).prefix { $0 != ";" })
            let dump = try h.store { store in
                try ["audit", "browser_sessions"].map { table in
                    try store.db.query("SELECT * FROM \(table)").map { $0.values.map { "\($0)" }.joined() }.joined()
                }.joined()
            }
            #expect(!dump.contains(value))
        }
    }

    @Test func consentWithoutTheRightCSRFTokenOrBrowserIsRefused() throws {
        let h = try OAuthHarness()
        try h.user()
        let client = try h.registerClient()
        let browser = Browser(h)
        let consent = try browser.login(try browser.get(h.authorizeQuery(client, verifier: OAuthHarness.verifier())))
        let tx = try #require(Browser.hidden("tx", in: consent.text))
        let csrf = try #require(Browser.hidden("csrf", in: consent.text))
        // No token, a wrong token, another transaction's token.
        let other = try browser.get(h.authorizeQuery(client, verifier: OAuthHarness.verifier()))
        let otherCSRF = try #require(Browser.hidden("csrf", in: other.text))
        for fields in [[("tx", tx), ("scope", "read"), ("decision", "approve")],
                       [("tx", tx), ("csrf", "forged"), ("scope", "read"), ("decision", "approve")],
                       [("tx", tx), ("csrf", otherCSRF), ("scope", "read"), ("decision", "approve")]] {
            let r = try browser.post(fields)
            #expect(r.status == 403)
            #expect(r.location == nil)
        }
        // A cross-site form post carries no SameSite=Lax cookie: the right tx and csrf are not enough.
        let forged = try h.postForm("/oauth/authorize", [("tx", tx), ("csrf", csrf), ("scope", "read"), ("decision", "approve")])
        #expect(forged.status == 403)
        // The real form still works afterwards, once.
        let ok = try browser.decide(consent)
        #expect(ok.status == 303 && ok.redirectParams["code"] != nil)
        let again = try browser.decide(consent)
        #expect(again.status == 403, "a transaction is answered once")
    }

    @Test func approveRedirectsWithCodeStateAndIss() throws {
        let h = try OAuthHarness()
        try h.user()
        let client = try h.registerClient(redirectURI: "https://app.example.com/cb?keep=1")
        let browser = Browser(h)
        let page = try browser.login(try browser.get(h.authorizeQuery(client, verifier: OAuthHarness.verifier(), state: "xyz")))
        #expect(page.headers["Content-Security-Policy"]?.contains("form-action 'self' https://app.example.com") == true)
        let r = try browser.decide(page)
        #expect(r.status == 303)
        #expect(r.location?.hasPrefix("https://app.example.com/cb?keep=1&code=") == true)
        #expect(r.redirectParams["state"] == "xyz")
        #expect(r.redirectParams["iss"] == h.issuer)
        #expect(r.redirectParams["code"]?.count == 43)
    }

    @Test func denyRedirectsWithAccessDeniedStateAndIss() throws {
        let h = try OAuthHarness()
        try h.user()
        let client = try h.registerClient()
        let browser = Browser(h)
        let page = try browser.login(try browser.get(h.authorizeQuery(client, verifier: OAuthHarness.verifier(), state: "abc")))
        let r = try browser.decide(page, decision: "deny")
        #expect(r.status == 303)
        #expect(r.redirectParams["error"] == "access_denied")
        #expect(r.redirectParams["state"] == "abc")
        #expect(r.redirectParams["iss"] == h.issuer)
        #expect(r.redirectParams["code"] == nil)
        let codes = try h.store { try $0.db.first("SELECT COUNT(*) AS n FROM auth_codes")?.int("n") }
        #expect(codes == 0)
    }

    @Test func userWithoutAGrantSeesAppNotFoundLikeAMissingAppAndGetsNoCode() throws {
        let h = try OAuthHarness()
        try h.user(grants: [("notes", "dev", .all)])
        try h.app("billing", "prod")
        let client = try h.registerClient()
        func page(_ resource: String) throws -> (Browser, Reply) {
            let browser = Browser(h)
            return (browser, try browser.login(try browser.get(h.authorizeQuery(client, verifier: OAuthHarness.verifier(), resource: resource))))
        }
        let (browser, noGrant) = try page(h.resource("billing", "prod"))
        let (_, noApp) = try page(h.resource("nosuch", "prod"))
        #expect(noGrant.status == 404)
        #expect(noGrant.text.contains("App not found"))
        #expect(!noGrant.text.contains("name=\"scope\""))
        #expect(withoutSecrets(noGrant.text).replacingOccurrences(of: "billing", with: "X") ==
                withoutSecrets(noApp.text).replacingOccurrences(of: "nosuch", with: "X"))
        // Forcing an approval anyway yields no code.
        let tx = try #require(Browser.hidden("tx", in: noGrant.text))
        let csrf = try #require(Browser.hidden("csrf", in: noGrant.text))
        let forced = try browser.post([("tx", tx), ("csrf", csrf), ("scope", "read"), ("decision", "approve")])
        #expect(forced.redirectParams["code"] == nil)
        #expect(try browser.get(forced.location ?? "").text.contains("App not found"))
        let back = try browser.post([("tx", tx), ("csrf", csrf), ("decision", "deny")])
        #expect(back.redirectParams["error"] == "access_denied")
        let codes = try h.store { try $0.db.first("SELECT COUNT(*) AS n FROM auth_codes")?.int("n") }
        #expect(codes == 0)
    }

    @Test func consentOffersOnlyWhatTheGrantsAllowAndForgedScopesAreDropped() throws {
        let h = try OAuthHarness()
        try h.user(grants: [("notes", "dev", .read)])
        let client = try h.registerClient()
        let verifier = OAuthHarness.verifier()
        let browser = Browser(h)
        let page = try browser.login(try browser.get(h.authorizeQuery(client, verifier: verifier)))
        #expect(page.text.contains("<input type=\"checkbox\" name=\"scope\" value=\"read\" checked>"))
        #expect(!page.text.contains("value=\"write\""))
        #expect(!page.text.contains("value=\"delete\""))
        let tx = try #require(Browser.hidden("tx", in: page.text))
        let csrf = try #require(Browser.hidden("csrf", in: page.text))
        let r = try browser.post([("tx", tx), ("csrf", csrf), ("scope", "read"), ("scope", "write"), ("scope", "delete"), ("decision", "approve")])
        let t = try h.exchange(client, code: try #require(r.redirectParams["code"]), verifier: verifier)
        #expect(t.json["scope"]?.stringValue == "read")
    }

    @Test func untickedScopeIsNotInTheToken() throws {
        let h = try OAuthHarness()
        try h.user()
        let client = try h.registerClient()
        let t = try h.obtainTokens(client, untick: ["write"])
        #expect(t.json["scope"]?.stringValue == "read delete")
        let consent = try h.store { try $0.db.first("SELECT scopes FROM consents")?.string("scopes") }
        #expect(consent == "read,delete")
        // Requested scope narrows what is offered.
        let narrow = try h.obtainTokens(client, scope: "read")
        #expect(narrow.json["scope"]?.stringValue == "read")
    }

    @Test func consentPageNamesTheClientAsUnverifiedTheRedirectHostAndTheResourceEscaped() throws {
        let h = try OAuthHarness()
        try h.user()
        let client = try h.registerClient(name: "<script>alert(1)</script> Tool", redirectURI: "https://tool.example.org/cb")
        let browser = Browser(h)
        let page = try browser.login(try browser.get(h.authorizeQuery(client, verifier: OAuthHarness.verifier())))
        #expect(page.text.contains("&lt;script&gt;alert(1)&lt;/script&gt; Tool"))
        #expect(!page.text.contains("<script>"))
        #expect(page.text.contains("unverified"))
        #expect(page.text.contains("tool.example.org"))
        #expect(page.text.contains("notes/dev"))
        #expect(page.text.contains("alice@example.com"))
        #expect(page.text.contains("<button name=\"decision\" value=\"approve\">"))
        #expect(page.text.contains("<button name=\"decision\" value=\"deny\""))
    }

    @Test func trustedUserHeaderIsHonouredOnlyFromTrustedProxies() throws {
        for trusted in [true, false] {
            let h = try OAuthHarness {
                $0.trustedUserHeader = "X-Forwarded-User"
                $0.trustedProxies = trusted ? ["127.0.0.1"] : ["10.9.9.9"]
            }
            try h.user()
            let client = try h.registerClient()
            let page = try Browser(h).get(h.authorizeQuery(client, verifier: OAuthHarness.verifier()).description,
                                          headers: [("X-Forwarded-User", "alice@example.com")])
            #expect(page.text.contains("name=\"decision\"") == trusted)
            #expect(page.text.contains("name=\"password\"") == !trusted)
        }
    }

    @Test func disabledUserCannotSignIn() throws {
        let h = try OAuthHarness()
        try h.user()
        try h.store { _ = try Users(store: $0).disable(email: "alice@example.com") }
        let client = try h.registerClient()
        let browser = Browser(h)
        let page = try browser.login(try browser.get(h.authorizeQuery(client, verifier: OAuthHarness.verifier())))
        #expect(page.text.contains("Incorrect email or password"))
    }

    @Test func signedInBrowserGoesStraightToConsentUntilTheUserIsDisabled() throws {
        let h = try OAuthHarness()
        try h.user()
        let client = try h.registerClient()
        let browser = Browser(h)
        _ = try browser.authorize(h.authorizeQuery(client, verifier: OAuthHarness.verifier()))
        let again = try browser.get(h.authorizeQuery(client, verifier: OAuthHarness.verifier()))
        #expect(again.text.contains("name=\"decision\""), "the session cookie signs the browser in")
        #expect(!again.text.contains("name=\"password\""))
        try h.store { _ = try Users(store: $0).disable(email: "alice@example.com") }
        let disabled = try browser.get(h.authorizeQuery(client, verifier: OAuthHarness.verifier()))
        #expect(disabled.text.contains("name=\"password\""), "a disabled user's session is worthless")
    }

    @Test func stateIsEchoedVerbatimAndLongStatesAreRefused() throws {
        let h = try OAuthHarness()
        try h.user()
        let client = try h.registerClient()
        let odd = "a b&c=d/é?#"
        let browser = Browser(h)
        let page = try browser.login(try browser.get(h.authorizeQuery(client, verifier: OAuthHarness.verifier(), state: odd)))
        #expect(try browser.decide(page).redirectParams["state"] == odd)
        let long = try browser.get(h.authorizeQuery(client, verifier: OAuthHarness.verifier(), state: String(repeating: "s", count: 3000)))
        #expect(long.redirectParams["error"] == "invalid_request")
    }

    @Test func invalidRequestsOfAnUnapprovedSelfRegisteredClientAreShownNeverRedirected() throws {
        // RFC 9700 §4.11.2: anyone can register a client whose redirect URI is an attacker's page and send
        // users an invalid request for it; the error must not take them there.
        let h = try OAuthHarness()
        try h.user()
        let evil = try h.registerClient(name: "Totally Legit", redirectURI: "https://attacker.example/landing")
        let v = OAuthHarness.verifier()
        let invalid = h.authorizeQuery(evil, verifier: v, omit: ["response_type"], extra: [("response_type", "token")])
        let anonymous = try h.get(invalid)
        #expect(anonymous.status == 400 && anonymous.location == nil)
        #expect(anonymous.text.contains("unsupported_response_type"))
        // Signed in, but this user approved only another client: still a page.
        let browser = try h.approvedBrowser(try h.registerClient(name: "Good Client"))
        for query in [invalid, h.authorizeQuery(evil, verifier: v, omit: ["code_challenge"]),
                      h.authorizeQuery(evil, verifier: v, resource: "https://elsewhere.example/mcp/a/b")] {
            let r = try browser.get(query)
            #expect(r.status == 400 && r.location == nil, "\(r.status) \(r.location ?? "")")
            #expect(!r.headers.values(for: "Location").contains { $0.contains("attacker.example") })
        }
        // Once the user has approved the client, its errors go back to it (RFC 6749 §4.1.2.1).
        let approved = try h.approvedBrowser(evil)
        let r = try approved.get(invalid)
        #expect(r.status == 303 && r.redirectParams["error"] == "unsupported_response_type")
    }

    @Test(arguments: [
        "http://127.x.attacker.example/callback",
        "http://127.0.0.1.nip.io/callback",
        "http://127.1.1.1.attacker.example/callback",
        "http://localhost.attacker.example/callback",
        "http://attacker.localhost/callback",
        "http://0x7f.0.0.1/callback",
        "http://127.0.0.01/callback",
        "http://2130706433/callback",
        "http://[::ffff:127.0.0.1]/callback",
    ])
    func httpRedirectURIsOnNamesThatOnlyLookLikeLoopbackAreRefused(uri: String) throws {
        // RFC 8252 §7.3 / RFC 9700 §4.1: only loopback IP literals and the exact name localhost may use http.
        let h = try OAuthHarness()
        let r = try h.postJSON("/oauth/register", .object([("client_name", "x"), ("redirect_uris", .array([.string(uri)])),
                                                          ("token_endpoint_auth_method", "none")]))
        #expect(r.status == 400 && r.json["error"]?.stringValue == "invalid_redirect_uri", "\(uri): \(r.text)")
        #expect(!RedirectURI.isLoopback(URLComponents(string: uri)?.host ?? ""))
    }

    @Test func aLookAlikeLoopbackURIStoredBeforeTheRuleIsNeverRedirectedTo() throws {
        let h = try OAuthHarness()
        let client = try h.registerClient()
        let old = "http://127.x.attacker.example/callback"
        try h.store { _ = try $0.db.run("UPDATE clients SET redirect_uris = ? WHERE client_id = ?",
                                        [.text(JSON.array([.string(old)]).encoded()), .text(client.id)]) }
        let browser = try h.approvedBrowser(try h.registerClient(name: "Other"))
        for redirect in [old, "http://127.x.attacker.example:8080/callback"] {
            let r = try browser.get(h.authorizeQuery(client, verifier: OAuthHarness.verifier(), redirectURI: redirect, omit: ["response_type"]))
            #expect(r.status == 400 && r.location == nil, "\(redirect)")
            #expect(r.text.contains("Invalid redirect URI"))
        }
    }

    @Test func loopbackLiteralsAndLocalhostAreLoopback() {
        for host in ["127.0.0.1", "127.255.3.4", "127.0.0.0", "::1", "[::1]", "localhost", "LOCALHOST"] {
            #expect(RedirectURI.isLoopback(host), "\(host)")
        }
        for host in ["128.0.0.1", "127.0.0", "127.0.0.1.", "127.0.0.256", "localhost.", "::2", "1.127.0.0"] {
            #expect(!RedirectURI.isLoopback(host), "\(host)")
        }
    }
}
