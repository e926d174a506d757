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

    init(row: Row) {
        id = row.string("id") ?? ""
        kind = Kind(rawValue: row.string("kind") ?? "") ?? .pat
        userID = row.int("user_id") ?? 0
        email = row.string("email") ?? ""
        clientID = row.string("client_id")
        name = row.string("name")
        hint = row.string("hint") ?? ""
        scopes = ScopeSet(parsing: row.string("scopes") ?? "") ?? []
        app = row.string("app")
        env = row.string("env")
        ttlSeconds = row.int("ttl_seconds")
        createdAt = row.int("created_at") ?? 0
        expiresAt = row.int("expires_at")
        lastUsedAt = row.int("last_used_at")
        revokedAt = row.int("revoked_at")
        revokedReason = row.string("revoked_reason")
        rotatedFrom = row.string("rotated_from")
        familyID = row.string("family_id")
        userDisabled = row.int("user_disabled_at") != nil
        introspection = row.int("introspection") == 1
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
