/// The answer to "may this caller do this here", with the reason in words an operator can act on.
public struct AccessDecision: Sendable {
    public let allowed: Bool
    /// Scopes the caller has on the app/env (token ∩ grants ∩ binding).
    public let effective: ScopeSet
    public let needed: ScopeSet?
    public let reason: String
    /// False when the caller has no grant at all on the app/env (answered as "App not found").
    public let hasAccess: Bool
    /// The grant (or grants) that decided, e.g. "grant notes/production (viewer)"; nil when none did
    /// (no grant, no such environment, or a token bound elsewhere).
    public var decidedBy: String?
    /// Where the deciding grant came from when it is not the user's own, e.g. "group eng" (groups joined
    /// with " + " when several grants decided together); nil for the user's own grants or no grant.
    public var via: String?
    /// For a tool: why it needs the scope it needs (`ToolScopes.requirement`).
    public var neededBecause: String?
    /// For a tool: whether its requirement is known (an override, or a tool the upstream listed).
    public var toolKnown = true

    public init(allowed: Bool, effective: ScopeSet, needed: ScopeSet?, reason: String, hasAccess: Bool) {
        self.allowed = allowed; self.effective = effective; self.needed = needed; self.reason = reason; self.hasAccess = hasAccess
    }
}

/// Effective scopes of a request = token scopes ∩ grant scopes for that app/env (∩ the
/// token's binding or resource). Grants add up: an environment's own grant and the `*` grant both count,
/// and so do the grants of every group the user belongs to.
public enum Policy {
    /// Effective scopes for a user (and optionally a token) on app/env, with the explanation.
    public static func evaluate(grants: [Grant], tokenScopes: ScopeSet?, tokenID: String? = nil, binding: (app: String?, env: String?),
                                app: String, env: String, needed: ScopeSet?) -> AccessDecision {
        if let boundApp = binding.app, let boundEnv = binding.env, boundApp != app || boundEnv != env {
            return AccessDecision(allowed: false, effective: [], needed: needed,
                                  reason: "token \(tokenID ?? "") is bound to \(boundApp)/\(boundEnv), not \(app)/\(env)", hasAccess: false)
        }
        guard !grants.isEmpty else {
            return AccessDecision(allowed: false, effective: [], needed: needed, reason: "no grant on \(app)/\(env)", hasAccess: false)
        }
        let granted = grants.reduce(ScopeSet()) { $0.union($1.scopes) }
        let effective = tokenScopes.map { granted.intersection($0) } ?? granted
        let grantNames = grants.map(\.label).joined(separator: " + ")
        let allGrants = grants.map(\.decider).joined(separator: " + ")
        let allVia = Policy.via(grants)
        guard let needed else {
            var d = AccessDecision(allowed: !effective.isEmpty, effective: effective, needed: nil,
                                   reason: "grant \(grantNames)" + (tokenScopes.map { ", token scopes \($0)" } ?? ""), hasAccess: true)
            (d.decidedBy, d.via) = (allGrants, allVia)
            return d
        }
        if effective.isSuperset(of: needed) {
            let deciding = grants.first(where: { $0.scopes.isSuperset(of: needed) })
            var d = AccessDecision(allowed: true, effective: effective, needed: needed,
                                   reason: "grant \(deciding?.label ?? grantNames) allows \(needed)", hasAccess: true)
            (d.decidedBy, d.via) = deciding.map { ($0.decider, $0.via) } ?? (allGrants, allVia)
            return d
        }
        let missing = needed.subtracting(effective)
        let reason: String
        if !granted.isSuperset(of: needed) {
            reason = "grant \(grantNames) does not include \(missing)"
        } else {
            reason = "token \(tokenID ?? "") lacks scope \(missing) (token scopes: \(tokenScopes?.description ?? ""))"
        }
        var d = AccessDecision(allowed: false, effective: effective, needed: needed, reason: reason, hasAccess: true)
        (d.decidedBy, d.via) = (allGrants, allVia)
        return d
    }

    /// The distinct groups among `grants`, as "group eng + group ops"; nil when all are the user's own.
    static func via(_ grants: [Grant]) -> String? {
        var seen: [String] = []
        for v in grants.compactMap(\.via) where !seen.contains(v) { seen.append(v) }
        return seen.isEmpty ? nil : seen.joined(separator: " + ")
    }
}

extension Policy {
    /// The answer to one access question, read from the store: a tool's scope first, then the decision.
    public static func answer(_ request: AccessRequest, store: Store) throws -> AccessDecision {
        var needed: ScopeSet?
        var because: (why: String, known: Bool)?
        switch request.action {
        case .scope(let s): needed = s
        case .anything: needed = nil
        case .tool(let tool):
            let r = try ToolScopes(store: store).requirement(app: request.app, env: request.env, tool: tool, annotations: nil)
            (needed, because) = (r.scope, (r.why, r.known))
        }
        var d = try check(store: store, userID: request.userID, tokenScopes: request.tokenScopes, tokenID: request.tokenID,
                          binding: request.binding, app: request.app, env: request.env, needed: needed)
        if let because { (d.neededBecause, d.toolKnown) = because }
        return d
    }

    /// Full check against the store: the environment must exist and the user must hold a grant on it;
    /// then token scopes and binding narrow what the grants allow.
    public static func check(store: Store, userID: Int64, tokenScopes: ScopeSet?, tokenID: String? = nil,
                             binding: (app: String?, env: String?), app: String, env: String, needed: ScopeSet?) throws -> AccessDecision {
        try decide(environment: Apps(store: store).environment(app: app, env: env),
                   grants: { try Grants(store: store).applicable(userID: userID, app: app, env: env) },
                   tokenScopes: tokenScopes, tokenID: tokenID, binding: binding, app: app, env: env, needed: needed)
    }

    /// `evaluate` for an environment that may not exist (then no grant is read and the answer is no).
    static func decide(environment: AppEnvironment?, grants: () throws -> [Grant], tokenScopes: ScopeSet?, tokenID: String?,
                       binding: (app: String?, env: String?), app: String, env: String, needed: ScopeSet?) rethrows -> AccessDecision {
        guard environment != nil else {
            return AccessDecision(allowed: false, effective: [], needed: needed, reason: "app \(app)/\(env) does not exist", hasAccess: false)
        }
        return evaluate(grants: try grants(), tokenScopes: tokenScopes, tokenID: tokenID, binding: binding, app: app, env: env, needed: needed)
    }
}
