import Foundation
import HTTP
import MCPAuth
import Testing

extension OAuthHarness {
    /// A confidential client registered by an operator (`mcpctl client register --confidential`): a resource server.
    func resourceServer() throws -> RegisteredClient {
        let r = try store { try Clients(store: $0).register(name: "gateway", redirectURIs: ["https://rs.example.com/cb"],
                                                             confidential: true, registration: .cli) }
        return RegisteredClient(id: r.record.clientID, secret: r.secret, redirectURI: "https://rs.example.com/cb")
    }

    func introspect(_ token: String, as caller: RegisteredClient?, headers: [(String, String)] = [], hint: String? = nil) throws -> Reply {
        var fields = [("token", token)]
        if let hint { fields.append(("token_type_hint", hint)) }
        var h = headers
        if let caller, let secret = caller.secret { h.append(basic(caller.id, secret)) }
        return try postForm("/oauth/introspect", fields, headers: h)
    }

    func revoke(_ token: String, as client: RegisteredClient, hint: String? = nil) throws -> Reply {
        var fields = [("token", token)]
        if let hint { fields.append(("token_type_hint", hint)) }
        var headers: [(String, String)] = []
        if let secret = client.secret { headers.append(basic(client.id, secret)) } else { fields.append(("client_id", client.id)) }
        return try postForm("/oauth/revoke", fields, headers: headers)
    }
}

@Suite struct IntrospectionTests {
    @Test func introspectionRequiresCallerAuthentication() throws {
        let h = try OAuthHarness()
        try h.user()
        let client = try h.registerClient()
        let at = try h.obtainTokens(client).json["access_token"]?.stringValue ?? ""
        let anonymous = try h.introspect(at, as: nil)
        #expect(anonymous.status == 401)
        #expect(anonymous.json["active"] == nil, "nothing about the token leaks")
        let publicClient = try h.postForm("/oauth/introspect", [("token", at), ("client_id", client.id)])
        #expect(publicClient.status == 401)
        let rs = try h.resourceServer()
        let wrong = try h.introspect(at, as: OAuthHarness.RegisteredClient(id: rs.id, secret: "mcp_cs_wrong", redirectURI: ""))
        #expect(wrong.status == 401)
        let ok = try h.introspect(at, as: rs)
        #expect(ok.status == 200)
        #expect(ok.headers["Cache-Control"] == "no-store")
        #expect(ok.json["active"] == .bool(true))
        #expect(ok.json["scope"]?.stringValue == "read write delete")
        #expect(ok.json["client_id"]?.stringValue == client.id)
        #expect(ok.json["username"]?.stringValue == "alice@example.com")
        #expect(ok.json["aud"]?.stringValue == h.resource())
        #expect(ok.json["iss"]?.stringValue == h.issuer)
        #expect((ok.json["exp"]?.intValue ?? 0) > Int64(Date().timeIntervalSince1970))
    }

    @Test func inactiveUnknownMalformedRevokedExpiredAndSpentTokensAllAnswerActiveFalse() throws {
        let h = try OAuthHarness()
        try h.user()
        let client = try h.registerClient()
        let rs = try h.resourceServer()
        let t = try h.obtainTokens(client)
        let rt1 = t.json["refresh_token"]?.stringValue ?? ""
        let t2 = try h.refresh(client, rt1)
        let expiring = try h.obtainTokens(client).json["access_token"]?.stringValue ?? ""
        try h.store { try $0.db.run("UPDATE tokens SET expires_at = ? WHERE secret_hash = ?", [.integer(Clock.nowMillis() - 1), .blob(TokenSecret.hash(expiring))]) }
        let revoked = try h.obtainTokens(client).json["access_token"]?.stringValue ?? ""
        #expect(try h.revoke(revoked, as: client).status == 200)
        let cases = ["", "garbage", "mcp_at_" + String(repeating: "A", count: 38), TokenSecret.generate(kind: "at"), rt1, expiring, revoked,
                     String(repeating: "x", count: 5000)]
        for token in cases {
            let r = try h.introspect(token, as: rs)
            if token.isEmpty {
                #expect(r.status == 400 && r.json["error"]?.stringValue == "invalid_request")
            } else {
                #expect(r.status == 200, "\(token.prefix(20))")
                #expect(r.json == .object([("active", .bool(false))]), "\(token.prefix(20)): \(r.text)")
            }
        }
        #expect(try h.introspect(t2.json["refresh_token"]?.stringValue ?? "", as: rs).json["active"] == .bool(true))
    }

