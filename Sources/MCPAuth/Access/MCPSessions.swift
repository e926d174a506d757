/// Owners of MCP sessions on HTTP upstreams (table `mcp_sessions`): the gateway records who sent the
/// `initialize` that an upstream answered with an `Mcp-Session-Id`, and serves that session to that user
/// only. Ids are kept as SHA-256; a session is forgotten on DELETE or after `maxAgeMillis`, after which the
/// client gets 404 and, as MCP 2025-11-25 (transport, session management) requires, starts a new one.
public struct MCPSessions {
    let store: Store
    var db: Database { store.db }

    public static let maxAgeMillis: Int64 = 7 * 24 * 3600 * 1000

    public init(store: Store) { self.store = store }

    static func key(_ id: String) -> [UInt8] { SHA256.hash(Array(id.utf8)) }

    public func register(id: String, userID: Int64, app: String, env: String, now: Int64 = Clock.nowMillis()) throws {
        try db.write {
            _ = try db.run("""
                INSERT INTO mcp_sessions (id_hash, user_id, app, env, created_at) VALUES (?, ?, ?, ?, ?)
                ON CONFLICT(id_hash) DO UPDATE SET user_id = excluded.user_id, app = excluded.app, env = excluded.env,
                                                    created_at = excluded.created_at
                """, [.blob(MCPSessions.key(id)), .integer(userID), .text(app), .text(env), .integer(now)])
        }
    }

    /// The user who opened session `id` on app/env, if it is known and not too old.
    public func owner(id: String, app: String, env: String, now: Int64 = Clock.nowMillis()) throws -> Int64? {
        try db.first("SELECT user_id FROM mcp_sessions WHERE id_hash = ? AND app = ? AND env = ? AND created_at > ?",
                     [.blob(MCPSessions.key(id)), .text(app), .text(env), .integer(now - MCPSessions.maxAgeMillis)])?.int("user_id")
    }

    public func remove(id: String) throws {
        try db.write { _ = try db.run("DELETE FROM mcp_sessions WHERE id_hash = ?", [.blob(MCPSessions.key(id))]) }
    }

    /// Drops sessions older than the maximum age; returns how many.
    @discardableResult
    public func prune(now: Int64 = Clock.nowMillis()) throws -> Int {
        try db.write { try db.run("DELETE FROM mcp_sessions WHERE created_at <= ?", [.integer(now - MCPSessions.maxAgeMillis)]) }
    }
}
