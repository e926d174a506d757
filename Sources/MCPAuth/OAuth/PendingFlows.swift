#if canImport(Glibc)
import Glibc
#endif

/// A browser flow in progress: an authorization waiting for sign-in and consent, or a single sign-on
/// waiting for the identity provider's callback.
public struct PendingFlow: Sendable, Equatable {
    public enum Kind: String, Sendable {
        case authorization
        case sso
    }

    public let kind: Kind
    /// What the flow needs to go on (a JSON object the caller writes and reads back).
    public let body: String
    /// A message for the flow's next page (a refused sign-in), or nil.
    public let notice: String?
    public let expiresAt: Int64
}

/// Browser flows in progress, kept in the store so that any replica sharing it can continue a flow another
/// began (no sticky sessions), and a restart loses none. A flow is named by a random id that travels in
/// URLs and forms (`tx`, or OAuth `state`); the store keeps only its SHA-256, so reading the store yields
/// no live flow id. Each flow is bound to the browser that started it: the store keeps the SHA-256 of that
/// browser's binding cookie, and a flow is only ever returned to the same cookie (compared in constant
/// time). Nothing secret is stored: values a flow must keep secret are derived from the cookie instead.
///
/// Unauthenticated visitors create flows, so their number is bounded twice: each visitor (an IPv4 address
/// or an IPv6 /64) keeps at most `perAddress` live flows (its oldest make room, so one visitor flooding
/// evicts only its own), and the store at most `total` (the oldest overall make room). How fast one visitor
/// may start flows is limited too, before anything is written (`admitStart`).
public struct PendingFlows: Sendable {
    public struct Limits: Sendable {
        public var perAddress = 64
        public var total = 50_000
        public init() {}
    }

    let store: Store
    let limits: Limits
    var db: Database { store.db }

    /// Longest flow id or cookie looked up; anything longer is not one of ours.
    static let maxKeyBytes = 128

    public init(store: Store, limits: Limits = Limits()) {
        self.store = store
        self.limits = limits
    }

    /// Who a flow counts against: an IPv4 address, or an IPv6 address's /64 (one subscriber's prefix, so an
    /// attacker holding a /64 is one visitor, not 2^64).
    public static func visitor(_ address: String) -> String {
        guard address.contains(":") else { return address }
        var bytes = [UInt8](repeating: 0, count: 16)
        guard inet_pton(AF_INET6, address, &bytes) == 1 else { return AuditFieldLimits.truncate(address, toBytes: 64) }
        // An IPv4-mapped address (::ffff:a.b.c.d) is the IPv4 visitor.
        if bytes[0..<10].allSatisfy({ $0 == 0 }) && bytes[10] == 0xff && bytes[11] == 0xff {
            return bytes[12..<16].map(String.init).joined(separator: ".")
        }
        return stride(from: 0, to: 8, by: 2).map { String(UInt16(bytes[$0]) << 8 | UInt16(bytes[$0 + 1]), radix: 16) }
            .joined(separator: ":") + "::/64"
    }

    /// A start refused because the visitor starts flows faster than allowed; nothing was written.
    public struct StartedTooSoon: Error, Sendable, Equatable {
        /// Whole seconds until the visitor may start another flow (for `Retry-After`, RFC 6585 §4).
        public let retryAfterSeconds: Int
    }

    /// Takes one start from the visitor's allowance in `limiter`; throws `StartedTooSoon` when there is none.
    /// Asked before a start takes a store connection of its own: a shared limiter takes one too, and waiting
    /// for a second while holding the first would let a crowd of starts hold every connection.
    public static func admitStart(address: String, limiter: RateLimiter) throws(StartedTooSoon) {
        if let wait = limiter.take("visitor:" + PendingFlows.visitor(address)) {
            throw StartedTooSoon(retryAfterSeconds: wait)
        }
    }

    /// Records a new flow named `id` for the browser presenting `browserCookie`, from `address`, making
    /// room first: the visitor's oldest beyond `perAddress`, then the store's oldest beyond `total`.
    public func start(_ kind: PendingFlow.Kind, id: String, browserCookie: String, body: String,
                      address: String?, ttlSeconds: Int64, now: Int64 = Clock.nowMillis()) throws {
        let addressKey = address.map(PendingFlows.visitor) ?? ""
        try db.write {
            try db.run("DELETE FROM pending_flows WHERE expires_at <= ?", [.integer(now)])
            let (total, visitors) = try counts(address: addressKey)
            let evicted = try evictOldest(visitors - limits.perAddress + 1, where: "address = ?", [.text(addressKey)])
            try evictOldest(total - evicted - limits.total + 1, where: "1 = 1", [])
            try db.run("""
                INSERT INTO pending_flows (id_hash, kind, browser_hash, body, notice, address, expires_at)
                VALUES (?, ?, ?, ?, NULL, ?, ?)
                """, [.blob(SHA256.hash(id)), .text(kind.rawValue), .blob(SHA256.hash(browserCookie)), .text(body),
                      .text(addressKey), .integer(now + ttlSeconds * 1000)])
        }
    }

