import MCPAuth

/// Requests to the MCP endpoints that end without a working credential (none, a bad one, or refused
/// before authentication) are limited per client address: a token bucket of `perMinute`, refilled at that
/// rate. Beyond it they are answered 429 and not audited one by one: each address gets one summary row
/// per minute with the count, so nobody can fill the disk (or the audit log) without a credential.
/// The summaries are each server's own: one row per address, minute and server that refused.
final class UnauthenticatedLimit: Sendable {
    /// What was refused over the limit from one address in one window.
    struct Summary {
        let address: String
        let app: String
        let env: String
        let count: Int
    }

    private struct Window {
        var started: Int64
        var app: String
        var env: String
        var count: Int
    }

    private let limiter: RateLimiter
    private let windows = Guarded<[String: Window]>([:])
    static let windowMillis: Int64 = 60_000
    /// Addresses whose summaries are held at once; more, and all are written out early.
    private let maxWindows = 10_000

    /// With `pool` on a PostgreSQL store the allowance is shared by every server on that store (an address
    /// gets `perMinute` in all, however a load balancer spreads its requests); only refused requests touch it.
    init(perMinute: Int, pool: StorePool? = nil) {
        limiter = RateLimiter(burst: perMinute, perMinute: perMinute, shared: pool, name: "mcp-unauthenticated")
    }

    /// Takes one request from `address`'s allowance: nil when it is within the limit (audit it as usual);
    /// else the seconds after which to retry, and the request is counted into the address's summary.
    /// `due` receives summaries that are ready to be written.
    func admit(_ address: String, app: String, env: String, due: inout [Summary]) -> Int? {
        guard let wait = limiter.take(address) else { return nil }
        let now = Clock.nowMillis()
        due = windows.withLock { windows -> [Summary] in
            var ready: [Summary] = []
            if let w = windows[address], now - w.started >= UnauthenticatedLimit.windowMillis {
                ready.append(Summary(address: address, app: w.app, env: w.env, count: w.count))
                windows.removeValue(forKey: address)
            }
            if windows[address] == nil, windows.count >= maxWindows {
                ready += windows.map { Summary(address: $0.key, app: $0.value.app, env: $0.value.env, count: $0.value.count) }
                windows.removeAll()
            }
            windows[address, default: Window(started: now, app: app, env: env, count: 0)].count += 1
            return ready
        }
        return wait
    }

    /// Whether `address` has used up its allowance, without taking from it.
    func isExhausted(_ address: String) -> Bool {
        limiter.wait(address) != nil
    }

    /// Summaries whose minute is over (every one, with `all`), forgotten once returned.
    func due(all: Bool) -> [Summary] {
        let now = Clock.nowMillis()
        return windows.withLock { windows in
            let ready = windows.filter { all || now - $0.value.started >= UnauthenticatedLimit.windowMillis }
            for key in ready.keys { windows.removeValue(forKey: key) }
            return ready.map { Summary(address: $0.key, app: $0.value.app, env: $0.value.env, count: $0.value.count) }
        }
    }
}
