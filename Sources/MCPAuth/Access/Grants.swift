/// A user's or a group's scopes on an app, for one environment or all of them (`*`).
public struct Grant: Sendable {
    /// The user the grant applies to: its holder, or for a group's grant the member it was read for
    /// (empty when a group's grants are listed on their own).
    public let email: String
    /// The group whose grant this is; nil for the user's own grant.
    public let group: String?
    public let app: String
    public let env: String
    public let scopes: ScopeSet
    public let createdAt: Int64

    public init(email: String, group: String? = nil, app: String, env: String, scopes: ScopeSet, createdAt: Int64) {
        self.email = email; self.group = group; self.app = app; self.env = env; self.scopes = scopes; self.createdAt = createdAt
    }

    /// "group eng" for a group's grant — how an answer says where a member's access came from; nil for a user's own.
    public var via: String? { group.map { "group \($0)" } }

    /// "editor on notes/production" (", via group eng" for a group's) — how reasons name a grant.
    public var label: String { "\(Grant.roleName(scopes)) on \(app)/\(env)" + (via.map { " via \($0)" } ?? "") }

    /// "grant notes/production (viewer)" (then " via group eng") — how an answer names the grant that decided it.
    public var decider: String { "grant \(app)/\(env) (\(Grant.roleName(scopes)))" + (via.map { " via \($0)" } ?? "") }

    public static func roleName(_ scopes: ScopeSet) -> String {
        switch scopes {
        case .read: return "viewer"
        case [.read, .write]: return "editor"
        case .all: return "admin"
        default: return "scopes \(scopes)"
        }
    }

    public var json: JSON {
        .object([("email", email.isEmpty ? .null : .string(email)), ("group", .str(group)), ("app", .string(app)), ("env", .string(env)),
                 ("role", .string(Grant.roleName(scopes))), ("scopes", .array(scopes.list.map { .string($0) })),
                 ("created_at", .string(Clock.rfc3339(createdAt)))])
    }
}

/// Adding, listing and revoking grants, to users and to groups. A user's effective grants are their own
/// and those of every group they belong to; a disabled user's count for nothing.
public struct Grants: Sendable {
    let store: Store
    var db: Database { store.db }

    public init(store: Store) { self.store = store }

    /// A user's own grants.
    static let own = """
        SELECT u.email AS email, NULL AS grp, a.name AS app, g.env AS env, g.scopes AS scopes, g.created_at AS created_at
        FROM grants g JOIN users u ON u.id = g.user_id JOIN apps a ON a.id = g.app_id
        """
    /// Group grants as they reach each member.
    static let throughGroups = """
        SELECT u.email AS email, r.name AS grp, a.name AS app, x.env AS env, x.scopes AS scopes, x.created_at AS created_at
        FROM group_members m JOIN users u ON u.id = m.user_id JOIN user_groups r ON r.id = m.group_id
        JOIN group_grants x ON x.group_id = m.group_id JOIN apps a ON a.id = x.app_id
        """
    /// Group grants on their own.
    static let ofGroups = """
        SELECT '' AS email, r.name AS grp, a.name AS app, x.env AS env, x.scopes AS scopes, x.created_at AS created_at
        FROM group_grants x JOIN user_groups r ON r.id = x.group_id JOIN apps a ON a.id = x.app_id
        """

    /// Decodes one row of the selects above; a row without a parseable, non-empty scope set is refused.
    static func grant(_ row: Row) throws -> Grant {
        let group = row.string("grp")
        let table = group == nil ? "grants" : "group_grants"
        guard let scopes = ScopeSet(parsing: try row.text("scopes", of: table)), !scopes.isEmpty else {
            throw MalformedRow(table: table, column: "scopes")
        }
        return Grant(email: try row.text("email", of: table), group: group, app: try row.text("app", of: table),
                     env: try row.text("env", of: table), scopes: scopes, createdAt: try row.integer("created_at", of: table))
    }

    /// Grants a user scopes on app/env (`*` for every environment); an existing grant there is replaced.
    @discardableResult
    public func add(email: String, app: String, env: String, scopes: ScopeSet) throws -> Grant {
        guard !scopes.isEmpty else { throw DomainError.invalid("a grant needs at least one scope") }
        return try db.write {
            let user = try Users(store: store).require(email)
            let appID = try target(app: app, env: env)
            try db.run("""
                INSERT INTO grants (user_id, app_id, env, scopes, created_at) VALUES (?, ?, ?, ?, ?)
                ON CONFLICT(user_id, app_id, env) DO UPDATE SET scopes = excluded.scopes
                """, [.integer(user.id), .integer(appID), .text(env), .text(scopes.description), .integer(Clock.nowMillis())])
            try AuditLog.append(.cli("grant.add", email: user.email, app: app, env: env, reason: "scopes=\(scopes)"), to: db)
            return try list(email: user.email, app: app).first(where: { $0.group == nil && $0.env == env })!
        }
    }

