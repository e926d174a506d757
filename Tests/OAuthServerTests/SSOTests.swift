import Foundation
import HTTP
import MCPAuth
import Synchronization
import Testing

/// An RSA key pair for tests only: signs JWS RS256 (RFC 7518 §3.3, RSASSA-PKCS1-v1_5 with SHA-256) with
/// the private exponent, so the fake provider below can issue ID tokens of any shape.
struct TestRSAKey {
    let n: BigUInt
    let d: BigUInt

    init(n: String, d: String) {
        self.n = BigUInt(hex: n)!
        self.d = BigUInt(hex: d)!
    }

    /// RFC 8017 §8.2.1 RSASSA-PKCS1-V1_5-SIGN with the EMSA-PKCS1-v1_5 encoding of §9.2.
    func sign(_ message: [UInt8]) -> [UInt8] {
        let k = n.byteWidth
        let t: [UInt8] = [0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00, 0x04, 0x20]
            + SHA256.hash(message)
        let em: [UInt8] = [0x00, 0x01] + [UInt8](repeating: 0xff, count: k - t.count - 3) + [0x00] + t
        return MontgomeryModulus(n)!.power(BigUInt(bigEndian: em), d).bigEndianBytes(count: k)!
    }

    func jwk(kid: String) -> String {
        #"{"kty":"RSA","kid":"\#(kid)","use":"sig","alg":"RS256","n":"\#(Base64URL.encode(n.bigEndianBytes(count: n.byteWidth)!))","e":"AQAB"}"#
    }

    static let provider = TestRSAKey(n: "9602a41d598711800a08bfc5b4c475f70740bbc6100b990b72b2244523b1c95e5bc933ca3799d713e2bac58eeec71731b4d827ccf868a9252992b3d5b2e2b29443b9d8e747a8c60b5c480bb466e286b2de5be37484948c014de3660e11ca6a9b1079f473bc1e7992ecef2794a9e8f3004223cf46a34e8f3a7b2b0b13fa7fee9fa399289a38273799fcdb4bc304666ee69fcac7849e8cc0867de1e227aa67417fd16b2f1345f64957b5acc3c897dbce8e4d9a0634e7d17b53be2ec70763fdca20a11a85838eb80b098cf94469354e5483696f4a0c3e01df7780e9103b3f869a89540b5a9e6e4ffb5d7332de57719824e92b0bdbc531222e8cfe31408356b78631",
                                   d: "40d12c53683335eb12aadc1e13b10dddaabb1c4784f855ed3de65e48a79732d0bc2d305d10703f201f081fc3d6459d2e839b207b6edc5e35aa04730303d3f3609ff0e6196cfbae730b31302987891ab59fe1a962d7c48dc8247cfcc45888934ea42c65e53a241ad8d2dab54a05ae9b8d018712914d8fecd05296f326f346a2f69b0952653290ef18f4c40970f8e59adc4adfdd9ea8f8cc5dbe2b355d5cd7e98dcd3b857172ea4dd07967e85a5c1f88dfabcc9a79ff3c4a5bb3924a62cd5183c23ae6830a8f9047912ba7ffa026c9775a4ed0120ed9bcc9f48fae36fd30e2e0a5308ea243cd9aafb9d01dbcf797ecbbe2817fb4568af3acd4e9124598be6261df")
    static let attacker = TestRSAKey(n: "9a473c67ae902f9151ed096974b710cb78098a8767a4e3bb6f1b3941b3fabe17671e5c12d86f913ff0a5c26cf204e40f2f81afd126af6944bc5796bd54c5d321e13ca0f92514b5a8357d07dc3cacdc51eaeff62709edc0057f34590505e555c42e43b56c1c325ef5318d6531dad9f6327044b318b8ba5220936b242918fb444d1f6b14cba0701b2bdd255f77406b18e43037c8c5351f5295006f17a8fbf73f138e5a97e977cb1ed58d2b250fbb0dcc37291878dbc5c43e7cc432266913182b5ed382aad00dbc6cc88c8c50118a114035b23cfbe4f2a09b6b09ff08c9f01ad89542d1cdee332605ead19e2f494f4df4992d52858ab859e13cea9ebec33ff9d5cf",
                                   d: "785a3cccc582a0ea9dd75372d392d4d71718b59c98fdff51a66ad415613d984db556a11038cee0d913e94e760288dc5179bc298f96da493da1aef259a8cd394b764dd4138151977adb52fd63343b078b44f73fbdb8dfe2b73b45308db49425c0ef8a9da79e2343e1e8a86f830d892aa7e114d423f71f66edf38a673b2d67427353439ad0dc944d72925d21b1dd18eff5c3be3c8f478c24fae0fd34e3a81cf76bfbd9acf572c588abce61ddca0e6ddfdd4cfdbfb228082d44d1fdb28b7e76df5f1cda3538343e28641b025bb340e435173741aa2d302f13ad1fc3664656d21199b4e979e2cf660ebc416389c8f9db6ddec629dd3213e66e3ba01cbb446572d")
}

