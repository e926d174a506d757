/// An OAuth client ("connected application") as the store knows it; never its secret.
public struct ClientRecord: Sendable {
    public let clientID: String
    public let name: String
    public let registration: String
    public let redirectURIs: [String]
    public let authMethod: String
    public let createdAt: Int64
    public let lastUsedAt: Int64?
    public let blockedAt: Int64?
    /// Union of the scopes users consented to.
    public let scopes: ScopeSet
    /// How many users consented.
    public let users: Int
    public let liveTokens: Int

    public var isConfidential: Bool { authMethod != "none" }

    static let select = """
        SELECT c.client_id, c.name, c.registration, c.redirect_uris, c.auth_method, c.created_at, c.last_used_at, c.blocked_at,
               (SELECT group_concat(scopes, ',') FROM consents WHERE client_id = c.client_id) AS consent_scopes,
               (SELECT COUNT(DISTINCT user_id) FROM consents WHERE client_id = c.client_id) AS user_count,
               (SELECT COUNT(*) FROM tokens t WHERE t.client_id = c.client_id AND t.revoked_at IS NULL
                    AND (t.expires_at IS NULL OR t.expires_at > CAST(strftime('%s','now') AS INTEGER) * 1000)) AS live_tokens
        FROM clients c
        """

    init(row: Row) {
        clientID = row.string("client_id") ?? ""
        name = row.string("name") ?? ""
        registration = row.string("registration") ?? ""
        redirectURIs = (try? JSON.parse(row.string("redirect_uris") ?? "[]"))?.arrayValue?.compactMap(\.stringValue) ?? []
        authMethod = row.string("auth_method") ?? "none"
        createdAt = row.int("created_at") ?? 0
        lastUsedAt = row.int("last_used_at")
        blockedAt = row.int("blocked_at")
        scopes = ScopeSet(parsing: row.string("consent_scopes") ?? "") ?? []
        users = Int(row.int("user_count") ?? 0)
        liveTokens = Int(row.int("live_tokens") ?? 0)
    }

    /// The `--json` shape of `client list` / `client show`; `revoked_at` is when the client was blocked.
    public var json: JSON {
        func time(_ t: Int64?) -> JSON { t.map { .string(Clock.rfc3339($0)) } ?? .null }
        return .object([
            ("client_id", .string(clientID)), ("name", .string(name)), ("registration", .string(registration)),
            ("redirect_uris", .array(redirectURIs.map { .string($0) })), ("scopes", .array(scopes.list.map { .string($0) })),
            ("users", .int(Int64(users))), ("created_at", time(createdAt)), ("last_used_at", time(lastUsedAt)),
            ("revoked_at", time(blockedAt)), ("status", .string(blockedAt == nil ? "active" : "blocked")),
            ("token_endpoint_auth_method", .string(authMethod)), ("live_tokens", .int(Int64(liveTokens))),
        ])
    }
}
