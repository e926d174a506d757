import Foundation

/// Why an SSO sign-in was refused: `reason` goes to the audit row, `message` to the browser.
public struct SSORefusal: Error, Sendable, Equatable {
    public let reason: String
    public let message: String
    /// The email the provider named, when the refusal came after the ID token was verified.
    public let email: String?

    public init(reason: String, email: String? = nil, message: String) {
        self.reason = reason; self.message = message; self.email = email
    }

    static func token(_ reason: String) -> SSORefusal {
        SSORefusal(reason: reason, message: "The identity provider's answer could not be verified, so nobody was signed in.")
    }
}

/// The ID token check and the user it signs in (OpenID Connect Core 1.0 §3.1.3.7), then the sign-in's
/// effect on the store: the user found or created, and the membership of groups that follow the provider.
public struct OIDCLogin: Sendable {
    /// Clock skew allowed around `exp` and `iat`.
    public static let leewaySeconds: Int64 = 60
    /// The ID-token signature algorithms accepted: RS256 (OpenID Connect Core 1.0 §3.1.3.7 step 7, the
    /// default every provider supports) and ES256; `none` and HMAC (with a public key as secret) never are.
    public static let algorithms = JWTVerifier.algorithms

    public let provider: IdentityProvider

    public init(provider: IdentityProvider) { self.provider = provider }

    /// Verifies `idToken` against the provider's keys and the `nonce` this browser was given. `now` in milliseconds.
    public func verify(_ idToken: String, nonce: String, keys: JWKSCache, now: Int64, fetch: JWKSCache.Fetch) -> Result<JWTClaims, SSORefusal> {
        let jws: JWSCompact
        do { jws = try JWSCompact(idToken) } catch { return .failure(.token("ID token: \(error.rawValue)")) }
        guard OIDCLogin.algorithms.contains(jws.algorithm) else { return .failure(.token("ID token: JWT alg \(OIDCLogin.safe(jws.algorithm)) not accepted")) }
        if let typ = jws.type, typ.lowercased() != "jwt" { return .failure(.token("ID token: JWT typ not accepted")) }
        let expecting = JWTExpectation(issuer: provider.issuer, audiences: [provider.clientID], leewaySeconds: OIDCLogin.leewaySeconds)
        let claims: JWTClaims
        switch keys.verify(jws, expecting: expecting, now: now, fetch: fetch) {
        case .success(let c): claims = c
        case .failure(let f): return .failure(.token("ID token: \(f.rawValue)"))
        }
        if let problem = OIDCLogin.problem(claims, clientID: provider.clientID, nonce: nonce) { return .failure(.token("ID token: " + problem)) }
        return .success(claims)
    }

    /// The claims rules beyond issuer, audience and expiry: `iat` present, `azp` for several audiences,
    /// and the `nonce` of this sign-in (§3.1.3.7 steps 4, 5, 10 and 11).
    static func problem(_ claims: JWTClaims, clientID: String, nonce: String) -> String? {
        guard case .some(.some) = claims.date("iat") else { return "no iat" }
        if case .array(let auds)? = claims["aud"], auds.count > 1 {
            guard case .string(let azp)? = claims["azp"], JOSEJSON.sameBytes(azp, clientID) else { return "azp missing or not this client" }
        } else if let azp = claims["azp"], azp.stringValue.map({ JOSEJSON.sameBytes($0, clientID) }) != true {
            return "azp not this client"
        }
        guard case .string(let given)? = claims["nonce"] else { return "nonce missing" }
        guard ConstantTime.equals(Array(given.utf8), Array(nonce.utf8)) else { return "nonce mismatch" }
        return nil
    }

    /// The user the verified claims sign in, created if the provider allows it; group memberships of mapped
    /// groups made to follow the groups claim. Refusals change nothing.
    public func signIn(_ claims: JWTClaims, store: Store, remoteAddr: String?) throws -> Result<User, SSORefusal> {
        guard case .string(let raw)? = claims["email"], let email = EmailAddress.normalize(raw) else {
            return .failure(SSORefusal(reason: "ID token has no valid email claim",
                                       message: "The identity provider did not name an email address, so you cannot be matched to a user."))
        }
        if !provider.trustEmail && claims["email_verified"]?.boolValue != true {
            return .failure(SSORefusal(reason: "email not verified by the provider", email: email,
                                       message: "The identity provider has not verified \(email). Verify it there, then sign in again."))
        }
        guard provider.allows(email: email) else {
            return .failure(SSORefusal(reason: "email domain not allowed", email: email,
                                       message: "Accounts of \(email)'s domain may not sign in with \(provider.name)."))
        }
        guard case .string(let subject)? = claims["sub"], !subject.isEmpty, subject.utf8.count <= SSOSubjects.maxSubjectBytes else {
            return .failure(SSORefusal(reason: "ID token has no valid sub claim", email: email,
                                       message: "The identity provider did not identify your account, so nobody was signed in."))
        }
        let db = store.db
        return try db.write {
            let found: User
            switch try user(subject: subject, email: email, claims: claims, store: store, remoteAddr: remoteAddr) {
            case .failure(let refusal): return .failure(refusal)
            case .success(let user): found = user
            }
            let user = found
            guard user.disabledAt == nil else {
                return .failure(SSORefusal(reason: "user disabled", email: user.email, message: "The account \(user.email) is disabled."))
            }
            if provider.groupsClaim != nil { try followGroups(claims, user: user, db: db, remoteAddr: remoteAddr) }
            return .success(user)
        }
    }

