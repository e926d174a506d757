/// Personal access tokens: create, list, show, rotate, revoke, scan.
public struct Tokens: Sendable {
    let store: Store
    var db: Database { store.db }

    public init(store: Store) { self.store = store }

    public static let defaultLifetimeSeconds: Int64 = 90 * 86_400

    /// A freshly issued token: the record and the secret, which exists only here and is shown once.
    public struct Issued: Sendable {
        public let record: TokenRecord
        public let secret: String
    }

    static func newID() -> String { "tok_" + Base62.random(count: 16) }

    /// Creates a personal token. `lifetimeSeconds` nil means it never expires (asked for explicitly).
    public func create(email: String, name: String?, scopes: ScopeSet, app: String?, env: String?,
                       lifetimeSeconds: Int64?, introspection: Bool = false, by initiator: Initiator = .cli) throws -> Issued {
        guard !scopes.isEmpty else { throw DomainError.invalid("a token needs at least one scope") }
        guard (app == nil) == (env == nil) else { throw DomainError.invalid("--app and --env must be given together") }
        if let name, name.count > 200 { throw DomainError.invalid("token name is longer than 200 characters") }
        return try db.write {
            let user = try Users(store: store).require(email)
            guard user.disabledAt == nil else { throw DomainError.conflict("user \(user.email) is disabled") }
            if let app, let env {
                guard try Apps(store: store).environment(app: app, env: env) != nil else {
                    throw DomainError.notFound("no environment '\(env)' of app '\(app)' (see 'mcpctl app list')")
                }
            }
            let issued = try insert(kind: .pat, userID: user.id, clientID: nil, name: name, scopes: scopes, app: app, env: env,
                                    ttlSeconds: lifetimeSeconds, rotatedFrom: nil, familyID: nil, parentID: nil)
            if introspection {
                try db.run("UPDATE tokens SET introspection = 1 WHERE id = ?", [.text(issued.record.id)])
            }
            try AuditLog.append(initiator.event("token.create", email: user.email, tokenID: issued.record.id, app: app, env: env,
                                     reason: "scopes=\(scopes)" + (introspection ? " introspection" : "")), to: db)
            return introspection ? Issued(record: try find(id: issued.record.id) ?? issued.record, secret: issued.secret) : issued
        }
    }

    /// Inserts a token row of any kind and returns it with its secret; the caller holds the write transaction.
    public func insert(kind: TokenRecord.Kind, userID: Int64, clientID: String?, name: String?, scopes: ScopeSet,
                       app: String?, env: String?, ttlSeconds: Int64?, rotatedFrom: String?, familyID: String?,
                       parentID: String?, now: Int64 = Clock.nowMillis()) throws -> Issued {
        let prefix: String
        switch kind {
        case .pat: prefix = "pat"
        case .access: prefix = "at"
        case .refresh: prefix = "rt"
        }
        let secret = TokenSecret.generate(kind: prefix)
        let id = Tokens.newID()
        try db.run("""
            INSERT INTO tokens (id, kind, user_id, client_id, name, secret_hash, hint, scopes, app, env, ttl_seconds,
                                created_at, expires_at, rotated_from, family_id, parent_id)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """, [.text(id), .text(kind.rawValue), .integer(userID), .text(clientID), .text(name),
                  .blob(TokenSecret.hash(secret)), .text(TokenSecret.redacted(secret)), .text(scopes.description),
                  .text(app), .text(env), .int(ttlSeconds), .integer(now),
                  .int(ttlSeconds.map { now + $0 * 1000 }), .text(rotatedFrom), .text(familyID), .text(parentID)])
        guard let record = try find(id: id) else { throw DomainError.notFound("token \(id) vanished") }
        return Issued(record: record, secret: secret)
    }

    public func find(id: String) throws -> TokenRecord? {
        try db.first(TokenRecord.select + " WHERE t.id = ?", [.text(id)]).map(TokenRecord.init)
    }

    public func find(secret: String) throws -> TokenRecord? {
        try db.first(TokenRecord.select + " WHERE t.secret_hash = ?", [.blob(TokenSecret.hash(secret))]).map(TokenRecord.init)
    }

    /// A token by public ID or pasted secret, or a not-found error that never repeats the secret.
    public func resolve(_ reference: String) throws -> TokenRecord {
        if reference.hasPrefix("mcp_") {
            guard TokenSecret.kind(of: reference) != nil else {
                throw DomainError.invalid("\(TokenSecret.redacted(reference)) is not a well-formed mcpctl token (bad checksum)")
            }
            guard let r = try find(secret: reference) else {
                throw DomainError.notFound("no token matches the secret \(TokenSecret.redacted(reference))")
            }
            return r
        }
        guard let r = try find(id: reference) else { throw DomainError.notFound("no token with id '\(reference)'") }
        return r
    }

