import Foundation
import HTTP
import MCPAuth
import Synchronization
import Testing

/// What one identity provider may decide: only the groups mapped for it, only with the keys it publishes
/// now, only for addresses that are what they look like, and only in the browser that started the sign-in.
/// Each test performs the attack against fake providers on real sockets.
@Suite struct SSOIdentityBoundsTests {
    let h: OAuthHarness
    let corp: FakeProvider
    let partner: FakeProvider
    let secretFile: String

    init() throws {
        h = try OAuthHarness { $0.loginLimits = LoginThrottle.Limits(perAccount: 50, perAddress: 50, windowSeconds: 900) }
        corp = try FakeProvider()
        partner = try FakeProvider()
        secretFile = h.dir.appendingPathComponent("secret").path
        _ = FileManager.default.createFile(atPath: secretFile, contents: Data("provider-secret".utf8), attributes: [.posixPermissions: 0o600])
        _ = try h.user("kim@example.com", grants: [])
        try h.store { store in
            let providers = IdentityProviders(store: store)
            try providers.add(IdentityProvider(name: "corp", issuer: corp.issuer, clientID: "mcpctl-client", clientSecretFile: secretFile, groupsClaim: "groups"))
            try providers.add(IdentityProvider(name: "partner", issuer: partner.issuer, clientID: "mcpctl-client", clientSecretFile: secretFile,
                                               groupsClaim: "groups"))
            try Groups(store: store).add(name: "operators", idpGroup: "mcp-admins", idp: "corp")
            try Grants(store: store).add(group: "operators", app: Apps.builtInApp, env: "*", scopes: .all)
        }
    }

    func idp(_ name: String) -> FakeProvider { name == "corp" ? corp : partner }

