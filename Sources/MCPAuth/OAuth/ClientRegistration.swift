import Foundation

/// Client metadata an OAuth client presents about itself (RFC 7591 §2), from a registration request or a
/// Client ID Metadata Document, after validation. Unknown members are ignored (RFC 7591 §2).
public struct ClientMetadata: Sendable, Equatable {
    public var name: String
    public var redirectURIs: [String]
    /// `none`, `client_secret_basic` or `client_secret_post`.
    public var authMethod: String
    public var scope: String?
    public var applicationType: String?
    public var softwareID: String?
    public var softwareVersion: String?

    public var isConfidential: Bool { authMethod != "none" }

    /// The RFC 7591 §3.2.1 client information echoed to the client (without id or secret).
    public var json: JSON {
        var o: [(String, JSON)] = [
            ("client_name", .string(name)), ("redirect_uris", .array(redirectURIs.map { .string($0) })),
            ("grant_types", .array(["authorization_code", "refresh_token"])), ("response_types", .array(["code"])),
            ("token_endpoint_auth_method", .string(authMethod)),
        ]
        if let scope { o.append(("scope", .string(scope))) }
        if let applicationType { o.append(("application_type", .string(applicationType))) }
        if let softwareID { o.append(("software_id", .string(softwareID))) }
        if let softwareVersion { o.append(("software_version", .string(softwareVersion))) }
        return .object(o)
    }

    /// Identical public registrations share one client id: this is what "identical" means.
    public var fingerprint: String {
        let canonical = JSON.object([("name", .string(name)), ("redirect_uris", .array(redirectURIs.sorted().map { .string($0) })),
                                     ("auth", .string(authMethod)), ("scope", .str(scope)), ("type", .str(applicationType)),
                                     ("software", .str(softwareID)), ("version", .str(softwareVersion))])
        return Hex.encode(SHA256.hash(canonical.encoded()))
    }

    /// Size caps on what a client may send (abuse limits of the registration endpoint).
    public static let maxRedirectURIs = 10
    public static let maxStringBytes = 2000

    /// Validates RFC 7591 §2 metadata. Errors are `invalid_redirect_uri` or `invalid_client_metadata` (§3.2.2).
    /// `defaultAuthMethod` is what an omitted `token_endpoint_auth_method` means: `client_secret_basic` for
    /// registration (RFC 7591 §2), `none` for metadata documents, which cannot hold a secret.
    public static func parse(_ json: JSON, defaultAuthMethod: String) throws(OAuthError) -> ClientMetadata {
        guard json.objectValue != nil else { throw .invalidClientMetadata("the body must be a JSON object") }
        let fields = MetadataFields(json: json)
        let uris = try redirectURIs(fields)
        let method = try fields.string("token_endpoint_auth_method") ?? defaultAuthMethod
        guard ["none", "client_secret_basic", "client_secret_post"].contains(method) else {
            throw .invalidClientMetadata("token_endpoint_auth_method '\(method)' is not supported (none, client_secret_basic, client_secret_post)")
        }
        try checkFlow(fields)
        return ClientMetadata(name: try clientName(fields), redirectURIs: uris, authMethod: method, scope: try scope(fields),
                              applicationType: try applicationType(fields), softwareID: try fields.string("software_id"),
                              softwareVersion: try fields.string("software_version"))
    }

    /// OAuth 2.1 §2.3.1 / RFC 8252 §7: at least one URI, each https, http on loopback, or a private-use scheme.
    private static func redirectURIs(_ fields: MetadataFields) throws(OAuthError) -> [String] {
        guard let uris = try fields.strings("redirect_uris", max: maxRedirectURIs), !uris.isEmpty else {
            throw .invalidRedirectURI("redirect_uris is required and must list at least one URI")
        }
        for uri in uris {
            if let problem = RedirectURI.problem(uri) { throw .invalidRedirectURI(problem) }
        }
        return uris
    }

    /// RFC 7591 §2.1: grant and response types must be consistent; this server offers only the code flow.
    private static func checkFlow(_ fields: MetadataFields) throws(OAuthError) {
        let grants = try fields.strings("grant_types", max: 10) ?? ["authorization_code"]
        guard grants.contains("authorization_code") else {
            throw .invalidClientMetadata("grant_types must include authorization_code (the only flow this server offers)")
        }
        let responses = try fields.strings("response_types", max: 10) ?? ["code"]
        guard responses.contains("code") else { throw .invalidClientMetadata("response_types must include code") }
    }

    /// RFC 7591 §3.2.2: a client_name that cannot be shown safely is invalid_client_metadata.
    private static func clientName(_ fields: MetadataFields) throws(OAuthError) -> String {
        // RFC 7591 §2: client_name is OPTIONAL; without one the client is shown as unnamed.
        let given = try fields.string("client_name")?.trimmingCharacters(in: CharacterSet(charactersIn: " ")) ?? ""
        let name = given.isEmpty ? "Unnamed client" : given
        if let problem = ClientName.problem(name, field: "client_name") { throw .invalidClientMetadata(problem) }
        return name
    }

    /// RFC 6749 §3.3: scope is a space-separated list of scope tokens (printable ASCII except `"` and backslash).
    private static func scope(_ fields: MetadataFields) throws(OAuthError) -> String? {
        let scope = try fields.string("scope")
        if let scope, !scope.split(separator: " ").allSatisfy({ !$0.isEmpty && $0.utf8.allSatisfy { $0 > 0x20 && $0 < 0x7f && $0 != 0x22 && $0 != 0x5c } }) {
            throw .invalidClientMetadata("scope must be a space-separated list of scope tokens")
        }
        return scope
    }