    /// Tokens, newest first; by default only live ones of any kind.
    public func list(email: String?, includeInactive: Bool, kinds: [TokenRecord.Kind]? = nil) throws -> [TokenRecord] {
        var sql = TokenRecord.select + " WHERE 1 = 1"
        var args: [SQLValue] = []
        if let email {
            let user = try Users(store: store).require(email)
            sql += " AND t.user_id = ?"
            args.append(.integer(user.id))
        }
        if let kinds {
            sql += " AND t.kind IN (" + kinds.map { "'\($0.rawValue)'" }.joined(separator: ",") + ")"
        }
        if !includeInactive {
            sql += " AND t.revoked_at IS NULL AND (t.expires_at IS NULL OR t.expires_at > ?)"
            args.append(.integer(Clock.nowMillis()))
        }
        sql += " ORDER BY t.created_at DESC, t.id"
        return try db.query(sql, args).map(TokenRecord.init)
    }

    /// Issues a new secret with the same name, scopes, binding and lifetime policy; the old one stays valid
    /// for `graceSeconds` (0: dead at once).
    /// `maxLifetimeSeconds` caps the new token's lifetime (a user rotating on their account page gets no
    /// longer a life than they could create: a token made with no expiry comes back with the cap).
    public func rotate(_ reference: String, graceSeconds: Int64, maxLifetimeSeconds: Int64? = nil,
                       by initiator: Initiator = .cli) throws -> Issued {
        try db.write {
            let old = try resolve(reference)
            guard old.kind == .pat else { throw DomainError.invalid("only personal tokens can be rotated; OAuth tokens rotate through refresh") }
            guard old.status() == .active else { throw DomainError.conflict("token \(old.id) is \(old.status().rawValue); create a new one instead") }
            let now = Clock.nowMillis()
            let issued = try insert(kind: .pat, userID: old.userID, clientID: nil, name: old.name, scopes: old.scopes,
                                    app: old.app, env: old.env, ttlSeconds: Tokens.capped(old.ttlSeconds, at: maxLifetimeSeconds), rotatedFrom: old.id,
                                    familyID: nil, parentID: nil, now: now)
            if old.introspection {
                try db.run("UPDATE tokens SET introspection = 1 WHERE id = ?", [.text(issued.record.id)])
            }
            if graceSeconds <= 0 {
                try db.run("UPDATE tokens SET revoked_at = ?, revoked_reason = 'rotated' WHERE id = ?", [.integer(now), .text(old.id)])
            } else {
                let graceEnd = now + graceSeconds * 1000
                try db.run("UPDATE tokens SET expires_at = MIN(COALESCE(expires_at, ?), ?) WHERE id = ?",
                           [.integer(graceEnd), .integer(graceEnd), .text(old.id)])
            }
            try AuditLog.append(initiator.event("token.rotate", email: old.email, tokenID: issued.record.id, target: old.id,
                                     reason: graceSeconds > 0 ? "grace=\(DurationText.format(graceSeconds))" : "grace=0"), to: db)
            return issued
        }
    }

    /// A lifetime no longer than `cap` (nil lifetime: never expires; nil cap: no limit).
    static func capped(_ ttl: Int64?, at cap: Int64?) -> Int64? {
        guard let cap else { return ttl }
        return min(ttl ?? cap, cap)
    }

    /// Revokes tokens named by ID or secret. All references are resolved first: if any is unknown nothing changes.
    /// Returns each token with whether this call revoked it (false: it was already dead).
    public func revoke(_ references: [String], by initiator: Initiator = .cli) throws -> [(TokenRecord, Bool)] {
        try db.write {
            let records = try references.map { try resolve($0) }
            var out: [(TokenRecord, Bool)] = []
            var seen = Set<String>()
            for record in records where seen.insert(record.id).inserted {
                let changed = try Credentials.revokeToken(record, reason: initiator.source == .account ? "revoked by its user" : "revoked by operator", db: db)
                try AuditLog.append(initiator.event("token.revoke", email: record.email, tokenID: record.id, clientID: record.clientID,
                                         reason: changed > 0 ? "\(changed) credentials revoked" : "already revoked"), to: db)
                out.append((record, changed > 0))
            }
            return out
        }
    }

    /// Cancels every credential of a user: personal tokens, OAuth access and refresh tokens, consents.
    public func revokeAll(email: String, by initiator: Initiator = .cli) throws -> Int {
        try db.write {
            let user = try Users(store: store).require(email)
            let n = try Credentials.revokeAll(userID: user.id, reason: initiator.source == .account ? "revoked by its user (all)" : "revoked by operator (--all)", db: db)
            try AuditLog.append(initiator.event("token.revoke_all", email: user.email, reason: "\(n) credentials revoked"), to: db)
            return n
        }
    }

    /// What `token scan` says of one found secret.
    public enum ScanStatus: String, Sendable { case live, revoked, expired, unknown }

    public func scanStatus(_ secret: String) throws -> (ScanStatus, TokenRecord?) {
        guard let record = try find(secret: secret) else { return (.unknown, nil) }
        if record.userDisabled { return (.revoked, record) }
        switch record.status() {
        case .active: return (.live, record)
        case .revoked: return (.revoked, record)
        case .expired: return (.expired, record)
        }
    }
}
