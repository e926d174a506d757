import Foundation
import HTTP
import MCPAuth
import Testing

/// Two `mcpctl serve` replicas on one PostgreSQL store behave as one server: what the operator changes
/// with the CLI holds on both from their next request, the audit log stays one chain, and what a browser
/// or an OAuth client got from one replica is honoured, once, by the other.
@Suite(.serialized, .enabled(if: GatewayHarness.postgresURL != nil, "needs MCPCTL_TEST_DB=postgresql://… (.ci/postgres)"))
struct ReplicaTests {
    /// One request's outcome, with when it was sent.
    struct Sent: Sendable {
        let sentAt: Date
        let replica: Int
        let status: Int
    }

    /// Sends calls with `token` to both replicas from `workers` threads until `stop()` says so.
    static func load(_ h: ReplicaHarness, token: String, workers: Int = 4, until stop: @escaping @Sendable () -> Bool) -> [Sent] {
        let results = Locked<[Sent]>([])
        let group = DispatchGroup()
        for w in 0..<workers {
            group.enter()
            Thread.detachNewThread {
                defer { group.leave() }
                var i = 0
                while !stop() {
                    let replica = (w + i) % h.ports.count
                    let at = Date()
                    let status = (try? h.call(replica, token: token, id: w * 100_000 + i).status) ?? 0
                    results.withLock { $0.append(Sent(sentAt: at, replica: replica, status: status)) }
                    i += 1
                }
            }
        }
        group.wait()
        return results.value
    }

    /// Runs `change` (a CLI command) while both replicas serve `token` under load, and returns the requests
    /// sent after the command returned, with how many were accepted before it.
    static func changeUnderLoad(_ h: ReplicaHarness, token: String, _ change: [String]) throws -> (before: [Sent], after: [Sent]) {
        let returned = Locked<Date?>(nil)
        let done = Locked(false)
        let group = DispatchGroup()
        group.enter()
        let sent = Locked<[Sent]>([])
        Thread.detachNewThread {
            defer { group.leave() }
            sent.withLock { $0 = load(h, token: token) { done.value } }
        }
        // Let both replicas serve the token from their caches first.
        _ = eventually(within: 10) { (try? h.call(0, token: token).status) == 200 && (try? h.call(1, token: token).status) == 200 }
        usleep(200_000)
        try h.mcpctl(change)
        returned.withLock { $0 = Date() }
        // Requests keep coming for a while after the command returned, to both replicas.
        usleep(800_000)
        done.withLock { $0 = true }
        group.wait()
        let at = try #require(returned.value)
        let all = sent.value
        return (all.filter { $0.sentAt < at }, all.filter { $0.sentAt > at })
    }

    static func expectRefusedEverywhereAfter(_ outcome: (before: [Sent], after: [Sent]), _ what: String) {
        #expect(outcome.before.contains { $0.status == 200 }, "the load never got through before the \(what)")
        let accepted = outcome.after.filter { $0.status == 200 }
        #expect(accepted.isEmpty, "\(accepted.count) requests sent after the \(what) returned were accepted: \(accepted.map(\.replica))")
        for replica in 0..<2 {
            #expect(outcome.after.contains { $0.replica == replica }, "replica \(replica) was not asked after the \(what)")
        }
        // Refused as the credential it lacks now (401), or, without a grant, as an app it may not see (403/404).
        #expect(outcome.after.allSatisfy { [401, 403, 404].contains($0.status) }, "\(Set(outcome.after.map(\.status)))")
    }

    @Test func aTokenRevokedWithTheCLIIsRefusedByBothReplicasFromTheNextRequest() throws {
        let h = try ReplicaHarness(extra: ["--unauthenticated-rate", "100000"])
        let token = try h.token()
        let outcome = try ReplicaTests.changeUnderLoad(h, token: token.secret, ["token", "revoke", token.id])
        ReplicaTests.expectRefusedEverywhereAfter(outcome, "revocation")
    }

    @Test func aGrantRevokedWithTheCLIIsRefusedByBothReplicasFromTheNextRequest() throws {
        let h = try ReplicaHarness(extra: ["--unauthenticated-rate", "100000"])
        let token = try h.token()
        let outcome = try ReplicaTests.changeUnderLoad(h, token: token.secret, ["grant", "revoke", "alice@example.com", "--app", h.app])
        ReplicaTests.expectRefusedEverywhereAfter(outcome, "grant change")
        #expect(outcome.after.allSatisfy { $0.status != 401 }, "the token itself is still valid")
    }

    @Test func aUserDisabledWithTheCLIIsRefusedByBothReplicasFromTheNextRequest() throws {
        let h = try ReplicaHarness(extra: ["--unauthenticated-rate", "100000"])
        let token = try h.token()
        let outcome = try ReplicaTests.changeUnderLoad(h, token: token.secret, ["user", "disable", "alice@example.com"])
        ReplicaTests.expectRefusedEverywhereAfter(outcome, "disabling")
    }

