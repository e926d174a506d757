import Foundation
import MCPAuth
import Testing

/// Rate limits on a PostgreSQL store are counted in the store, so servers sharing it grant a caller one
/// allowance in all, not one each. On a SQLite file (one server) they stay in memory.
@Suite struct SharedRateLimitTests {
    @Test(.enabled(if: TestStore.postgresURL != nil, "needs MCPCTL_TEST_DB=postgresql://… (.ci/postgres)"))
    func twoServersOnOnePostgresStoreShareOneAllowance() throws {
        let location = try TestStore.location()
        _ = try Store(path: location)
        // Two servers' limiters (3 per minute: one comes back every 20 seconds).
        let first = RateLimiter(burst: 3, perMinute: 3, shared: try StorePool(path: location), name: "test")
        let second = RateLimiter(burst: 3, perMinute: 3, shared: try StorePool(path: location), name: "test")
        #expect(first.isShared && second.isShared)
        #expect(first.take("addr:192.0.2.1") == nil)
        #expect(second.take("addr:192.0.2.1") == nil)
        #expect(first.take("addr:192.0.2.1") == nil)
        let refused = second.take("addr:192.0.2.1")
        #expect(refused != nil && refused! > 0 && refused! <= 20, "\(String(describing: refused))")
        #expect(first.take("addr:192.0.2.1") != nil)
        #expect(second.wait("addr:192.0.2.1") != nil)
        // Another caller, and the same caller under another limit, have their own allowances.
        #expect(second.take("addr:192.0.2.2") == nil)
        let other = RateLimiter(burst: 1, perMinute: 1, shared: try StorePool(path: location), name: "other")
        #expect(other.take("addr:192.0.2.1") == nil)
    }

    @Test(.enabled(if: TestStore.postgresURL != nil, "needs MCPCTL_TEST_DB=postgresql://… (.ci/postgres)"))
    func manyServersTakingAtOnceNeverGrantMoreThanTheBurst() throws {
        let location = try TestStore.location()
        _ = try Store(path: location)
        let limiters = try (0..<4).map { _ in RateLimiter(burst: 10, perMinute: 1, shared: try StorePool(path: location), name: "race") }
        let granted = Locked(0)
        DispatchQueue.concurrentPerform(iterations: 40) { i in
            if limiters[i % 4].take("addr:198.51.100.7") == nil { granted.withLock { $0 += 1 } }
        }
        #expect(granted.value == 10)
    }

    /// The check in front of outside-issuer tokens asks `wait` only (no round trip): the server whose take
    /// used up the allowance knows at once, as an in-memory limiter would.
    @Test(.enabled(if: TestStore.postgresURL != nil, "needs MCPCTL_TEST_DB=postgresql://… (.ci/postgres)"))
    func theServerThatTookTheLastOfTheAllowanceRefusesTheNextFromMemory() throws {
        let location = try TestStore.location()
        _ = try Store(path: location)
        let limiter = RateLimiter(burst: 3, perMinute: 3, shared: try StorePool(path: location), name: "last")
        for _ in 0..<2 { #expect(limiter.take("addr:203.0.113.9") == nil) }
        #expect(limiter.wait("addr:203.0.113.9") == nil, "one left")
        #expect(limiter.take("addr:203.0.113.9") == nil)
        let wait = limiter.wait("addr:203.0.113.9")
        #expect(wait != nil && wait! > 0 && wait! <= 20, "\(String(describing: wait))")
    }

    @Test func onASQLiteStoreTheLimitStaysInMemory() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("mcpauth-" + UUID().uuidString)
        let limiter = RateLimiter(burst: 1, perMinute: 1, shared: try StorePool(path: dir.appendingPathComponent("s.db").path))
        #expect(!limiter.isShared)
        #expect(limiter.take("k") == nil)
        #expect(limiter.take("k") != nil)
    }
}
