/// Who a presented credential belongs to, once verified.
public struct Principal: Sendable {
    public let userID: Int64
    public let email: String
    public let tokenID: String
    public let kind: TokenRecord.Kind
    public let scopes: ScopeSet
    /// Binding of a personal token, or the resource (app/env) of an OAuth access token.
    public let app: String?
    public let env: String?
    public let clientID: String?
}

/// Why a presented credential was refused. The raw values go into audit rows.
public enum VerificationFailure: String, Error, Sendable {
    case malformed = "malformed token"
    case unknown = "unknown token"
    case revoked = "token revoked"
    case expired = "token expired"
    case userDisabled = "user disabled"
    case emailMismatch = "email does not match token"
    case clientBlocked = "client blocked"
    case wrongKind = "token kind not accepted here"
}

/// What verification needs to know about one token, its user and its client, as read from the store.
/// Held by `AccessCache` for as long as the store's policy generation does not change.
public struct TokenState: Sendable {
    let secretHash: [UInt8]
    let id: String
    let kind: TokenRecord.Kind
    let userID: Int64
    let email: String
    let scopes: ScopeSet
    let app: String?
    let env: String?
    let clientID: String?
    let expiresAt: Int64?
    let revoked: Bool
    let userDisabled: Bool
    let clientBlocked: Bool
}

/// Checks presented secrets against the store: the one entry point the gateway and introspection use.
public final class TokenVerifier: Sendable {
    private let lastUsed: LastUsedRecorder?

    public init(lastUsed: LastUsedRecorder? = nil) { self.lastUsed = lastUsed }

    /// Verifies `secret` (and, for the header pair, that it belongs to `email`). Reads only; `last_used_at`
    /// is noted in memory and written later in batches by the recorder's owner.
    public func verify(secret: String, email: String? = nil, accept: Set<TokenRecord.Kind> = [.pat, .access],
                       db: Database, now: Int64 = Clock.nowMillis()) throws -> Result<Principal, VerificationFailure> {
        try verify(secret: secret, email: email, accept: accept, now: now) { try TokenVerifier.lookup(hash: $0, db: db) }
    }

    /// Verifies `secret` with the token row found by `lookup` (by SHA-256 of the secret): the store, or a
    /// cache of it that is current for the store's policy generation.
    public func verify(secret: String, email: String?, accept: Set<TokenRecord.Kind>, now: Int64 = Clock.nowMillis(),
                       lookup: ([UInt8]) throws -> TokenState?) rethrows -> Result<Principal, VerificationFailure> {
        guard let prefix = TokenSecret.kind(of: secret) else { return .failure(.malformed) }
        let hash = TokenSecret.hash(secret)
        guard let row = try lookup(hash), ConstantTime.equals(row.secretHash, hash) else { return .failure(.unknown) }
        let kind = row.kind
        guard accept.contains(kind),
              (prefix == "pat" && kind == .pat) || (prefix == "at" && kind == .access) || (prefix == "rt" && kind == .refresh)
        else { return .failure(.wrongKind) }
        if row.revoked { return .failure(.revoked) }
        if let expires = row.expiresAt, expires <= now { return .failure(.expired) }
        if row.userDisabled { return .failure(.userDisabled) }
        if row.clientBlocked { return .failure(.clientBlocked) }
        if let email {
            guard let given = EmailAddress.normalize(email), ConstantTime.equals(Array(given.utf8), Array(row.email.utf8)) else {
                return .failure(.emailMismatch)
            }
        }
        lastUsed?.touch(row.id, clientID: row.clientID, at: now)
        return .success(Principal(userID: row.userID, email: row.email, tokenID: row.id, kind: kind, scopes: row.scopes,
                                  app: row.app, env: row.env, clientID: row.clientID))
    }

    /// The token whose secret hashes to `hash`, with its user's and client's state; nil if there is none.
    public static func lookup(hash: [UInt8], db: Database) throws -> TokenState? {
        guard let row = try db.first("""
            SELECT t.id, t.kind, t.user_id, t.scopes, t.app, t.env, t.client_id, t.expires_at, t.revoked_at, t.secret_hash,
                   u.email, u.disabled_at, c.blocked_at AS client_blocked_at
            FROM tokens t JOIN users u ON u.id = t.user_id LEFT JOIN clients c ON c.client_id = t.client_id
            WHERE t.secret_hash = ?
            """, [.blob(hash)]) else { return nil }
        let table = "tokens"
        return TokenState(secretHash: try row.blob("secret_hash", of: table), id: try row.text("id", of: table),
                          kind: try row.word("kind", of: table), userID: try row.integer("user_id", of: table),
                          email: try row.text("email", of: "users"), scopes: try row.scopes("scopes", of: table),
                          app: try row.optionalText("app", of: table), env: try row.optionalText("env", of: table),
                          clientID: try row.optionalText("client_id", of: table),
                          expiresAt: try row.optionalInteger("expires_at", of: table),
                          revoked: try row.optionalInteger("revoked_at", of: table) != nil,
                          userDisabled: try row.optionalInteger("disabled_at", of: "users") != nil,
                          clientBlocked: try row.optionalInteger("client_blocked_at", of: "clients") != nil)
    }
}

/// Coalesces `last_used_at` updates: a token's use is written at most once per interval, in one batch,
/// so verification never needs a write of its own.
public final class LastUsedRecorder: Sendable {
    private struct State {
        var pending: [String: Int64] = [:]
        var pendingClients: [String: Int64] = [:]
        var written: [String: Int64] = [:]
    }
    private let state = Guarded(State())
    private let intervalMillis: Int64

    public init(intervalSeconds: Int64 = 60) { intervalMillis = intervalSeconds * 1000 }

    public func touch(_ tokenID: String, clientID: String?, at now: Int64) {
        state.withLock { s in
            if let last = s.written[tokenID], now - last < intervalMillis { return }
            s.written[tokenID] = now
            s.pending[tokenID] = now
            if let clientID { s.pendingClients[clientID] = now }
        }
    }

    public var hasPending: Bool { state.withLock { !$0.pending.isEmpty } }

    /// Writes what is pending in one transaction (call from a writer that owns a connection).
    public func flush(_ db: Database) throws {
        let (tokens, clients) = state.withLock { s -> ([String: Int64], [String: Int64]) in
            defer { s.pending = [:]; s.pendingClients = [:] }
            return (s.pending, s.pendingClients)
        }
        guard !tokens.isEmpty || !clients.isEmpty else { return }
        try db.write {
            for (id, at) in tokens {
                try db.run("UPDATE tokens SET last_used_at = MAX(COALESCE(last_used_at, 0), ?) WHERE id = ?", [.integer(at), .text(id)])
            }
            for (id, at) in clients {
                try db.run("UPDATE clients SET last_used_at = MAX(COALESCE(last_used_at, 0), ?) WHERE client_id = ?", [.integer(at), .text(id)])
            }
        }
    }
}
