/// Lifetimes of what the authorization server issues (defaults: 1 h and 30 d).
public struct OAuthTokenLifetimes: Sendable {
    public var accessTokenSeconds: Int64
    public var refreshTokenSeconds: Int64

    public init(accessTokenSeconds: Int64 = 3600, refreshTokenSeconds: Int64 = 30 * 86_400) {
        self.accessTokenSeconds = accessTokenSeconds
        self.refreshTokenSeconds = refreshTokenSeconds
    }
}

/// An access/refresh token pair just issued to a client; the secrets exist only here.
public struct IssuedTokenPair: Sendable {
    public let accessToken: String
    public let refreshToken: String
    public let access: TokenRecord
    public let refresh: TokenRecord
    public let scopes: ScopeSet
    public let resource: ResourceIndicator
    public let expiresIn: Int64

    /// The RFC 6749 §5.1 success body.
    public var json: JSON {
        .object([("access_token", .string(accessToken)), ("token_type", .string("Bearer")), ("expires_in", .int(expiresIn)),
                 ("refresh_token", .string(refreshToken)), ("scope", .string(scopes.oauthString))])
    }
}

/// OAuth access and refresh tokens: issuing a pair, rotating on refresh with reuse detection, and the
/// scope arithmetic both share. Every method runs in (or opens) a write transaction and audits with
/// source `oauth`; refusals are thrown as `OAuthError` after the revocations and audit rows they cause commit.
public struct OAuthTokens: Sendable {
    let store: Store
    var db: Database { store.db }

    public init(store: Store) { self.store = store }

    static func newFamilyID() -> String { "fam_" + Base62.random(count: 16) }

    /// The scopes a user can still hold on a resource, narrowed to `wanted`: a token only
    /// ever has the scopes chosen when it was made, intersected with what its user is granted.
    func effectiveScopes(userID: Int64, wanted: ScopeSet, resource: ResourceIndicator) throws -> ScopeSet {
        let decision = try Policy.check(store: store, userID: userID, tokenScopes: wanted, binding: (nil, nil),
                                        app: resource.app, env: resource.env, needed: nil)
        return decision.hasAccess ? decision.effective : []
    }

    /// Inserts an access token and a refresh token of one family; the caller holds the write transaction.
    func issuePair(userID: Int64, clientID: String, scopes: ScopeSet, resource: ResourceIndicator, familyID: String,
                   parentID: String?, lifetimes: OAuthTokenLifetimes, now: Int64) throws -> IssuedTokenPair {
        let name = try db.first("SELECT name FROM clients WHERE client_id = ?", [.text(clientID)])?.string("name")
        let tokens = Tokens(store: store)
        let access = try tokens.insert(kind: .access, userID: userID, clientID: clientID, name: name, scopes: scopes,
                                       app: resource.app, env: resource.env, ttlSeconds: lifetimes.accessTokenSeconds,
                                       rotatedFrom: nil, familyID: familyID, parentID: parentID, now: now)
        let refresh = try tokens.insert(kind: .refresh, userID: userID, clientID: clientID, name: name, scopes: scopes,
                                        app: resource.app, env: resource.env, ttlSeconds: lifetimes.refreshTokenSeconds,
                                        rotatedFrom: parentID, familyID: familyID, parentID: parentID, now: now)
        try db.run("UPDATE clients SET last_used_at = ? WHERE client_id = ?", [.integer(now), .text(clientID)])
        return IssuedTokenPair(accessToken: access.secret, refreshToken: refresh.secret, access: access.record,
                               refresh: refresh.record, scopes: scopes, resource: resource,
                               expiresIn: lifetimes.accessTokenSeconds)
    }

    /// Revokes every live token of a family (refresh and access tokens alike); returns how many.
    @discardableResult
    func revokeFamily(_ familyID: String, reason: String, now: Int64) throws -> Int {
        try db.run("UPDATE tokens SET revoked_at = ?, revoked_reason = ? WHERE family_id = ? AND revoked_at IS NULL",
                   [.integer(now), .text(reason), .text(familyID)])
    }

