import MCPAuth

/// Verify-and-authorize: whether a presented credential works and what it may do on one app/env, read
/// from one snapshot of the store through the access cache (the policy generation always, rows only
/// when the cache does not hold them for that generation). Asked once per request, and again before
/// each piece of a streamed answer.
final class AccessCheck: Sendable {
    let pool: StorePool
    let verifier: TokenVerifier
    let cache: AccessCache
    let log: RequestLog
    /// Tokens of outside issuers; nil where only mcpctl's own tokens are accepted.
    let outside: OutsideTokens?

    init(pool: StorePool, verifier: TokenVerifier, cache: AccessCache, log: RequestLog, outside: OutsideTokens? = nil) {
        self.pool = pool; self.verifier = verifier; self.cache = cache; self.log = log; self.outside = outside
    }

    /// What a request needs: the scope of its method or tool, a fixed scope, or (for a request whose body
    /// could not be read) nothing, because it will not be authorized.
    enum Need {
        case message(MCPMessage?)
        case scope(ScopeSet)
        case none
    }

    /// The outcome: the verification, then (for a working credential meant for this resource) the
    /// environment, the decision and whether the tool's requirement is known.
    struct Verdict {
        let verified: Result<Principal, VerificationFailure>
        var environment: AppEnvironment?
        var decision: AccessDecision?
        var toolKnown = true
        /// The audit reason of a refusal when it says more than `VerificationFailure` (an outside
        /// issuer's token: which issuer, and why).
        var detail: String?
    }

    /// One verify-and-authorize: from memory when the cache is current and holds every answer, else in
    /// its own read transaction. Throws only store errors.
    /// An outside issuer's token is verified first (that may fetch keys or introspect), outside the
    /// transaction; its user is then looked up in the same snapshot as the grants.
    func verdict(_ credentials: PresentedCredentials, app: String, env: String, need: Need) throws -> Verdict {
        let outsider = try outside?.verify(credentials, app: app, env: env, now: Clock.nowMillis())
        return try pool.with { store in
            if outsider == nil, let current = try cache.currentView(store) {
                do { return try verdict(current, credentials, app: app, env: env, need: need) } catch is AccessCache.Miss {}
            }
            return try store.db.read {
                let view = try cache.view(store)
                guard let outsider else { return try verdict(view, credentials, app: app, env: env, need: need) }
                return try verdict(view, AccessCheck.principal(outsider, db: store.db, app: app, env: env), app: app, env: env, need: need)
            }
        }
    }

    func verdict(_ view: AccessView, _ credentials: PresentedCredentials, app: String, env: String, need: Need) throws -> Verdict {
        let verified = try verifier.verify(secret: credentials.secret, email: credentials.email, accept: credentials.kinds) { try view.token(hash: $0) }
        return try verdict(view, Verdict(verified: verified), app: app, env: env, need: need)
    }

    /// The outside token's user: known to mcpctl and not disabled, or a refusal naming the issuer.
    static func principal(_ outsider: Result<OutsideIdentity, OutsideRefusal>, db: Database, app: String, env: String) throws -> Verdict {
        let identity: OutsideIdentity
        switch outsider {
        case .failure(let r): return Verdict(verified: .failure(r.failure), detail: r.auditReason)
        case .success(let i): identity = i
        }
        guard let row = try db.first("SELECT id, email, disabled_at FROM users WHERE email = ?", [.text(identity.email)]),
              let userID = row.int("id"), let email = row.string("email") else {
            return Verdict(verified: .failure(.unknown), detail: "issuer \(identity.issuer): no mcpctl user \(identity.email)")
        }
        if row.int("disabled_at") != nil { return Verdict(verified: .failure(.userDisabled), detail: "issuer \(identity.issuer): user disabled") }
        return Verdict(verified: .success(.outside(identity, userID: userID, email: email, app: app, env: env)))
    }

    func verdict(_ view: AccessView, _ start: Verdict, app: String, env: String, need: Need) throws -> Verdict {
        var verdict = start
        let verified = verdict.verified
        guard case .success(let p) = verified, AccessCheck.audienceMatches(p, app: app, env: env) else { return verdict }
        switch need {
        case .none: return verdict
        case .scope(let needed): (verdict.environment, verdict.decision) = try decide(view, p, app: app, env: env, needed: needed)
        case .message(let message): (verdict.environment, verdict.decision, verdict.toolKnown) = try authorize(view, p, message: message, app: app, env: env)
        }
        return verdict
    }

    /// Authorization (effective scopes against what the method or tool needs), with whether the tool's
    /// requirement is known (an override, or a tool the upstream listed). Call inside a read transaction.
    func authorize(_ view: AccessView, _ p: Principal, message: MCPMessage?, app: String, env: String) throws
        -> (AppEnvironment?, AccessDecision, Bool) {
        let (environment, decision) = try view.decide(AccessRequest(principal: p, app: app, env: env, action: AccessCheck.action(of: message)))
        return (environment, decision, decision.toolKnown)
    }

    func decide(_ view: AccessView, _ p: Principal, app: String, env: String, needed: ScopeSet) throws -> (AppEnvironment?, AccessDecision) {
        try view.decide(AccessRequest(principal: p, app: app, env: env, action: .scope(needed)))
    }

    /// What a message asks to do: call a tool, or what its method needs (read for anything else).
    static func action(of message: MCPMessage?) -> AccessRequest.Action {
        guard let m = message, let method = m.method else { return .scope(.read) }
        if let tool = m.toolName { return .tool(tool) }
        return .scope(ToolScopes.forMethod(method))
    }

    /// Whether the credential that opened a stream still reaches app/env with `needed`: asked before each
    /// piece of a streamed answer, since no open stream may outlive a revocation (the access cache never
    /// serves a row across a policy generation). A store error counts as no (fail closed).
    func stillAllowed(_ credentials: PresentedCredentials, principal: Principal, app: String, env: String,
                      needed: ScopeSet) -> @Sendable () -> Bool {
        { [self] in
            let verdict = try? self.verdict(credentials, app: app, env: env, need: .scope(needed))
            var ok = false
            if let verdict, case .success(let p) = verdict.verified, p.tokenID == principal.tokenID { ok = verdict.decision?.allowed ?? false }
            if !ok { log.write(.info, [("msg", "stream ended: credential no longer valid"), ("app", app), ("env", env), ("token", principal.tokenID)]) }
            return ok
        }
    }

    /// RFC 8707 / MCP 2025-11-25: an OAuth access token is only good for the resource it was issued for.
    static func audienceMatches(_ principal: Principal, app: String, env: String) -> Bool {
        principal.kind != .access || (principal.app == app && principal.env == env)
    }
}
