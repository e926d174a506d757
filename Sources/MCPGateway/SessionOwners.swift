import MCPAuth

/// Binds each MCP session on an HTTP upstream to the user who created it, so a session id seen or guessed
/// by another user is worthless (MCP security best practices: session hijacking). Kept in the store
/// (`MCPSessions`), so a restart neither forgets an owner nor lets a session be taken over; a session the
/// store does not know is refused with 404, which makes an MCP client start a new one. Owners never change
/// for an id, so the answers are also kept in memory (bounded).
final class SessionOwners: Sendable {
    private let pool: StorePool
    private let known = Guarded<[String: Int64]>([:])
    private let limit = 10_000
    private let lastPrune = Guarded<Int64>(0)

    init(pool: StorePool) { self.pool = pool }

    private static func key(_ session: String, _ app: String, _ env: String) -> String { app + "\u{0}" + env + "\u{0}" + session }

    func register(_ session: String, user: Int64, app: String, env: String) throws {
        let now = Clock.nowMillis()
        let prune = lastPrune.withLock { last -> Bool in
            guard now - last > 3_600_000 else { return false }
            last = now
            return true
        }
        try pool.with { store in
            if prune { try MCPSessions(store: store).prune(now: now) }
            try MCPSessions(store: store).register(id: session, userID: user, app: app, env: env, now: now)
        }
        remember(SessionOwners.key(session, app, env), user)
    }

    func remove(_ session: String, app: String, env: String) throws {
        _ = known.withLock { $0.removeValue(forKey: SessionOwners.key(session, app, env)) }
        try pool.with { try MCPSessions(store: $0).remove(id: session) }
    }

    /// True only when `user` opened this session on app/env (unknown sessions are refused).
    func mayUse(_ session: String, user: Int64, app: String, env: String) throws -> Bool {
        let key = SessionOwners.key(session, app, env)
        if let owner = known.withLock({ $0[key] }) { return owner == user }
        guard let owner = try pool.with({ try MCPSessions(store: $0).owner(id: session, app: app, env: env) }) else { return false }
        remember(key, owner)
        return owner == user
    }

    private func remember(_ key: String, _ user: Int64) {
        known.withLock {
            if $0.count >= limit { $0.removeAll() }
            $0[key] = user
        }
    }
}
