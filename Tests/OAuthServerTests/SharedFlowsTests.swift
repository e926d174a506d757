import Foundation
import HTTP
import MCPAuth
import Testing

/// Two servers on one store with one public URL, as replicas behind a load balancer: a browser flow begun
/// on one goes on at the other without sticky sessions, and still works only once and only in its browser.
@Suite struct SharedFlowsTests {
    let a: OAuthHarness
    let b: OAuthHarness

    init() throws {
        a = try OAuthHarness()
        let issuer = a.issuer
        b = try OAuthHarness(reopening: a) { $0.publicURL = issuer }
        _ = try a.user()
    }

    /// `browser`'s cookies, carried to a browser of the other server (the same browser, another replica).
    func moved(_ browser: Browser, to h: OAuthHarness) -> Browser {
        let other = Browser(h)
        other.cookies = browser.cookies
        return other
    }

    @Test func anAuthorizationBegunOnOneReplicaIsSignedInConsentedAndRedeemedOnTheOther() throws {
        let client = try a.registerClient()
        let verifier = OAuthHarness.verifier()
        let onA = Browser(a)
        let page = try onA.get(a.authorizeQuery(client, verifier: verifier))
        try #require(page.status == 200 && page.text.contains("name=\"password\""), "\(page.status) \(page.text)")

        let onB = moved(onA, to: b)
        let consent = try onB.login(page)
        try #require(consent.status == 200 && consent.text.contains("decision"), "\(consent.status) \(consent.text)")
        let decided = try onB.decide(consent)
        let code = try #require(decided.redirectParams["code"], "\(decided.status) \(decided.location ?? "")")
        #expect(try a.exchange(client, code: code, verifier: verifier).status == 200)

        // The transaction ended on B: its page is gone on A too.
        let tx = try #require(Browser.hidden("tx", in: page.text))
        #expect(try moved(onB, to: a).get("/oauth/authorize?tx=" + tx).status == 403)
    }

    @Test func aTransactionOfAnotherBrowserIsRefusedOnEveryReplica() throws {
        let client = try a.registerClient()
        let onA = Browser(a)
        let page = try onA.get(a.authorizeQuery(client, verifier: OAuthHarness.verifier()))
        let tx = try #require(Browser.hidden("tx", in: page.text))
        let csrf = try #require(Browser.hidden("csrf", in: page.text))
        let stranger = Browser(b)
        let posted = try stranger.post([("tx", tx), ("csrf", csrf), ("email", "alice@example.com"), ("password", OAuthHarness.password)])
        #expect(posted.status == 403, "another browser cannot use the transaction: \(posted.status)")
        #expect(try stranger.get("/oauth/authorize?tx=" + tx).status == 403)
        // The CSRF token is the browser's own: a forged one fails even with the right cookie.
        let forgedToken = (csrf.hasPrefix("A") ? "B" : "A") + csrf.dropFirst()
        let forged = try moved(onA, to: b).post([("tx", tx), ("csrf", forgedToken), ("decision", "approve")])
        #expect(forged.status == 403)
        #expect(try moved(onA, to: b).get("/oauth/authorize?tx=" + tx).status == 200, "still live for its browser")
    }
}

/// Single sign-on across two replicas: the provider's callback may reach either.
@Suite struct SharedSSOFlowsTests {
    let a: OAuthHarness
    let b: OAuthHarness
    let idp: FakeProvider

    init() throws {
        a = try OAuthHarness()
        let issuer = a.issuer
        b = try OAuthHarness(reopening: a) { $0.publicURL = issuer }
        idp = try FakeProvider()
        let secretFile = a.dir.appendingPathComponent("secret").path
        try "provider-secret".write(toFile: secretFile, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: secretFile)
        _ = try a.user("alice@example.com", grants: [])
        try a.store { store in
            try IdentityProviders(store: store).add(IdentityProvider(name: "corp", issuer: idp.issuer, clientID: "mcpctl-client",
                clientSecretFile: secretFile, groupsClaim: nil, allowedDomains: ["example.com"], createUsers: false))
        }
    }

