import Dispatch

/// A small pool of connections to one store for a multi-threaded server: each thread borrows a
/// connection for the length of one operation. SQLite connections are not shared between threads.
/// On PostgreSQL every connection is a server process and the server allows only so many
/// (`max_connections`, 100 by default, shared by every replica): at most `postgresConnections` are open at
/// once, and a caller that finds none free within `postgresWaitSeconds` fails as the store being busy.
public final class StorePool: Sendable {
    public static let postgresConnections = 32
    public static let postgresWaitSeconds = 10.0
    public let path: String
    /// The file the pool opened; every later connection must open that same file.
    public let identity: StoreIdentity
    private let idle: Guarded<[Store]>
    private let maxIdle: Int
    private let slots: DispatchSemaphore?

    /// Opens (and migrates) the store once up front, so a bad store fails at start-up, not on a request.
    /// Only this first open may create the store (when `create`); every later connection opens the existing
    /// file without creating, so a store deleted under the server is never silently recreated.
    public init(path: String, create: Bool = true, maxIdle: Int = 256,
                onLost: @escaping @Sendable (StoreIdentity.State) -> Void = { _ in }) throws {
        self.path = path
        self.maxIdle = maxIdle
        slots = StoreLocation(path).isPostgres ? DispatchSemaphore(value: StorePool.postgresConnections) : nil
        let first = try Store(path: path, create: create)
        identity = try StoreIdentity(path: path, onLost: onLost)
        idle = Guarded([first])
    }

    /// Runs `body` with a borrowed connection, returning it to the pool afterwards. Once the store file has
    /// been deleted or replaced, every call fails with `StoreError.lost`.
    public func with<T>(_ body: (Store) throws -> T) throws -> T {
        try refuseIfLost()
        if let slots {
            guard slots.wait(timeout: .now() + StorePool.postgresWaitSeconds) == .success else {
                throw DatabaseError(code: 5, message: "all \(StorePool.postgresConnections) PostgreSQL connections stayed busy", sql: nil, sqlState: "53300")
            }
        }
        defer { slots?.signal() }
        let borrowed = idle.withLock { $0.popLast() }
        let store = try borrowed ?? connect()
        defer {
            if !store.db.inTransaction {
                idle.withLock { if $0.count < maxIdle { $0.append(store) } }
            }
        }
        return try body(store)
    }

    /// A new connection to the file the pool first opened, never a new or different file. The pool's first
    /// open checked and migrated the schema; later connections do not again.
    private func connect() throws -> Store {
        try refuseIfLost(checking: true)
        let store = try Store(path: path, create: false, migrate: false)
        try refuseIfLost(checking: true)
        return store
    }

    private func refuseIfLost(checking: Bool = false) throws {
        let state = checking ? identity.check() : identity.state
        if state != .intact { throw StoreError.lost(path: path, what: state.rawValue) }
    }
}
