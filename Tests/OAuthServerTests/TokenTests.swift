import Foundation
import HTTP
import MCPAuth
import Synchronization
import Testing

/// A code, its verifier and the client, right after consent.
struct IssuedCode {
    let client: OAuthHarness.RegisteredClient
    let code: String
    let verifier: String
}

extension OAuthHarness {
    func code(_ client: RegisteredClient, scope: String? = "read write delete") throws -> IssuedCode {
        let verifier = OAuthHarness.verifier()
        let code = try Browser(self).authorize(authorizeQuery(client, verifier: verifier, scope: scope))
        return IssuedCode(client: client, code: code, verifier: verifier)
    }

    /// Whether the gateway would accept this access token right now.
    func gatewayAccepts(_ accessToken: String) throws -> Bool {
        try store { store in
            if case .success = try TokenVerifier().verify(secret: accessToken, db: store.db) { return true }
            return false
        }
    }

    func basic(_ id: String, _ secret: String) -> (String, String) {
        ("Authorization", "Basic " + Data("\(id):\(secret)".utf8).base64EncodedString())
    }
}

@Suite struct TokenTests {
    @Test func authorizationCodeExchangeIssuesOpaqueTokensBoundToTheResource() throws {
        let h = try OAuthHarness()
        try h.user()
        let client = try h.registerClient()
        let r = try h.obtainTokens(client)
        #expect(r.status == 200, "\(r.text)")
        #expect(r.headers["Cache-Control"] == "no-store")
        #expect(r.headers["Pragma"] == "no-cache")
        let at = r.json["access_token"]?.stringValue ?? ""
        #expect(TokenSecret.kind(of: at) == "at")
        #expect(TokenSecret.kind(of: r.json["refresh_token"]?.stringValue ?? "") == "rt")
        #expect(r.json["token_type"]?.stringValue == "Bearer")
        #expect(r.json["expires_in"]?.intValue == 3600)
        #expect(r.json["scope"]?.stringValue == "read write delete")
        let p = try h.store { try TokenVerifier().verify(secret: at, db: $0.db).get() }
        #expect(p.app == "notes" && p.env == "dev" && p.clientID == client.id && p.scopes == .all && p.kind == .access)
        // The connected application shows up with its user and scopes (mcpctl client list).
        let record = try h.store { try Clients(store: $0).require(client.id) }
        #expect(record.usage?.users == 1 && record.usage?.scopes == .all && record.lastUsedAt != nil)
    }

    @Test func accessTokenLifetimeComesFromTheConfiguration() throws {
        let h = try OAuthHarness { $0.accessTokenTTL = 60 }
        try h.user()
        let r = try h.obtainTokens(try h.registerClient())
        #expect(r.json["expires_in"]?.intValue == 60)
        let expires = try h.store { try Tokens(store: $0).find(secret: r.json["access_token"]?.stringValue ?? "")?.expiresAt }
        let delta = (expires ?? 0) - Clock.nowMillis()
        #expect(delta > 50_000 && delta <= 60_000)
    }

    @Test func codeReuseFailsAndRevokesWhatTheFirstRedemptionIssued() throws {
        let h = try OAuthHarness()
        try h.user()
        let c = try h.code(try h.registerClient())
        let first = try h.exchange(c.client, code: c.code, verifier: c.verifier)
        #expect(first.status == 200)
        let at = first.json["access_token"]?.stringValue ?? ""
        let rt = first.json["refresh_token"]?.stringValue ?? ""
        #expect(try h.gatewayAccepts(at))
        let second = try h.exchange(c.client, code: c.code, verifier: c.verifier)
        #expect(second.status == 400)
        #expect(second.json["error"]?.stringValue == "invalid_grant")
        #expect(try !h.gatewayAccepts(at), "RFC 6749 §4.1.2: tokens issued from a reused code are revoked")
        #expect(try h.refresh(c.client, rt).json["error"]?.stringValue == "invalid_grant")
        let audit = try h.store { try $0.db.first("SELECT COUNT(*) AS n FROM audit WHERE action = 'oauth.code_reuse'")?.int("n") }
        #expect(audit == 1)
    }

