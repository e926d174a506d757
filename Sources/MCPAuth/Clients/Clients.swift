import Foundation

/// OAuth clients: registration (by hand, RFC 7591 or a metadata document), listing, revoking, blocking, pruning.
public struct Clients: Sendable {
    let store: Store
    var db: Database { store.db }

    public init(store: Store) { self.store = store }

    public struct Registered: Sendable {
        public let record: ClientRecord
        /// The client secret for confidential clients, shown once.
        public let secret: String?
    }

    static func newClientID() -> String { "client_" + Base62.random(count: 22) }

    /// Registers a client; for `cimd` the client id is the metadata URL.
    public func register(name: String, redirectURIs: [String], confidential: Bool, registration: RegistrationMethod,
                         clientID: String? = nil, metadata: JSON? = nil, fingerprint: String? = nil,
                         source: AuditSource = .cli, remoteAddr: String? = nil) throws -> Registered {
        if let problem = ClientName.problem(name) { throw DomainError.invalid(problem) }
        let trimmed = name.trimmingCharacters(in: CharacterSet(charactersIn: " "))
        guard !redirectURIs.isEmpty else { throw DomainError.invalid("a client needs at least one redirect URI") }
        guard redirectURIs.count <= 20 else { throw DomainError.invalid("at most 20 redirect URIs") }
        for uri in redirectURIs { if let p = RedirectURI.problem(uri) { throw DomainError.invalid(p) } }
        let id = clientID ?? Clients.newClientID()
        let secret = confidential ? TokenSecret.generate(kind: "cs") : nil
        return try db.write {
            try db.run("""
                INSERT INTO clients (client_id, name, redirect_uris, auth_method, secret_hash, registration, metadata, fingerprint, created_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT(client_id) DO UPDATE SET name = excluded.name, redirect_uris = excluded.redirect_uris,
                    metadata = excluded.metadata
                """, [.text(id), .text(trimmed), .text(JSON.array(redirectURIs.map { .string($0) }).encoded()),
                      .text(confidential ? "client_secret_basic" : "none"), secret.map { .blob(TokenSecret.hash($0)) } ?? .null,
                      .text(registration.rawValue), .text(metadata?.encoded()), .text(fingerprint), .integer(Clock.nowMillis())])
            try AuditLog.append(AuditEvent(source: source, action: "client.register", actor: source == .cli ? OperatingSystemUser.name : nil,
                                           clientID: id, decision: .allow, reason: "registration=\(registration.rawValue)",
                                           remoteAddr: remoteAddr, target: trimmed), to: db)
            return Registered(record: try require(id), secret: secret)
        }
    }

    public func find(_ clientID: String) throws -> ClientRecord? {
        try db.first(ClientRecord.selectWithUsage + " WHERE c.client_id = ?", [.text(clientID)]).map(ClientRecord.init(rowWithUsage:))
    }

    public func require(_ clientID: String) throws -> ClientRecord {
        guard let r = try find(clientID) else { throw DomainError.notFound("no client with id '\(clientID)'") }
        return r
    }

    /// Connected applications, newest first; `email` narrows to clients that user consented to or holds tokens of.
    public func list(email: String?, includeBlocked: Bool) throws -> [ClientRecord] {
        var sql = ClientRecord.selectWithUsage + " WHERE 1 = 1"
        var args: [SQLValue] = []
        if let email {
            let user = try Users(store: store).require(email)
            sql += " AND (c.client_id IN (SELECT client_id FROM consents WHERE user_id = ?) OR c.client_id IN (SELECT client_id FROM tokens WHERE user_id = ? AND revoked_at IS NULL))"
            args += [.integer(user.id), .integer(user.id)]
        }
        if !includeBlocked { sql += " AND c.blocked_at IS NULL" }
        return try db.query(sql + " ORDER BY c.created_at DESC", args).map(ClientRecord.init(rowWithUsage:))
    }

