/// Remembers the results of a pure function of a string (a parsed URL, an endpoint) for a server's hot
/// path; forgets everything when it reaches `limit` entries, so it cannot grow without bound.
public final class MemoCache<Value: Sendable>: @unchecked Sendable {
    private let lock = Lock()
    private var entries: [String: Value] = [:]  // guarded by `lock`
    private let limit: Int

    public init(limit: Int = 256) { self.limit = limit }

    /// The remembered value for `key`, or `make(key)` (remembered unless it threw).
    public func value<E: Error>(_ key: String, _ make: (String) throws(E) -> Value) throws(E) -> Value {
        if let hit = lock.withLock({ entries[key] }) { return hit }
        let made = try make(key)
        lock.withLock {
            if entries.count >= limit { entries.removeAll() }
            entries[key] = made
        }
        return made
    }
}
