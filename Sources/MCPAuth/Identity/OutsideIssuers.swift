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
    /// Email domains its tokens may name (`example.com` exactly, `*.example.com` for its subdomains);
    /// empty: any. An issuer trusted for one organization must not speak for another's users.
    public let allowedDomains: [String]
    /// The prefix of this issuer's opaque tokens: with it, only tokens that start with it are sent to
    /// its introspection endpoint (and to no other issuer's).
    public let tokenPrefix: String?
    public let createdAt: Int64

    public init(name: String, issuer: String, audience: String? = nil, introspectionURL: String? = nil, clientID: String? = nil,
                clientSecretFile: String? = nil, emailClaim: String = "email", allowedDomains: [String] = [], tokenPrefix: String? = nil,
                createdAt: Int64 = 0) {
        self.name = name; self.issuer = issuer; self.audience = audience; self.introspectionURL = introspectionURL
        self.clientID = clientID; self.clientSecretFile = clientSecretFile; self.emailClaim = emailClaim
        self.allowedDomains = allowedDomains.map { $0.lowercased() }; self.tokenPrefix = tokenPrefix; self.createdAt = createdAt
    }

    init(row: Row) throws {
        let t = "outside_issuers"
        self.init(name: try row.text("name", of: t), issuer: try row.text("issuer", of: t),
                  audience: row.string("audience"), introspectionURL: row.string("introspection_url"), clientID: row.string("client_id"),
                  clientSecretFile: row.string("client_secret_file"), emailClaim: try row.text("email_claim", of: t),
                  allowedDomains: try row.text("allowed_domains", of: t).split(separator: " ").map(String.init),
                  tokenPrefix: row.string("token_prefix"), createdAt: try row.integer("created_at", of: t))
    }

    /// What `issuer list --json` shows: the secret file's path, never its content.
    public var json: JSON {
        .object([("name", .string(name)), ("issuer", .string(issuer)), ("audience", .str(audience)),
                 ("introspection_url", .str(introspectionURL)), ("client_id", .str(clientID)),
                 ("client_secret_file", .str(clientSecretFile)), ("email_claim", .string(emailClaim)),
                 ("allowed_domains", .array(allowedDomains.map { .string($0) })), ("token_prefix", .str(tokenPrefix)),
                 ("created_at", .string(Clock.rfc3339(createdAt)))])
    }

    /// Whether its tokens may name `email`: its domain is listed (exactly, or under a `*.` pattern), or no list.
    public func allows(email: String) -> Bool {
        guard !allowedDomains.isEmpty else { return true }
        return IdentityProvider.domain(of: email).map { d in allowedDomains.contains { IdentityProvider.domain(d, matches: $0) } } ?? false
    }
}

/// Adding, listing and removing outside issuers. Every change is audited and bumps the policy
/// generation (migration `0009_issuers`).
public struct OutsideIssuers: Sendable {
    let store: Store
    var db: Database { store.db }

    public init(store: Store) { self.store = store }

    static let columns = "name, issuer, audience, introspection_url, client_id, client_secret_file, email_claim, allowed_domains, token_prefix, created_at"

    @discardableResult
    public func add(_ i: OutsideIssuer) throws -> OutsideIssuer {
        try OutsideIssuers.validate(i)
        return try db.write {
            if let existing = try find(i.name) { throw DomainError.alreadyExists("an issuer named '\(existing.name)' already exists") }
            if try db.first("SELECT name FROM outside_issuers WHERE issuer = ?", [.text(i.issuer)]) != nil {
                throw DomainError.alreadyExists("the issuer \(i.issuer) is already added")
            }
            try checkAttribution(i)
            try db.run("""
                INSERT INTO outside_issuers (\(OutsideIssuers.columns)) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """, [.text(i.name), .text(i.issuer), OutsideIssuers.value(i.audience), OutsideIssuers.value(i.introspectionURL),
                      OutsideIssuers.value(i.clientID), OutsideIssuers.value(i.clientSecretFile), .text(i.emailClaim),
                      .text(i.allowedDomains.joined(separator: " ")), OutsideIssuers.value(i.tokenPrefix), .integer(Clock.nowMillis())])
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

    /// An opaque token goes to one issuer only (RFC 7662 §4: the token is a credential, and an
    /// introspection endpoint learns every token it is sent): the one whose `--token-prefix` it starts
    /// with, else the one issuer that introspects without a prefix. A second such issuer would leave
    /// tokens that belong to neither, or to one, to be sent to both, so it needs a prefix; so do
    /// prefixes where one starts another's (a token would match both).
    func checkAttribution(_ i: OutsideIssuer) throws {
        guard i.introspectionURL != nil else { return }
        let others = try list().filter { $0.introspectionURL != nil }
        if i.tokenPrefix == nil, let unprefixed = others.first(where: { $0.tokenPrefix == nil }) {
            throw DomainError.invalid("the issuer '\(unprefixed.name)' already introspects opaque tokens without --token-prefix: give this one "
                                      + "--token-prefix (the start of its opaque tokens) so each token is sent only to the issuer it belongs to")
        }
        if let p = i.tokenPrefix, let clash = others.first(where: { o in o.tokenPrefix.map { $0.hasPrefix(p) || p.hasPrefix($0) } ?? false }) {
            throw DomainError.invalid("--token-prefix '\(p)' overlaps the prefix of issuer '\(clash.name)': a token must belong to one issuer")
        }
    }

    /// The issuers an opaque token may be sent to for introspection: the one whose prefix it starts
    /// with, else the one without a prefix; never more than one (see `checkAttribution`).
    public static func introspecting(_ token: String, among issuers: [OutsideIssuer]) -> OutsideIssuer? {
        let candidates = issuers.filter { $0.introspectionURL != nil }
        let prefixed = candidates.filter { i in i.tokenPrefix.map { token.utf8.starts(with: $0.utf8) } ?? false }
        if !prefixed.isEmpty { return prefixed.count == 1 ? prefixed[0] : nil }
        let unprefixed = candidates.filter { $0.tokenPrefix == nil }
        return unprefixed.count == 1 ? unprefixed[0] : nil
    }

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
        for d in i.allowedDomains where !IdentityProviders.isDomainPattern(d) {
            throw DomainError.invalid("--allowed-domain '\(d)' is not a domain (example.com) or a subdomain pattern (*.example.com)")
        }
        if let p = i.tokenPrefix {
            guard i.introspectionURL != nil else { throw DomainError.invalid("--token-prefix is for issuers that introspect: give --introspection-url too") }
            guard (1...32).contains(p.utf8.count), p.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7f }) else {
                throw DomainError.invalid("--token-prefix is 1 to 32 printable ASCII characters without spaces")
            }
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
