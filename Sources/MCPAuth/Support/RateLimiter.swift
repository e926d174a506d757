import Foundation

/// Token buckets keyed by caller (remote address, client id): `burst` requests at once, refilled at
/// `perMinute`. In memory: a restart forgives everyone, which is fine for abuse limits.
public final class RateLimiter: Sendable {
    private struct Bucket {
        var tokens: Double
        var updated: Double
    }
    private let buckets = Guarded<[String: Bucket]>([:])
    private let burst: Double
    private let perSecond: Double
    private let maxKeys = 50_000

    public init(burst: Int, perMinute: Int) {
        self.burst = Double(max(1, burst))
        self.perSecond = Double(max(1, perMinute)) / 60
    }

    private static func now() -> Double { Date().timeIntervalSince1970 }

    /// Takes one token; returns nil when allowed, else the whole seconds until one is available.
    public func take(_ key: String) -> Int? {
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

    /// Seconds until the bucket has a token again, without taking one; nil when one is available.
    public func wait(_ key: String) -> Int? {
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