    /// The live flows in the store, and those of one visitor: one statement.
    private func counts(address: String) throws -> (total: Int, visitor: Int) {
        let row = try db.first("""
            SELECT COUNT(*) AS total, COALESCE(SUM(CASE WHEN address = ? THEN 1 ELSE 0 END), 0) AS visitor FROM pending_flows
            """, [.text(address)])
        return (Int(row?.int("total") ?? 0), Int(row?.int("visitor") ?? 0))
    }

    /// Removes the `count` oldest flows matching `condition` (none when `count` is not positive); how many went.
    @discardableResult
    private func evictOldest(_ count: Int, where condition: String, _ values: [SQLValue]) throws -> Int {
        guard count > 0 else { return 0 }
        return try db.run("""
            DELETE FROM pending_flows WHERE id_hash IN
                (SELECT id_hash FROM pending_flows WHERE \(condition) ORDER BY expires_at LIMIT ?)
            """, values + [.integer(Int64(count))])
    }

    /// The live flow `id` of this kind, if it belongs to the browser presenting `browserCookie`.
    public func find(_ kind: PendingFlow.Kind, id: String?, browserCookie: String?, now: Int64 = Clock.nowMillis()) throws -> PendingFlow? {
        guard let key = PendingFlows.key(id), let browserCookie, browserCookie.utf8.count <= PendingFlows.maxKeyBytes,
              let row = try db.first("SELECT kind, browser_hash, body, notice, expires_at FROM pending_flows WHERE id_hash = ?", [.blob(key)])
        else { return nil }
        return try PendingFlows.flow(row, kind: kind, browserCookie: browserCookie, now: now)
    }

    /// Takes the flow `id` out (it works once) and returns it if it was live, of this kind and this
    /// browser's. A flow presented by another browser is taken out too: a leaked id is then worth nothing.
    public func take(_ kind: PendingFlow.Kind, id: String?, browserCookie: String?, now: Int64 = Clock.nowMillis()) throws -> PendingFlow? {
        guard let key = PendingFlows.key(id) else { return nil }
        let row = try db.write { () -> Row? in
            let row = try db.first("SELECT kind, browser_hash, body, notice, expires_at FROM pending_flows WHERE id_hash = ?", [.blob(key)])
            if row != nil { try db.run("DELETE FROM pending_flows WHERE id_hash = ?", [.blob(key)]) }
            return row
        }
        guard let row, let browserCookie, browserCookie.utf8.count <= PendingFlows.maxKeyBytes else { return nil }
        return try PendingFlows.flow(row, kind: kind, browserCookie: browserCookie, now: now)
    }

    /// Sets (or clears) the message the flow's next page shows.
    public func setNotice(id: String, _ notice: String?) throws {
        guard let key = PendingFlows.key(id) else { return }
        let text = notice.map { AuditFieldLimits.truncate($0, toBytes: AuditFieldLimits.textBytes) }
        try db.write { _ = try db.run("UPDATE pending_flows SET notice = ? WHERE id_hash = ?", [.text(text), .blob(key)]) }
    }

    /// Ends the flow `id`; false if it was already gone (a double submit, or another replica finished it).
    @discardableResult
    public func finish(id: String) throws -> Bool {
        guard let key = PendingFlows.key(id) else { return false }
        return try db.write { try db.run("DELETE FROM pending_flows WHERE id_hash = ?", [.blob(key)]) } > 0
    }

    private static func key(_ id: String?) -> [UInt8]? {
        guard let id, !id.isEmpty, id.utf8.count <= maxKeyBytes else { return nil }
        return SHA256.hash(id)
    }

    private static func flow(_ row: Row, kind: PendingFlow.Kind, browserCookie: String, now: Int64) throws -> PendingFlow? {
        let expires = try row.integer("expires_at", of: "pending_flows")
        guard try row.text("kind", of: "pending_flows") == kind.rawValue, expires > now,
              ConstantTime.equals(try row.blob("browser_hash", of: "pending_flows"), SHA256.hash(browserCookie))
        else { return nil }
        return PendingFlow(kind: kind, body: try row.text("body", of: "pending_flows"), notice: row.string("notice"), expiresAt: expires)
    }
}
