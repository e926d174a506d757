import Foundation
import HTTP
import MCPAuth
import Testing

/// The consent step and the token endpoint decide with a user's effective grants: their own and their
/// groups'. A membership removed from the shell stops the next refresh.
@Suite struct GroupConsentTests {
    @Test func aGroupGrantIsWhatTheConsentPageOffersAndARemovedMembershipEndsTheRefresh() throws {
        let h = try OAuthHarness()
        try h.user(grants: [])
        try h.app("notes", "dev")
        try h.store { store in
            try Groups(store: store).add(name: "eng")
            try Groups(store: store).addMember(group: "eng", email: "alice@example.com")
            try Grants(store: store).add(group: "eng", app: "notes", env: "*", scopes: [.read, .write])
        }
        let client = try h.registerClient()
        let browser = Browser(h)
        let verifier = OAuthHarness.verifier()
        var page = try browser.get(h.authorizeQuery(client, verifier: verifier, scope: "read write delete"))
        page = try browser.login(page)
        #expect(page.status == 200)
        #expect(page.text.contains(#"name="scope" value="read""#) && page.text.contains(#"name="scope" value="write""#))
        #expect(!page.text.contains(#"name="scope" value="delete""#))
        let decided = try browser.decide(page)
        let code = try #require(decided.redirectParams["code"])
        let tokens = try h.exchange(client, code: code, verifier: verifier)
        #expect(tokens.status == 200 && tokens.json["scope"]?.stringValue == "read write")
        let refresh = try #require(tokens.json["refresh_token"]?.stringValue)

        try h.store { try Groups(store: $0).removeMember(group: "eng", email: "alice@example.com") }
        let refused = try h.refresh(client, refresh)
        #expect(refused.status == 400 && refused.json["error"]?.stringValue == "invalid_grant")
    }

    @Test func aUserInNoGroupWithAGrantIsToldAppNotFound() throws {
        let h = try OAuthHarness()
        try h.user(grants: [])
        try h.app("notes", "dev")
        try h.store { store in
            try Groups(store: store).add(name: "eng")
            try Grants(store: store).add(group: "eng", app: "notes", env: "*", scopes: .all)
        }
        let browser = Browser(h)
        let page = try browser.login(try browser.get(h.authorizeQuery(try h.registerClient(), verifier: OAuthHarness.verifier())))
        #expect(page.status == 404 && page.text.contains("App not found"))
    }
}
