/// Rate limits on password checks, per account and per remote address, kept in the store
/// (`login_failures`) so a restart does not reset them and every process sharing the store sees them.
/// Unknown emails are counted like known ones, so the throttle does not reveal which accounts exist.
///
/// An attempt is reserved before its password is checked, atomically (one `BEGIN IMMEDIATE` transaction
/// counts and inserts), so N parallel guesses can never get more checks than the limit allows.
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

    /// The attempt rows a reservation inserted: they count as failures unless the password proves right.
    public struct Reservation: Sendable {
        let addressRow: Int64
    }

    /// Whether a password may be checked now.
    public enum Admission: Sendable {
        case admitted(Reservation)
        /// Seconds until another attempt is allowed; the attempt was audited and not counted.
        case throttled(retryAfterSeconds: Int64)
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

    /// Reserves one password check for the account and the address, or refuses when either has used up
    /// its window. Counting and inserting happen in one write transaction, so concurrent callers (threads
    /// or processes) are serialized and the limit holds exactly.
    public func reserve(email: String, address: String, now: Int64 = Clock.nowMillis()) throws -> Admission {
        try db.write {
            try db.run("DELETE FROM login_failures WHERE at <= ?", [.integer(now - limits.windowSeconds * 1000)])
            let account = LoginThrottle.accountKey(email), addr = LoginThrottle.addressKey(address)
            let waits = try [retryAfter(account, limits.perAccount, now: now), retryAfter(addr, limits.perAddress, now: now)]
            if let wait = waits.compactMap({ $0 }).max() {
                let known = try Users(store: store).find(email)
                try AuditLog.append(AuditEvent(source: .oauth, action: "oauth.login", email: known?.email, decision: .deny,
                                               reason: "throttled: too many failed attempts", remoteAddr: address), to: db)
                return .throttled(retryAfterSeconds: wait)
            }
            try db.run("INSERT INTO login_failures (key, at) VALUES (?, ?)", [.text(account), .integer(now)])
            try db.run("INSERT INTO login_failures (key, at) VALUES (?, ?)", [.text(addr), .integer(now)])
            return .admitted(Reservation(addressRow: db.lastInsertRowID))
        }
    }

    /// Seconds until `key` may try again, or nil when it has attempts left in the window.
    private func retryAfter(_ key: String, _ limit: Int, now: Int64) throws -> Int64? {
        let rows = try db.query("SELECT at FROM login_failures WHERE key = ? AND at > ? ORDER BY at DESC LIMIT ?",
                                [.text(key), .integer(now - limits.windowSeconds * 1000), .integer(Int64(limit))])
        guard rows.count >= limit, let oldest = rows.last?.int("at") else { return nil }
        return max(1, (oldest + limits.windowSeconds * 1000 - now + 999) / 1000)
    }

    /// Audits a failed check; its reservation stays counted. `reason` names the failure for operators.
    public func recordFailure(email: String, address: String, reason: String) throws {
        let known = try Users(store: store).find(email)
        try AuditLog.append(AuditEvent(source: .oauth, action: "oauth.login", email: known?.email, decision: .deny,
                                       reason: reason, remoteAddr: address), to: db)
    }

    /// A successful login clears the account's failures and gives its reservation back to the address
    /// (only failures count against an address), and is audited.
    public func recordSuccess(user: User, reservation: Reservation, address: String, method: String) throws {
        try db.write {
            try db.run("DELETE FROM login_failures WHERE key = ? OR rowid = ?",
                       [.text(LoginThrottle.accountKey(user.email)), .integer(reservation.addressRow)])
            try AuditLog.append(AuditEvent(source: .oauth, action: "oauth.login", email: user.email, decision: .allow,
                                           reason: method, remoteAddr: address), to: db)
        }
    }
}
