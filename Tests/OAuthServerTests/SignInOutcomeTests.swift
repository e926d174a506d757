import Foundation
import HTTP
import MCPAuth
import OAuthServer
import Synchronization
import Testing

/// Every sign-in attempt reports how it ended through `OAuthConfiguration.onSignIn` (what `serve` counts in
/// `mcpctl_sign_ins_total`): inside the authorization flow and at single sign-on, not only on /login.
@Suite struct SignInOutcomeTests {
    final class Outcomes: Sendable {
        let seen = Mutex<[String]>([])
        func record(_ outcome: String, _ method: String) { seen.withLock { $0.append("\(outcome) \(method)") } }
        var all: [String] { seen.withLock { $0 } }
    }

    @Test func aPasswordSignInInsideTheAuthorizationFlowReportsAFailureAndASuccess() throws {
        let outcomes = Outcomes()
        let h = try OAuthHarness { $0.onSignIn = { outcomes.record($0, $1) } }
        _ = try h.user()
        let client = try h.registerClient()
        let browser = Browser(h)
        let page = try browser.get(h.authorizeQuery(client, verifier: OAuthHarness.verifier()))
        #expect(try browser.postLogin(page, password: "not the password").status == 303)
        _ = try browser.authorize(h.authorizeQuery(client, verifier: OAuthHarness.verifier()))
        #expect(outcomes.all == ["failure password", "success password"])
    }

    @Test func anEmptyFormIsNoSignInAttempt() throws {
        let outcomes = Outcomes()
        let h = try OAuthHarness { $0.onSignIn = { outcomes.record($0, $1) } }
        _ = try h.user()
        let client = try h.registerClient()
        let browser = Browser(h)
        let page = try browser.get(h.authorizeQuery(client, verifier: OAuthHarness.verifier()))
        #expect(try browser.postLogin(page, email: "", password: "").status == 303)
        #expect(outcomes.all.isEmpty)
    }

    @Test func aSingleSignOnReportsASuccessAndARefusedIDTokenAFailure() throws {
        let outcomes = Outcomes()
        let h = try OAuthHarness { $0.onSignIn = { outcomes.record($0, $1) } }
        let idp = try FakeProvider()
        let secretFile = h.dir.appendingPathComponent("secret").path
        try "provider-secret".write(toFile: secretFile, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: secretFile)
        _ = try h.user("alice@example.com", grants: [])
        try h.store { store in
            try IdentityProviders(store: store).add(IdentityProvider(name: "corp", issuer: idp.issuer, clientID: "mcpctl-client",
                clientSecretFile: secretFile, allowedDomains: ["example.com"], createUsers: false))
        }
        func signIn(nonceOf: (String) -> String) throws -> Int {
            let browser = SiteBrowser(h)
            let start = try browser.get("/login/sso/corp?next=%2Faccount")
            let query = String((start.location ?? "").split(separator: "?", maxSplits: 1).last ?? "")
            let q = Dictionary(FormURLEncoding.decode(query).map { ($0.name, $0.value) }, uniquingKeysWith: { a, _ in a })
            let (state, nonce) = (try #require(q["state"]), try #require(q["nonce"]))
            let now = Int64(Date().timeIntervalSince1970)
            let claims: JSON = .object([("iss", .string(idp.issuer)), ("sub", "u1"), ("aud", "mcpctl-client"), ("exp", .int(now + 300)),
                                        ("iat", .int(now)), ("nonce", .string(nonceOf(nonce))), ("email", "alice@example.com"), ("email_verified", true)])
            idp.state.withLock { $0.idToken = FakeProvider.token(claims) }
            return try browser.get("/login/sso/corp/callback?code=the-code&state=\(state)").status
        }
        #expect(try signIn { $0 } == 303)
        #expect(try signIn { _ in "another nonce" } == 403)
        #expect(outcomes.all == ["success sso", "failure sso"])
    }
}
