import Foundation

/// An authorization server outside mcpctl whose access tokens the gateway accepts: JWTs checked
/// against its JWKS, or opaque tokens through its RFC 7662 introspection endpoint.
public struct OutsideIssuer: Sendable, Equatable {
    public let name: String
    /// Its `issuer` identifier (RFC 8414 §2), compared byte for byte with `iss`.
    public let issuer: String
    /// An `aud` value accepted besides the resource URL.
    public let audience: String?
    public let introspectionURL: String?
    public let clientID: String?
    /// Where the introspection client secret is read from, at each use: the secret itself is never
    /// copied into the store.
    public let clientSecretFile: String?
    /// The claim that names the user (their email address).
    public let emailClaim: String
    public let createdAt: Int64

    public init(name: String, issuer: String, audience: String? = nil, introspectionURL: String? = nil, clientID: String? = nil,
                clientSecretFile: String? = nil, emailClaim: String = "email", createdAt: Int64 = 0) {
        self.name = name; self.issuer = issuer; self.audience = audience; self.introspectionURL = introspectionURL
        self.clientID = clientID; self.clientSecretFile = clientSecretFile; self.emailClaim = emailClaim; self.createdAt = createdAt
    }

    init(row: Row) throws {
        self.init(name: try row.text("name", of: "outside_issuers"), issuer: try row.text("issuer", of: "outside_issuers"),
                  audience: row.string("audience"), introspectionURL: row.string("introspection_url"), clientID: row.string("client_id"),
                  clientSecretFile: row.string("client_secret_file"), emailClaim: try row.text("email_claim", of: "outside_issuers"),
                  createdAt: try row.integer("created_at", of: "outside_issuers"))
    }

    /// What `issuer list --json` shows: the secret file's path, never its content.
    public var json: JSON {
        .object([("name", .string(name)), ("issuer", .string(issuer)), ("audience", .str(audience)),
                 ("introspection_url", .str(introspectionURL)), ("client_id", .str(clientID)),
                 ("client_secret_file", .str(clientSecretFile)), ("email_claim", .string(emailClaim)),
                 ("created_at", .string(Clock.rfc3339(createdAt)))])
    }
}

/// Adding, listing and removing outside issuers. Every change is audited and bumps the policy
/// generation (migration `0009_issuers`).
public struct OutsideIssuers: Sendable {
    let store: Store
    var db: Database { store.db }

    public init(store: Store) { self.store = store }

    static let columns = "name, issuer, audience, introspection_url, client_id, client_secret_file, email_claim, created_at"

    @discardableResult
    public func add(_ i: OutsideIssuer) throws -> OutsideIssuer {
        try OutsideIssuers.validate(i)
        return try db.write {
            if let existing = try find(i.name) { throw DomainError.alreadyExists("an issuer named '\(existing.name)' already exists") }
            if try db.first("SELECT name FROM outside_issuers WHERE issuer = ?", [.text(i.issuer)]) != nil {
                throw DomainError.alreadyExists("the issuer \(i.issuer) is already added")
            }
            try db.run("""
                INSERT INTO outside_issuers (name, issuer, audience, introspection_url, client_id, client_secret_file, email_claim, created_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                """, [.text(i.name), .text(i.issuer), OutsideIssuers.value(i.audience), OutsideIssuers.value(i.introspectionURL),
                      OutsideIssuers.value(i.clientID), OutsideIssuers.value(i.clientSecretFile), .text(i.emailClaim), .integer(Clock.nowMillis())])
            try AuditLog.append(.cli("issuer.add", target: i.name, reason: "issuer \(i.name) \(i.issuer)"
                                     + (i.introspectionURL == nil ? "" : " with introspection")), to: db)
            return try require(i.name)
        }
    }

    public func find(_ name: String) throws -> OutsideIssuer? {
        try OutsideIssuers.validateName(name)
        return try db.first("SELECT \(OutsideIssuers.columns) FROM outside_issuers WHERE name = ?", [.text(name)]).map(OutsideIssuer.init)
    }

    public func require(_ name: String) throws -> OutsideIssuer {
        guard let i = try find(name) else { throw DomainError.notFound("no issuer named '\(name)' (see 'mcpctl issuer list')") }
        return i
    }

    public func list() throws -> [OutsideIssuer] {
        try db.query("SELECT \(OutsideIssuers.columns) FROM outside_issuers ORDER BY name").map(OutsideIssuer.init)
    }

    @discardableResult
    public func remove(_ name: String) throws -> OutsideIssuer {
        try db.write {
            let i = try require(name)
            try db.run("DELETE FROM outside_issuers WHERE name = ?", [.text(i.name)])
            try AuditLog.append(.cli("issuer.remove", target: i.name, reason: "issuer \(i.name) \(i.issuer)"), to: db)
            return i
        }
    }

    static func value(_ s: String?) -> SQLValue { s.map { .text($0) } ?? .null }

    // MARK: Validation

    /// Names: 1–64 ASCII letters, digits, `.`, `_` or `-`.
    public static func validateName(_ name: String) throws {
        guard (1...64).contains(name.utf8.count), name.utf8.allSatisfy(isNameByte) else {
            throw DomainError.invalid("an issuer name is 1 to 64 letters, digits, '.', '_' or '-'")
        }
    }

    static func isNameByte(_ b: UInt8) -> Bool {
        (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5a) || (b >= 0x61 && b <= 0x7a) || b == 0x2e || b == 0x5f || b == 0x2d
    }

    static func validate(_ i: OutsideIssuer) throws {
        try validateName(i.name)
        try validateURL(i.issuer, what: "--issuer")
        if let u = i.introspectionURL { try validateURL(u, what: "--introspection-url") }
        guard (i.introspectionURL == nil) == (i.clientID == nil), (i.clientID == nil) == (i.clientSecretFile == nil) else {
            throw DomainError.invalid("--introspection-url, --client-id and --client-secret-file go together: give all three or none")
        }
        for (value, what) in [(i.audience, "--audience"), (i.clientID, "--client-id")] {
            if let value, value.isEmpty || value.utf8.count > 512 || HiddenCharacters.any(in: value) {
                throw DomainError.invalid("\(what) must be 1 to 512 printable characters")
            }
        }
        if let file = i.clientSecretFile, !file.hasPrefix("/") { throw DomainError.invalid("--client-secret-file must be an absolute path") }
        guard (1...64).contains(i.emailClaim.utf8.count), i.emailClaim.utf8.allSatisfy({ isNameByte($0) || $0 == 0x3a }) else {
            throw DomainError.invalid("--email-claim is a claim name: 1 to 64 letters, digits, '.', '_', '-' or ':'")
        }
    }

    /// RFC 8414 §2: an issuer is an https URL without query or fragment; plain http only on a loopback
    /// host (RFC 8252 §7.3 literals), for tests and local setups.
    public static func validateURL(_ url: String, what: String) throws {
        guard url.utf8.count <= 2048, !HiddenCharacters.any(in: url), let c = URLComponents(string: url), let scheme = c.scheme?.lowercased(),
              let host = c.host, !host.isEmpty, c.query == nil, c.fragment == nil, c.user == nil, c.password == nil else {
            throw DomainError.invalid("\(what) must be an absolute https URL without query, fragment or user info")
        }
        switch scheme {
        case "https": return
        case "http" where RedirectURI.isLoopback(host) || RedirectURI.isLoopback("[\(host)]"): return
        case "http": throw DomainError.invalid("\(what) must use https (plain http is allowed only on a loopback host)")
        default: throw DomainError.invalid("\(what) must be an https URL")
        }
    }
}