    @Test func codeReplayWithAWrongVerifierOrClientRevokesNothing() throws {
        let h = try OAuthHarness()
        try h.user()
        let c = try h.code(try h.registerClient())
        let first = try h.exchange(c.client, code: c.code, verifier: c.verifier)
        let at = first.json["access_token"]?.stringValue ?? ""
        let thief = try h.registerClient(name: "Thief", redirectURI: "http://127.0.0.1:4444/cb")
        let wrongVerifier = try h.exchange(c.client, code: c.code, verifier: OAuthHarness.verifier())
        let wrongClient = try h.exchange(thief, code: c.code, verifier: c.verifier, redirectURI: c.client.redirectURI)
        #expect(wrongVerifier.json["error"]?.stringValue == "invalid_grant")
        #expect(wrongClient.json["error"]?.stringValue == "invalid_grant")
        #expect(try h.gatewayAccepts(at))
    }

    @Test func codeIssuedToAnotherClientIsRefused() throws {
        let h = try OAuthHarness()
        try h.user()
        let c = try h.code(try h.registerClient())
        let thief = try h.registerClient(name: "Thief", redirectURI: "http://127.0.0.1:4444/cb")
        let r = try h.exchange(thief, code: c.code, verifier: c.verifier, redirectURI: c.client.redirectURI)
        #expect(r.json["error"]?.stringValue == "invalid_grant")
        // The legitimate client can still redeem it.
        #expect(try h.exchange(c.client, code: c.code, verifier: c.verifier).status == 200)
    }

    @Test func parallelRedemptionOfOneCodeYieldsExactlyOneSuccess() throws {
        let h = try OAuthHarness()
        try h.user()
        let c = try h.code(try h.registerClient())
        let statuses = Mutex<[Int]>([])
        DispatchQueue.concurrentPerform(iterations: 12) { _ in
            let status = (try? h.exchange(c.client, code: c.code, verifier: c.verifier).status) ?? -1
            statuses.withLock { $0.append(status) }
        }
        let all = statuses.withLock { $0 }
        #expect(all.filter { $0 == 200 }.count == 1, "\(all)")
        #expect(all.filter { $0 == 400 }.count == 11, "\(all)")
        // The losers' replays revoked the winner's tokens: a replayed code is a replayed code.
        let live = try h.store { try $0.db.first("SELECT COUNT(*) AS n FROM tokens WHERE revoked_at IS NULL")?.int("n") }
        #expect(live == 0)
    }

    @Test func expiredCodeIsRefused() throws {
        let h = try OAuthHarness()
        try h.user()
        let c = try h.code(try h.registerClient())
        try h.store { try $0.db.run("UPDATE auth_codes SET expires_at = ?", [.integer(Clock.nowMillis() - 1)]) }
        let r = try h.exchange(c.client, code: c.code, verifier: c.verifier)
        #expect(r.json["error"]?.stringValue == "invalid_grant")
        #expect(r.json["error_description"]?.stringValue?.contains("expired") == true)
    }

    @Test func codesLiveAtMostFiveMinutes() throws {
        let h = try OAuthHarness()
        try h.user()
        _ = try h.code(try h.registerClient())
        let life = try h.store { try $0.db.first("SELECT expires_at - created_at AS ms FROM auth_codes")?.int("ms") }
        #expect((life ?? 0) > 0 && (life ?? 0) <= 300_000)
    }

    @Test func redirectURIMustMatchTheAuthorizationRequest() throws {
        let h = try OAuthHarness()
        try h.user()
        let c = try h.code(try h.registerClient())
        let r = try h.exchange(c.client, code: c.code, verifier: c.verifier, redirectURI: "http://127.0.0.1:33418/other")
        #expect(r.json["error"]?.stringValue == "invalid_grant")
        let missing = try h.postForm("/oauth/token", [("grant_type", "authorization_code"), ("code", c.code), ("code_verifier", c.verifier),
                                                       ("client_id", c.client.id)])
        #expect(missing.json["error"]?.stringValue == "invalid_grant")
    }

    @Test func pkceDowngradeWithoutOrWithAWrongVerifierIsRefused() throws {
        let h = try OAuthHarness()
        try h.user()
        let c = try h.code(try h.registerClient())
        let none = try h.postForm("/oauth/token", [("grant_type", "authorization_code"), ("code", c.code), ("client_id", c.client.id),
                                                    ("redirect_uri", c.client.redirectURI)])
        #expect(none.json["error"]?.stringValue == "invalid_request")
        let challengeAsVerifier = try h.exchange(c.client, code: c.code, verifier: PKCE.challenge(forVerifier: c.verifier))
        #expect(challengeAsVerifier.json["error"]?.stringValue == "invalid_grant")
        #expect(try h.exchange(c.client, code: c.code, verifier: c.verifier).status == 200)
    }