/// A fake OpenID provider on a loopback port: discovery, a JWKS with one key (`k1`), and a token endpoint
/// that answers with whatever ID token the test set. Counts what it was asked.
final class FakeProvider: @unchecked Sendable {
    struct State {
        var idToken = ""
        var discoveryIssuer: String?
        var tokenRequests = 0
        var jwksFetches = 0
        var lastTokenForm: [(name: String, value: String)] = []
        var lastAuthorization: String?
        /// The JWKs published (default: the provider key as `k1`).
        var jwks: [String]?
    }
    let state = Mutex(State())
    let http: HTTPServer
    let issuer: String

    init() throws {
        let box = Mutex<FakeProvider?>(nil)
        http = HTTPServer(configuration: HTTPServerConfiguration(host: "127.0.0.1", port: 0)) { request in
            box.withLock { $0 }?.answer(request) ?? HTTPResponse.text("no", status: 404)
        }
        issuer = "http://127.0.0.1:\(try http.start())/idp"
        box.withLock { $0 = self }
    }

    deinit { http.shutdown(gracePeriod: 1) }

    func answer(_ request: HTTPRequest) -> HTTPResponse {
        switch request.path {
        case "/idp/.well-known/openid-configuration":
            let iss = state.withLock { $0.discoveryIssuer } ?? issuer
            return .json(Array(#"{"issuer":"\#(iss)","authorization_endpoint":"\#(issuer)/authorize","token_endpoint":"\#(issuer)/token","jwks_uri":"\#(issuer)/jwks","token_endpoint_auth_methods_supported":["client_secret_basic"]}"#.utf8))
        case "/idp/jwks":
            state.withLock { $0.jwksFetches += 1 }
            let keys = state.withLock { $0.jwks } ?? [TestRSAKey.provider.jwk(kid: "k1")]
            return .json(Array(#"{"keys":[\#(keys.joined(separator: ","))]}"#.utf8))
        case "/idp/token":
            return state.withLock { s in
                s.tokenRequests += 1
                s.lastTokenForm = FormURLEncoding.decode(request.body)
                s.lastAuthorization = request.headers["Authorization"]
                return .json(Array(#"{"access_token":"at","token_type":"Bearer","id_token":"\#(s.idToken)"}"#.utf8))
            }
        default:
            return .text("not found", status: 404)
        }
    }

    /// A compact JWS of `claims` with `header`, signed by `key` (nil: no signature at all).
    static func token(_ claims: JSON, header: String = #"{"alg":"RS256","kid":"k1"}"#, key: TestRSAKey? = .provider) -> String {
        let input = Base64URL.encode(Array(header.utf8)) + "." + Base64URL.encode(Array(claims.encoded().utf8))
        return input + "." + (key.map { Base64URL.encode($0.sign(Array(input.utf8))) } ?? "")
    }
}

/// Single sign-on against the fake provider: each attack on the ID token or the flow is performed and
/// must end in a refusal page, an audit row with source `sso`, no session and nothing created.
@Suite struct SSOTests {
    let h: OAuthHarness
    let idp: FakeProvider
    let secretFile: String

    init() throws {
        h = try OAuthHarness { $0.loginLimits = LoginThrottle.Limits(perAccount: 50, perAddress: 50, windowSeconds: 900) }
        idp = try FakeProvider()
        secretFile = h.dir.appendingPathComponent("secret").path
        try "provider-secret".write(toFile: secretFile, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: secretFile)  // a secret only its owner may read
        _ = try h.user("alice@example.com", grants: [])
        try h.store { store in
            try IdentityProviders(store: store).add(IdentityProvider(name: "corp", issuer: idp.issuer, clientID: "mcpctl-client",
                clientSecretFile: secretFile, groupsClaim: "groups", allowedDomains: ["example.com"], createUsers: true))
            try Groups(store: store).add(name: "eng", idpGroup: "eng")
        }
    }

    /// Claims of a good ID token for `email`, with the nonce of the sign-in.
    func claims(nonce: String, email: String = "alice@example.com", _ change: (inout [(String, JSON)]) -> Void = { _ in }) -> JSON {
        let now = Int64(Date().timeIntervalSince1970)
        var c: [(String, JSON)] = [("iss", .string(idp.issuer)), ("sub", .string("sub-" + email)), ("aud", .string("mcpctl-client")),
                                   ("exp", .int(now + 300)), ("iat", .int(now)), ("nonce", .string(nonce)),
                                   ("email", .string(email)), ("email_verified", .bool(true)), ("groups", .array([.string("eng")]))]
        change(&c)
        return .object(c)
    }

    /// Starts a sign-in in `browser`: the state and nonce the provider was sent.
    func start(_ browser: SiteBrowser) throws -> (state: String, nonce: String) {
        let r = try browser.get("/login/sso/corp?next=%2Faccount")
        try #require(r.status == 303, "\(r.status) \(r.text)")
        let location = try #require(r.location)
        #expect(location.hasPrefix(idp.issuer + "/authorize?"))
        let q = Dictionary(FormURLEncoding.decode(String(location.split(separator: "?", maxSplits: 1)[1])).map { ($0.name, $0.value) },
                           uniquingKeysWith: { a, _ in a })
        #expect(q["code_challenge_method"] == "S256" && q["response_type"] == "code" && q["client_id"] == "mcpctl-client")
        #expect(q["redirect_uri"] == h.issuer + "/login/sso/corp/callback")
        return (try #require(q["state"]), try #require(q["nonce"]))
    }

    /// The provider's answer comes back with `idToken`; the callback's reply.
    func finish(_ browser: SiteBrowser, state: String, idToken: String) throws -> Reply {
        idp.state.withLock { $0.idToken = idToken }
        return try browser.get("/login/sso/corp/callback?code=the-code&state=\(state)")
    }

    func ssoDenials() throws -> [String] {
        var f = AuditFilter()
        f.source = .sso
        return try h.store { try AuditQuery.list(f, limit: 100, db: $0.db) }
            .filter { $0.value("decision").string == "deny" }.compactMap { $0.value("reason").string }
    }

    func userCount() throws -> Int { try h.store { try Users(store: $0).list().count } }

    /// Performs one attack with a fresh sign-in: refused with a page, audited with `reason`, nothing made.
    func expectRefused(_ reason: String, sourceLocation: SourceLocation = #_sourceLocation,
                       _ token: (_ nonce: String) -> String) throws {
        let browser = SiteBrowser(h)
        let (state, nonce) = try start(browser)
        let users = try userCount()
        let r = try finish(browser, state: state, idToken: token(nonce))
        #expect(r.status == 403 && r.text.contains("Sign-in refused"), "\(r.status) \(r.text)", sourceLocation: sourceLocation)
        #expect(r.headers.values(for: "Set-Cookie").allSatisfy { !$0.hasPrefix("mcpctl_session=") || $0.contains("Max-Age=0") },
                sourceLocation: sourceLocation)
        let denials = try ssoDenials()
        #expect(denials.contains(reason), "\(denials)", sourceLocation: sourceLocation)
        #expect(try userCount() == users, "nothing created", sourceLocation: sourceLocation)
        #expect(try browser.get("/account").status == 303, "not signed in", sourceLocation: sourceLocation)
    }

    @Test func aGoodIDTokenSignsInWithTheSameSessionAsThePasswordFormAndFollowsGroups() throws {
        let browser = SiteBrowser(h)
        let (state, nonce) = try start(browser)
        let r = try finish(browser, state: state, idToken: FakeProvider.token(claims(nonce: nonce)))
        #expect(r.status == 303 && r.location == "/account", "\(r.status) \(r.text)")
        #expect(try browser.get("/account").status == 200)
        #expect(try h.store { try Groups(store: $0).members(of: "eng").map(\.email) } == ["alice@example.com"])
        let sent = idp.state.withLock { $0 }
        #expect(sent.lastTokenForm.contains { $0.name == "code_verifier" && PKCE.isWellFormed($0.value) })
        #expect(sent.lastAuthorization == "Basic " + Data("mcpctl-client:provider-secret".utf8).base64EncodedString(), "client_secret_basic")
    }

    @Test func aSignatureByAnotherKeyIsRefused() throws {
        try expectRefused("ID token: JWT signature invalid") { FakeProvider.token(claims(nonce: $0), key: .attacker) }
    }

    @Test func anExpiredIDTokenIsRefused() throws {
        try expectRefused("ID token: JWT expired") { nonce in
            FakeProvider.token(claims(nonce: nonce) { c in c[3] = ("exp", .int(Int64(Date().timeIntervalSince1970) - 3600)) })
        }
    }

    @Test func anIDTokenForAnotherClientIsRefused() throws {
        try expectRefused("ID token: JWT audience mismatch") { nonce in FakeProvider.token(claims(nonce: nonce) { c in c[2] = ("aud", .string("someone-else")) }) }
    }

    @Test func severalAudiencesWithoutThisClientAsAzpAreRefused() throws {
        try expectRefused("ID token: azp missing or not this client") { nonce in
            FakeProvider.token(claims(nonce: nonce) { c in c[2] = ("aud", .array([.string("mcpctl-client"), .string("other")])) })
        }
    }

    @Test func anIDTokenFromAnotherIssuerIsRefused() throws {
        try expectRefused("ID token: JWT issuer mismatch") { nonce in FakeProvider.token(claims(nonce: nonce) { c in c[0] = ("iss", .string("https://evil.example")) }) }
    }

    @Test func algNoneIsRefused() throws {
        try expectRefused("ID token: JWT alg none not accepted") { nonce in
            FakeProvider.token(claims(nonce: nonce), header: #"{"alg":"none"}"#, key: nil)
        }
    }

    @Test("HS256 with the provider's public key as the HMAC secret is refused")
    func hmacWithThePublicKeyIsRefused() throws {
        try expectRefused("ID token: JWT alg HS256 not accepted") { nonce in
            let header = #"{"alg":"HS256","kid":"k1"}"#
            let input = Base64URL.encode(Array(header.utf8)) + "." + Base64URL.encode(Array(claims(nonce: nonce).encoded().utf8))
            let secret = Array(TestRSAKey.provider.jwk(kid: "k1").utf8)
            return input + "." + Base64URL.encode(HMAC.sha256(key: secret, message: Array(input.utf8)))
        }
    }

    @Test func aKeyIDUnknownToTheProvidersJWKSIsRefused() throws {
        try expectRefused("ID token: JWT key id unknown to the issuer's JWKS") { nonce in
            FakeProvider.token(claims(nonce: nonce), header: #"{"alg":"RS256","kid":"k9"}"#, key: .attacker)
        }
    }

    @Test func aWrongOrMissingNonceIsRefused() throws {
        try expectRefused("ID token: nonce mismatch") { _ in FakeProvider.token(claims(nonce: "not-the-nonce")) }
        try expectRefused("ID token: nonce missing") { nonce in FakeProvider.token(claims(nonce: nonce) { c in c.remove(at: 5) }) }
    }

    @Test func anUnverifiedEmailOrADisallowedDomainIsRefusedAndCreatesNobody() throws {
        try expectRefused("email not verified by the provider") { nonce in
            FakeProvider.token(claims(nonce: nonce, email: "new@example.com") { c in c[7] = ("email_verified", .bool(false)) })
        }
        try expectRefused("email domain not allowed") { nonce in FakeProvider.token(claims(nonce: nonce, email: "eve@example.com.evil.test")) }
        #expect(try h.store { try Groups(store: $0).members(of: "eng") }.isEmpty)
    }

    @Test func aReplayedStateOrOneFromAnotherBrowserIsRefused() throws {
        let browser = SiteBrowser(h)
        let (state, nonce) = try start(browser)
        let first = try finish(browser, state: state, idToken: FakeProvider.token(claims(nonce: nonce)))
        #expect(first.status == 303)
        let replay = try browser.get("/login/sso/corp/callback?code=the-code&state=\(state)")
        #expect(replay.status == 400 && replay.text.contains("Sign-in refused"))

        let victim = SiteBrowser(h)
        let (stolen, _) = try start(victim)
        let attacker = SiteBrowser(h)
        let r = try attacker.get("/login/sso/corp/callback?code=the-code&state=\(stolen)")
        #expect(r.status == 400)
        // Taken out by the attempt: the victim's own callback no longer works either.
        #expect(try victim.get("/login/sso/corp/callback?code=the-code&state=\(stolen)").status == 400)
        #expect(idp.state.withLock { $0.tokenRequests } == 1, "no code was exchanged for a refused state")
        #expect(try ssoDenials().filter { $0.hasPrefix("state unknown") }.count == 3)
    }

    @Test func aDiscoveryDocumentNamingAnotherIssuerStopsTheSignIn() throws {
        idp.state.withLock { $0.discoveryIssuer = "https://evil.example" }
        let r = try SiteBrowser(h).get("/login/sso/corp")
        #expect(r.status == 502 && r.text.contains("another issuer"))
        #expect(r.location == nil)
    }

    @Test func anErrorFromTheProviderIsShownEscaped() throws {
        let browser = SiteBrowser(h)
        let (state, _) = try start(browser)
        let r = try browser.get("/login/sso/corp/callback?state=\(state)&error=%3Cscript%3Ealert(1)%3C%2Fscript%3E")
        #expect(r.status == 403 && !r.text.contains("<script>alert"), "\(r.text)")
        #expect(r.text.contains("&lt;script&gt;"))
    }

    @Test func refusedSignInsCountTowardTheLoginThrottle() throws {
        let h = try OAuthHarness { $0.loginLimits = LoginThrottle.Limits(perAccount: 5, perAddress: 3, windowSeconds: 900) }
        let idp = try FakeProvider()
        let secret = h.dir.appendingPathComponent("secret").path
        try "s".write(toFile: secret, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: secret)  // a secret only its owner may read
        _ = try h.user("alice@example.com", grants: [])
        try h.store { try IdentityProviders(store: $0).add(IdentityProvider(name: "corp", issuer: idp.issuer, clientID: "mcpctl-client", clientSecretFile: secret)) }
        for _ in 0..<3 {
            #expect(try SiteBrowser(h).get("/login/sso/corp/callback?code=x&state=forged").status == 400)
        }
        let browser = SiteBrowser(h)
        let r = try browser.get("/login/sso/corp")
        let location = try #require(r.location)
        let q = Dictionary(FormURLEncoding.decode(String(location.split(separator: "?", maxSplits: 1)[1])).map { ($0.name, $0.value) },
                           uniquingKeysWith: { a, _ in a })
        let now = Int64(Date().timeIntervalSince1970)
        idp.state.withLock { $0.idToken = FakeProvider.token(.object([
            ("iss", .string(idp.issuer)), ("aud", .string("mcpctl-client")), ("exp", .int(now + 300)), ("iat", .int(now)),
            ("nonce", .string(q["nonce"] ?? "")), ("email", .string("alice@example.com")), ("email_verified", .bool(true))])) }
        let signIn = try browser.get("/login/sso/corp/callback?code=x&state=\(q["state"] ?? "")")
        #expect(signIn.status == 429 && signIn.headers["Retry-After"] != nil, "\(signIn.status)")
    }

    @Test func aRotatedKeyIsFetchedOnceOnItsUnknownKidAndAKidThatStaysUnknownIsRefused() throws {
        let issuer = "https://idp.example"
        let provider = IdentityProvider(name: "corp", issuer: issuer, clientID: "mcpctl-client", clientSecretFile: "/dev/null")
        let published = Mutex([TestRSAKey.provider.jwk(kid: "k1")])
        let jwksFetches = Mutex(0)
        let fetch: JWKSCache.Fetch = { url in
            if url.hasSuffix("/jwks") {
                jwksFetches.withLock { $0 += 1 }
                return Array(#"{"keys":[\#(published.withLock { $0.joined(separator: ",") })]}"#.utf8)
            }
            return Array(#"{"issuer":"\#(issuer)","jwks_uri":"\#(issuer)/jwks"}"#.utf8)
        }
        let cache = JWKSCache(issuer: issuer)
        let login = OIDCLogin(provider: provider)
        let t0 = Clock.nowMillis()
        func token(_ kid: String, _ key: TestRSAKey) -> String {
            let now = t0 / 1000
            return FakeProvider.token(.object([("iss", .string(issuer)), ("aud", .string("mcpctl-client")), ("exp", .int(now + 300)),
                                               ("iat", .int(now)), ("nonce", .string("n"))]), header: #"{"alg":"RS256","kid":"\#(kid)"}"#, key: key)
        }
        #expect((try? login.verify(token("k1", .provider), nonce: "n", keys: cache, now: t0, fetch: fetch).get()) != nil)
        // The provider rotates to k2; the first token naming it makes the cache fetch the JWKS again, once.
        published.withLock { $0.append(TestRSAKey.attacker.jwk(kid: "k2")) }
        #expect((try? login.verify(token("k2", .attacker), nonce: "n", keys: cache, now: t0 + 6_000, fetch: fetch).get()) != nil)
        #expect(jwksFetches.withLock { $0 } == 2)
        // A kid nobody publishes: one more fetch, then refused.
        let unknown = login.verify(token("k3", .attacker), nonce: "n", keys: cache, now: t0 + 12_000, fetch: fetch)
        #expect(throws: SSORefusal.self) { try unknown.get() }
        #expect(jwksFetches.withLock { $0 } == 3)
        // Tokens with made-up kids in a burst do not make it hammer the provider.
        for i in 0..<5 { _ = login.verify(token("x\(i)", .attacker), nonce: "n", keys: cache, now: t0 + 12_500, fetch: fetch) }
        #expect(jwksFetches.withLock { $0 } == 3)
    }

    @Test func aNextPointingOffSiteIsIgnoredAndADisabledUserStaysOut() throws {
        let browser = SiteBrowser(h)
        let r = try browser.get("/login/sso/corp?next=%2F%2Fevil.example%2Fphish")
        let location = try #require(r.location)
        let q = Dictionary(FormURLEncoding.decode(String(location.split(separator: "?", maxSplits: 1)[1])).map { ($0.name, $0.value) },
                           uniquingKeysWith: { a, _ in a })
        let done = try finish(browser, state: q["state"] ?? "", idToken: FakeProvider.token(claims(nonce: q["nonce"] ?? "")))
        #expect(done.status == 303 && done.location == "/account", "\(done.status) \(done.location ?? "")")

        _ = try h.store { try Users(store: $0).disable(email: "alice@example.com") }
        try expectRefused("user disabled") { FakeProvider.token(claims(nonce: $0)) }
    }

    /// Signs in through the provider from a sign-in link carrying `next`; where the callback sends the browser.
    func signedInLocation(_ browser: SiteBrowser, next: String) throws -> String? {
        let r = try browser.get("/login/sso/corp?" + FormURLEncoding.encode([(name: "next", value: next)]))
        let location = try #require(r.location, "\(r.status) \(r.text)")
        let q = Dictionary(FormURLEncoding.decode(String(location.split(separator: "?", maxSplits: 1)[1])).map { ($0.name, $0.value) },
                           uniquingKeysWith: { a, _ in a })
        let done = try finish(browser, state: q["state"] ?? "", idToken: FakeProvider.token(claims(nonce: q["nonce"] ?? "")))
        #expect(done.status == 303, "\(done.status) \(done.text)")
        return done.location
    }

    /// An authorization begun in `browser`: its transaction id.
    func beginAuthorization(_ browser: SiteBrowser) throws -> String {
        let client = try h.registerClient()
        let page = try browser.get(h.authorizeQuery(client, verifier: OAuthHarness.verifier()))
        return try #require(Browser.hidden("tx", in: page.text), "\(page.status) \(page.text)")
    }

    /// The attack: a sign-in link whose `next` carries the attacker's own authorization (or another
    /// site, or a page that is not one to return to) sends the victim, once signed in, to the account
    /// page only; the victim's own authorization in progress is where its sign-in link returns.
    @Test func aNextCarryingAnotherBrowsersFlowOrAnotherSiteEndsOnTheAccountPage() throws {
        try h.app("notes", "dev")
        _ = try h.store { try Grants(store: $0).add(email: "alice@example.com", app: "notes", env: "dev", scopes: .all) }
        let attackersTx = try beginAuthorization(SiteBrowser(h))
        for next in ["/oauth/authorize?tx=\(attackersTx)", "/oauth/authorize?tx=\(attackersTx)&client_id=x", "/oauth/authorize?tx=nope",
                     "//evil.example/phish", "https://evil.example/", "/\\evil.example", "/login/sso/corp?next=%2F%2Fevil.example",
                     "/oauth/authorize?response_type=code&client_id=x", "/account/../oauth/authorize?response_type=code&client_id=x",
                     "/account/%2e%2e/login", "/admin/./../oauth/authorize?tx=\(attackersTx)"] {
            #expect(try signedInLocation(SiteBrowser(h), next: next) == "/account", "next=\(next)")
        }
        let victim = SiteBrowser(h)
        let own = try beginAuthorization(victim)
        #expect(try signedInLocation(victim, next: "/oauth/authorize?tx=\(own)") == "/oauth/authorize?tx=\(own)")
        let consent = try victim.get("/oauth/authorize?tx=\(own)")
        #expect(consent.status == 200 && consent.text.contains("name=\"decision\""), "\(consent.status) \(consent.text)")
        #expect(try signedInLocation(SiteBrowser(h), next: "/admin/users") == "/admin/users")
    }

    @Test func theSignInPagesOfferTheProvider() throws {
        let page = try SiteBrowser(h).get("/login?next=%2Faccount")
        #expect(page.text.contains("href=\"/login/sso/corp?next=%2Faccount\"") && page.text.contains("Sign in with corp"))
    }
}