    /// Grants a group scopes on app/env (`*` for every environment): every member holds them from the
    /// gateway's next request on. An existing grant of the group there is replaced.
    @discardableResult
    public func add(group name: String, app: String, env: String, scopes: ScopeSet) throws -> Grant {
        guard !scopes.isEmpty else { throw DomainError.invalid("a grant needs at least one scope") }
        return try db.write {
            let group = try Groups(store: store).require(name)
            let appID = try target(app: app, env: env)
            try db.run("""
                INSERT INTO group_grants (group_id, app_id, env, scopes, created_at) VALUES (?, ?, ?, ?, ?)
                ON CONFLICT(group_id, app_id, env) DO UPDATE SET scopes = excluded.scopes
                """, [.integer(group.id), .integer(appID), .text(env), .text(scopes.description), .integer(Clock.nowMillis())])
            try AuditLog.append(.cli("grant.add", app: app, env: env, target: group.name, reason: "group \(group.name): scopes=\(scopes)"), to: db)
            return try list(app: app, group: group.name).first(where: { $0.env == env })!
        }
    }

    /// The id of `app`, after checking that `env` is one of its environments or `*`.
    private func target(app: String, env: String) throws -> Int64 {
        guard let appID = try Apps(store: store).appID(app) else {
            throw DomainError.notFound("no app named '\(app)' (see 'mcpctl app list')")
        }
        if env != "*", try Apps(store: store).environment(app: app, env: env) == nil {
            throw DomainError.notFound("app '\(app)' has no environment '\(env)' (see 'mcpctl app list')")
        }
        return appID
    }

    /// Grants in name order, users' own first, then groups'. With `email`: that user's effective grants
    /// (their own and their groups'); with `group`: only that group's.
    public func list(email: String? = nil, app: String? = nil, group: String? = nil) throws -> [Grant] {
        var parts: [String] = []
        var args: [SQLValue] = []
        func part(_ select: String, _ filters: [(String, String?)]) {
            let present = filters.compactMap { column, value in value.map { (column, $0) } }
            parts.append(select + " WHERE 1 = 1" + present.map { " AND \($0.0) = ?" }.joined())
            args += present.map { .text($0.1) }
        }
        let e = try email.map(Grants.normalized)
        if let group { _ = try Groups(store: store).require(group) }
        if group == nil { part(Grants.own, [("u.email", e), ("a.name", app)]) }
        if let e {
            part(Grants.throughGroups, [("u.email", e), ("r.name", group), ("a.name", app)])
        } else {
            part(Grants.ofGroups, [("r.name", group), ("a.name", app)])
        }
        return try db.query("SELECT * FROM (" + parts.joined(separator: " UNION ALL ") + ") AS listed ORDER BY grp IS NOT NULL, grp, email, app, env",
                            args).map(Grants.grant)
    }

    static func normalized(_ email: String) throws -> String {
        guard let e = EmailAddress.normalize(email) else { throw DomainError.invalid("'\(email)' is not a valid email address") }
        return e
    }

    /// The grants that apply to a user on app/env: their own and their groups', the environment's and
    /// the `*` ones; none for a disabled user. Own grants come first, then an environment's before `*`,
    /// so the first that suffices is the one an answer names.
    public func applicable(userID: Int64, app: String, env: String) throws -> [Grant] {
        let key: [SQLValue] = [.integer(userID), .text(app), .text(env)]
        return try db.query(Grants.applicableSQL, key + key).map(Grants.grant)
    }

    static let applicableSQL = """
        SELECT * FROM (
            \(own) WHERE u.disabled_at IS NULL AND g.user_id = ? AND a.name = ? AND (g.env = ? OR g.env = '*')
            UNION ALL
            \(throughGroups) WHERE u.disabled_at IS NULL AND m.user_id = ? AND a.name = ? AND (x.env = ? OR x.env = '*')
        ) AS applicable ORDER BY grp IS NOT NULL, env = '*', grp
        """

    /// Revokes the user's grant on app/env, or every grant on the app when `env` is nil. Returns how many.
    public func revoke(email: String, app: String, env: String?) throws -> Int {
        try db.write {
            let user = try Users(store: store).require(email)
            guard let appID = try Apps(store: store).appID(app) else { throw DomainError.notFound("no app named '\(app)'") }
            let n = try deleteGrants(table: "grants", owner: "user_id", ownerID: user.id, appID: appID, env: env)
            guard n > 0 else {
                throw DomainError.notFound("\(user.email) has no grant on \(app)/\(env ?? "*")")
            }
            try AuditLog.append(.cli("grant.revoke", email: user.email, app: app, env: env ?? "*", reason: "\(n) grants removed"), to: db)
            return n
        }
    }

    /// Revokes the group's grant on app/env, or every grant of the group on the app when `env` is nil.
    public func revoke(group name: String, app: String, env: String?) throws -> Int {
        try db.write {
            let group = try Groups(store: store).require(name)
            guard let appID = try Apps(store: store).appID(app) else { throw DomainError.notFound("no app named '\(app)'") }
            let n = try deleteGrants(table: "group_grants", owner: "group_id", ownerID: group.id, appID: appID, env: env)
            guard n > 0 else {
                throw DomainError.notFound("group '\(group.name)' has no grant on \(app)/\(env ?? "*")")
            }
            try AuditLog.append(.cli("grant.revoke", app: app, env: env ?? "*", target: group.name,
                                     reason: "group \(group.name): \(n) grants removed"), to: db)
            return n
        }
    }

    private func deleteGrants(table: String, owner: String, ownerID: Int64, appID: Int64, env: String?) throws -> Int {
        if let env {
            return try db.run("DELETE FROM \(table) WHERE \(owner) = ? AND app_id = ? AND env = ?", [.integer(ownerID), .integer(appID), .text(env)])
        }
        return try db.run("DELETE FROM \(table) WHERE \(owner) = ? AND app_id = ?", [.integer(ownerID), .integer(appID)])
    }
}
