/// Remembers the results of a pure function of a string (a parsed URL, an endpoint) for a server's hot
/// path; forgets everything when it reaches `limit` entries, so it cannot grow without bound.
public final class MemoCache<Value: Sendable>: Sendable {
    private let entries = Guarded<[String: Value]>([:])
    private let limit: Int

    public init(limit: Int = 256) { self.limit = limit }

    /// The remembered value for `key`, or `make(key)` (remembered unless it threw).
    public func value<E: Error>(_ key: String, _ make: (String) throws(E) -> Value) throws(E) -> Value {
        if let hit = entries.withLock({ $0[key] }) { return hit }
        let made = try make(key)
        entries.withLock {
            if $0.count >= limit { $0.removeAll() }
            $0[key] = made
        }
        return made
    }
}
