import Foundation
import HTTP
import MCPAuth
import Synchronization
import Testing

/// `serve --refresh-reuse-grace`: a refresh token presented again soon after its rotation (a client that
/// refreshed from two threads at once) keeps its family; a later reuse is still treated as theft.
@Suite struct RefreshReuseGraceTests {
    /// Moves the rotation of the refresh token `secret` `seconds` into the past, as if that much time had passed.
    func age(_ h: OAuthHarness, _ secret: String, by seconds: Int64) throws {
        try h.store {
            _ = try $0.db.run("UPDATE tokens SET used_at = used_at - ?, revoked_at = revoked_at - ? WHERE secret_hash = ?",
                              [.integer(seconds * 1000), .integer(seconds * 1000), .blob(TokenSecret.hash(secret))])
        }
    }

    func tokens(_ r: Reply) -> (access: String, refresh: String) {
        (r.json["access_token"]?.stringValue ?? "", r.json["refresh_token"]?.stringValue ?? "")
    }

    @Test func reuseWithinTheGraceGetsASecondWorkingPairOfTheSameFamily() throws {
        let h = try OAuthHarness { $0.refreshReuseGraceSeconds = 30 }
        try h.user()
        let client = try h.registerClient()
        let rt1 = tokens(try h.obtainTokens(client)).refresh
        let first = try h.refresh(client, rt1)
        let again = try h.refresh(client, rt1)
        #expect(first.status == 200 && again.status == 200, "\(again.text)")
        let (at2, rt2) = tokens(first), (at3, rt3) = tokens(again)
        #expect(rt2 != rt3 && at2 != at3)
        // Both successors work: the first is not revoked by the second presentation.
        #expect(try h.gatewayAccepts(at2) && h.gatewayAccepts(at3))
        #expect(try h.refresh(client, rt2).status == 200)
        #expect(try h.refresh(client, rt3).status == 200)
        #expect(try h.store { try $0.db.query("SELECT DISTINCT family_id FROM tokens").count } == 1)
        let reuse = try h.store { try $0.db.first("SELECT COUNT(*) AS n FROM audit WHERE action = 'oauth.refresh_reuse'")?.int("n") }
        #expect(reuse == 0)
    }

    @Test func twoThreadsRefreshingAtOnceBothGetWorkingPairsWithinTheGrace() throws {
        let h = try OAuthHarness { $0.refreshReuseGraceSeconds = 30 }
        try h.user()
        let client = try h.registerClient()
        let rt1 = tokens(try h.obtainTokens(client)).refresh
        let replies = Mutex<[Reply]>([])
        let start = DispatchSemaphore(value: 0)
        let done = DispatchGroup()
        for _ in 0..<2 {
            done.enter()
            Thread.detachNewThread {
                defer { done.leave() }
                start.wait()
                if let r = try? h.refresh(client, rt1) { replies.withLock { $0.append(r) } }
            }
        }
        start.signal()
        start.signal()
        done.wait()
        let both = replies.withLock { $0 }
        #expect(both.count == 2 && both.allSatisfy { $0.status == 200 }, "\(both.map(\.text))")
        for r in both { #expect(try h.gatewayAccepts(tokens(r).access)) }
    }

    @Test func reuseAfterTheGraceStillRevokesTheFamily() throws {
        let h = try OAuthHarness { $0.refreshReuseGraceSeconds = 30 }
        try h.user()
        let client = try h.registerClient()
        let rt1 = tokens(try h.obtainTokens(client)).refresh
        let (at2, rt2) = tokens(try h.refresh(client, rt1))
        try age(h, rt1, by: 31)
        let late = try h.refresh(client, rt1)
        #expect(late.status == 400 && late.json["error"]?.stringValue == "invalid_grant")
        #expect(try !h.gatewayAccepts(at2))
        #expect(try h.refresh(client, rt2).json["error"]?.stringValue == "invalid_grant")
        let reuse = try h.store { try $0.db.first("SELECT COUNT(*) AS n FROM audit WHERE action = 'oauth.refresh_reuse'")?.int("n") }
        #expect(reuse == 1)
    }

    @Test func reuseWithinTheGraceDoesNotReviveARevokedFamily() throws {
        let h = try OAuthHarness { $0.refreshReuseGraceSeconds = 30 }
        try h.user()
        let client = try h.registerClient()
        let rt1 = tokens(try h.obtainTokens(client)).refresh
        let rt2 = tokens(try h.refresh(client, rt1)).refresh
        #expect(try h.postForm("/oauth/revoke", [("token", rt2), ("client_id", client.id)]).status == 200)
        let reuse = try h.refresh(client, rt1)
        #expect(reuse.json["error"]?.stringValue == "invalid_grant")
        #expect(try h.store { try $0.db.first("SELECT COUNT(*) AS n FROM tokens WHERE revoked_at IS NULL AND kind = 'refresh'")?.int("n") } == 0)
    }

    @Test func withoutTheOptionEvenAnImmediateReuseRevokesTheFamily() throws {
        let h = try OAuthHarness()   // default grace: 0 s, off
        try h.user()
        let client = try h.registerClient()
        let rt1 = tokens(try h.obtainTokens(client)).refresh
        let (at2, rt2) = tokens(try h.refresh(client, rt1))
        #expect(try h.refresh(client, rt1).json["error"]?.stringValue == "invalid_grant")
        #expect(try !h.gatewayAccepts(at2))
        #expect(try h.refresh(client, rt2).json["error"]?.stringValue == "invalid_grant")
    }
}
