/// Rate limits on failed logins, per account and per remote address, kept in the store
/// (`login_failures`) so a restart does not reset them. Unknown emails are counted like known ones,
/// so the throttle does not reveal which accounts exist.
public struct LoginThrottle: Sendable {
    public struct Limits: Sendable {
        public var perAccount: Int
        public var perAddress: Int
        public var windowSeconds: Int64

        public init(perAccount: Int = 5, perAddress: Int = 20, windowSeconds: Int64 = 900) {
            self.perAccount = perAccount
            self.perAddress = perAddress
            self.windowSeconds = windowSeconds
        }
    }

    let store: Store
    let limits: Limits
    var db: Database { store.db }

    public init(store: Store, limits: Limits = Limits()) {
        self.store = store
        self.limits = limits
    }

    static func accountKey(_ email: String) -> String { "email:" + (EmailAddress.normalize(email) ?? email.lowercased()) }
    static func addressKey(_ address: String) -> String { "addr:" + address }

    /// Seconds until another attempt is allowed, or nil when the account and address may try now.
    public func retryAfter(email: String, address: String, now: Int64 = Clock.nowMillis()) throws -> Int64? {
        let since = now - limits.windowSeconds * 1000
        func check(_ key: String, _ limit: Int) throws -> Int64? {
            let rows = try db.query("SELECT at FROM login_failures WHERE key = ? AND at > ? ORDER BY at DESC LIMIT ?",
                                    [.text(key), .integer(since), .integer(Int64(limit))])
            guard rows.count >= limit, let oldest = rows.last?.int("at") else { return nil }
            return max(1, (oldest + limits.windowSeconds * 1000 - now + 999) / 1000)
        }
        let a = try check(LoginThrottle.accountKey(email), limits.perAccount)
        let b = try check(LoginThrottle.addressKey(address), limits.perAddress)
        switch (a, b) {
        case (nil, nil): return nil
        default: return max(a ?? 0, b ?? 0)
        }
    }

    /// Counts a failed attempt against both keys and audits it; `reason` names the failure for operators.
    public func recordFailure(email: String, address: String, reason: String, now: Int64 = Clock.nowMillis()) throws {
        try db.write {
            try db.run("DELETE FROM login_failures WHERE at < ?", [.integer(now - limits.windowSeconds * 1000)])
            try db.run("INSERT INTO login_failures (key, at) VALUES (?, ?), (?, ?)",
                       [.text(LoginThrottle.accountKey(email)), .integer(now), .text(LoginThrottle.addressKey(address)), .integer(now)])
            let known = try Users(store: store).find(email)
            try AuditLog.append(AuditEvent(source: "oauth", action: "oauth.login", email: known?.email, decision: "deny",
                                           reason: reason, remoteAddr: address), to: db)
        }
    }

    /// A successful login clears the account's failures (not the address's) and is audited.
    public func recordSuccess(user: User, address: String, method: String) throws {
        try db.write {
            try db.run("DELETE FROM login_failures WHERE key = ?", [.text(LoginThrottle.accountKey(user.email))])
            try AuditLog.append(AuditEvent(source: "oauth", action: "oauth.login", email: user.email, decision: "allow",
                                           reason: method, remoteAddr: address), to: db)
        }
    }
}

extension LoginThrottle {
    /// Audits an attempt refused by the throttle itself (not counted again, so the lock does not grow).
    public func recordThrottled(email: String, address: String) throws {
        let known = try Users(store: store).find(email)
        try AuditLog.append(AuditEvent(source: "oauth", action: "oauth.login", email: known?.email, decision: "deny",
                                       reason: "throttled: too many failed attempts", remoteAddr: address), to: db)
    }
}
