import Foundation

/// Token buckets keyed by caller (remote address, client id): `burst` requests at once, refilled at
/// `perMinute`.
///
/// In memory by default: a restart forgives everyone, which is fine for abuse limits. With `shared`, a
/// PostgreSQL store that several servers use, the allowance lives in the store (`rate_limits`) so the
/// servers count together and a caller gets `burst` requests in all, not `burst` from each. Each shared
/// `take` is one statement that locks only the caller's row (never the store's write lock); a caller found
/// over its allowance is then refused from memory until the store's answer says a request is due again,
/// so a flood over the limit costs the store nothing. If the store cannot be reached, the limit falls back
/// to this process's own count.
public final class RateLimiter: Sendable {
    private struct Bucket {
        var tokens: Double
        var updated: Double
    }
    private let buckets = Guarded<[String: Bucket]>([:])
    private let burst: Double
    private let perSecond: Double
    private let maxKeys = 50_000
    private let shared: SharedAllowance?

    /// `name` keeps the keys of different limits apart in a shared store.
    public init(burst: Int, perMinute: Int, shared pool: StorePool? = nil, name: String = "limit") {
        self.burst = Double(max(1, burst))
        self.perSecond = Double(max(1, perMinute)) / 60
        shared = pool.flatMap { StoreLocation($0.path).isPostgres ? SharedAllowance(pool: $0, name: name, burst: max(1, burst), perMinute: max(1, perMinute)) : nil }
    }

    /// Whether the allowance is counted in the store, together with every other server on it.
    public var isShared: Bool { shared != nil }

    private static func now() -> Double { Date().timeIntervalSince1970 }

    /// Takes one token; returns nil when allowed, else the whole seconds until one is available.
    public func take(_ key: String) -> Int? {
        if let shared, let answer = shared.take(key) { return answer.wait }
        return takeLocally(key)
    }

    private func takeLocally(_ key: String) -> Int? {
        let now = RateLimiter.now()
        return buckets.withLock { buckets in
            var b = buckets[key] ?? Bucket(tokens: burst, updated: now)
            b.tokens = min(burst, b.tokens + (now - b.updated) * perSecond)
            b.updated = now
            if b.tokens >= 1 {
                b.tokens -= 1
                buckets[key] = b
                if buckets.count > maxKeys { prune(&buckets, now: now) }
                return nil
            }
            buckets[key] = b
            return max(1, Int(((1 - b.tokens) / perSecond).rounded(.up)))
        }
    }

    /// Seconds until the bucket has a token again, without taking one; nil when one is available. Shared:
    /// what this process learned from its own refused `take`s (no store round trip, so it can sit in front
    /// of work that succeeds).
    public func wait(_ key: String) -> Int? {
        if let shared { return shared.knownWait(key) }
        let now = RateLimiter.now()
        return buckets.withLock { buckets in
            guard let b = buckets[key] else { return nil }
            let tokens = min(burst, b.tokens + (now - b.updated) * perSecond)
            return tokens >= 1 ? nil : max(1, Int(((1 - tokens) / perSecond).rounded(.up)))
        }
    }

    /// Drops buckets that have refilled completely: they hold no information.
    private func prune(_ buckets: inout [String: Bucket], now: Double) {
        buckets = buckets.filter { min(burst, $0.value.tokens + (now - $0.value.updated) * perSecond) < burst }
    }
}

/// One limit's allowances in the store, as the generic cell rate algorithm keeps them (ITU-T I.371): per
/// key one time, `tat`; a request at `now` is allowed when max(tat, now) + interval <= now + burst * interval,
/// and then moves `tat` to max(tat, now) + interval. A whole bucket is one integer, and one conditional
/// upsert both decides and takes, atomically across servers.
final class SharedAllowance: Sendable {
    struct Answer { let wait: Int? }

    private let pool: StorePool
    private let prefix: String
    private let intervalMillis: Int64
    private let limitMillis: Int64
    /// Keys refused by the store, with the time (Unix ms) before which no request of theirs can be allowed.
    private let refusedUntil = Guarded<[String: Int64]>([:])
    private let takes = Guarded(0)
    private let maxKeys = 50_000

    init(pool: StorePool, name: String, burst: Int, perMinute: Int) {
        self.pool = pool
        prefix = name + ":"
        intervalMillis = max(1, 60_000 / Int64(perMinute))
        limitMillis = max(1, 60_000 / Int64(perMinute)) * Int64(burst)
    }

    /// Takes one request from `key`'s allowance: nil when the store cannot answer (the caller counts
    /// locally), else the wait (nil: allowed).
    func take(_ key: String) -> Answer? {
        let now = Clock.nowMillis()
        if let until = refusedUntil.withLock({ $0[key] }), until > now { return Answer(wait: Self.seconds(until - now)) }
        do {
            let row = try pool.with { store in
                try store.db.first("""
                    INSERT INTO rate_limits (key, tat) VALUES (?, ?)
                    ON CONFLICT (key) DO UPDATE SET tat = (CASE WHEN rate_limits.tat > ? THEN rate_limits.tat ELSE ? END) + ?
                    WHERE (CASE WHEN rate_limits.tat > ? THEN rate_limits.tat ELSE ? END) + ? <= ?
                    RETURNING tat
                    """, [.text(prefix + key), .integer(now + intervalMillis), .integer(now), .integer(now), .integer(intervalMillis),
                          .integer(now), .integer(now), .integer(intervalMillis), .integer(now + limitMillis)])
            }
            pruneNow(now)
            if let tat = row?.int("tat") {
                // Allowed. When that took the last of the allowance, the next request is due only once the
                // store's time allows it: remember, so `wait` refuses from memory before any outside work.
                let due = tat + intervalMillis - limitMillis
                refusedUntil.withLock { refused in
                    if due > now { remember(key, due, now: now, in: &refused) } else { refused.removeValue(forKey: key) }
                }
                return Answer(wait: nil)
            }
            return Answer(wait: Self.seconds(try refuse(key, now: now) - now))
        } catch {
            return nil
        }
    }

    /// Remembers that `key` is over its allowance until the store's time says a request is due again.
    private func refuse(_ key: String, now: Int64) throws -> Int64 {
        let tat = try pool.with { try $0.db.first("SELECT tat FROM rate_limits WHERE key = ?", [.text(prefix + key)])?.int("tat") } ?? now
        let due = max(now + 1, tat + intervalMillis - limitMillis)
        refusedUntil.withLock { remember(key, due, now: now, in: &$0) }
        return due
    }

    private func remember(_ key: String, _ due: Int64, now: Int64, in refused: inout [String: Int64]) {
        if refused.count >= maxKeys { refused = refused.filter { $0.value > now } }
        refused[key] = due
    }

    /// What this process knows of `key` being over its allowance.
    func knownWait(_ key: String) -> Int? {
        let now = Clock.nowMillis()
        guard let until = refusedUntil.withLock({ $0[key] }), until > now else { return nil }
        return Self.seconds(until - now)
    }

    /// Every so many takes, rows whose allowance is whole again are deleted: they hold no information.
    private func pruneNow(_ now: Int64) {
        let due = takes.withLock { n -> Bool in
            n += 1
            return n % 512 == 0
        }
        guard due else { return }
        // A row whose time has passed allows a whole burst, as no row does, whichever limit it belongs to.
        _ = try? pool.with { try $0.db.run("DELETE FROM rate_limits WHERE tat < ?", [.integer(now)]) }
    }

    private static func seconds(_ millis: Int64) -> Int { max(1, Int((millis + 999) / 1000)) }
}