    @Test func personalTokenMayIntrospectOnlyWithTheIntrospectionFlag() throws {
        let h = try OAuthHarness()
        try h.user()
        let at = try h.obtainTokens(try h.registerClient()).json["access_token"]?.stringValue ?? ""
        let pat = try h.store { try Tokens(store: $0).create(email: "alice@example.com", name: "rs", scopes: .read, app: nil, env: nil, lifetimeSeconds: 3600) }
        let refused = try h.introspect(at, as: nil, headers: [("Authorization", "Bearer " + pat.secret)])
        #expect(refused.status == 401)
        try h.store { try TokenIntrospection(store: $0).allow(tokenID: pat.record.id) }
        let allowed = try h.introspect(at, as: nil, headers: [("Authorization", "Bearer " + pat.secret)])
        #expect(allowed.json["active"] == .bool(true))
    }

    @Test func unauthenticatedIntrospectionWhenTheOperatorAllowsIt() throws {
        let h = try OAuthHarness { $0.unauthenticatedIntrospection = true }
        try h.user()
        let at = try h.obtainTokens(try h.registerClient()).json["access_token"]?.stringValue ?? ""
        #expect(try h.introspect(at, as: nil).json["active"] == .bool(true))
        let meta = try h.get("/.well-known/oauth-authorization-server").json
        #expect(meta["introspection_endpoint_auth_methods_supported"]?.arrayValue?.contains("none") == true)
    }

    @Test func selfRegisteredClientSeesOnlyItsOwnTokens() throws {
        let h = try OAuthHarness()
        try h.user()
        let mine = try h.registerClient(name: "mine", authMethod: "client_secret_basic")
        let theirs = try h.registerClient(name: "theirs", redirectURI: "http://127.0.0.1:6666/cb")
        let myToken = try h.obtainTokens(mine).json["access_token"]?.stringValue ?? ""
        let theirToken = try h.obtainTokens(theirs).json["access_token"]?.stringValue ?? ""
        #expect(try h.introspect(myToken, as: mine).json["active"] == .bool(true))
        #expect(try h.introspect(theirToken, as: mine).json == .object([("active", .bool(false))]))
    }

    @Test func introspectionOfInactiveTokensIsThrottled() throws {
        let h = try OAuthHarness { $0.introspectionMissBurst = 5; $0.introspectionMissesPerMinute = 1 }
        let rs = try h.resourceServer()
        var statuses: [Int] = []
        for _ in 0..<7 { statuses.append(try h.introspect(TokenSecret.generate(kind: "at"), as: rs).status) }
        #expect(statuses.prefix(5).allSatisfy { $0 == 200 })
        #expect(statuses.last == 429)
        let r = try h.introspect(TokenSecret.generate(kind: "at"), as: rs)
        #expect(r.headers["Retry-After"] != nil)
    }
}

@Suite struct RevocationTests {
    @Test func revokingAnUnknownOrMalformedTokenAnswers200() throws {
        let h = try OAuthHarness()
        let client = try h.registerClient()
        for token in ["nonsense", TokenSecret.generate(kind: "rt"), TokenSecret.generate(kind: "at")] {
            let r = try h.revoke(token, as: client)
            #expect(r.status == 200)
            #expect(r.headers["Cache-Control"] == "no-store")
        }
        let missing = try h.postForm("/oauth/revoke", [("client_id", client.id)])
        #expect(missing.json["error"]?.stringValue == "invalid_request")
    }

    @Test func revokingARefreshTokenKillsItsFamilyWhateverTheHintSays() throws {
        let h = try OAuthHarness()
        try h.user()
        let client = try h.registerClient()
        let t = try h.obtainTokens(client)
        let t2 = try h.refresh(client, t.json["refresh_token"]?.stringValue ?? "")
        // RFC 7009 §2.1: the hint is wrong on purpose; the search covers every type.
        let r = try h.revoke(t2.json["refresh_token"]?.stringValue ?? "", as: client, hint: "access_token")
        #expect(r.status == 200)
        #expect(try !h.gatewayAccepts(t.json["access_token"]?.stringValue ?? ""))
        #expect(try !h.gatewayAccepts(t2.json["access_token"]?.stringValue ?? ""))
        #expect(try h.refresh(client, t2.json["refresh_token"]?.stringValue ?? "").json["error"]?.stringValue == "invalid_grant")
        // Revoking again is still fine.
        #expect(try h.revoke(t2.json["refresh_token"]?.stringValue ?? "", as: client).status == 200)
    }

    @Test func revokingAnAccessTokenLeavesTheRefreshTokenUsable() throws {
        let h = try OAuthHarness()
        try h.user()
        let client = try h.registerClient()
        let t = try h.obtainTokens(client)
        let at = t.json["access_token"]?.stringValue ?? ""
        #expect(try h.revoke(at, as: client, hint: "refresh_token").status == 200)
        #expect(try !h.gatewayAccepts(at))
        let r = try h.refresh(client, t.json["refresh_token"]?.stringValue ?? "")
        #expect(r.status == 200)
        #expect(try h.gatewayAccepts(r.json["access_token"]?.stringValue ?? ""))
    }

