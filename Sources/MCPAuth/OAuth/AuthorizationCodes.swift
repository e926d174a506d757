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
            var deny = GrantDenial(db: db, clientID: clientID, remoteAddr: remoteAddr, action: "oauth.token")
            guard code.utf8.count <= 256,
                  let row = try db.first(PresentedCode.select, [.blob(SHA256.hash(code))]),
                  let presented = try PresentedCode(row: row)
            else { throw try deny(.invalidGrant("the authorization code is unknown"), "unknown authorization code") }
            deny.email = presented.email
            deny.resource = presented.resource
            try checkBinding(presented, clientID: clientID, verifier: verifier, redirectURI: redirectURI, resource: resource, deny: deny)
            try checkUnspent(presented, deny: deny, now: now)
            let familyID = try consume(code, deny: deny, now: now)
            if presented.userDisabled { throw try deny(.invalidGrant("the user is disabled"), "user disabled") }
            let tokens = OAuthTokens(store: store)
            let bound = presented.resource
            let scopes = try tokens.effectiveScopes(userID: presented.userID, wanted: presented.scopes, resource: bound)
            guard !scopes.isEmpty else {
                throw try deny(.invalidGrant("the user no longer holds a grant on this resource"), "no grant left on \(bound.app)/\(bound.env)")
            }
            let pair = try tokens.issuePair(userID: presented.userID, clientID: clientID, scopes: scopes, resource: bound,
                                            familyID: familyID, parentID: nil, lifetimes: lifetimes, now: now)
            try AuditLog.append(AuditEvent(source: .oauth, action: "oauth.token", email: presented.email, tokenID: pair.access.id,
                                           clientID: clientID, app: bound.app, env: bound.env, decision: .allow,
                                           reason: "grant=authorization_code scopes=\(scopes) refresh=\(pair.refresh.id)",
                                           remoteAddr: remoteAddr, target: familyID), to: db)
            return pair
        }
    }

    /// The code must be this client's (OAuth 2.1 §4.1.3), its PKCE verifier must match (RFC 7636 §4.6),
    /// and the redirect URI and resource must be those of the authorization request (RFC 8707 §2.2).
    private func checkBinding(_ presented: PresentedCode, clientID: String, verifier: String, redirectURI: String?,
                              resource: ResourceIndicator?, deny: GrantDenial) throws {
        guard presented.owner == clientID else {
            throw try deny(.invalidGrant("the authorization code was not issued to this client"),
                           "code of client \(presented.owner) presented by another client")
        }
        guard PKCE.verify(verifier: verifier, challenge: presented.codeChallenge) else {
            throw try deny(.invalidGrant("code_verifier does not match the code_challenge"), "PKCE verification failed")
        }
        // OAuth 2.1 §4.1.3: redirect_uri must be identical to the one in the authorization request, if one was sent.
        if !presented.redirectURI.isEmpty && redirectURI != presented.redirectURI {
            throw try deny(.invalidGrant("redirect_uri does not match the authorization request"), "redirect_uri mismatch")
        }
        let bound = presented.resource
        if let resource, resource != bound {
            throw try deny(.invalidTarget("the authorization code was issued for another resource"),
                           "resource \(resource.app)/\(resource.env) does not match \(bound.app)/\(bound.env)")
        }
    }

    /// RFC 6749 §4.1.2: a code used more than once MUST be refused, and the tokens issued on its first use
    /// SHOULD be revoked; an expired code is refused.
    private func checkUnspent(_ presented: PresentedCode, deny: GrantDenial, now: Int64) throws {
        if presented.usedAt != nil {
            let n = try presented.familyID.map { try OAuthTokens(store: store).revokeFamily($0, reason: "authorization code reuse", now: now) } ?? 0
            throw try deny(.invalidGrant("the authorization code was already used"),
                           "authorization code reuse: \(n) tokens issued from it revoked", action: "oauth.code_reuse")
        }
        if let expires = presented.expiresAt, expires <= now {
            throw try deny(.invalidGrant("the authorization code expired"), "authorization code expired")
        }
    }

    /// Marks the code used with a conditional UPDATE and a row-count check, so of two parallel redemptions
    /// exactly one wins; returns the id of the token family it starts.
    private func consume(_ code: String, deny: GrantDenial, now: Int64) throws -> String {
        let familyID = OAuthTokens.newFamilyID()
        let consumed = try db.run("UPDATE auth_codes SET used_at = ?, family_id = ? WHERE code_hash = ? AND used_at IS NULL",
                                  [.integer(now), .text(familyID), .blob(SHA256.hash(code))])
        guard consumed == 1 else {
            throw try deny(.invalidGrant("the authorization code was already used"), "authorization code consumed concurrently",
                           action: "oauth.code_reuse")
        }
        return familyID
    }
}

/// An authorization code as presented at the token endpoint, with its user.
private struct PresentedCode {
    let owner: String
    let userID: Int64
    let email: String?
    let userDisabled: Bool
    let redirectURI: String
    let codeChallenge: String
    let resource: ResourceIndicator
    let scopes: ScopeSet
    let expiresAt: Int64?
    let usedAt: Int64?
    let familyID: String?

    static let select = """
        SELECT a.client_id, a.user_id, a.redirect_uri, a.code_challenge, a.app, a.env, a.scopes, a.expires_at,
               a.used_at, a.family_id, u.email, u.disabled_at
        FROM auth_codes a JOIN users u ON u.id = a.user_id WHERE a.code_hash = ?
        """

    /// Nil when the row names no user or resource (answered like an unknown code).
    init?(row: Row) throws {
        guard let userID = row.int("user_id"), let app = row.string("app"), let env = row.string("env") else { return nil }
        self.userID = userID
        resource = ResourceIndicator(app: app, env: env)
        owner = try row.text("client_id", of: "auth_codes")
        email = row.string("email")
        userDisabled = row.int("disabled_at") != nil
        redirectURI = try row.text("redirect_uri", of: "auth_codes")
        codeChallenge = try row.text("code_challenge", of: "auth_codes")
        scopes = try row.scopes("scopes", of: "auth_codes")
        expiresAt = row.int("expires_at")
        usedAt = row.int("used_at")
        familyID = row.string("family_id")
    }
}
