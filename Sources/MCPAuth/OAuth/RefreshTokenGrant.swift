/// A refresh token as presented at the token endpoint, with its user.
private struct PresentedRefreshToken {
    let id: String
    let userID: Int64
    let owner: String
    let email: String?
    let resource: ResourceIndicator
    let scopes: ScopeSet
    let expiresAt: Int64?
    let revokedAt: Int64?
    let revokedReason: String?
    let usedAt: Int64?
    let familyID: String?
    let userDisabled: Bool

    static let select = """
        SELECT t.id, t.user_id, t.client_id, t.scopes, t.app, t.env, t.expires_at, t.revoked_at, t.revoked_reason, t.used_at, t.family_id,
               u.email, u.disabled_at
        FROM tokens t JOIN users u ON u.id = t.user_id WHERE t.secret_hash = ? AND t.kind = 'refresh'
        """

    /// Nil when the row is not a refresh token bound to a resource (answered like an unknown token).
    init?(row: Row) throws {
        guard let id = row.string("id"), let userID = row.int("user_id"), let app = row.string("app"), let env = row.string("env")
        else { return nil }
        self.id = id
        self.userID = userID
        owner = try row.text("client_id", of: "tokens")
        email = row.string("email")
        resource = ResourceIndicator(app: app, env: env)
        scopes = try row.scopes("scopes", of: "tokens")
        expiresAt = row.int("expires_at")
        revokedAt = row.int("revoked_at")
        revokedReason = row.string("revoked_reason")
        usedAt = row.int("used_at")
        familyID = row.string("family_id")
        userDisabled = row.int("disabled_at") != nil
    }
}