    /// The user the subject is bound to; else the user of the email (created if the provider may), which
    /// the subject is then bound to, unless that user is bound to another subject of this provider.
    /// Runs inside the sign-in's write transaction.
    private func user(subject: String, email: String, claims: JWTClaims, store: Store,
                      remoteAddr: String?) throws -> Result<User, SSORefusal> {
        let subjects = SSOSubjects(store: store, idp: provider.name)
        if let bound = try subjects.user(subject: subject),
           let row = try store.db.first("SELECT \(Users.columns) FROM users WHERE id = ?", [.integer(bound)]) {
            return .success(try User(row: row))
        }
        var user = try Users(store: store).find(email)
        if let user, try subjects.isBound(userID: user.id) {
            return .failure(SSORefusal(reason: "\(user.email) is bound to another \(provider.name) account", email: email,
                                       message: "\(user.email) signs in with another \(provider.name) account. Ask an operator if your account there was replaced."))
        }
        if user == nil {
            guard provider.mayCreate(email: email) else {
                return .failure(SSORefusal(reason: "no such user (not created without --create-users)", email: email,
                                           message: "There is no user \(email) here. Ask an operator to add you."))
            }
            user = try create(email: email, name: claims["name"]?.stringValue, store: store, remoteAddr: remoteAddr)
        }
        guard let user else { return .failure(SSORefusal(reason: "user vanished", message: "Sign-in failed.")) }
        // A refused sign-in changes nothing: a disabled user is refused before anything is bound.
        guard user.disabledAt == nil else {
            return .failure(SSORefusal(reason: "user disabled", email: user.email, message: "The account \(user.email) is disabled."))
        }
        try subjects.bind(subject: subject, userID: user.id)
        try AuditLog.append(event("sso.bind", email: user.email, target: provider.name,
                                  reason: "first sign-in with \(provider.name): its account is bound to \(user.email)", remoteAddr: remoteAddr),
                            to: store.db)
        return .success(user)
    }

    /// A user without a password, audited as created by this provider.
    private func create(email: String, name: String?, store: Store, remoteAddr: String?) throws -> User? {
        let name = name.flatMap { (try? UserName.validate($0)) == nil ? nil : $0 }
        try store.db.run("INSERT INTO users (email, name, created_at) VALUES (?, ?, ?)", [.text(email), .text(name), .integer(Clock.nowMillis())])
        try AuditLog.append(event("user.add", email: email, reason: "created at first sign-in with \(provider.name)", remoteAddr: remoteAddr), to: store.db)
        return try Users(store: store).find(email)
    }

    /// The groups claim's values (absent or malformed: none, so mapped memberships are removed: fail closed).
    public func groupValues(_ claims: JWTClaims) -> Set<String> {
        guard let claim = provider.groupsClaim else { return [] }
        switch claims[claim] {
        case .array(let items)?: return Set(items.compactMap(\.stringValue))
        case .string(let one)?: return [one]
        default: return []
        }
    }

    /// Every group mapped to an IdP group of this provider: a member exactly when the claim names that
    /// group. Groups mapped for another provider (or for none) are not touched: one provider's groups
    /// claim must not decide membership of a group whose mapping trusts another's.
    private func followGroups(_ claims: JWTClaims, user: User, db: Database, remoteAddr: String?) throws {
        let values = groupValues(claims)
        let rows = try db.query("""
            SELECT g.id, g.name, g.idp_group, EXISTS (SELECT 1 FROM group_members m WHERE m.group_id = g.id AND m.user_id = ?) AS member
            FROM user_groups g WHERE g.idp_group IS NOT NULL AND lower(g.idp) = lower(?) ORDER BY g.name
            """, [.integer(user.id), .text(provider.name)])
        for row in rows {
            guard let id = row.int("id"), let name = row.string("name"), let idpGroup = row.string("idp_group") else { continue }
            let member = row.int("member") == 1, wanted = values.contains(idpGroup)
            if wanted && !member {
                try db.run("INSERT INTO group_members (user_id, group_id, added_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
                           [.integer(user.id), .integer(id), .integer(Clock.nowMillis())])
                try AuditLog.append(event("group.member.add", email: user.email, target: name,
                                          reason: "group \(name): \(provider.name) groups claim names \(idpGroup)", remoteAddr: remoteAddr), to: db)
            } else if !wanted && member {
                try db.run("DELETE FROM group_members WHERE user_id = ? AND group_id = ?", [.integer(user.id), .integer(id)])
                try AuditLog.append(event("group.member.remove", email: user.email, target: name,
                                          reason: "group \(name): \(provider.name) groups claim does not name \(idpGroup)", remoteAddr: remoteAddr), to: db)
            }
        }
    }

    /// An allowed change made by a sign-in with this provider.
    func event(_ action: String, email: String, target: String? = nil, reason: String, remoteAddr: String?) -> AuditEvent {
        AuditEvent(source: .sso, action: action, actor: provider.name, email: email, decision: .allow, reason: reason,
                   remoteAddr: remoteAddr, target: target)
    }

    /// A refused sign-in, for the audit log.
    public func refusalEvent(_ refusal: SSORefusal, remoteAddr: String?) -> AuditEvent {
        AuditEvent(source: .sso, action: "sso.login", actor: provider.name, email: refusal.email, decision: .deny,
                   reason: refusal.reason, remoteAddr: remoteAddr, target: provider.name)
    }

    /// A header value quoted into an audit reason: short and printable only.
    static func safe(_ s: String) -> String {
        String(s.unicodeScalars.filter { $0.value >= 0x20 && $0.value < 0x7f }.prefix(32).map(Character.init))
    }
}
