/// What the user approved at the consent page, to be carried by one authorization code.
public struct AuthorizationGrant: Sendable {
    public let clientID: String
    public let userID: Int64
    /// The `redirect_uri` presented at /authorize, or "" when it was omitted (one registered URI).
    public let redirectURI: String
    public let codeChallenge: String
    public let resource: ResourceIndicator
    public let scopes: ScopeSet

    public init(clientID: String, userID: Int64, redirectURI: String, codeChallenge: String,
                resource: ResourceIndicator, scopes: ScopeSet) {
        self.clientID = clientID; self.userID = userID; self.redirectURI = redirectURI
        self.codeChallenge = codeChallenge; self.resource = resource; self.scopes = scopes
    }
}

/// Authorization codes: short-lived, single-use, bound to client, redirect URI, PKCE challenge and resource.
/// Only their SHA-256 is stored.
public struct AuthorizationCodes: Sendable {
    /// An authorization code lives at most 5 minutes; OAuth 2.1 §4.1.2 asks for short.
    public static let defaultLifetimeSeconds: Int64 = 120
    let store: Store
    var db: Database { store.db }

    public init(store: Store) { self.store = store }

    /// Stores a new code for `grant` and returns its text (shown once, in the redirect).
    public func issue(_ grant: AuthorizationGrant, issuer: String, lifetimeSeconds: Int64 = AuthorizationCodes.defaultLifetimeSeconds,
                      now: Int64 = Clock.nowMillis()) throws -> String {
        let code = Base62.random(count: 43)
        try db.write {
            // Expired codes have no use left; sweeping them here keeps the table small without a timer.
            try db.run("DELETE FROM auth_codes WHERE expires_at < ?", [.integer(now - 86_400_000)])
            try db.run("""
                INSERT INTO auth_codes (code_hash, client_id, user_id, redirect_uri, code_challenge, app, env, resource, scopes,
                                        created_at, expires_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """, [.blob(SHA256.hash(code)), .text(grant.clientID), .integer(grant.userID), .text(grant.redirectURI),
                      .text(grant.codeChallenge), .text(grant.resource.app), .text(grant.resource.env),
                      .text(grant.resource.url(issuer: issuer)), .text(grant.scopes.description), .integer(now),
                      .integer(now + lifetimeSeconds * 1000)])
        }
        return code
    }

