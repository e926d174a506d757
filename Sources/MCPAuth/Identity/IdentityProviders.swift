import Foundation

/// An OpenID Connect provider users sign in with ("Sign in with NAME").
public struct IdentityProvider: Sendable, Equatable {
    public let name: String
    /// Its issuer identifier (OpenID Connect Discovery 1.0 §4.3), compared byte for byte.
    public let issuer: String
    public let clientID: String
    /// Where the client secret is read from at each token request: the secret is never stored.
    public let clientSecretFile: String
    /// The scopes asked for; always includes `openid` (OpenID Connect Core 1.0 §3.1.2.1).
    public let scopes: [String]
    /// The ID-token claim listing the user's groups; nil: no group follows this provider.
    public let groupsClaim: String?
    /// Email domains that may sign in (`example.com` exactly, `*.example.com` for its subdomains); empty: any.
    public let allowedDomains: [String]
    /// Whether an unknown user of an allowed domain is created at first sign-in.
    public let createUsers: Bool
    /// Whether the provider's `email` is trusted without `email_verified: true`.
    public let trustEmail: Bool
    public let createdAt: Int64

    public init(name: String, issuer: String, clientID: String, clientSecretFile: String, scopes: [String] = ["openid", "email", "profile"],
                groupsClaim: String? = nil, allowedDomains: [String] = [], createUsers: Bool = false, trustEmail: Bool = false,
                createdAt: Int64 = 0) {
        self.name = name; self.issuer = issuer; self.clientID = clientID; self.clientSecretFile = clientSecretFile
        self.scopes = scopes; self.groupsClaim = groupsClaim; self.allowedDomains = allowedDomains.map { $0.lowercased() }
        self.createUsers = createUsers; self.trustEmail = trustEmail; self.createdAt = createdAt
    }

    init(row: Row) throws {
        let t = "identity_providers"
        self.init(name: try row.text("name", of: t), issuer: try row.text("issuer", of: t), clientID: try row.text("client_id", of: t),
                  clientSecretFile: try row.text("client_secret_file", of: t),
                  scopes: try row.text("scopes", of: t).split(separator: " ").map(String.init), groupsClaim: row.string("groups_claim"),
                  allowedDomains: try row.text("allowed_domains", of: t).split(separator: " ").map(String.init),
                  createUsers: try row.integer("create_users", of: t) != 0, trustEmail: try row.integer("trust_email", of: t) != 0,
                  createdAt: try row.integer("created_at", of: t))
    }

    /// What `idp list --json` shows: the secret file's path, never its content.
    public var json: JSON {
        .object([("name", .string(name)), ("issuer", .string(issuer)), ("client_id", .string(clientID)),
                 ("client_secret_file", .string(clientSecretFile)), ("scopes", .string(scopes.joined(separator: " "))),
                 ("groups_claim", .str(groupsClaim)), ("allowed_domains", .array(allowedDomains.map { .string($0) })),
                 ("create_users", .bool(createUsers)), ("trust_email", .bool(trustEmail)),
                 ("created_at", .string(Clock.rfc3339(createdAt)))])
    }

    /// Whether `email`'s domain may sign in: exact, or a subdomain for a `*.` pattern. No list: every domain.
    public func allows(email: String) -> Bool {
        guard !allowedDomains.isEmpty else { return true }
        return IdentityProvider.domain(of: email).map { d in allowedDomains.contains { IdentityProvider.domain(d, matches: $0) } } ?? false
    }

    /// Whether an unknown user with `email` may be created: only with `--create-users`, only for a listed domain.
    public func mayCreate(email: String) -> Bool { createUsers && !allowedDomains.isEmpty && allows(email: email) }

    static func domain(of email: String) -> String? {
        guard let at = email.lastIndex(of: "@") else { return nil }
        let d = email[email.index(after: at)...].lowercased()
        return d.isEmpty ? nil : d
    }

    static func domain(_ domain: String, matches pattern: String) -> Bool {
        if pattern.hasPrefix("*.") { return domain.hasSuffix(String(pattern.dropFirst())) && domain.count > pattern.count - 1 }
        return domain == pattern
    }
}

/// Adding, listing and removing identity providers; every change is audited.
public struct IdentityProviders: Sendable {
    let store: Store
    var db: Database { store.db }

    public init(store: Store) { self.store = store }

    static let columns = "name, issuer, client_id, client_secret_file, scopes, groups_claim, allowed_domains, create_users, trust_email, created_at"

    @discardableResult
    public func add(_ p: IdentityProvider) throws -> IdentityProvider {
        try IdentityProviders.validate(p)
        return try db.write {
            if let existing = try find(p.name) { throw DomainError.alreadyExists("an identity provider named '\(existing.name)' already exists") }
            try db.run("INSERT INTO identity_providers (\(IdentityProviders.columns)) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", [
                .text(p.name), .text(p.issuer), .text(p.clientID), .text(p.clientSecretFile), .text(p.scopes.joined(separator: " ")),
                p.groupsClaim.map { .text($0) } ?? .null, .text(p.allowedDomains.joined(separator: " ")),
                .integer(p.createUsers ? 1 : 0), .integer(p.trustEmail ? 1 : 0), .integer(Clock.nowMillis()),
            ])
            // Mappings made before any provider existed follow the first one added, and only it.
            let bound = try db.run("""
                UPDATE user_groups SET idp = ? WHERE idp_group IS NOT NULL AND idp IS NULL AND (SELECT count(*) FROM identity_providers) = 1
                """, [.text(p.name)])
            try AuditLog.append(.cli("idp.add", target: p.name, reason: "identity provider \(p.name) \(p.issuer)"
                                     + (bound > 0 ? "; \(bound) group mapping(s) now follow it" : "")), to: db)
            return try require(p.name)
        }
    }