    @Test func tokenForAnotherResourceIsInvalidTarget() throws {
        let h = try OAuthHarness()
        try h.user(grants: [("notes", "dev", .all), ("notes", "prod", .all)])
        let c = try h.code(try h.registerClient())
        let other = try h.exchange(c.client, code: c.code, verifier: c.verifier, resource: h.resource("notes", "prod"))
        #expect(other.json["error"]?.stringValue == "invalid_target")
        let foreign = try h.exchange(c.client, code: c.code, verifier: c.verifier, resource: "https://evil.example.com/mcp/notes/dev")
        #expect(foreign.json["error"]?.stringValue == "invalid_target")
        let ok = try h.exchange(c.client, code: c.code, verifier: c.verifier)
        #expect(ok.status == 200)
        // The token is bound to notes/dev: a policy check for notes/prod refuses it (wrong audience).
        let at = ok.json["access_token"]?.stringValue ?? ""
        let decision = try h.store { store -> AccessDecision in
            let p = try TokenVerifier().verify(secret: at, db: store.db).get()
            return try Policy.check(store: store, userID: p.userID, tokenScopes: p.scopes, binding: (p.app, p.env), app: "notes", env: "prod", needed: .read)
        }
        #expect(!decision.allowed)
    }

    @Test func refreshRotatesAndReuseOfASpentTokenRevokesTheFamily() throws {
        let h = try OAuthHarness()
        try h.user()
        let client = try h.registerClient()
        let first = try h.obtainTokens(client)
        let rt1 = first.json["refresh_token"]?.stringValue ?? ""
        let second = try h.refresh(client, rt1)
        #expect(second.status == 200)
        #expect(second.headers["Cache-Control"] == "no-store")
        let rt2 = second.json["refresh_token"]?.stringValue ?? ""
        let at2 = second.json["access_token"]?.stringValue ?? ""
        #expect(rt2 != rt1)
        #expect(second.json["scope"]?.stringValue == "read write delete")
        let families = try h.store { try $0.db.query("SELECT DISTINCT family_id FROM tokens").count }
        #expect(families == 1, "the new pair joins the family")
        // The attacker (or the client) presents the spent rt1: the whole family dies.
        let reuse = try h.refresh(client, rt1)
        #expect(reuse.json["error"]?.stringValue == "invalid_grant")
        #expect(try !h.gatewayAccepts(at2))
        #expect(try h.refresh(client, rt2).json["error"]?.stringValue == "invalid_grant")
        let audit = try h.store { try $0.db.first("SELECT reason FROM audit WHERE action = 'oauth.refresh_reuse'")?.string("reason") }
        #expect(audit?.contains("reuse detected") == true)
    }

    @Test func refreshFromAnotherClientFailsWithoutRevoking() throws {
        let h = try OAuthHarness()
        try h.user()
        let client = try h.registerClient()
        let t = try h.obtainTokens(client)
        let rt = t.json["refresh_token"]?.stringValue ?? ""
        let thief = try h.registerClient(name: "Thief", redirectURI: "http://127.0.0.1:4444/cb")
        #expect(try h.refresh(thief, rt).json["error"]?.stringValue == "invalid_grant")
        #expect(try h.gatewayAccepts(t.json["access_token"]?.stringValue ?? ""))
        #expect(try h.refresh(client, rt).status == 200)
        // Even replaying the now spent token from the wrong client revokes nothing.
        let live = try h.store { try $0.db.first("SELECT COUNT(*) AS n FROM tokens WHERE revoked_at IS NULL")?.int("n") }
        #expect(try h.refresh(thief, rt).json["error"]?.stringValue == "invalid_grant")
        let after = try h.store { try $0.db.first("SELECT COUNT(*) AS n FROM tokens WHERE revoked_at IS NULL")?.int("n") }
        #expect(live == after)
    }