    /// Consents of a client: who agreed to what, on which resource.
    public func consents(_ clientID: String) throws -> [JSON] {
        try db.query("""
            SELECT u.email, c.app, c.env, c.scopes, c.created_at, c.updated_at FROM consents c JOIN users u ON u.id = c.user_id
            WHERE c.client_id = ? ORDER BY u.email
            """, [.text(clientID)]).map {
            .object([("email", .string(try $0.text("email", of: "users"))), ("app", .string(try $0.text("app", of: "consents"))),
                     ("env", .string(try $0.text("env", of: "consents"))),
                     ("scopes", .array(try $0.scopes("scopes", of: "consents").list.map { .string($0) })),
                     ("created_at", .string(Clock.rfc3339(try $0.integer("created_at", of: "consents")))),
                     ("updated_at", .string(Clock.rfc3339(try $0.integer("updated_at", of: "consents"))))])
        }
    }

    /// Deletes the client with its consents, codes and every token issued to it.
    public func revoke(_ clientID: String, by initiator: Initiator = .cli) throws -> ClientRecord {
        try db.write {
            let record = try require(clientID)
            let n = try db.run("DELETE FROM tokens WHERE client_id = ?", [.text(clientID)])
            try db.run("DELETE FROM clients WHERE client_id = ?", [.text(clientID)])
            try AuditLog.append(initiator.event("client.revoke", clientID: clientID, target: record.name, reason: "\(n) tokens deleted"), to: db)
            return record
        }
    }

    /// Keeps the record but refuses all future use: tokens revoked, consents dropped, registration blocked.
    public func block(_ clientID: String) throws -> ClientRecord {
        try db.write {
            let record = try require(clientID)
            let now = Clock.nowMillis()
            try db.run("UPDATE clients SET blocked_at = COALESCE(blocked_at, ?) WHERE client_id = ?", [.integer(now), .text(clientID)])
            let n = try db.run("UPDATE tokens SET revoked_at = ?, revoked_reason = 'client blocked' WHERE client_id = ? AND revoked_at IS NULL",
                               [.integer(now), .text(clientID)])
            try db.run("DELETE FROM consents WHERE client_id = ?", [.text(clientID)])
            try db.run("UPDATE auth_codes SET used_at = ? WHERE client_id = ? AND used_at IS NULL", [.integer(now), .text(clientID)])
            try AuditLog.append(.cli("client.block", clientID: clientID, target: record.name, reason: "\(n) tokens revoked"), to: db)
            return try require(clientID)
        }
    }

    /// Clients with no live token and no use (or, never used, no registration) in the period.
    public func prune(unusedForSeconds: Int64, dryRun: Bool) throws -> [ClientRecord] {
        try db.write {
            let cutoff = Clock.nowMillis() - unusedForSeconds * 1000
            let candidates = try db.query(ClientRecord.selectWithUsage + " WHERE COALESCE(c.last_used_at, c.created_at) < ?", [.integer(cutoff)])
                .map(ClientRecord.init(rowWithUsage:)).filter { $0.usage?.liveTokens == 0 }
            if dryRun { return candidates }
            for c in candidates {
                try db.run("DELETE FROM tokens WHERE client_id = ?", [.text(c.clientID)])
                try db.run("DELETE FROM clients WHERE client_id = ?", [.text(c.clientID)])
            }
            try AuditLog.append(.cli("client.prune", reason: "\(candidates.count) clients deleted, unused for \(DurationText.format(unusedForSeconds))"), to: db)
            return candidates
        }
    }

    /// Checks a confidential client's secret in constant time.
    public func authenticate(clientID: String, secret: String) throws -> Bool {
        guard let row = try db.first("SELECT secret_hash FROM clients WHERE client_id = ? AND blocked_at IS NULL", [.text(clientID)]),
              let stored = row["secret_hash"].bytes else {
            _ = ConstantTime.equals(TokenSecret.hash(secret), [UInt8](repeating: 0, count: 32))
            return false
        }
        return ConstantTime.equals(TokenSecret.hash(secret), stored)
    }
}

import Foundation