    public func find(_ name: String) throws -> IdentityProvider? {
        try IdentityProviders.validateName(name)
        return try db.first("SELECT \(IdentityProviders.columns) FROM identity_providers WHERE name = ?", [.text(name)]).map(IdentityProvider.init)
    }

    public func require(_ name: String) throws -> IdentityProvider {
        guard let p = try find(name) else { throw DomainError.notFound("no identity provider named '\(name)' (see 'mcpctl idp list')") }
        return p
    }

    public func list() throws -> [IdentityProvider] {
        try db.query("SELECT \(IdentityProviders.columns) FROM identity_providers ORDER BY name").map(IdentityProvider.init)
    }

    @discardableResult
    public func remove(_ name: String) throws -> IdentityProvider {
        try db.write {
            let p = try require(name)
            try db.run("DELETE FROM identity_providers WHERE name = ?", [.text(p.name)])
            // Its group mappings go with it: a provider added later under the same name must be mapped anew.
            let dropped = try db.run("UPDATE user_groups SET idp_group = NULL, idp = NULL WHERE lower(idp) = lower(?)", [.text(p.name)])
            // And its subject bindings: a provider added later under this name is another provider.
            try SSOSubjects(store: store, idp: p.name).removeAll()
            try AuditLog.append(.cli("idp.remove", target: p.name, reason: "identity provider \(p.name) \(p.issuer)"
                                     + (dropped > 0 ? "; \(dropped) group mapping(s) dropped" : "")), to: db)
            return p
        }
    }

    // MARK: Validation

    /// Names: 1–64 ASCII letters, digits, `.`, `_` or `-` (they appear in URLs: /login/sso/NAME).
    public static func validateName(_ name: String) throws {
        guard (1...64).contains(name.utf8.count), name.utf8.allSatisfy(OutsideIssuers.isNameByte) else {
            throw DomainError.invalid("an identity provider name is 1 to 64 letters, digits, '.', '_' or '-'")
        }
    }

    static func validate(_ p: IdentityProvider) throws {
        try validateName(p.name)
        try OutsideIssuers.validateURL(p.issuer, what: "--issuer")
        guard !p.clientID.isEmpty, p.clientID.utf8.count <= 512, !HiddenCharacters.any(in: p.clientID) else {
            throw DomainError.invalid("--client-id must be 1 to 512 printable characters")
        }
        guard p.clientSecretFile.hasPrefix("/") else { throw DomainError.invalid("--client-secret-file must be an absolute path") }
        guard p.scopes.contains("openid") else { throw DomainError.invalid("--scopes must include 'openid'") }
        guard p.scopes.count <= 32, p.scopes.allSatisfy(isScopeToken) else {
            throw DomainError.invalid("--scopes is a space-separated list of scope names (RFC 6749 §3.3 characters)")
        }
        if let claim = p.groupsClaim, !(1...64).contains(claim.utf8.count) || !claim.utf8.allSatisfy({ OutsideIssuers.isNameByte($0) || $0 == 0x3a || $0 == 0x2f }) {
            throw DomainError.invalid("--groups-claim is a claim name: 1 to 64 letters, digits, '.', '_', '-', ':' or '/'")
        }
        for d in p.allowedDomains where !isDomainPattern(d) {
            throw DomainError.invalid("--allowed-domain '\(d)' is not a domain (example.com) or a subdomain pattern (*.example.com)")
        }
        if p.createUsers && p.allowedDomains.isEmpty {
            throw DomainError.invalid("--create-users needs at least one --allowed-domain: users are created only for allowed domains")
        }
    }

    /// RFC 6749 §3.3: scope-token = 1*( %x21 / %x23-5B / %x5D-7E ).
    static func isScopeToken(_ s: String) -> Bool {
        !s.isEmpty && s.utf8.count <= 128 && s.utf8.allSatisfy { $0 == 0x21 || ($0 >= 0x23 && $0 <= 0x5b) || ($0 >= 0x5d && $0 <= 0x7e) }
    }

    /// A DNS name of letters, digits and hyphens in dot-separated labels, optionally after `*.`.
    static func isDomainPattern(_ d: String) -> Bool {
        let name = d.hasPrefix("*.") ? String(d.dropFirst(2)) : d
        let labels = name.split(separator: ".", omittingEmptySubsequences: false)
        return name.utf8.count <= 253 && labels.count >= 2 && labels.allSatisfy { label in
            (1...63).contains(label.utf8.count) && !label.hasPrefix("-") && !label.hasSuffix("-")
                && label.utf8.allSatisfy { ($0 >= 0x61 && $0 <= 0x7a) || ($0 >= 0x30 && $0 <= 0x39) || $0 == 0x2d }
        }
    }
}