    @Test func refreshCannotWidenScopeButMayNarrowIt() throws {
        let h = try OAuthHarness()
        try h.user()
        let client = try h.registerClient()
        let t = try h.obtainTokens(client, untick: ["delete"])
        let rt = t.json["refresh_token"]?.stringValue ?? ""
        let wider = try h.refresh(client, rt, scope: "read write delete")
        #expect(wider.json["error"]?.stringValue == "invalid_scope")
        let narrower = try h.refresh(client, rt, scope: "read")
        #expect(narrower.status == 200)
        #expect(narrower.json["scope"]?.stringValue == "read")
        // And the narrowed family stays narrow.
        let again = try h.refresh(client, narrower.json["refresh_token"]?.stringValue ?? "", scope: "read write")
        #expect(again.json["error"]?.stringValue == "invalid_scope")
    }

    @Test func refreshFollowsTheUsersCurrentGrants() throws {
        let h = try OAuthHarness()
        try h.user()
        let client = try h.registerClient()
        let t = try h.obtainTokens(client)
        try h.store { _ = try Grants(store: $0).add(email: "alice@example.com", app: "notes", env: "dev", scopes: .read) }
        let r = try h.refresh(client, t.json["refresh_token"]?.stringValue ?? "")
        #expect(r.json["scope"]?.stringValue == "read")
        try h.store { _ = try Grants(store: $0).revoke(email: "alice@example.com", app: "notes", env: "dev") }
        let gone = try h.refresh(client, r.json["refresh_token"]?.stringValue ?? "")
        #expect(gone.json["error"]?.stringValue == "invalid_grant")
    }

    @Test func accessTokenIsNotARefreshToken() throws {
        let h = try OAuthHarness()
        try h.user()
        let client = try h.registerClient()
        let t = try h.obtainTokens(client)
        #expect(try h.refresh(client, t.json["access_token"]?.stringValue ?? "").json["error"]?.stringValue == "invalid_grant")
        #expect(try h.refresh(client, "mcp_rt_garbage").json["error"]?.stringValue == "invalid_grant")
    }

    @Test func confidentialClientsAuthenticateWithBasicOrPostButNotBothOrNeither() throws {
        let h = try OAuthHarness()
        try h.user()
        let basicClient = try h.registerClient(name: "basic", authMethod: "client_secret_basic")
        let t = try h.obtainTokens(basicClient)
        #expect(t.status == 200, "\(t.text)")
        let rt = t.json["refresh_token"]?.stringValue ?? ""
        let secret = basicClient.secret ?? ""
        // Neither: a bare client_id does not identify a confidential client.
        let bare = try h.postForm("/oauth/token", [("grant_type", "refresh_token"), ("refresh_token", rt), ("client_id", basicClient.id)])
        #expect(bare.status == 401 && bare.json["error"]?.stringValue == "invalid_client")
        // Wrong secret over Basic: 401 with a Basic challenge (RFC 6749 §5.2).
        let wrong = try h.postForm("/oauth/token", [("grant_type", "refresh_token"), ("refresh_token", rt)],
                                   headers: [h.basic(basicClient.id, "mcp_cs_wrong")])
        #expect(wrong.status == 401)
        #expect(wrong.headers["WWW-Authenticate"]?.hasPrefix("Basic") == true)
        // Both at once.
        let both = try h.postForm("/oauth/token", [("grant_type", "refresh_token"), ("refresh_token", rt), ("client_secret", secret)],
                                  headers: [h.basic(basicClient.id, secret)])
        #expect(both.json["error"]?.stringValue == "invalid_request")
        // client_secret_post works too.
        let post = try h.postForm("/oauth/token", [("grant_type", "refresh_token"), ("refresh_token", rt), ("client_id", basicClient.id),
                                                   ("client_secret", secret)])
        #expect(post.status == 200, "\(post.text)")
        // A public client presenting a made-up secret is refused.
        let pub = try h.registerClient()
        let fake = try h.postForm("/oauth/token", [("grant_type", "refresh_token"), ("refresh_token", rt), ("client_id", pub.id),
                                                   ("client_secret", "x")])
        #expect(fake.status == 401)
    }

