/// A small pool of connections to one store for a multi-threaded server: each thread borrows a
/// connection for the length of one operation. SQLite connections are not shared between threads.
public final class StorePool: Sendable {
    public let path: String
    private let idle: Guarded<[Store]>
    private let maxIdle: Int

    /// Opens (and migrates) the store once up front, so a bad store fails at start-up, not on a request.
    public init(path: String, maxIdle: Int = 256) throws {
        self.path = path
        self.maxIdle = maxIdle
        let first = try Store(path: path)
        idle = Guarded([first])
    }

    /// Runs `body` with a borrowed connection, returning it to the pool afterwards.
    public func with<T>(_ body: (Store) throws -> T) throws -> T {
        let borrowed = idle.withLock { $0.popLast() }
        let store = try borrowed ?? Store(path: path)
        defer {
            if !store.db.inTransaction {
                idle.withLock { if $0.count < maxIdle { $0.append(store) } }
            }
        }
        return try body(store)
    }
}
