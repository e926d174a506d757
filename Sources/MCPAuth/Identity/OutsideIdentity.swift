/// Who an outside issuer's token names, once its signature or introspection answer is accepted.
public struct OutsideIdentity: Sendable {
    /// The mcpctl name of the issuer.
    public let issuer: String
    public let email: String
    /// The token's own scopes (read/write/delete), intersected with grants at each decision.
    public let scopes: ScopeSet

    /// The identity in a token's claims (JWT claims or an RFC 7662 answer); a refusal reason otherwise.
    public static func from(_ claims: JSON, issuer: OutsideIssuer) -> Result<OutsideIdentity, OutsideRefusal> {
        guard case .string(let raw)? = claims[issuer.emailClaim], let email = EmailAddress.normalize(raw) else {
            return .failure(OutsideRefusal(issuer: issuer.name, reason: "token has no usable \(issuer.emailClaim) claim"))
        }
        // OpenID Connect Core 1.0 §5.1: an issuer that says the address is not verified has not vouched for it.
        if let verified = claims["email_verified"], verified != .bool(true) {
            return .failure(OutsideRefusal(issuer: issuer.name, reason: "token's email is not verified by the issuer"))
        }
        guard issuer.allows(email: email) else {
            return .failure(OutsideRefusal(issuer: issuer.name, reason: "email domain of \(email) not allowed for this issuer"))
        }
        return .success(OutsideIdentity(issuer: issuer.name, email: email, scopes: scopes(claims)))
    }

    /// RFC 9068 §2.2.3 / RFC 8693 §4.2 `scope` (space-separated), or `scp` (an array or a string, as some
    /// issuers send it). Only read, write and delete count; a token without either claim gets read.
    public static func scopes(_ claims: JSON) -> ScopeSet {
        let names: [String]
        switch (claims["scope"], claims["scp"]) {
        case (.string(let s)?, _): names = s.split(separator: " ").map(String.init)
        case (_, .string(let s)?): names = s.split(separator: " ").map(String.init)
        case (_, .array(let items)?): names = items.compactMap(\.stringValue)
        case (nil, nil): return .read
        default: return []
        }
        return names.reduce(ScopeSet()) { $0.union(ScopeSet.named($1) ?? []) }
    }
}

/// Why an outside token was refused, naming the issuer (for the audit row; the 401 says only
/// `invalid_token`).
public struct OutsideRefusal: Error, Sendable {
    public let issuer: String?
    public let reason: String
    /// How verification would have classified it among mcpctl's own tokens.
    public var failure: VerificationFailure = .unknown

    public init(issuer: String?, reason: String, failure: VerificationFailure = .unknown) {
        self.issuer = issuer; self.reason = reason; self.failure = failure
    }

    public var auditReason: String { (issuer.map { "issuer \($0): " } ?? "outside token: ") + reason }
}

extension Principal {
    /// The principal of an outside issuer's token for the user `userID`: an access token for exactly
    /// this app/env (its audience was checked), named `issuer:NAME` in audit rows.
    public static func outside(_ identity: OutsideIdentity, userID: Int64, email: String, app: String, env: String) -> Principal {
        Principal(userID: userID, email: email, tokenID: "issuer:\(identity.issuer)", kind: .access, scopes: identity.scopes,
                  app: app, env: env, clientID: nil)
    }
}