    private static func applicationType(_ fields: MetadataFields) throws(OAuthError) -> String? {
        let type = try fields.string("application_type")
        if let type, type != "native" && type != "web" { throw .invalidClientMetadata("application_type must be native or web") }
        return type
    }
}

/// Typed, size-capped reads of client metadata members; a wrong type is `invalid_client_metadata`.
private struct MetadataFields {
    let json: JSON

    func string(_ key: String) throws(OAuthError) -> String? {
        guard let v = json[key], !v.isNull else { return nil }
        guard let s = v.stringValue else { throw .invalidClientMetadata("\(key) must be a string") }
        guard s.utf8.count <= ClientMetadata.maxStringBytes else {
            throw .invalidClientMetadata("\(key) is longer than \(ClientMetadata.maxStringBytes) bytes")
        }
        return s
    }

    func strings(_ key: String, max: Int) throws(OAuthError) -> [String]? {
        guard let v = json[key], !v.isNull else { return nil }
        guard let a = v.arrayValue else { throw .invalidClientMetadata("\(key) must be an array of strings") }
        guard a.count <= max else { throw .invalidClientMetadata("\(key) has more than \(max) entries") }
        return try a.map { (item: JSON) throws(OAuthError) -> String in
            guard let s = item.stringValue, s.utf8.count <= ClientMetadata.maxStringBytes else {
                throw .invalidClientMetadata("\(key) must be an array of strings of at most \(ClientMetadata.maxStringBytes) bytes")
            }
            return s
        }
    }
}

/// Dynamic client registration (RFC 7591) with its abuse limits: identical public registrations share
/// one client id, and never-used self-registered clients are capped (the oldest reclaimed first).
public struct ClientRegistration: Sendable {
    let store: Store
    var db: Database { store.db }

    public init(store: Store) { self.store = store }

    public struct Outcome: Sendable {
        public let record: ClientRecord
        /// The client secret of a confidential client, shown once.
        public let secret: String?
        public let deduplicated: Bool
        /// Never-used clients deleted to stay under the cap.
        public let reclaimed: Int
    }

    /// Registers `metadata` as a `dcr` client. `maxUnusedClients` caps self-registered clients that never
    /// obtained a token; beyond it the oldest of them are deleted.
    public func register(_ metadata: ClientMetadata, maxUnusedClients: Int, remoteAddr: String?,
                         now: Int64 = Clock.nowMillis()) throws -> Outcome {
        try db.write {
            let fingerprint = metadata.isConfidential ? nil : metadata.fingerprint
            if let fingerprint, let existing = try db.first("""
                SELECT client_id FROM clients WHERE fingerprint = ? AND registration = 'dcr' AND auth_method = 'none' AND blocked_at IS NULL
                ORDER BY created_at LIMIT 1
                """, [.text(fingerprint)])?.string("client_id"), let record = try Clients(store: store).find(existing) {
                try AuditLog.append(AuditEvent(source: .oauth, action: "client.register", clientID: existing, decision: .allow,
                                               reason: "registration=dcr deduplicated: identical public registration",
                                               remoteAddr: remoteAddr, target: record.name), to: db)
                return Outcome(record: record, secret: nil, deduplicated: true, reclaimed: 0)
            }
            let registered = try Clients(store: store).register(name: metadata.name, redirectURIs: metadata.redirectURIs,
                                                                confidential: metadata.isConfidential, registration: .dcr,
                                                                metadata: metadata.json, fingerprint: fingerprint,
                                                                source: .oauth, remoteAddr: remoteAddr)
            if metadata.authMethod == "client_secret_post" {
                try db.run("UPDATE clients SET auth_method = 'client_secret_post' WHERE client_id = ?", [.text(registered.record.clientID)])
            }
            let reclaimed = try reclaimUnused(keep: maxUnusedClients, sparing: registered.record.clientID, remoteAddr: remoteAddr)
            return Outcome(record: try Clients(store: store).require(registered.record.clientID), secret: registered.secret,
                           deduplicated: false, reclaimed: reclaimed)
        }
    }

    /// Deletes the oldest self-registered clients that never got a token or consent, beyond `keep`.
    func reclaimUnused(keep: Int, sparing: String, remoteAddr: String?) throws -> Int {
        let unused = """
            FROM clients c WHERE c.registration IN ('dcr', 'cimd') AND c.last_used_at IS NULL AND c.blocked_at IS NULL
              AND NOT EXISTS (SELECT 1 FROM tokens t WHERE t.client_id = c.client_id)
              AND NOT EXISTS (SELECT 1 FROM consents s WHERE s.client_id = c.client_id)
            """
        guard let counted = try db.first("SELECT COUNT(*) AS n " + unused) else { return 0 }
        let count = try counted.integer("n", of: "clients")
        guard count > Int64(keep) else { return 0 }
        let victims = try db.query("SELECT c.client_id " + unused + " AND c.client_id <> ? ORDER BY c.created_at, c.rowid LIMIT ?",
                                   [.text(sparing), .integer(count - Int64(keep))]).map { try $0.text("client_id", of: "clients") }
        for id in victims {
            try db.run("DELETE FROM auth_codes WHERE client_id = ?", [.text(id)])
            try db.run("DELETE FROM clients WHERE client_id = ?", [.text(id)])
        }
        if !victims.isEmpty {
            try AuditLog.append(AuditEvent(source: .oauth, action: "client.reclaim", decision: .allow,
                                           reason: "\(victims.count) never-used clients deleted (cap \(keep)): " + victims.prefix(20).joined(separator: ","),
                                           remoteAddr: remoteAddr), to: db)
        }
        return victims.count
    }
}
