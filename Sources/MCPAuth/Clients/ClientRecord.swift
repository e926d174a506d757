/// An OAuth client ("connected application") as the store knows it; never its secret.
public struct ClientRecord: Sendable {
    public let clientID: String
    public let name: String
    public let registration: RegistrationMethod
    public let redirectURIs: [String]
    /// `none`, `client_secret_basic` or `client_secret_post` (RFC 7591 §2).
    public let authMethod: String
    public let createdAt: Int64
    public let lastUsedAt: Int64?
    public let blockedAt: Int64?
    /// Who consented and what lives: read by `Clients` (find, list, …), nil when read by `find(_:db:)` for
    /// the OAuth endpoints (counting a client's tokens grows with every refresh).
    public let usage: ClientUsage?

    public var isConfidential: Bool { authMethod != "none" }

    static let columns = "c.client_id, c.name, c.registration, c.redirect_uris, c.auth_method, c.created_at, c.last_used_at, c.blocked_at"

    static let selectWithUsage = """
        SELECT \(columns),
               (SELECT group_concat(scopes, ',') FROM consents WHERE client_id = c.client_id) AS consent_scopes,
               (SELECT COUNT(DISTINCT user_id) FROM consents WHERE client_id = c.client_id) AS user_count,
               (SELECT COUNT(*) FROM tokens t WHERE t.client_id = c.client_id AND t.revoked_at IS NULL
                    AND (t.expires_at IS NULL OR t.expires_at > CAST(strftime('%s','now') AS INTEGER) * 1000)) AS live_tokens
        FROM clients c
        """

    /// The client by primary key, without usage: what the OAuth endpoints need.
    public static func find(_ clientID: String, db: Database) throws -> ClientRecord? {
        try db.first("SELECT \(columns) FROM clients c WHERE c.client_id = ?", [.text(clientID)]).map { try ClientRecord(row: $0, usage: nil) }
    }

    /// Decodes a row of `selectWithUsage`.
    init(rowWithUsage row: Row) throws {
        try self.init(row: row, usage: ClientUsage(row: row))
    }

    private init(row: Row, usage: ClientUsage?) throws {
        clientID = try row.text("client_id", of: "clients")
        name = try row.text("name", of: "clients")
        registration = try row.word("registration", of: "clients")
        redirectURIs = try ClientRecord.redirectURIs(row.text("redirect_uris", of: "clients"))
        authMethod = try row.text("auth_method", of: "clients")
        createdAt = try row.integer("created_at", of: "clients")
        lastUsedAt = try row.optionalInteger("last_used_at", of: "clients")
        blockedAt = try row.optionalInteger("blocked_at", of: "clients")
        self.usage = usage
    }

    /// The stored JSON array of redirect URIs; anything else is a malformed row.
    private static func redirectURIs(_ text: String) throws -> [String] {
        guard let array = (try? JSON.parse(text))?.arrayValue else { throw MalformedRow(table: "clients", column: "redirect_uris") }
        return try array.map {
            guard let uri = $0.stringValue else { throw MalformedRow(table: "clients", column: "redirect_uris") }
            return uri
        }
    }

    /// The `--json` shape of `client list` / `client show`; `revoked_at` is when the client was blocked.
    /// The usage members (`scopes`, `users`, `live_tokens`) are there when the usage was read.
    public var json: JSON {
        func time(_ t: Int64?) -> JSON { t.map { .string(Clock.rfc3339($0)) } ?? .null }
        var o: [(String, JSON)] = [("client_id", .string(clientID)), ("name", .string(name)), ("registration", .string(registration.rawValue)),
                                   ("redirect_uris", .array(redirectURIs.map { .string($0) }))]
        if let usage { o += [("scopes", .array(usage.scopes.list.map { .string($0) })), ("users", .int(Int64(usage.users)))] }
        o += [("created_at", time(createdAt)), ("last_used_at", time(lastUsedAt)), ("revoked_at", time(blockedAt)),
              ("status", .string(blockedAt == nil ? "active" : "blocked")), ("token_endpoint_auth_method", .string(authMethod))]
        if let usage { o.append(("live_tokens", .int(Int64(usage.liveTokens)))) }
        return .object(o)
    }
}

/// What a client is used for: the consents given to it and its live tokens.
public struct ClientUsage: Sendable {
    /// Union of the scopes users consented to.
    public let scopes: ScopeSet
    /// How many users consented.
    public let users: Int
    public let liveTokens: Int

    init(row: Row) throws {
        // group_concat over a client nobody consented to is NULL: no scope, not a malformed row.
        scopes = row["consent_scopes"] == .null ? [] : try row.scopes("consent_scopes", of: "clients")
        users = Int(try row.integer("user_count", of: "clients"))
        liveTokens = Int(try row.integer("live_tokens", of: "clients"))
    }
}