    func idToken(nonce: String) -> String {
        let now = Int64(Date().timeIntervalSince1970)
        return FakeProvider.token(.object([("iss", .string(idp.issuer)), ("sub", .string("u1")), ("aud", .string("mcpctl-client")),
                                           ("exp", .int(now + 300)), ("iat", .int(now)), ("nonce", .string(nonce)),
                                           ("email", .string("alice@example.com")), ("email_verified", .bool(true))]))
    }

    @Test func aSignInStartedOnOneReplicaCompletesAtTheOtherOnceAndTheStoreHoldsNoVerifier() throws {
        let onA = SiteBrowser(a)
        let started = try onA.get("/login/sso/corp?next=%2Faccount")
        try #require(started.status == 303, "\(started.status) \(started.text)")
        let query = String(try #require(started.location).split(separator: "?", maxSplits: 1)[1])
        let q = Dictionary(FormURLEncoding.decode(query).map { ($0.name, $0.value) }, uniquingKeysWith: { x, _ in x })
        let state = try #require(q["state"]), nonce = try #require(q["nonce"])

        // Nothing in the store completes the flow: no state, nonce or verifier in any stored value.
        let stored = try a.store { try $0.db.query("SELECT body, address FROM pending_flows") }
        #expect(stored.count == 1)
        for row in stored { for value in [row.string("body"), row.string("address")] {
            #expect(value.map { !$0.contains(state) && !$0.contains(nonce) } ?? true)
        } }

        idp.state.withLock { $0.idToken = idToken(nonce: nonce) }
        let onB = SiteBrowser(b)
        onB.cookies = onA.cookies
        let callback = "/login/sso/corp/callback?code=the-code&state=\(state)"
        let done = try onB.get(callback)
        #expect(done.status == 303 && done.location == "/account", "\(done.status) \(done.text)")
        let verifier = try #require(idp.state.withLock { $0.lastTokenForm }.first { $0.name == "code_verifier" }?.value)
        #expect(PKCE.isWellFormed(verifier) && PKCE.challenge(forVerifier: verifier) == q["code_challenge"])
        #expect(stored.allSatisfy { !($0.string("body") ?? "").contains(verifier) })
        #expect(try onB.get("/account").status == 200)

        let replayed = try onA.get(callback)
        #expect(replayed.status == 400, "a replayed callback finds nothing on the other replica either")
    }
}

/// Unauthenticated visitors start flows that are written to the store: how fast one visitor may start them
/// is limited before anything is written, and a flow whose client was blocked meanwhile goes no further.
@Suite struct FlowLimitTests {
    @Test func aVisitorStartingFlowsFasterThanAllowedGets429AndNothingMoreIsStored() throws {
        let h = try OAuthHarness { $0.flowBurst = 3; $0.flowsPerMinute = 1 }
        _ = try h.user()
        let client = try h.registerClient()
        var statuses: [Int] = []
        for _ in 0..<6 { statuses.append(try Browser(h).get(h.authorizeQuery(client, verifier: OAuthHarness.verifier())).status) }
        #expect(statuses == [200, 200, 200, 429, 429, 429], "\(statuses)")
        let refused = try Browser(h).get(h.authorizeQuery(client, verifier: OAuthHarness.verifier()))
        #expect(Int(refused.headers["Retry-After"] ?? "") ?? 0 > 0)
        #expect(try h.store { try $0.db.first("SELECT COUNT(*) AS n FROM pending_flows")?.int("n") } == 3)
    }

    @Test func aClientBlockedWhileItsAuthorizationWaitsGetsNoCode() throws {
        let h = try OAuthHarness()
        _ = try h.user()
        let client = try h.registerClient()
        let browser = Browser(h)
        let page = try browser.get(h.authorizeQuery(client, verifier: OAuthHarness.verifier()))
        let consent = try browser.login(page)
        try #require(consent.status == 200 && consent.text.contains("decision"))
        _ = try h.store { try Clients(store: $0).block(client.id) }
        let decided = try browser.decide(consent)
        #expect(decided.status == 403 && decided.redirectParams["code"] == nil, "\(decided.status) \(decided.location ?? "")")
    }
}