    /// The `refresh_token` grant (RFC 6749 §6, OAuth 2.1 §4.3): the presented refresh token is spent and a
    /// new pair of the same family is issued. Reuse of a spent refresh token revokes the whole family
    /// (RFC 9700 §4.14.2); a token presented by another client is refused and revokes nothing.
    /// `reuseGraceSeconds` (0: off) forgives a client that refreshed from two threads at once: a token
    /// presented again that long after its own rotation, while its family lives, gets another pair of
    /// the family (the first successor stays valid); later reuse still revokes the family.
    public func refresh(secret: String, clientID: String, scope: ScopeSet?, resource: ResourceIndicator?,
                        lifetimes: OAuthTokenLifetimes, reuseGraceSeconds: Int64 = 0, remoteAddr: String?,
                        now: Int64 = Clock.nowMillis()) throws -> IssuedTokenPair {
        // A refusal still commits: its audit row, and the family revocation reuse causes.
        try db.writeCommittingRefusal {
            func deny(_ error: OAuthError, _ reason: String, email: String? = nil, tokenID: String? = nil,
                      app: String? = nil, env: String? = nil, action: String = "oauth.refresh") throws -> OAuthError {
                try AuditLog.append(AuditEvent(source: "oauth", action: action, email: email, tokenID: tokenID, clientID: clientID,
                                               app: app, env: env, decision: "deny", reason: reason, remoteAddr: remoteAddr), to: db)
                return error
            }
            guard TokenSecret.kind(of: secret) == "rt",
                  let row = try db.first("""
                    SELECT t.id, t.user_id, t.client_id, t.scopes, t.app, t.env, t.expires_at, t.revoked_at, t.revoked_reason, t.used_at, t.family_id,
                           u.email, u.disabled_at
                    FROM tokens t JOIN users u ON u.id = t.user_id WHERE t.secret_hash = ? AND t.kind = 'refresh'
                    """, [.blob(TokenSecret.hash(secret))]),
                  let id = row.string("id"), let userID = row.int("user_id"),
                  let app = row.string("app"), let env = row.string("env")
            else { throw try deny(.invalidGrant("the refresh token is unknown or malformed"), "unknown refresh token") }
            let email = row.string("email")
            // OAuth 2.1 §4.3.1: the refresh token must have been issued to the authenticated client.
            // Checked before reuse: a foreign client replaying a spent token must not be able to
            // revoke the legitimate client's family.
            let owner = try row.text("client_id", of: "tokens")
            guard owner == clientID else {
                throw try deny(.invalidGrant("the refresh token was not issued to this client"),
                                "refresh token of client \(owner) presented by another client",
                                email: email, tokenID: id, app: app, env: env)
            }
            let withinGrace = try isForgivableReuse(row, graceSeconds: reuseGraceSeconds, now: now)
            if row.int("used_at") != nil, !withinGrace {
                // RFC 9700 §4.14.2: a spent refresh token came back, so one of two parties holds a stolen
                // copy; revoke the active refresh token (the whole family) and let the user re-authorize.
                let n = try row.string("family_id").map { try revokeFamily($0, reason: "refresh token reuse detected", now: now) } ?? 0
                throw try deny(.invalidGrant("the refresh token was already used"), "refresh token reuse detected: \(n) tokens of the family revoked",
                                email: email, tokenID: id, app: app, env: env, action: "oauth.refresh_reuse")
            }
            if row.int("revoked_at") != nil, !withinGrace {
                throw try deny(.invalidGrant("the refresh token was revoked"), "refresh token revoked", email: email, tokenID: id, app: app, env: env)
            }
            if let expires = row.int("expires_at"), expires <= now {
                throw try deny(.invalidGrant("the refresh token expired"), "refresh token expired", email: email, tokenID: id, app: app, env: env)
            }
            if row.int("disabled_at") != nil {
                throw try deny(.invalidGrant("the user is disabled"), "user disabled", email: email, tokenID: id, app: app, env: env)
            }
            let bound = ResourceIndicator(app: app, env: env)
            // RFC 8707 §2.2: a resource named on refresh must be one the grant covers; here that is exactly one.
            if let resource, resource != bound {
                throw try deny(.invalidTarget("the refresh token is bound to another resource"), "resource \(resource.app)/\(resource.env) does not match \(app)/\(env)",
                                email: email, tokenID: id, app: app, env: env)
            }
            let original = try row.scopes("scopes", of: "tokens")
            // RFC 6749 §6: the requested scope MUST NOT include any scope not originally granted.
            if let scope, !original.isSuperset(of: scope) {
                throw try deny(.invalidScope("the requested scope exceeds the scope originally granted (\(original.oauthString))"),
                                "scope widening refused: asked \(scope), granted \(original)", email: email, tokenID: id, app: app, env: env)
            }
            let scopes = try effectiveScopes(userID: userID, wanted: scope ?? original, resource: bound)
            guard !scopes.isEmpty else {
                throw try deny(.invalidGrant("the user no longer holds a grant on this resource"), "no grant left on \(app)/\(env)",
                                email: email, tokenID: id, app: app, env: env)
            }
            // One-time things are consumed with a conditional UPDATE and a row-count check.
            let spent = withinGrace ? 1 : try db.run("""
                UPDATE tokens SET used_at = ?, revoked_at = COALESCE(revoked_at, ?), revoked_reason = COALESCE(revoked_reason, 'rotated')
                WHERE id = ? AND used_at IS NULL
                """, [.integer(now), .integer(now), .text(id)])
            guard spent == 1 else {
                throw try deny(.invalidGrant("the refresh token was already used"), "refresh token consumed concurrently",
                                email: email, tokenID: id, app: app, env: env)
            }
            let family = row.string("family_id") ?? OAuthTokens.newFamilyID()
            let pair = try issuePair(userID: userID, clientID: clientID, scopes: scopes, resource: bound, familyID: family,
                                     parentID: id, lifetimes: lifetimes, now: now)
            try AuditLog.append(AuditEvent(source: "oauth", action: "oauth.refresh", email: email, tokenID: pair.access.id,
                                           clientID: clientID, app: app, env: env, decision: "allow",
                                           reason: (withinGrace ? "reused within the \(reuseGraceSeconds)s grace: " : "")
                                               + "rotated \(id) -> \(pair.refresh.id), scopes=\(scopes)", remoteAddr: remoteAddr,
                                           target: family), to: db)
            return pair
        }
    }

    /// Whether a spent refresh token came back within the reuse grace: it was spent by rotation (not
    /// revoked for another reason) at most `graceSeconds` ago, and its family still has a live refresh
    /// token (a family revoked meanwhile is not brought back).
    func isForgivableReuse(_ row: Row, graceSeconds: Int64, now: Int64) throws -> Bool {
        guard graceSeconds > 0, let usedAt = row.int("used_at"), now - usedAt <= graceSeconds * 1000,
              row.string("revoked_reason") == "rotated", let family = row.string("family_id") else { return false }
        return try db.first("""
            SELECT 1 AS live FROM tokens WHERE family_id = ? AND kind = 'refresh' AND revoked_at IS NULL LIMIT 1
            """, [.text(family)]) != nil
    }
}