    /// One whole sign-in with provider `name` in `browser`; `claims` gets the nonce. The callback's reply.
    func signIn(_ browser: SiteBrowser, with name: String, _ claims: (_ nonce: String) -> JSON) throws -> Reply {
        let r = try browser.get("/login/sso/\(name)?next=%2Faccount")
        try #require(r.status == 303, "\(r.status) \(r.text)")
        let location = try #require(r.location)
        let q = Dictionary(FormURLEncoding.decode(String(location.split(separator: "?", maxSplits: 1)[1])).map { ($0.name, $0.value) },
                           uniquingKeysWith: { a, _ in a })
        let token = FakeProvider.token(claims(try #require(q["nonce"])))
        idp(name).state.withLock { $0.idToken = token }
        return try browser.get("/login/sso/\(name)/callback?code=c&state=\(try #require(q["state"]))")
    }

    func claims(_ name: String, nonce: String, email: String = "kim@example.com", groups: [String]) -> JSON {
        let now = Int64(Date().timeIntervalSince1970)
        return .object([("iss", .string(idp(name).issuer)), ("sub", .string("sub-" + email)), ("aud", .string("mcpctl-client")), ("exp", .int(now + 300)),
                        ("iat", .int(now)), ("nonce", .string(nonce)), ("email", .string(email)), ("email_verified", .bool(true)),
                        ("groups", .array(groups.map { .string($0) }))])
    }

    func operators() throws -> [String] { try h.store { try Groups(store: $0).members(of: "operators").map(\.email) } }

    @Test func anotherProvidersGroupsClaimCannotMakeAUserAnOperator() throws {
        // The partner's realm admins created a group named like corp's operators group.
        let viaPartner = try signIn(SiteBrowser(h), with: "partner") { claims("partner", nonce: $0, groups: ["mcp-admins"]) }
        #expect(viaPartner.status == 303, "the sign-in itself is fine: \(viaPartner.text)")
        #expect(try operators().isEmpty, "partner's groups claim made kim an operator")
        // The provider the mapping trusts does decide it, and the other one cannot undo it either.
        _ = try signIn(SiteBrowser(h), with: "corp") { claims("corp", nonce: $0, groups: ["mcp-admins"]) }
        #expect(try operators() == ["kim@example.com"])
        _ = try signIn(SiteBrowser(h), with: "partner") { claims("partner", nonce: $0, groups: []) }
        #expect(try operators() == ["kim@example.com"])
    }

    @Test func aMappingMustNameItsProviderWhenThereAreSeveralAndGoesWithIt() throws {
        try h.store { store in
            #expect(throws: DomainError.self) { try Groups(store: store).add(name: "eng", idpGroup: "eng") }
            #expect(throws: DomainError.self) { try Groups(store: store).add(name: "eng", idpGroup: "eng", idp: "nobody") }
            #expect(throws: DomainError.self) { try Groups(store: store).add(name: "eng", idp: "corp") }
            try IdentityProviders(store: store).remove("corp")
            let group = try Groups(store: store).require("operators")
            #expect(group.idpGroup == nil && group.idp == nil, "the mapping went with its provider")
        }
        // A provider added again under the old name does not inherit the old mapping.
        try h.store { try IdentityProviders(store: $0).add(IdentityProvider(name: "corp", issuer: corp.issuer, clientID: "mcpctl-client",
                                                                            clientSecretFile: secretFile, groupsClaim: "groups")) }
        _ = try signIn(SiteBrowser(h), with: "corp") { claims("corp", nonce: $0, groups: ["mcp-admins"]) }
        #expect(try operators().isEmpty)
    }

    @Test func aMappingMadeBeforeAnyProviderFollowsTheFirstOneAddedOnly() throws {
        let h = try OAuthHarness()
        try h.store { store in
            try Groups(store: store).add(name: "eng", idpGroup: "eng")
            #expect(try Groups(store: store).require("eng").idp == nil)
            try IdentityProviders(store: store).add(IdentityProvider(name: "corp", issuer: corp.issuer, clientID: "c", clientSecretFile: secretFile))
            try IdentityProviders(store: store).add(IdentityProvider(name: "partner", issuer: partner.issuer, clientID: "c", clientSecretFile: secretFile))
            #expect(try Groups(store: store).require("eng").idp == "corp")
        }
    }

    @Test func aKeyTheProviderWithdrewIsNotTrustedOnceTheProviderIsAddedAgain() throws {
        // A sign-in caches corp's key k1.
        #expect(try signIn(SiteBrowser(h), with: "corp") { claims("corp", nonce: $0, groups: []) }.status == 303)
        // k1 leaked: corp publishes k2 only, and the operator removes and adds the provider again.
        corp.state.withLock { $0.jwks = [TestRSAKey.attacker.jwk(kid: "k2")] }
        try h.store { store in
            try IdentityProviders(store: store).remove("corp")
            try IdentityProviders(store: store).add(IdentityProvider(name: "corp", issuer: corp.issuer, clientID: "mcpctl-client",
                                                                     clientSecretFile: secretFile, groupsClaim: "groups"))
        }
        let fetches = corp.state.withLock { $0.jwksFetches }
        let stolen = try signIn(SiteBrowser(h), with: "corp") { claims("corp", nonce: $0, groups: []) }   // signed with k1
        #expect(stolen.status == 403, "a token signed with the withdrawn key signed in: \(stolen.status)")
        #expect(corp.state.withLock { $0.jwksFetches } > fetches, "the key set was fetched again")
    }

    @Test("An email with a Kelvin sign (U+212A), which lower-cases to 'k', does not sign in as the user with a plain k")
    func aKelvinSignEmailDoesNotPassForTheASCIIAddress() throws {
        let browser = SiteBrowser(h)
        let r = try signIn(browser, with: "corp") { claims("corp", nonce: $0, email: "\u{212A}im@example.com", groups: ["mcp-admins"]) }
        #expect(r.status == 403 && r.text.contains("Sign-in refused"), "\(r.status)")
        #expect(try browser.get("/account").status == 303, "not signed in")
        #expect(try operators().isEmpty)
        #expect(EmailAddress.normalize("\u{212A}im@example.com") == nil)
        #expect(EmailAddress.normalize(" Kim@Example.COM ") == "kim@example.com")
        #expect(EmailAddress.normalize("\u{00A0}kim@example.com") == nil, "no Unicode white space trimmed into an ASCII address")
    }

    @Test func behindHTTPSTheBrowserBindingIsAHostCookieAndAPlantedPlainOneCompletesNothing() throws {
        let h = try OAuthHarness { $0.publicURL = "https://auth.example.com" }
        _ = try h.user("mallory@example.com", grants: [])
        _ = try h.user("victim@example.com", grants: [])
        try h.store { try IdentityProviders(store: $0).add(IdentityProvider(name: "corp", issuer: corp.issuer, clientID: "mcpctl-client",
                                                                            clientSecretFile: secretFile)) }
        // The attacker starts a sign-in of their own account and stops before the callback.
        let attacker = SiteBrowser(h)
        let start = try attacker.get("/login/sso/corp")
        let cookie = try #require(start.headers.values(for: "Set-Cookie").first { $0.hasPrefix("__Host-mcpctl_sso=") }, "\(start.headers)")
        #expect(cookie.contains("Path=/;") && cookie.contains("Secure") && !cookie.contains("Domain"))
        let binding = try #require(attacker.cookies["__Host-mcpctl_sso"])
        let location = try #require(start.location)
        let q = Dictionary(FormURLEncoding.decode(String(location.split(separator: "?", maxSplits: 1)[1])).map { ($0.name, $0.value) },
                           uniquingKeysWith: { a, _ in a })
        let now = Int64(Date().timeIntervalSince1970)
        corp.state.withLock { $0.idToken = FakeProvider.token(.object([
            ("iss", .string(corp.issuer)), ("aud", .string("mcpctl-client")), ("exp", .int(now + 300)), ("iat", .int(now)),
            ("nonce", .string(q["nonce"] ?? "")), ("email", .string("mallory@example.com")), ("email_verified", .bool(true))])) }
        // A sibling subdomain can plant a cookie without the prefix (Domain=.example.com), never a __Host- one.
        let victim = SiteBrowser(h)
        victim.cookies["mcpctl_sso"] = binding
        let r = try victim.get("/login/sso/corp/callback?code=c&state=\(q["state"] ?? "")")
        #expect(r.status == 400, "the victim's browser completed the attacker's sign-in: \(r.status)")
        #expect(!r.headers.values(for: "Set-Cookie").contains { $0.hasPrefix("__Host-mcpctl_session=") && !$0.contains("Max-Age=0") })
    }
}
