/// What RFC 7662 introspection says about a token, and who may ask.
public struct TokenIntrospection: Sendable {
    /// An active token as introspection describes it (RFC 7662 §2.2).
    public struct Active: Sendable {
        public let record: TokenRecord
        public let principal: Principal

        /// The RFC 7662 §2.2 response members; `aud` is the RFC 8707 resource of an OAuth token.
        public func json(issuer: String) -> JSON {
            var o: [(String, JSON)] = [("active", .bool(true)), ("scope", .string(principal.scopes.oauthString))]
            if let c = principal.clientID { o.append(("client_id", .string(c))) }
            o += [("username", .string(principal.email)), ("sub", .string(principal.email)),
                  ("token_type", .string(record.kind == .refresh ? "refresh_token" : "Bearer")),
                  ("iat", .int(record.createdAt / 1000))]
            if let e = record.expiresAt { o.append(("exp", .int(e / 1000))) }
            if let app = principal.app, let env = principal.env {
                o.append(("aud", .string(ResourceIndicator(app: app, env: env).url(issuer: issuer))))
                o += [("app", .string(app)), ("env", .string(env))]
            }
            o += [("iss", .string(issuer)), ("token_id", .string(record.id)), ("token_kind", .string(record.kind.rawValue))]
            return .object(o)
        }
    }

    let store: Store
    var db: Database { store.db }

    public init(store: Store) { self.store = store }

    /// The token if it is active now: known, not revoked or spent, not expired, its user enabled and its
    /// client not blocked. Nil for everything else, malformed input included (RFC 7662 §2.2 answers all
    /// of these alike with `active: false`).
    public func inspect(_ secret: String, now: Int64 = Clock.nowMillis()) throws -> Active? {
        guard secret.utf8.count <= 256,
              case .success(let principal) = try TokenVerifier().verify(secret: secret, accept: [.pat, .access, .refresh], db: db, now: now),
              let record = try Tokens(store: store).find(id: principal.tokenID)
        else { return nil }
        return Active(record: record, principal: principal)
    }

    /// Whether a personal token may call the introspection endpoint (set with `allow(tokenID:)`).
    public func mayIntrospect(tokenID: String) throws -> Bool {
        try db.first("SELECT introspection FROM tokens WHERE id = ? AND kind = 'pat'", [.text(tokenID)])?.int("introspection") == 1
    }

    /// Marks a personal token as allowed to call `/oauth/introspect` (for `token create --introspection`).
    public func allow(tokenID: String, source: AuditSource = .cli) throws {
        try db.write {
            guard let record = try Tokens(store: store).find(id: tokenID), record.kind == .pat else {
                throw DomainError.notFound("no personal token with id '\(tokenID)'")
            }
            try db.run("UPDATE tokens SET introspection = 1 WHERE id = ?", [.text(tokenID)])
            try AuditLog.append(AuditEvent(source: source, action: "token.introspection", actor: source == .cli ? OperatingSystemUser.name : nil,
                                           email: record.email, tokenID: tokenID, decision: .allow,
                                           reason: "may call the introspection endpoint"), to: db)
        }
    }
}