    @Test func concurrentLoadOnBothReplicasLeavesOneVerifiableChainWithEveryAcknowledgedRow() throws {
        let h = try ReplicaHarness()
        let token = try h.token()
        let stopAt = Date().addingTimeInterval(3)
        let sent = ReplicaTests.load(h, token: token.secret, workers: 8) { Date() > stopAt }
        let acknowledged = sent.filter { $0.status == 200 }
        #expect(acknowledged.count > 50, "statuses: \(Set(sent.map(\.status)))")
        #expect(Set(acknowledged.map(\.replica)) == [0, 1])
        let rows = try h.mcpRows().filter { $0.string("action") == "tools/call" }
        // Every request got exactly one row, whichever replica answered it; none was lost or doubled.
        #expect(rows.filter { $0.int("status") == 200 }.count == acknowledged.count)
        #expect(rows.count == sent.count)
        let verify = try h.mcpctl(["audit", "verify"])
        #expect(verify.stdout.contains("OK"), "\(verify.stdout)")
    }

    // MARK: OAuth

    struct Client {
        let id: String
        let redirectURI = "http://127.0.0.1:33418/callback"
    }

    static func register(_ h: ReplicaHarness, on replica: Int) throws -> Client {
        let body: JSON = .object([("client_name", "Replica test"), ("redirect_uris", .array(["http://127.0.0.1:33418/callback"])),
                                  ("token_endpoint_auth_method", "none"), ("grant_types", .array(["authorization_code", "refresh_token"]))])
        let r = try h.send(replica, "POST", "/oauth/register", headers: [("Content-Type", "application/json")], body: body.bytes)
        try #require(r.status == 201, "registration: \(r.status) \(r.text)")
        return Client(id: try #require(r.message?["client_id"]?.stringValue))
    }

    /// Signs in and consents through `replica` (an authorization in progress belongs to the replica that
    /// started it); returns the code and its PKCE verifier.
    static func authorize(_ h: ReplicaHarness, _ client: Client, on replica: Int) throws -> (code: String, verifier: String) {
        let verifier = Base62.random(count: 64)
        let query = FormURLEncoding.encode([
            ("response_type", "code"), ("client_id", client.id), ("redirect_uri", client.redirectURI), ("state", "st"),
            ("code_challenge", PKCE.challenge(forVerifier: verifier)), ("code_challenge_method", "S256"),
            ("resource", "\(h.publicURL)/mcp/\(h.app)/json"), ("scope", "read write delete"),
        ].map { (name: $0.0, value: $0.1) })
        let browser = ReplicaBrowser(h)
        var page = try browser.get(replica, "/oauth/authorize?" + query)
        try #require(page.status == 200, "authorize: \(page.status) \(page.text)")
        if page.text.contains("name=\"password\"") {
            let login = try browser.post(replica, "/oauth/authorize", [
                ("tx", try #require(ReplicaBrowser.hidden("tx", in: page.text))), ("csrf", try #require(ReplicaBrowser.hidden("csrf", in: page.text))),
                ("email", "alice@example.com"), ("password", ReplicaHarness.password)])
            try #require(login.status == 303, "login: \(login.status)")
            page = try browser.get(replica, try #require(login.headers["Location"]))
        }
        var fields = [("tx", try #require(ReplicaBrowser.hidden("tx", in: page.text))), ("csrf", try #require(ReplicaBrowser.hidden("csrf", in: page.text)))]
        for scope in ["read", "write", "delete"] where page.text.contains("name=\"scope\" value=\"\(scope)\"") { fields.append(("scope", scope)) }
        fields.append(("decision", "approve"))
        let consent = try browser.post(replica, "/oauth/authorize", fields)
        let location = try #require(consent.headers["Location"], "consent: \(consent.status) \(consent.text)")
        let items = FormURLEncoding.decode(String(location.split(separator: "?", maxSplits: 1).last ?? ""))
        return (try #require(items.first { $0.name == "code" }?.value, "no code in \(location)"), verifier)
    }

    static func exchange(_ h: ReplicaHarness, _ client: Client, code: String, verifier: String, on replica: Int) throws -> Reply {
        try h.postForm(replica, "/oauth/token", [("grant_type", "authorization_code"), ("code", code), ("code_verifier", verifier),
                                                 ("redirect_uri", client.redirectURI), ("resource", "\(h.publicURL)/mcp/\(h.app)/json"),
                                                 ("client_id", client.id)])
    }

    static func refresh(_ h: ReplicaHarness, _ client: Client, _ token: String, on replica: Int) throws -> Reply {
        try h.postForm(replica, "/oauth/token", [("grant_type", "refresh_token"), ("refresh_token", token), ("client_id", client.id)])
    }

    @Test func aCodeIssuedByOneReplicaIsRedeemedOnceOnTheOtherAndNeverAgain() throws {
        let h = try ReplicaHarness()
        let client = try ReplicaTests.register(h, on: 0)
        let (code, verifier) = try ReplicaTests.authorize(h, client, on: 0)
        let first = try ReplicaTests.exchange(h, client, code: code, verifier: verifier, on: 1)
        #expect(first.status == 200, "\(first.text)")
        let access = try #require(first.message?["access_token"]?.stringValue)
        let second = try ReplicaTests.exchange(h, client, code: code, verifier: verifier, on: 0)
        #expect(second.status == 400)
        #expect(second.message?["error"]?.stringValue == "invalid_grant")
        // RFC 6749 §4.1.2: a code used twice revokes what it issued, on every replica.
        #expect(try h.call(0, token: access).status == 401)
        #expect(try h.call(1, token: access).status == 401)
    }

    @Test func aRefreshTokenRotatedOnOneReplicaAndReplayedOnTheOtherEndsTheFamily() throws {
        let h = try ReplicaHarness()
        let client = try ReplicaTests.register(h, on: 1)
        let (code, verifier) = try ReplicaTests.authorize(h, client, on: 1)
        let issued = try ReplicaTests.exchange(h, client, code: code, verifier: verifier, on: 0)
        let firstRefresh = try #require(issued.message?["refresh_token"]?.stringValue, "\(issued.text)")
        let rotated = try ReplicaTests.refresh(h, client, firstRefresh, on: 0)
        #expect(rotated.status == 200, "\(rotated.text)")
        let secondRefresh = try #require(rotated.message?["refresh_token"]?.stringValue)
        let access = try #require(rotated.message?["access_token"]?.stringValue)
        #expect(try h.call(1, token: access).status == 200)
        // The replay of the rotated token, on the other replica: refused, and the whole family with it.
        let replay = try ReplicaTests.refresh(h, client, firstRefresh, on: 1)
        #expect(replay.status == 400)
        #expect(replay.message?["error"]?.stringValue == "invalid_grant")
        #expect(try ReplicaTests.refresh(h, client, secondRefresh, on: 0).status == 400)
        #expect(try h.call(0, token: access).status == 401)
        #expect(try h.call(1, token: access).status == 401)
    }

    // MARK: Browser sessions and sign-in

    @Test func aSessionStartedOnOneReplicaIsHonouredAndEndedOnTheOther() throws {
        let h = try ReplicaHarness()
        let browser = ReplicaBrowser(h)
        let signedIn = try browser.signIn(0, csrf: try browser.loginForm(0))
        #expect(signedIn.status == 303 && signedIn.headers["Location"] == "/account", "\(signedIn.status) \(signedIn.headers["Location"] ?? "")")
        let account = try browser.get(1, "/account")
        #expect(account.status == 200)
        #expect(account.text.contains("alice@example.com"))
        // Signing out on the second replica ends the session on the first.
        let csrf = try #require(ReplicaBrowser.hidden("csrf", in: account.text))
        #expect(try browser.post(1, "/logout", [("csrf", csrf)]).status == 303)
        let signedOut = ReplicaBrowser(h)
        signedOut.cookies = browser.cookies
        #expect(try signedOut.get(0, "/account").status == 303)
    }

    @Test func failedSignInsAreCountedAcrossBothReplicas() throws {
        let h = try ReplicaHarness()   // default limits: 5 failures per account in 15 minutes
        let browser = ReplicaBrowser(h)
        let csrf = try browser.loginForm(0)
        for attempt in 0..<5 {
            let r = try browser.signIn(attempt % 2, csrf: csrf, password: "guess \(attempt)")
            #expect(r.status == 303 && (r.headers["Location"] ?? "").contains("notice=incorrect"), "attempt \(attempt): \(r.status)")
        }
        // Neither replica checks a sixth password, not even the right one.
        for replica in [1, 0] {
            let r = try browser.signIn(replica, csrf: csrf)
            #expect(r.status == 429, "replica \(replica): \(r.status)")
            #expect(!r.headers.values(for: "Set-Cookie").contains { $0.hasPrefix("mcpctl_session=") })
        }
    }

    // MARK: Rate limits

    @Test func theFailedRequestLimitOfAnAddressIsSharedByBothReplicas() throws {
        // 3 per minute: one comes back every 20 seconds, far longer than this test's requests take.
        let h = try ReplicaHarness(extra: ["--unauthenticated-rate", "3"])
        let statuses = try (0..<6).map { try h.call($0 % 2, token: nil).status }
        #expect(statuses == [401, 401, 401, 429, 429, 429], "\(statuses)")
        let denied = try h.mcpRows().filter { $0.int("status") == 401 }
        #expect(denied.count == 3)
        // A working credential is not limited by its address's failures, on either replica.
        let token = try h.token()
        #expect(try h.call(0, token: token.secret).status == 200)
        #expect(try h.call(1, token: token.secret).status == 200)
    }
}
