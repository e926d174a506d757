import Foundation
import MCPAuth
import Testing

/// Browser flows in the store: bound to their browser, single use, expiring, bounded per address, and
/// never readable back from the store by their id.
@Suite struct PendingFlowsTests {
    let store: Store
    init() throws { store = try TestStore.make() }

    func flows(_ limits: PendingFlows.Limits = PendingFlows.Limits()) -> PendingFlows { PendingFlows(store: store, limits: limits) }

    func count(address: String? = nil) throws -> Int {
        let row = try address.map { try store.db.first("SELECT COUNT(*) AS n FROM pending_flows WHERE address = ?", [.text($0)]) }
            ?? store.db.first("SELECT COUNT(*) AS n FROM pending_flows")
        return Int(row?.int("n") ?? -1)
    }

    @Test func aFlowIsFoundOnlyByItsOwnBrowserAndKind() throws {
        try flows().start(.authorization, id: "tx-1", browserCookie: "cookie-a", body: #"{"k":1}"#, address: "10.0.0.1", ttlSeconds: 60)
        #expect(try flows().find(.authorization, id: "tx-1", browserCookie: "cookie-a")?.body == #"{"k":1}"#)
        #expect(try flows().find(.authorization, id: "tx-1", browserCookie: "cookie-b") == nil, "another browser")
        #expect(try flows().find(.authorization, id: "tx-1", browserCookie: nil) == nil, "no browser cookie")
        #expect(try flows().find(.sso, id: "tx-1", browserCookie: "cookie-a") == nil, "another kind")
        #expect(try flows().find(.authorization, id: "tx-2", browserCookie: "cookie-a") == nil, "another id")
        #expect(try flows().find(.authorization, id: String(repeating: "x", count: 10_000), browserCookie: "cookie-a") == nil)
    }

    @Test func takingAFlowWorksOnceAndAnotherBrowsersAttemptDestroysIt() throws {
        try flows().start(.sso, id: "st-1", browserCookie: "mine", body: "{}", address: nil, ttlSeconds: 60)
        #expect(try flows().take(.sso, id: "st-1", browserCookie: "mine") != nil)
        #expect(try flows().take(.sso, id: "st-1", browserCookie: "mine") == nil, "a replayed state finds nothing")

        try flows().start(.sso, id: "st-2", browserCookie: "mine", body: "{}", address: nil, ttlSeconds: 60)
        #expect(try flows().take(.sso, id: "st-2", browserCookie: "theirs") == nil)
        #expect(try flows().take(.sso, id: "st-2", browserCookie: "mine") == nil, "a leaked state is spent by the attempt")
    }

    @Test func anExpiredFlowIsNotFoundAndIsRemovedByTheNextStart() throws {
        let now = Clock.nowMillis()
        try flows().start(.authorization, id: "old", browserCookie: "c", body: "{}", address: "a", ttlSeconds: 60, now: now - 120_000)
        #expect(try flows().find(.authorization, id: "old", browserCookie: "c") == nil)
        try flows().start(.authorization, id: "new", browserCookie: "c", body: "{}", address: "a", ttlSeconds: 60)
        #expect(try count() == 1)
    }

    @Test func noticesAreKeptAndFinishingTwiceSaysSo() throws {
        try flows().start(.authorization, id: "tx", browserCookie: "c", body: "{}", address: "a", ttlSeconds: 60)
        try flows().setNotice(id: "tx", "Wrong password.")
        #expect(try flows().find(.authorization, id: "tx", browserCookie: "c")?.notice == "Wrong password.")
        try flows().setNotice(id: "tx", nil)
        #expect(try flows().find(.authorization, id: "tx", browserCookie: "c")?.notice == nil)
        #expect(try flows().finish(id: "tx"))
        #expect(try !flows().finish(id: "tx"), "a double submit")
    }

    /// The attack: one address starts flows without end to push everyone else's out of the table.
    @Test func oneAddressFloodingFlowsEvictsOnlyItsOwnOldest() throws {
        var limits = PendingFlows.Limits()
        limits.perAddress = 16
        try flows(limits).start(.authorization, id: "victim", browserCookie: "v", body: "{}", address: "10.0.0.1", ttlSeconds: 600)
        let now = Clock.nowMillis()
        for i in 0..<100 {
            try flows(limits).start(.sso, id: "flood-\(i)", browserCookie: "x", body: "{}", address: "10.6.6.6", ttlSeconds: 600,
                                    now: now + Int64(i))
        }
        #expect(try flows(limits).find(.authorization, id: "victim", browserCookie: "v") != nil)
        #expect(try count(address: "10.6.6.6") == 16)
        #expect(try flows(limits).find(.sso, id: "flood-99", browserCookie: "x") != nil, "the newest are kept")
        #expect(try flows(limits).find(.sso, id: "flood-0", browserCookie: "x") == nil, "the oldest made room")
    }

    @Test func aVisitorIsAnIPv4AddressOrAnIPv6Slash64() {
        #expect(PendingFlows.visitor("192.0.2.7") == "192.0.2.7")
        #expect(PendingFlows.visitor("2001:db8:1:2:aaaa::1") == "2001:db8:1:2::/64")
        #expect(PendingFlows.visitor("2001:0DB8:0001:0002:ffff:ffff:ffff:ffff") == "2001:db8:1:2::/64")
        #expect(PendingFlows.visitor("2001:db8:1:3::1") == "2001:db8:1:3::/64")
        #expect(PendingFlows.visitor("::ffff:192.0.2.7") == "192.0.2.7")
        #expect(PendingFlows.visitor("not-an-address") == "not-an-address")
    }

    /// The attack: one subscriber's /64 holds 2^64 addresses, one per flow.
    @Test func addressesOfOneIPv6Slash64CountAsOneVisitor() throws {
        var limits = PendingFlows.Limits()
        limits.perAddress = 8
        try flows(limits).start(.authorization, id: "victim", browserCookie: "v", body: "{}", address: "2001:db8:9::1", ttlSeconds: 600)
        let now = Clock.nowMillis()
        for i in 0..<50 {
            try flows(limits).start(.sso, id: "f-\(i)", browserCookie: "x", body: "{}", address: "2001:db8:6:6::\(String(i, radix: 16))",
                                    ttlSeconds: 600, now: now + Int64(i))
        }
        #expect(try count(address: "2001:db8:6:6::/64") == 8)
        #expect(try flows(limits).find(.authorization, id: "victim", browserCookie: "v") != nil)
    }

    @Test func theWholeTableIsBoundedToo() throws {
        var limits = PendingFlows.Limits()
        limits.total = 10
        for i in 0..<25 {
            try flows(limits).start(.sso, id: "f-\(i)", browserCookie: "x", body: "{}", address: "10.0.0.\(i)", ttlSeconds: 600 + Int64(i))
        }
        #expect(try count() == 10)
    }

    /// Someone who reads the store learns no flow id and no browser cookie: only their SHA-256.
    @Test func theStoreKeepsNeitherTheIdNorTheBrowserCookie() throws {
        let id = "tx-" + Base62.random(count: 24), cookie = Base62.random(count: 32)
        try flows().start(.authorization, id: id, browserCookie: cookie, body: "{}", address: "a", ttlSeconds: 60)
        let row = try #require(try store.db.first("SELECT id_hash, browser_hash FROM pending_flows"))
        #expect(try row.blob("id_hash", of: "pending_flows") == SHA256.hash(id))
        #expect(try row.blob("browser_hash", of: "pending_flows") == SHA256.hash(cookie))
    }
    /// The attack: one visitor starts flows as fast as it can. Past its allowance a start is refused with
    /// the wait, before anything is written; the addresses of its /64 share the allowance, others keep theirs.
    @Test func startsBeyondAVisitorsAllowanceAreRefusedBeforeAnythingIsWritten() throws {
        let limiter = RateLimiter(burst: 2, perMinute: 1)
        func startFrom(_ address: String, _ id: String) throws {
            try PendingFlows.admitStart(address: address, limiter: limiter)
            try flows().start(.authorization, id: id, browserCookie: "c", body: "{}", address: address, ttlSeconds: 60)
        }
        try startFrom("2001:db8:6:6::1", "a")
        try startFrom("2001:db8:6:6::2", "b")
        let refused = #expect(throws: PendingFlows.StartedTooSoon.self) { try startFrom("2001:db8:6:6::3", "c") }
        #expect((refused?.retryAfterSeconds ?? 0) > 0)
        #expect(try count() == 2)
        #expect(try flows().find(.authorization, id: "c", browserCookie: "c") == nil)
        try startFrom("192.0.2.1", "d")
        #expect(try count() == 3, "another visitor keeps its own allowance")
    }

    /// Room made among a visitor's own flows counts toward the store's bound too: nobody else's flow goes.
    @Test func evictingAVisitorsOldestAlsoMakesRoomInTheWholeTable() throws {
        var limits = PendingFlows.Limits()
        limits.perAddress = 2
        limits.total = 4
        let now = Clock.nowMillis()
        for (i, address) in ["10.0.0.2", "10.0.0.2", "10.0.0.1", "10.0.0.1"].enumerated() {
            try flows(limits).start(.sso, id: "f-\(i)", browserCookie: "x", body: "{}", address: address, ttlSeconds: 600, now: now + Int64(i))
        }
        try flows(limits).start(.sso, id: "f-4", browserCookie: "x", body: "{}", address: "10.0.0.1", ttlSeconds: 600, now: now + 4)
        #expect(try count() == 4)
        #expect(try count(address: "10.0.0.2") == 2, "the other visitor's flows stay")
        #expect(try flows(limits).find(.sso, id: "f-2", browserCookie: "x", now: now + 5) == nil, "the visitor's oldest made room")
    }

    /// A start reads both bounds' counts with one statement (on PostgreSQL, each statement the connection
    /// ran with parameters is prepared once, so the distinct ones can be counted).
    @Test(.enabled(if: TestStore.postgresURL != nil, "needs MCPCTL_TEST_DB=postgresql://… (.ci/postgres)"))
    func aStartCountsTheFlowsWithOneStatement() throws {
        for i in 0..<3 {
            try flows().start(.sso, id: "f-\(i)", browserCookie: "x", body: "{}", address: "10.0.0.\(i)", ttlSeconds: 600)
        }
        let counting = try store.db.first("""
            SELECT COUNT(*) AS n FROM pg_prepared_statements WHERE statement LIKE ? AND statement LIKE ?
            """, [.text("%COUNT(*)%"), .text("%FROM pending_flows%")])
        #expect(counting?.int("n") == 1)
    }
}