extension OAuthTokens {
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
            var deny = GrantDenial(db: db, clientID: clientID, remoteAddr: remoteAddr, action: "oauth.refresh")
            guard TokenSecret.kind(of: secret) == "rt",
                  let row = try db.first(PresentedRefreshToken.select, [.blob(TokenSecret.hash(secret))]),
                  let token = try PresentedRefreshToken(row: row)
            else { throw try deny(.invalidGrant("the refresh token is unknown or malformed"), "unknown refresh token") }
            deny.email = token.email
            deny.tokenID = token.id
            deny.resource = token.resource
            let withinGrace = try checkUsable(token, clientID: clientID, graceSeconds: reuseGraceSeconds, deny: deny, now: now)
            let scopes = try grantedScopes(token, scope: scope, resource: resource, deny: deny)
            try spend(token, withinGrace: withinGrace, deny: deny, now: now)
            let family = token.familyID ?? OAuthTokens.newFamilyID()
            let pair = try issuePair(userID: token.userID, clientID: clientID, scopes: scopes, resource: token.resource,
                                     familyID: family, parentID: token.id, lifetimes: lifetimes, now: now)
            try AuditLog.append(AuditEvent(source: .oauth, action: "oauth.refresh", email: token.email, tokenID: pair.access.id,
                                           clientID: clientID, app: token.resource.app, env: token.resource.env, decision: .allow,
                                           reason: (withinGrace ? "reused within the \(reuseGraceSeconds)s grace: " : "")
                                               + "rotated \(token.id) -> \(pair.refresh.id), scopes=\(scopes)", remoteAddr: remoteAddr,
                                           target: family), to: db)
            return pair
        }
    }

    /// Whether the token may be spent by this client now; true when it comes back within the reuse grace.
    private func checkUsable(_ token: PresentedRefreshToken, clientID: String, graceSeconds: Int64, deny: GrantDenial,
                             now: Int64) throws -> Bool {
        // OAuth 2.1 §4.3.1: the refresh token must have been issued to the authenticated client. Checked
        // before reuse: a foreign client replaying a spent token must not be able to revoke the legitimate
        // client's family.
        guard token.owner == clientID else {
            throw try deny(.invalidGrant("the refresh token was not issued to this client"),
                           "refresh token of client \(token.owner) presented by another client")
        }
        let withinGrace = try isForgivableReuse(token, graceSeconds: graceSeconds, now: now)
        if token.usedAt != nil, !withinGrace {
            // RFC 9700 §4.14.2: a spent refresh token came back, so one of two parties holds a stolen
            // copy; revoke the active refresh token (the whole family) and let the user re-authorize.
            let n = try token.familyID.map { try revokeFamily($0, reason: "refresh token reuse detected", now: now) } ?? 0
            throw try deny(.invalidGrant("the refresh token was already used"), "refresh token reuse detected: \(n) tokens of the family revoked",
                           action: "oauth.refresh_reuse")
        }
        if token.revokedAt != nil, !withinGrace {
            throw try deny(.invalidGrant("the refresh token was revoked"), "refresh token revoked")
        }
        if let expires = token.expiresAt, expires <= now {
            throw try deny(.invalidGrant("the refresh token expired"), "refresh token expired")
        }
        if token.userDisabled { throw try deny(.invalidGrant("the user is disabled"), "user disabled") }
        return withinGrace
    }

    /// The scopes the new pair gets: the asked-for (or original) scope, within what the user still holds.
    private func grantedScopes(_ token: PresentedRefreshToken, scope: ScopeSet?, resource: ResourceIndicator?,
                               deny: GrantDenial) throws -> ScopeSet {
        let bound = token.resource
        // RFC 8707 §2.2: a resource named on refresh must be one the grant covers; here that is exactly one.
        if let resource, resource != bound {
            throw try deny(.invalidTarget("the refresh token is bound to another resource"),
                           "resource \(resource.app)/\(resource.env) does not match \(bound.app)/\(bound.env)")
        }
        // RFC 6749 §6: the requested scope MUST NOT include any scope not originally granted.
        if let scope, !token.scopes.isSuperset(of: scope) {
            throw try deny(.invalidScope("the requested scope exceeds the scope originally granted (\(token.scopes.oauthString))"),
                           "scope widening refused: asked \(scope), granted \(token.scopes)")
        }
        let scopes = try effectiveScopes(userID: token.userID, wanted: scope ?? token.scopes, resource: bound)
        guard !scopes.isEmpty else {
            throw try deny(.invalidGrant("the user no longer holds a grant on this resource"), "no grant left on \(bound.app)/\(bound.env)")
        }
        return scopes
    }

    /// Spends the token with a conditional UPDATE and a row-count check, so of two parallel refreshes
    /// exactly one wins (a reuse within the grace spends nothing).
    private func spend(_ token: PresentedRefreshToken, withinGrace: Bool, deny: GrantDenial, now: Int64) throws {
        guard !withinGrace else { return }
        let spent = try db.run("""
            UPDATE tokens SET used_at = ?, revoked_at = COALESCE(revoked_at, ?), revoked_reason = COALESCE(revoked_reason, 'rotated')
            WHERE id = ? AND used_at IS NULL
            """, [.integer(now), .integer(now), .text(token.id)])
        guard spent == 1 else {
            throw try deny(.invalidGrant("the refresh token was already used"), "refresh token consumed concurrently")
        }
    }

    /// Whether a spent refresh token came back within the reuse grace: it was spent by rotation (not
    /// revoked for another reason) at most `graceSeconds` ago, and its family still has a live refresh
    /// token (a family revoked meanwhile is not brought back).
    private func isForgivableReuse(_ token: PresentedRefreshToken, graceSeconds: Int64, now: Int64) throws -> Bool {
        guard graceSeconds > 0, let usedAt = token.usedAt, now - usedAt <= graceSeconds * 1000,
              token.revokedReason == "rotated", let family = token.familyID else { return false }
        return try db.first("""
            SELECT 1 AS live FROM tokens WHERE family_id = ? AND kind = 'refresh' AND revoked_at IS NULL LIMIT 1
            """, [.text(family)]) != nil
    }
}