    @Test func blockedOrDeletedClientsGetInvalidClientSoTheyRegisterAgain() throws {
        let h = try OAuthHarness()
        try h.user()
        let blocked = try h.registerClient(name: "blocked")
        let deleted = try h.registerClient(name: "deleted", redirectURI: "http://127.0.0.1:5555/cb")
        let t1 = try h.obtainTokens(blocked)
        let t2 = try h.obtainTokens(deleted)
        try h.store { store in
            _ = try Clients(store: store).block(blocked.id)
            _ = try Clients(store: store).revoke(deleted.id)
        }
        for (client, t) in [(blocked, t1), (deleted, t2)] {
            let r = try h.refresh(client, t.json["refresh_token"]?.stringValue ?? "")
            #expect(r.status == 401)
            #expect(r.json["error"]?.stringValue == "invalid_client")
            #expect(try !h.gatewayAccepts(t.json["access_token"]?.stringValue ?? ""))
        }
        let page = try h.get(h.authorizeQuery(blocked, verifier: OAuthHarness.verifier()))
        #expect(page.status == 400 && page.location == nil)
    }

    @Test func tokenParametersInTheQueryStringAreIgnored() throws {
        let h = try OAuthHarness()
        try h.user()
        let c = try h.code(try h.registerClient())
        let query = FormURLEncoding.encode([("grant_type", "authorization_code"), ("code", c.code), ("code_verifier", c.verifier),
                                            ("client_id", c.client.id), ("redirect_uri", c.client.redirectURI)].map { (name: $0.0, value: $0.1) })
        let r = try h.send("POST", "/oauth/token?" + query, headers: [("Content-Type", "application/x-www-form-urlencoded")])
        #expect(r.status == 400)
        #expect(r.json["error"]?.stringValue == "invalid_request")
        #expect(try h.exchange(c.client, code: c.code, verifier: c.verifier).status == 200, "the code was not consumed")
    }

    @Test func malformedTokenRequestsAreRefusedWithRFC6749Errors() throws {
        let h = try OAuthHarness()
        let client = try h.registerClient()
        let twice = try h.postForm("/oauth/token", [("grant_type", "refresh_token"), ("grant_type", "authorization_code"), ("client_id", client.id)])
        #expect(twice.json["error"]?.stringValue == "invalid_request")
        for grant in ["client_credentials", "password", "implicit", "urn:ietf:params:oauth:grant-type:device_code"] {
            let r = try h.postForm("/oauth/token", [("grant_type", grant), ("client_id", client.id)])
            #expect(r.json["error"]?.stringValue == "unsupported_grant_type")
            #expect(r.headers["Cache-Control"] == "no-store")
        }
        let json = try h.postJSON("/oauth/token", .object([("grant_type", "refresh_token")]))
        #expect(json.json["error"]?.stringValue == "invalid_request")
        let get = try h.get("/oauth/token")
        #expect(get.status == 405)
        let unknownClient = try h.postForm("/oauth/token", [("grant_type", "refresh_token"), ("refresh_token", "x"), ("client_id", "client_nope")])
        #expect(unknownClient.status == 401 && unknownClient.json["error"]?.stringValue == "invalid_client")
    }

    @Test func disabledUserCannotRedeemOrRefresh() throws {
        let h = try OAuthHarness()
        try h.user()
        let client = try h.registerClient()
        let c = try h.code(client)
        let t = try h.obtainTokens(client)
        try h.store { _ = try Users(store: $0).disable(email: "alice@example.com") }
        #expect(try h.exchange(client, code: c.code, verifier: c.verifier).json["error"]?.stringValue == "invalid_grant")
        #expect(try h.refresh(client, t.json["refresh_token"]?.stringValue ?? "").json["error"]?.stringValue == "invalid_grant")
        #expect(try !h.gatewayAccepts(t.json["access_token"]?.stringValue ?? ""))
    }

    @Test func revokingEverythingAUserHoldsKillsOAuthTokensAndConsents() throws {
        let h = try OAuthHarness()
        try h.user()
        let client = try h.registerClient()
        let t = try h.obtainTokens(client)
        let n = try h.store { try Tokens(store: $0).revokeAll(email: "alice@example.com") }
        #expect(n == 2)
        #expect(try !h.gatewayAccepts(t.json["access_token"]?.stringValue ?? ""))
        #expect(try h.refresh(client, t.json["refresh_token"]?.stringValue ?? "").json["error"]?.stringValue == "invalid_grant")
        let consents = try h.store { try $0.db.first("SELECT COUNT(*) AS n FROM consents")?.int("n") }
        #expect(consents == 0)
    }
}
