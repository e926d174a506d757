/// The gateway's in-memory copy of what decides a request — token rows (with their user and client),
/// environments, grants (a user's own and their groups') and the scope each tool needs — kept for one
/// value of the store's policy generation (migrations `0002_policy_generation` and `0007_groups`).
///
/// Every change to those tables bumps the generation in the same transaction, from any process, so a
/// request reads one integer in its read transaction and either finds the copy current or drops it: a
/// token revoked, a user disabled, a grant or a group membership removed from the shell is seen by the
/// very next request, and no entry read under one generation is ever served under another.
/// Only tokens that exist are held (an unknown secret always goes to the store), and the whole copy is
/// dropped when it reaches `limit` entries, so hostile input cannot grow it without bound.
public final class AccessCache: Sendable {
    struct GrantKey: Hashable { let userID: Int64; let app: String; let env: String }
    struct ToolKey: Hashable { let app: String; let env: String; let tool: String }
    struct DecisionKey: Hashable {
        let userID: Int64; let tokenScopes: Int?; let tokenID: String?; let boundApp: String?; let boundEnv: String?
        let app: String; let env: String; let needed: Int?
    }

    struct Entries {
        var generation: Int64?
        var count = 0
        var tokens: [[UInt8]: TokenState] = [:]
        var environments: [String: AppEnvironment?] = [:]
        var grants: [GrantKey: [Grant]] = [:]
        var tools: [ToolKey: (scope: ScopeSet, why: String, known: Bool)] = [:]
        var decisions: [DecisionKey: (AppEnvironment?, AccessDecision)] = [:]

        mutating func reset(to generation: Int64?) {
            self = Entries()
            self.generation = generation
        }
    }

    private let entries = Guarded(Entries())
    let limit: Int

    public init(limit: Int = 20_000) { self.limit = limit }

    /// Starts a lookup for one request. Call inside a read transaction on `store`, and use the view only
    /// inside it: the generation it reads and every row it falls back to come from the same snapshot.
    public func view(_ store: Store) throws -> AccessView {
        let generation = try store.db.first("SELECT value FROM policy_generation WHERE id = 1")?[0].int
        if let generation {
            entries.withLock { if $0.generation != generation { $0.reset(to: generation) } }
        }
        return AccessView(cache: self, store: store, generation: generation, memoryOnly: false)
    }

    /// A lookup the copy could not answer in a view made by `currentView`: the caller starts over with a
    /// read transaction (`view`).
    public struct Miss: Error {}

    /// A view that answers from memory only, when the copy is current: the generation is read alone (one
    /// statement, no transaction: on PostgreSQL one round trip instead of three), and since every row the
    /// copy holds was read under that same generation, and any change to them moves it, the answers are
    /// those one snapshot would give. nil when the copy is not current; its lookups throw `Miss` on
    /// anything the copy lacks.
    public func currentView(_ store: Store) throws -> AccessView? {
        guard let generation = try store.db.first("SELECT value FROM policy_generation WHERE id = 1")?[0].int,
              entries.withLock({ $0.generation == generation }) else { return nil }
        return AccessView(cache: self, store: store, generation: generation, memoryOnly: true)
    }

    /// What the copy holds for `key` under `generation`, or nil (a miss, or another generation).
    func cached<T>(_ generation: Int64?, _ read: (inout Entries) -> T?) -> T? {
        guard let generation else { return nil }
        return entries.withLock { $0.generation == generation ? read(&$0) : nil }
    }

    /// Keeps what was read under `generation`, unless the copy has moved to another generation since.
    func keep(_ generation: Int64?, _ write: (inout Entries) -> Void) {
        guard let generation else { return }
        entries.withLock { e in
            guard e.generation == generation else { return }
            if e.count >= limit { e.reset(to: generation) }
            e.count += 1
            write(&e)
        }
    }

    /// The policy generation the copy was last brought to (by the latest request's view), or nil.
    public var generation: Int64? { entries.withLock { $0.generation } }

    /// Number of entries held (for tests).
    public var count: Int { entries.withLock { $0.count } }
}

