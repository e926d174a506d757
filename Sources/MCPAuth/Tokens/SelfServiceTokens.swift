/// Personal tokens a user manages for themselves: only their own, and never with more than their grants.
extension Tokens {
    /// The scopes the user's grants allow: on one app/environment (an `*` grant counts), or anywhere when
    /// `app` is nil.
    public func grantableScopes(userID: Int64, email: String, app: String?, env: String?) throws -> ScopeSet {
        if let app, let env {
            let decision = try Policy.answer(AccessRequest(userID: userID, app: app, env: env, action: .anything), store: store)
            return decision.hasAccess ? decision.effective : []
        }
        return try Grants(store: store).list(email: email).reduce(ScopeSet()) { $0.union($1.scopes) }
    }

    /// Creates a personal token for the user themselves: the chosen scopes are cut down to what their grant
    /// on the chosen app/environment (or, unbound, any grant) allows; nothing left is a refusal.
    public func createOwn(user: User, name: String?, scopes: ScopeSet, app: String?, env: String?,
                          lifetimeSeconds: Int64?, by initiator: Initiator) throws -> Issued {
        let allowed = try grantableScopes(userID: user.id, email: user.email, app: app, env: env)
        let chosen = scopes.intersection(allowed)
        guard !chosen.isEmpty else {
            let place = app.map { "\($0)/\(env ?? "")" } ?? "any app"
            throw DomainError.invalid(scopes.isEmpty ? "choose at least one permission"
                                      : "your grants allow none of the chosen permissions (\(scopes)) on \(place)")
        }
        return try create(email: user.email, name: name, scopes: chosen, app: app, env: env,
                          lifetimeSeconds: lifetimeSeconds, by: initiator)
    }

    /// One of the user's own tokens by id. Another user's token and an unknown id get the same not-found
    /// answer, so ids of other users' tokens cannot be confirmed.
    public func requireOwned(_ id: String, userID: Int64) throws -> TokenRecord {
        guard id.hasPrefix("tok_"), let record = try find(id: id), record.userID == userID else {
            throw DomainError.notFound("you have no token with id '\(id)'")
        }
        return record
    }
}