    @Test func revocationByAnotherClientIsRefused() throws {
        let h = try OAuthHarness()
        try h.user()
        let client = try h.registerClient()
        let other = try h.registerClient(name: "other", redirectURI: "http://127.0.0.1:7777/cb")
        let t = try h.obtainTokens(client)
        let r = try h.revoke(t.json["access_token"]?.stringValue ?? "", as: other)
        #expect(r.status == 400)
        #expect(r.json["error"]?.stringValue == "unauthorized_client")
        #expect(try h.gatewayAccepts(t.json["access_token"]?.stringValue ?? ""))
    }

    @Test func confidentialClientMustAuthenticateToRevoke() throws {
        let h = try OAuthHarness()
        try h.user()
        let client = try h.registerClient(authMethod: "client_secret_basic")
        let t = try h.obtainTokens(client)
        let at = t.json["access_token"]?.stringValue ?? ""
        let bare = try h.postForm("/oauth/revoke", [("token", at), ("client_id", client.id)])
        #expect(bare.status == 401)
        #expect(try h.gatewayAccepts(at))
        #expect(try h.revoke(at, as: client).status == 200)
        #expect(try !h.gatewayAccepts(at))
    }
}

@Suite struct QueryStringTests {
    @Test func tokensInTheQueryStringAreIgnoredByIntrospectionAndRevocation() throws {
        let h = try OAuthHarness()
        try h.user()
        let client = try h.registerClient()
        let rs = try h.resourceServer()
        let at = try h.obtainTokens(client).json["access_token"]?.stringValue ?? ""
        let introspect = try h.send("POST", "/oauth/introspect?token=" + at,
                                    headers: [("Content-Type", "application/x-www-form-urlencoded"), h.basic(rs.id, rs.secret ?? "")])
        #expect(introspect.status == 400 && introspect.json["active"] == nil)
        let revoke = try h.send("POST", "/oauth/revoke?token=" + at + "&client_id=" + client.id,
                                headers: [("Content-Type", "application/x-www-form-urlencoded")], body: Array("client_id=\(client.id)".utf8))
        #expect(revoke.status == 400)
        #expect(try h.gatewayAccepts(at), "nothing was revoked")
    }
}

@Suite struct AuditTests {
    @Test func everyOAuthEventIsAuditedWithSourceOAuthAndNoSecret() throws {
        let h = try OAuthHarness()
        try h.user()
        let client = try h.registerClient()
        let browser = Browser(h)
        let verifier = OAuthHarness.verifier()
        var page = try browser.get(h.authorizeQuery(client, verifier: verifier))
        page = try browser.login(page, password: "hunter2-wrong-guess")
        page = try browser.login(page)
        let redirect = try browser.decide(page, untick: ["delete"])
        let code = try #require(redirect.redirectParams["code"])
        let t = try h.exchange(client, code: code, verifier: verifier)
        let rt = t.json["refresh_token"]?.stringValue ?? ""
        let t2 = try h.refresh(client, rt)
        _ = try h.refresh(client, rt)
        _ = try h.revoke(t2.json["access_token"]?.stringValue ?? "", as: client)
        let rows = try h.store { try $0.db.query("SELECT * FROM audit WHERE source = 'oauth' ORDER BY seq") }
        let actions = rows.compactMap { $0.string("action") }
        for expected in ["client.register", "oauth.login", "oauth.consent", "oauth.token", "oauth.refresh", "oauth.refresh_reuse", "oauth.revoke"] {
            #expect(actions.contains(expected), "missing \(expected) in \(actions)")
        }
        #expect(rows.contains { $0.string("action") == "oauth.login" && $0.string("decision") == "deny" })
        #expect(rows.contains { $0.string("action") == "oauth.login" && $0.string("decision") == "allow" && $0.string("email") == "alice@example.com" })
        let everything = try h.store { try $0.db.query("SELECT * FROM audit").map { row in row.values.map { "\($0)" }.joined(separator: "|") }.joined(separator: "\n") }
        for secret in [code, verifier, rt, t.json["access_token"]?.stringValue ?? "", t2.json["refresh_token"]?.stringValue ?? "",
                       OAuthHarness.password, "hunter2-wrong-guess"] {
            #expect(!secret.isEmpty && !everything.contains(secret), "a secret leaked into the audit log: \(secret.prefix(10))")
        }
        #expect(try h.store { try AuditVerifier.verify(db: $0.db) }.ok)
    }
}