/// One request's view of the store through the cache: each lookup answers from memory when the copy
/// is current for this snapshot's generation, else reads the store and keeps the answer.
public struct AccessView {
    let cache: AccessCache
    public let store: Store
    /// nil when the store has no generation row (then every lookup reads the store).
    public let generation: Int64?
    /// Made by `currentView`: a lookup the copy cannot answer throws `AccessCache.Miss` instead of reading.
    let memoryOnly: Bool

    /// The store, for a lookup the copy could not answer; in a memory-only view, `Miss` instead.
    private func reading() throws -> Store {
        if memoryOnly { throw AccessCache.Miss() }
        return store
    }

    public func token(hash: [UInt8]) throws -> TokenState? {
        if let hit = cache.cached(generation, { $0.tokens[hash] }) { return hit }
        guard let row = try TokenVerifier.lookup(hash: hash, db: reading().db) else { return nil }
        cache.keep(generation) { $0.tokens[hash] = row }
        return row
    }

    public func environment(app: String, env: String) throws -> AppEnvironment? {
        let key = app + "\u{0}" + env
        if let hit = cache.cached(generation, { $0.environments[key] }) { return hit }
        let found = try Apps(store: reading()).environment(app: app, env: env)
        cache.keep(generation) { $0.environments[key] = .some(found) }
        return found
    }

    public func grants(userID: Int64, app: String, env: String) throws -> [Grant] {
        let key = AccessCache.GrantKey(userID: userID, app: app, env: env)
        if let hit = cache.cached(generation, { $0.grants[key] }) { return hit }
        let found = try Grants(store: reading()).applicable(userID: userID, app: app, env: env)
        cache.keep(generation) { $0.grants[key] = found }
        return found
    }

    /// The scope a call of `tool` needs (`ToolScopes.required` with the annotations last seen).
    public func required(app: String, env: String, tool: String) throws -> (ScopeSet, String) {
        let r = try requirement(app: app, env: env, tool: tool)
        return (r.scope, r.why)
    }

    /// `ToolScopes.requirement` with the annotations last seen: the scope, why, and whether the tool is known.
    public func requirement(app: String, env: String, tool: String) throws -> (scope: ScopeSet, why: String, known: Bool) {
        let key = AccessCache.ToolKey(app: app, env: env, tool: tool)
        if let hit = cache.cached(generation, { $0.tools[key] }) { return hit }
        let found = try ToolScopes(store: reading()).requirement(app: app, env: env, tool: tool, annotations: nil)
        cache.keep(generation) { $0.tools[key] = found }
        return found
    }

    /// `Policy.answer` through the cache: the tool's requirement and the decision both come from memory
    /// when the copy is current.
    public func decide(_ request: AccessRequest) throws -> (AppEnvironment?, AccessDecision) {
        var needed: ScopeSet?
        var because: (why: String, known: Bool)?
        switch request.action {
        case .scope(let s): needed = s
        case .anything: needed = nil
        case .tool(let tool):
            let r = try requirement(app: request.app, env: request.env, tool: tool)
            (needed, because) = (r.scope, (r.why, r.known))
        }
        var (environment, decision) = try decide(userID: request.userID, tokenScopes: request.tokenScopes, tokenID: request.tokenID,
                                                 binding: request.binding, app: request.app, env: request.env, needed: needed)
        if let because { (decision.neededBecause, decision.toolKnown) = because }
        return (environment, decision)
    }

    /// `Policy.check` through the cache (the decision itself is kept too: it is a pure function of the
    /// key and of rows that only change with the generation).
    public func decide(userID: Int64, tokenScopes: ScopeSet?, tokenID: String?, binding: (app: String?, env: String?),
                       app: String, env: String, needed: ScopeSet?) throws -> (AppEnvironment?, AccessDecision) {
        let key = AccessCache.DecisionKey(userID: userID, tokenScopes: tokenScopes?.rawValue, tokenID: tokenID, boundApp: binding.app,
                                          boundEnv: binding.env, app: app, env: env, needed: needed?.rawValue)
        if let hit = cache.cached(generation, { $0.decisions[key] }) { return hit }
        let environment = try environment(app: app, env: env)
        let decision = try Policy.decide(environment: environment, grants: { try grants(userID: userID, app: app, env: env) },
                                         tokenScopes: tokenScopes, tokenID: tokenID, binding: binding, app: app, env: env, needed: needed)
        cache.keep(generation) { $0.decisions[key] = (environment, decision) }
        return (environment, decision)
    }
}
