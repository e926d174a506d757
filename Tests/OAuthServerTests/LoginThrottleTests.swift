import Foundation
import HTTP
import MCPAuth
import OAuthServer
import Synchronization
import Testing

/// Login throttling under parallel attack: the limit counts password checks, however many requests race.
@Suite struct LoginThrottleTests {
    /// Posts the login form of `page` `count` times at once (one thread and connection each, released
    /// together); `password(i)` and `email(i)` choose what attempt `i` sends.
    static func parallelLogins(_ h: OAuthHarness, _ browser: Browser, page: Reply, count: Int,
                               email: @escaping @Sendable (Int) -> String, password: @escaping @Sendable (Int) -> String) throws -> [Reply] {
        let tx = try #require(Browser.hidden("tx", in: page.text))
        let csrf = try #require(Browser.hidden("csrf", in: page.text))
        let cookie = browser.cookies.map { "\($0.key)=\($0.value)" }.joined(separator: "; ")
        let replies = Mutex<[Int: Reply]>([:])
        let start = DispatchSemaphore(value: 0)
        let done = DispatchGroup()
        for i in 0..<count {
            done.enter()
            Thread.detachNewThread {
                defer { done.leave() }
                let client = HTTPClient(maxIdleConnectionsPerHost: 1, idleConnectionTimeout: 1)
                let body = FormURLEncoding.encode([(name: "tx", value: tx), (name: "csrf", value: csrf),
                                                   (name: "email", value: email(i)), (name: "password", value: password(i))])
                let request = HTTPClientRequest(method: "POST", url: URL(string: h.base + "/oauth/authorize")!,
                                                headers: HTTPHeaders([("Content-Type", "application/x-www-form-urlencoded"), ("Cookie", cookie)]),
                                                body: Array(body.utf8), timeout: 60)
                start.wait()
                guard let response = try? client.send(request), let bytes = try? response.readAll() else { return }
                replies.withLock { $0[i] = Reply(status: response.status, headers: response.headers, body: bytes) }
            }
        }
        for _ in 0..<count { start.signal() }
        done.wait()
        let all = replies.withLock { $0 }
        try #require(all.count == count, "only \(all.count) of \(count) attempts were answered")
        return (0..<count).compactMap { all[$0] }
    }

    /// A user whose password costs a real PBKDF2 run, so that parallel checks overlap.
    static func slowUser(_ h: OAuthHarness, _ email: String = "alice@example.com") throws {
        try h.user(email)
        try h.store { store in
            let hashed = Password.hash(OAuthHarness.password, iterations: 200_000)
            try store.db.run("UPDATE users SET password_hash = ?, password_salt = ?, password_iterations = ? WHERE email = ?",
                             [.blob(hashed.hash), .blob(hashed.salt), .integer(200_000), .text(email)])
        }
    }

    func loginAudit(_ h: OAuthHarness) throws -> [String] {
        try h.store { try $0.db.query("SELECT decision, reason FROM audit WHERE action = 'oauth.login' ORDER BY seq") }
            .map { "\($0.string("decision") ?? ""): \($0.string("reason") ?? "")" }
    }

    @Test func parallelWrongPasswordsAreCheckedNoMoreThanTheAccountLimit() throws {
        let h = try OAuthHarness()   // default limits: 5 per account, 20 per address, 15 minutes
        try LoginThrottleTests.slowUser(h)
        let client = try h.registerClient()
        let browser = Browser(h)
        let page = try browser.get(h.authorizeQuery(client, verifier: OAuthHarness.verifier()))
        let replies = try LoginThrottleTests.parallelLogins(h, browser, page: page, count: 24,
                                                            email: { _ in "alice@example.com" }, password: { "guess \($0)" })
        let checked = replies.filter { $0.status == 303 }
        let throttled = replies.filter { $0.status == 429 }
        #expect(checked.count == 5, "statuses: \(replies.map(\.status))")
        #expect(throttled.count == 19)
        #expect(throttled.allSatisfy { Int($0.headers["Retry-After"] ?? "") ?? 0 > 800 })
        let audit = try loginAudit(h)
        #expect(audit.filter { $0 == "deny: wrong password" }.count == 5)
        #expect(audit.filter { $0 == "deny: throttled: too many failed attempts" }.count == 19)
        // The right password now is refused unchecked, and signs nobody in.
        let right = try browser.postLogin(page)
        #expect(right.status == 429 && right.headers["Retry-After"] != nil)
        #expect(!right.headers.values(for: "Set-Cookie").contains { $0.hasPrefix("mcpctl_session=") })
        #expect(try loginAudit(h).filter { $0.hasPrefix("allow") }.isEmpty)
    }

    @Test func parallelGuessesAcrossAccountsAreCheckedNoMoreThanTheAddressLimit() throws {
        let h = try OAuthHarness()
        try h.user()
        let client = try h.registerClient()
        let browser = Browser(h)
        let page = try browser.get(h.authorizeQuery(client, verifier: OAuthHarness.verifier()))
        // Unknown accounts cost the full PBKDF2 run of a real one; one address tries 30 of them at once.
        let replies = try LoginThrottleTests.parallelLogins(h, browser, page: page, count: 30,
                                                            email: { "guess\($0)@example.com" }, password: { _ in "hunter2" })
        #expect(replies.filter { $0.status == 303 }.count == 20, "statuses: \(replies.map(\.status))")
        #expect(replies.filter { $0.status == 429 }.count == 10)
        #expect(try loginAudit(h).filter { $0 == "deny: unknown email" }.count == 20)
        // The address is spent for a real account too.
        #expect(try browser.postLogin(page).status == 429)
    }

    @Test func successfulSignInsDoNotCountAgainstTheLimits() throws {
        let h = try OAuthHarness { $0.loginLimits = LoginThrottle.Limits(perAccount: 3, perAddress: 3, windowSeconds: 900) }
        try h.user()
        let client = try h.registerClient()
        for _ in 0..<5 {
            let browser = Browser(h)
            let page = try browser.get(h.authorizeQuery(client, verifier: OAuthHarness.verifier()))
            let r = try browser.postLogin(page)
            #expect(r.status == 303)
            #expect(r.headers.values(for: "Set-Cookie").contains { $0.hasPrefix("mcpctl_session=") })
        }
        #expect(try h.store { try $0.db.first("SELECT COUNT(*) AS n FROM login_failures")?.int("n") } == 0)
    }
}
