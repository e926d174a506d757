/// Consents: which scopes a user let a client use on one resource. They make a client a "connected
/// application" of that user (`mcpctl client list`) and die with `client revoke`, `client block`,
/// `user disable` and `token revoke --email E --all`.
public struct Consents: Sendable {
    let store: Store
    var db: Database { store.db }

    public init(store: Store) { self.store = store }

    /// Records (or replaces) the user's consent and audits the decision.
    public func record(userID: Int64, email: String, clientID: String, resource: ResourceIndicator, scopes: ScopeSet,
                       remoteAddr: String?, now: Int64 = Clock.nowMillis()) throws {
        try db.write {
            try db.run("""
                INSERT INTO consents (user_id, client_id, app, env, scopes, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT(user_id, client_id, app, env) DO UPDATE SET scopes = excluded.scopes, updated_at = excluded.updated_at
                """, [.integer(userID), .text(clientID), .text(resource.app), .text(resource.env), .text(scopes.description),
                      .integer(now), .integer(now)])
            try AuditLog.append(AuditEvent(source: .oauth, action: "oauth.consent", email: email, clientID: clientID,
                                           app: resource.app, env: resource.env, decision: .allow, reason: "scopes=\(scopes)",
                                           remoteAddr: remoteAddr), to: db)
        }
    }

    /// Whether the user has consented to the client (on any resource).
    public func exists(userID: Int64, clientID: String) throws -> Bool {
        try db.first("SELECT 1 AS x FROM consents WHERE user_id = ? AND client_id = ? LIMIT 1", [.integer(userID), .text(clientID)]) != nil
    }

    /// Audits a refused consent (the user pressed "deny", or had nothing to grant).
    public func recordDenial(email: String, clientID: String, resource: ResourceIndicator?, reason: String, remoteAddr: String?) throws {
        try AuditLog.append(AuditEvent(source: .oauth, action: "oauth.consent", email: email, clientID: clientID,
                                       app: resource?.app, env: resource?.env, decision: .deny, reason: reason,
                                       remoteAddr: remoteAddr), to: db)
    }
}
