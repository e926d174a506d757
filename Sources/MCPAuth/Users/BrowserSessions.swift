/// One signed-in browser: whose it is and when it was last seen. Never the cookie.
public struct BrowserSession: Sendable {
    /// The public name (`ses_…`) operators list and end sessions by.
    public let id: String
    public let userID: Int64
    public let email: String
    public let createdAt: Int64
    public let lastSeenAt: Int64
    public let remoteAddr: String?
    public let userAgent: String?

    static let select = """
        SELECT s.id, s.user_id, u.email, s.created_at, s.last_seen_at, s.remote_addr, s.user_agent, u.disabled_at
        FROM browser_sessions s JOIN users u ON u.id = s.user_id
        """

    init(row: Row) throws {
        id = try row.text("id", of: "browser_sessions")
        userID = try row.integer("user_id", of: "browser_sessions")
        email = try row.text("email", of: "browser_sessions")
        createdAt = try row.integer("created_at", of: "browser_sessions")
        lastSeenAt = try row.integer("last_seen_at", of: "browser_sessions")
        remoteAddr = row.string("remote_addr")
        userAgent = row.string("user_agent")
    }
}

/// Browser sessions of the account pages and the authorization flow, kept in the store so they survive a
/// restart. The cookie value is a 256-bit random secret shown only to the browser; the store keeps its
/// SHA-256, so looking a session up by hash needs no secret comparison and a stolen store holds no cookie.
/// A session ends when idle too long, when too old, at sign-out, and with every credential of its user
/// (`user disable`, revoke-all).
public struct BrowserSessions: Sendable {
    /// How long a session lives: since its last use, and at most since it began.
    public struct Limits: Sendable {
        public var idleSeconds: Int64 = 12 * 3600
        public var maxAgeSeconds: Int64 = 7 * 86_400
        public init() {}
    }

    /// A new session and the cookie value that names it (given to the browser once, never stored).
    public struct Started: Sendable {
        public let session: BrowserSession
        public let cookie: String
    }

    let store: Store
    let limits: Limits
    var db: Database { store.db }

    /// A session's last-seen time is written at most this often (milliseconds), not on every page view.
    static let touchInterval: Int64 = 60_000
    /// Longest cookie value looked up; anything longer is not one of ours.
    static let maxCookieBytes = 128

    public init(store: Store, limits: Limits = Limits()) {
        self.store = store
        self.limits = limits
    }

    static func newID() -> String { "ses_" + Base62.random(count: 16) }

    /// Signs a user in: a fresh session (never a reused id, so one planted beforehand is never promoted).
    public func start(userID: Int64, remoteAddr: String?, userAgent: String?) throws -> Started {
        let cookie = Base62.random(count: 43)
        let id = BrowserSessions.newID()
        let now = Clock.nowMillis()
        return try db.write {
            try removeExpired(now: now)
            try db.run("""
                INSERT INTO browser_sessions (id, secret_hash, user_id, created_at, last_seen_at, remote_addr, user_agent)
                VALUES (?, ?, ?, ?, ?, ?, ?)
                """, [.text(id), .blob(SHA256.hash(cookie)), .integer(userID), .integer(now), .integer(now),
                      .text(remoteAddr.map { AuditFieldLimits.truncate($0, toBytes: AuditFieldLimits.textBytes) }),
                      .text(userAgent.map { AuditFieldLimits.truncate($0, toBytes: AuditFieldLimits.textBytes) })])
            guard let row = try db.first(BrowserSession.select + " WHERE s.id = ?", [.text(id)]) else {
                throw DomainError.notFound("session \(id) vanished")
            }
            return Started(session: try BrowserSession(row: row), cookie: cookie)
        }
    }

    /// The live session the cookie names, marked as used; nil for an unknown, idle, too old or disabled one
    /// (which is then removed).
    public func find(cookie: String?) throws -> BrowserSession? {
        guard let cookie, !cookie.isEmpty, cookie.utf8.count <= BrowserSessions.maxCookieBytes else { return nil }
        let hash = SHA256.hash(cookie)
        guard let row = try db.first(BrowserSession.select + " WHERE s.secret_hash = ?", [.blob(hash)]) else { return nil }
        let session = try BrowserSession(row: row)
        let now = Clock.nowMillis()
        guard row.int("disabled_at") == nil, isLive(session, now: now) else {
            try db.write { _ = try db.run("DELETE FROM browser_sessions WHERE id = ?", [.text(session.id)]) }
            return nil
        }
        if now - session.lastSeenAt >= BrowserSessions.touchInterval {
            try db.write { _ = try db.run("UPDATE browser_sessions SET last_seen_at = ? WHERE id = ?", [.integer(now), .text(session.id)]) }
        }
        return session
    }

    func isLive(_ s: BrowserSession, now: Int64) -> Bool {
        s.lastSeenAt + limits.idleSeconds * 1000 > now && s.createdAt + limits.maxAgeSeconds * 1000 > now
    }

    /// Sign-out: ends the session the cookie names, if any.
    public func end(cookie: String?, by initiator: Initiator, reason: String = "signed out") throws {
        guard let cookie, !cookie.isEmpty, cookie.utf8.count <= BrowserSessions.maxCookieBytes else { return }
        try db.write {
            guard let row = try db.first(BrowserSession.select + " WHERE s.secret_hash = ?", [.blob(SHA256.hash(cookie))]) else { return }
            let session = try BrowserSession(row: row)
            try db.run("DELETE FROM browser_sessions WHERE id = ?", [.text(session.id)])
            try AuditLog.append(initiator.event("session.end", email: session.email, target: session.id, reason: reason), to: db)
        }
    }

    /// An operator ends someone's session by its public id.
    @discardableResult
    public func end(id: String, by initiator: Initiator) throws -> BrowserSession {
        try db.write {
            guard let row = try db.first(BrowserSession.select + " WHERE s.id = ?", [.text(id)]) else {
                throw DomainError.notFound("no browser session with id '\(id)'")
            }
            let session = try BrowserSession(row: row)
            try db.run("DELETE FROM browser_sessions WHERE id = ?", [.text(id)])
            try AuditLog.append(initiator.event("session.end", email: session.email, target: id, reason: "ended by \(initiator.source)"), to: db)
            return session
        }
    }

    /// Ends every session of a user; runs inside the caller's write transaction. Returns how many.
    @discardableResult
    public static func endAll(userID: Int64, db: Database) throws -> Int {
        try db.run("DELETE FROM browser_sessions WHERE user_id = ?", [.integer(userID)])
    }

    /// Live sessions, most recently used first; `email` narrows to one user.
    public func list(email: String? = nil) throws -> [BrowserSession] {
        var sql = BrowserSession.select + " WHERE u.disabled_at IS NULL"
        var args: [SQLValue] = []
        if let email {
            sql += " AND u.email = ?"
            args.append(.text(EmailAddress.normalize(email) ?? email.lowercased()))
        }
        let now = Clock.nowMillis()
        return try db.query(sql + " ORDER BY s.last_seen_at DESC", args).map(BrowserSession.init).filter { isLive($0, now: now) }
    }

    private func removeExpired(now: Int64) throws {
        try db.run("DELETE FROM browser_sessions WHERE last_seen_at <= ? OR created_at <= ?",
                   [.integer(now - limits.idleSeconds * 1000), .integer(now - limits.maxAgeSeconds * 1000)])
    }
}
