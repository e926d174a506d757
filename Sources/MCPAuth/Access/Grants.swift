/// A user's scopes on an app, for one environment or all of them (`*`).
public struct Grant: Sendable {
    public let email: String
    public let app: String
    public let env: String
    public let scopes: ScopeSet
    public let createdAt: Int64

    public init(email: String, app: String, env: String, scopes: ScopeSet, createdAt: Int64) {
        self.email = email; self.app = app; self.env = env; self.scopes = scopes; self.createdAt = createdAt
    }

    /// "editor on notes/production" — how reasons name a grant.
    public var label: String { "\(Grant.roleName(scopes)) on \(app)/\(env)" }

    /// "grant notes/production (viewer)" — how an answer names the grant that decided it.
    public var decider: String { "grant \(app)/\(env) (\(Grant.roleName(scopes)))" }

    public static func roleName(_ scopes: ScopeSet) -> String {
        switch scopes {
        case .read: return "viewer"
        case [.read, .write]: return "editor"
        case .all: return "admin"
        default: return "scopes \(scopes)"
        }
    }

    public var json: JSON {
        .object([("email", .string(email)), ("app", .string(app)), ("env", .string(env)),
                 ("role", .string(Grant.roleName(scopes))), ("scopes", .array(scopes.list.map { .string($0) })),
                 ("created_at", .string(Clock.rfc3339(createdAt)))])
    }
}

/// Adding, listing and revoking grants.
public struct Grants: Sendable {
    let store: Store
    var db: Database { store.db }

    public init(store: Store) { self.store = store }

    static let select = """
        SELECT u.email, a.name AS app, g.env, g.scopes, g.created_at
        FROM grants g JOIN users u ON u.id = g.user_id JOIN apps a ON a.id = g.app_id
        """

    static func grant(_ row: Row) -> Grant {
        Grant(email: row.string("email") ?? "", app: row.string("app") ?? "", env: row.string("env") ?? "",
              scopes: ScopeSet(parsing: row.string("scopes") ?? "") ?? [], createdAt: row.int("created_at") ?? 0)
    }

    /// Grants a user scopes on app/env (`*` for every environment); an existing grant there is replaced.
    @discardableResult
    public func add(email: String, app: String, env: String, scopes: ScopeSet) throws -> Grant {
        guard !scopes.isEmpty else { throw DomainError.invalid("a grant needs at least one scope") }
        return try db.write {
            let user = try Users(store: store).require(email)
            guard let appID = try Apps(store: store).appID(app) else {
                throw DomainError.notFound("no app named '\(app)' (see 'mcpctl app list')")
            }
            if env != "*", try Apps(store: store).environment(app: app, env: env) == nil {
                throw DomainError.notFound("app '\(app)' has no environment '\(env)' (see 'mcpctl app list')")
            }
            try db.run("""
                INSERT INTO grants (user_id, app_id, env, scopes, created_at) VALUES (?, ?, ?, ?, ?)
                ON CONFLICT(user_id, app_id, env) DO UPDATE SET scopes = excluded.scopes
                """, [.integer(user.id), .integer(appID), .text(env), .text(scopes.description), .integer(Clock.nowMillis())])
            try AuditLog.append(.cli("grant.add", email: user.email, app: app, env: env, reason: "scopes=\(scopes)"), to: db)
            return try list(email: user.email, app: app).first(where: { $0.env == env })!
        }
    }

    public func list(email: String? = nil, app: String? = nil) throws -> [Grant] {
        var sql = Grants.select + " WHERE 1 = 1"
        var args: [SQLValue] = []
        if let email {
            guard let e = EmailAddress.normalize(email) else { throw DomainError.invalid("'\(email)' is not a valid email address") }
            sql += " AND u.email = ?"
            args.append(.text(e))
        }
        if let app { sql += " AND a.name = ?"; args.append(.text(app)) }
        return try db.query(sql + " ORDER BY u.email, a.name, g.env", args).map(Grants.grant)
    }

    /// Grants of one user that apply to app/env: the environment's own and the `*` one.
    public func applicable(userID: Int64, app: String, env: String) throws -> [Grant] {
        try db.query(Grants.select + " WHERE g.user_id = ? AND a.name = ? AND (g.env = ? OR g.env = '*') ORDER BY g.env = '*'",
                     [.integer(userID), .text(app), .text(env)]).map(Grants.grant)
    }

    /// Revokes the user's grant on app/env, or every grant on the app when `env` is nil. Returns how many.
    public func revoke(email: String, app: String, env: String?) throws -> Int {
        try db.write {
            let user = try Users(store: store).require(email)
            guard let appID = try Apps(store: store).appID(app) else { throw DomainError.notFound("no app named '\(app)'") }
            let n: Int
            if let env {
                n = try db.run("DELETE FROM grants WHERE user_id = ? AND app_id = ? AND env = ?", [.integer(user.id), .integer(appID), .text(env)])
            } else {
                n = try db.run("DELETE FROM grants WHERE user_id = ? AND app_id = ?", [.integer(user.id), .integer(appID)])
            }
            guard n > 0 else {
                throw DomainError.notFound("\(user.email) has no grant on \(app)/\(env ?? "*")")
            }
            try AuditLog.append(.cli("grant.revoke", email: user.email, app: app, env: env ?? "*", reason: "\(n) grants removed"), to: db)
            return n
        }
    }
}