    /// The `authorization_code` grant (OAuth 2.1 §4.1.3). Checks, in this order: the code exists; it was
    /// issued to this client; the PKCE verifier matches; the redirect URI and resource match. Only a request
    /// that passes all of these and finds the code already spent is treated as a replay, which revokes
    /// what the first redemption issued (RFC 6749 §4.1.2) — so a thief with a wrong verifier or another
    /// client id cannot use a stolen, spent code to kill the legitimate client's tokens.
    public func redeem(code: String, clientID: String, redirectURI: String?, verifier: String, resource: ResourceIndicator?,
                       lifetimes: OAuthTokenLifetimes, remoteAddr: String?,
                       now: Int64 = Clock.nowMillis()) throws -> IssuedTokenPair {
        // A refusal still commits: its audit row, and the revocation a replay causes.
        try db.writeCommittingRefusal {
            func deny(_ error: OAuthError, _ reason: String, email: String? = nil, app: String? = nil, env: String? = nil,
                      action: String = "oauth.token") throws -> OAuthError {
                try AuditLog.append(AuditEvent(source: "oauth", action: action, email: email, clientID: clientID, app: app, env: env,
                                               decision: "deny", reason: reason, remoteAddr: remoteAddr), to: db)
                return error
            }
            guard code.utf8.count <= 256,
                  let row = try db.first("""
                    SELECT a.client_id, a.user_id, a.redirect_uri, a.code_challenge, a.app, a.env, a.scopes, a.expires_at,
                           a.used_at, a.family_id, u.email, u.disabled_at
                    FROM auth_codes a JOIN users u ON u.id = a.user_id WHERE a.code_hash = ?
                    """, [.blob(SHA256.hash(code))]),
                  let userID = row.int("user_id"), let app = row.string("app"), let env = row.string("env")
            else { throw try deny(.invalidGrant("the authorization code is unknown"), "unknown authorization code") }
            let email = row.string("email")
            // OAuth 2.1 §4.1.3: the code must have been issued to the client that redeems it.
            let owner = try row.text("client_id", of: "auth_codes")
            guard owner == clientID else {
                throw try deny(.invalidGrant("the authorization code was not issued to this client"),
                                "code of client \(owner) presented by another client", email: email, app: app, env: env)
            }
            // RFC 7636 §4.6: the verifier must hash to the challenge stored with the code.
            guard PKCE.verify(verifier: verifier, challenge: try row.text("code_challenge", of: "auth_codes")) else {
                throw try deny(.invalidGrant("code_verifier does not match the code_challenge"), "PKCE verification failed",
                                email: email, app: app, env: env)
            }
            // OAuth 2.1 §4.1.3: redirect_uri must be identical to the one in the authorization request, if one was sent.
            let stored = try row.text("redirect_uri", of: "auth_codes")
            if !stored.isEmpty && redirectURI != stored {
                throw try deny(.invalidGrant("redirect_uri does not match the authorization request"), "redirect_uri mismatch",
                                email: email, app: app, env: env)
            }
            let bound = ResourceIndicator(app: app, env: env)
            // RFC 8707 §2.2: the resource at the token endpoint must be one the grant was made for.
            if let resource, resource != bound {
                throw try deny(.invalidTarget("the authorization code was issued for another resource"),
                                "resource \(resource.app)/\(resource.env) does not match \(app)/\(env)", email: email, app: app, env: env)
            }
            if row.int("used_at") != nil {
                // RFC 6749 §4.1.2: a code used more than once MUST be refused, and the tokens issued on its
                // first use SHOULD be revoked.
                let n = try row.string("family_id").map { try OAuthTokens(store: store).revokeFamily($0, reason: "authorization code reuse", now: now) } ?? 0
                throw try deny(.invalidGrant("the authorization code was already used"),
                                "authorization code reuse: \(n) tokens issued from it revoked", email: email, app: app, env: env,
                                action: "oauth.code_reuse")
            }
            if let expires = row.int("expires_at"), expires <= now {
                throw try deny(.invalidGrant("the authorization code expired"), "authorization code expired", email: email, app: app, env: env)
            }
            let familyID = OAuthTokens.newFamilyID()
            // Consumed with a conditional UPDATE and a row-count check, so of two parallel
            // redemptions exactly one wins.
            let consumed = try db.run("UPDATE auth_codes SET used_at = ?, family_id = ? WHERE code_hash = ? AND used_at IS NULL",
                                      [.integer(now), .text(familyID), .blob(SHA256.hash(code))])
            guard consumed == 1 else {
                throw try deny(.invalidGrant("the authorization code was already used"), "authorization code consumed concurrently",
                                email: email, app: app, env: env, action: "oauth.code_reuse")
            }
            if row.int("disabled_at") != nil {
                throw try deny(.invalidGrant("the user is disabled"), "user disabled", email: email, app: app, env: env)
            }
            let tokens = OAuthTokens(store: store)
            let approved = try row.scopes("scopes", of: "auth_codes")
            let scopes = try tokens.effectiveScopes(userID: userID, wanted: approved, resource: bound)
            guard !scopes.isEmpty else {
                throw try deny(.invalidGrant("the user no longer holds a grant on this resource"), "no grant left on \(app)/\(env)",
                                email: email, app: app, env: env)
            }
            let pair = try tokens.issuePair(userID: userID, clientID: clientID, scopes: scopes, resource: bound, familyID: familyID,
                                            parentID: nil, lifetimes: lifetimes, now: now)
            try AuditLog.append(AuditEvent(source: "oauth", action: "oauth.token", email: email, tokenID: pair.access.id,
                                           clientID: clientID, app: app, env: env, decision: "allow",
                                           reason: "grant=authorization_code scopes=\(scopes) refresh=\(pair.refresh.id)",
                                           remoteAddr: remoteAddr, target: familyID), to: db)
            return pair
        }
    }
}
