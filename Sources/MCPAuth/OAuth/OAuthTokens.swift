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
}
