/// One OAuth client as one user sees it: what they consented to, where, and when it was used with their
/// account.
public struct ConnectedApplication: Sendable {
    /// A consent: the scopes let on one resource (app/environment).
    public struct Consent: Sendable {
        public let app: String
        public let env: String
        public let scopes: ScopeSet
        public let createdAt: Int64
    }

    public let client: ClientRecord
    public let consents: [Consent]
    /// When the user first connected it (first consent or token), and last used it (any of its tokens).
    public let firstUsedAt: Int64?
    public let lastUsedAt: Int64?
    public let liveTokens: Int

    /// Everything consented, all resources together.
    public var scopes: ScopeSet { consents.reduce(ScopeSet()) { $0.union($1.scopes) } }
}

/// The clients a user has connected (consented to, or holds live tokens of), and disconnecting one of them
/// for that user only: the client stays registered for everyone else.
public struct ConnectedApplications: Sendable {
    let store: Store
    var db: Database { store.db }

    public init(store: Store) { self.store = store }

    /// The user's connected applications, most recently used first.
    public func list(userID: Int64) throws -> [ConnectedApplication] {
        let now = Clock.nowMillis()
        let ids = try db.query("""
            SELECT client_id FROM consents WHERE user_id = ?
            UNION SELECT client_id FROM tokens WHERE user_id = ? AND client_id IS NOT NULL AND revoked_at IS NULL
                AND (expires_at IS NULL OR expires_at > ?)
            """, [.integer(userID), .integer(userID), .integer(now)]).compactMap { $0.string("client_id") }
        return try ids.compactMap { try application($0, userID: userID, now: now) }
            .sorted { ($0.lastUsedAt ?? $0.firstUsedAt ?? 0) > ($1.lastUsedAt ?? $1.firstUsedAt ?? 0) }
    }

    /// One client as the user sees it; nil when the user never connected it (or it no longer exists).
    public func application(_ clientID: String, userID: Int64, now: Int64 = Clock.nowMillis()) throws -> ConnectedApplication? {
        guard let client = try Clients(store: store).find(clientID) else { return nil }
        let consents = try db.query("SELECT app, env, scopes, created_at FROM consents WHERE user_id = ? AND client_id = ? ORDER BY app, env",
                                    [.integer(userID), .text(clientID)]).map {
            ConnectedApplication.Consent(app: try $0.text("app", of: "consents"), env: try $0.text("env", of: "consents"),
                                         scopes: try $0.scopes("scopes", of: "consents"), createdAt: try $0.integer("created_at", of: "consents"))
        }
        guard let use = try db.first("""
            SELECT MIN(created_at) AS first, MAX(last_used_at) AS last,
                   SUM(CASE WHEN revoked_at IS NULL AND (expires_at IS NULL OR expires_at > ?) THEN 1 ELSE 0 END) AS live
            FROM tokens WHERE user_id = ? AND client_id = ?
            """, [.integer(now), .integer(userID), .text(clientID)]) else { return nil }
        let live = Int(use.int("live") ?? 0)   // SUM over no tokens is NULL: none live
        guard !consents.isEmpty || live > 0 else { return nil }
        let firstCandidates = consents.map(\.createdAt) + [use.int("first")].compactMap { $0 }
        return ConnectedApplication(client: client, consents: consents, firstUsedAt: firstCandidates.min(),
                                    lastUsedAt: use.int("last"), liveTokens: live)
    }

    /// Disconnects a client from one user: revokes that user's tokens of it (access and refresh alike, so
    /// its refresh token then gets `invalid_grant`), drops their consent and spends their unused codes.
    /// Other users' connections and the registration stay. Returns how many tokens were revoked.
    @discardableResult
    public func disconnect(_ clientID: String, user: User, by initiator: Initiator) throws -> Int {
        try db.write {
            guard let app = try application(clientID, userID: user.id) else {
                throw DomainError.notFound("you have no connected application with client id '\(clientID)'")
            }
            let now = Clock.nowMillis()
            let n = try db.run("UPDATE tokens SET revoked_at = ?, revoked_reason = ? WHERE user_id = ? AND client_id = ? AND revoked_at IS NULL",
                               [.integer(now), .text("application disconnected by \(initiator.source)"), .integer(user.id), .text(clientID)])
            try db.run("DELETE FROM consents WHERE user_id = ? AND client_id = ?", [.integer(user.id), .text(clientID)])
            try db.run("UPDATE auth_codes SET used_at = ? WHERE user_id = ? AND client_id = ? AND used_at IS NULL",
                       [.integer(now), .integer(user.id), .text(clientID)])
            try AuditLog.append(initiator.event("client.disconnect", email: user.email, clientID: clientID, target: app.client.name,
                                                reason: "\(n) tokens revoked, consent removed"), to: db)
            return n
        }
    }
}
