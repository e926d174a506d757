/// What the store knows about one token (never its secret): owner, scopes, binding, lifetime.
public struct TokenRecord: Sendable {
    public enum Kind: String, Sendable { case pat, access, refresh }

    public let id: String
    public let kind: Kind
    public let userID: Int64
    public let email: String
    public let clientID: String?
    public let name: String?
    public let hint: String
    public let scopes: ScopeSet
    public let app: String?
    public let env: String?
    public let ttlSeconds: Int64?
    public let createdAt: Int64
    public let expiresAt: Int64?
    public let lastUsedAt: Int64?
    public let revokedAt: Int64?
    public let revokedReason: String?
    public let rotatedFrom: String?
    public let familyID: String?
    public let userDisabled: Bool
    /// May call the introspection endpoint (RFC 7662 §2.1 caller authentication).
    public let introspection: Bool

    static let select = """
        SELECT t.id, t.kind, t.user_id, u.email, t.client_id, t.name, t.hint, t.scopes, t.app, t.env, t.ttl_seconds,
               t.created_at, t.expires_at, t.last_used_at, t.revoked_at, t.revoked_reason, t.rotated_from, t.family_id,
               t.introspection, u.disabled_at AS user_disabled_at
        FROM tokens t JOIN users u ON u.id = t.user_id
        """

    /// `MalformedRow` for a row without what the schema promises; the nullable columns may be NULL.
    init(row: Row) throws {
        let table = "tokens"
        id = try row.text("id", of: table)
        kind = try row.word("kind", of: table)
        userID = try row.integer("user_id", of: table)
        email = try row.text("email", of: "users")
        clientID = try row.optionalText("client_id", of: table)
        name = try row.optionalText("name", of: table)
        hint = try row.text("hint", of: table)
        scopes = try row.scopes("scopes", of: table)
        app = try row.optionalText("app", of: table)
        env = try row.optionalText("env", of: table)
        ttlSeconds = try row.optionalInteger("ttl_seconds", of: table)
        createdAt = try row.integer("created_at", of: table)
        expiresAt = try row.optionalInteger("expires_at", of: table)
        lastUsedAt = try row.optionalInteger("last_used_at", of: table)
        revokedAt = try row.optionalInteger("revoked_at", of: table)
        revokedReason = try row.optionalText("revoked_reason", of: table)
        rotatedFrom = try row.optionalText("rotated_from", of: table)
        familyID = try row.optionalText("family_id", of: table)
        userDisabled = try row.optionalInteger("user_disabled_at", of: "users") != nil
        introspection = try row.integer("introspection", of: table) == 1
    }

    public enum Status: String, Sendable { case active, revoked, expired }

    public func status(at now: Int64 = Clock.nowMillis()) -> Status {
        if revokedAt != nil { return .revoked }
        if let e = expiresAt, e <= now { return .expired }
        return .active
    }

    /// The `--json` shape of a token that scripts rely on (keys may be added, never renamed). Never the secret or its hash.
    public var json: JSON {
        func time(_ t: Int64?) -> JSON { t.map { .string(Clock.rfc3339($0)) } ?? .null }
        return .object([
            ("id", .string(id)), ("email", .string(email)), ("name", .str(name)), ("kind", .string(kind.rawValue)),
            ("scopes", .array(scopes.list.map { .string($0) })), ("app", .str(app)), ("env", .str(env)),
            ("client_id", .str(clientID)), ("created_at", time(createdAt)), ("expires_at", time(expiresAt)),
            ("last_used_at", time(lastUsedAt)), ("revoked_at", time(revokedAt)), ("status", .string(status().rawValue)),
            ("hint", .string(hint)), ("rotated_from", .str(rotatedFrom)), ("introspection", .bool(introspection)),
        ])
    }
}
