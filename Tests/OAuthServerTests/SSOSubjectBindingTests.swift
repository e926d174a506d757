import Foundation
import HTTP
import MCPAuth
import Testing

/// A user's first single sign-on binds the provider's subject (`sub`) to them; from then on only that
/// account at the provider signs them in (OpenID Connect Core 1.0 §5.7: `iss` and `sub` are the stable
/// identifier, an email is not).
@Suite struct SSOSubjectBindingTests {
    let sso: SSOTests
    var h: OAuthHarness { sso.h }

    init() throws { sso = try SSOTests() }

    /// A sign-in in a fresh browser with the claims `change` makes; the callback's reply and the browser.
    func signIn(_ change: @escaping (inout [(String, JSON)]) -> Void = { _ in }) throws -> (Reply, SiteBrowser) {
        let browser = SiteBrowser(h)
        let (state, nonce) = try sso.start(browser)
        return (try sso.finish(browser, state: state, idToken: FakeProvider.token(sso.claims(nonce: nonce, change))), browser)
    }

    func bindings() throws -> [(String, String, Int64)] {
        try h.store { try $0.db.query("SELECT idp, subject, user_id FROM sso_subjects ORDER BY subject") }
            .map { ($0.string("idp") ?? "", $0.string("subject") ?? "", $0.int("user_id") ?? 0) }
    }

    /// The attack: after alice signed in once, another account at the provider names her email (the
    /// address was reassigned, or a provider administrator made an account with it).
    @Test func anotherAccountAtTheProviderNamingABoundUsersEmailIsRefused() throws {
        #expect(try signIn().0.status == 303)
        try sso.expectRefused("alice@example.com is bound to another corp account") { nonce in
            FakeProvider.token(sso.claims(nonce: nonce) { $0[1] = ("sub", .string("someone-else")) })
        }
        #expect(try bindings().map(\.1) == ["sub-alice@example.com"], "the refused account is bound to nobody")
        var f = AuditFilter()
        f.action = "sso.bind"
        let bound = try h.store { try AuditQuery.list(f, limit: 10, db: $0.db) }
        #expect(bound.count == 1 && bound.first?.value("email").string == "alice@example.com", "the first binding is audited")
    }

    @Test func theBoundAccountSignsInItsOwnUserWhateverEmailTheProviderNamesLater() throws {
        #expect(try signIn().0.status == 303)
        _ = try h.user("bob@example.com", grants: [])
        let (reply, browser) = try signIn { $0[6] = ("email", .string("bob@example.com")) }
        #expect(reply.status == 303)
        let page = try browser.get("/account")
        #expect(page.status == 200 && page.text.contains("alice@example.com") && !page.text.contains("bob@example.com"))
    }

    @Test func afterAnOperatorUnbindsTheNextAccountBindsAndTheUnbindIsAudited() throws {
        #expect(try signIn().0.status == 303)
        try h.store { try SSOSubjects(store: $0, idp: "CORP").unbind(email: "Alice@Example.com") }
        #expect(try bindings().isEmpty)
        #expect(try signIn { $0[1] = ("sub", .string("replacement")) }.0.status == 303)
        #expect(try bindings().map(\.1) == ["replacement"])
        var f = AuditFilter()
        f.action = "idp.unbind"
        #expect(try h.store { try AuditQuery.list(f, limit: 10, db: $0.db) }.count == 1)
        #expect(throws: DomainError.self) { try h.store { try SSOSubjects(store: $0, idp: "corp").unbind(email: "nobody@example.com") } }
    }

    @Test func aDisabledUsersRefusedFirstSignInBindsNothing() throws {
        _ = try h.store { try Users(store: $0).disable(email: "alice@example.com") }
        try sso.expectRefused("user disabled") { FakeProvider.token(sso.claims(nonce: $0)) }
        #expect(try bindings().isEmpty)
    }

    @Test func anIDTokenWithoutASubjectSignsNobodyIn() throws {
        try sso.expectRefused("ID token has no valid sub claim") { nonce in
            FakeProvider.token(sso.claims(nonce: nonce) { $0[1] = ("sub", .string("")) })
        }
        try sso.expectRefused("ID token has no valid sub claim") { nonce in
            FakeProvider.token(sso.claims(nonce: nonce) { $0[1] = ("sub", .string(String(repeating: "s", count: 256))) })
        }
    }

    @Test func removingTheProviderDropsItsBindings() throws {
        #expect(try signIn().0.status == 303)
        #expect(try bindings().count == 1)
        _ = try h.store { try IdentityProviders(store: $0).remove("corp") }
        #expect(try bindings().isEmpty)
    }
}
