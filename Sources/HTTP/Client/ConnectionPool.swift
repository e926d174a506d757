/// Idle keep-alive connections of `HTTPClient`, per upstream `host:port`, most recent first out.
///
/// Work under the lock is O(1) amortized (append, pop, drop expired ones from the old end), since
/// every upstream call of every connection thread passes through it. `idle` is only touched under `lock`.
final class ConnectionPool: @unchecked Sendable {
    private let lock = Guarded<Void>()
    private var idle: [String: [ClientConnection]] = [:]
    let maxIdlePerHost: Int
    let idleTimeout: Double

    init(maxIdlePerHost: Int, idleTimeout: Double) {
        self.maxIdlePerHost = maxIdlePerHost
        self.idleTimeout = idleTimeout
    }

    /// A live idle connection to `key`, if there is one; stale ones are closed on the way: idle longer
    /// than the pool or the server allows, or closed by the server (seen by a non-blocking poll).
    func checkout(_ key: String) -> ClientConnection? {
        while let connection = lock.withLock({ idle[key]?.popLast() }) {
            let window = min(idleTimeout, connection.reuseWindow ?? .infinity)
            if window <= 0 || connection.idleSince.adding(seconds: window).hasPassed || !connection.isReusable {
                connection.close()
                continue
            }
            return connection
        }
        return nil
    }

    /// Keeps a connection whose last response was read completely, unless the pool for its host is full.
    /// Its socket is not polled here: `checkout` polls it before reuse, which also sees what came after.
    func checkin(_ connection: ClientConnection) {
        guard connection.isOpen, connection.available == 0 else {
            connection.close()
            return
        }
        connection.releaseBuffer()
        let now = Deadline.now
        connection.idleSince = now
        let expiredBefore = Deadline(nanoseconds: now.nanoseconds &- UInt64(idleTimeout * 1_000_000_000))
        let surplus = lock.withLock { () -> [ClientConnection] in
            var dropped: [ClientConnection] = []
            var list = idle.removeValue(forKey: connection.key) ?? []
            var expired = 0
            while expired < list.count && list[expired].idleSince < expiredBefore { expired += 1 }
            if expired > 0 {
                dropped.append(contentsOf: list[0..<expired])
                list.removeFirst(expired)
            }
            if list.count < maxIdlePerHost {
                list.append(connection)
            } else {
                dropped.append(connection)
            }
            idle[connection.key] = list
            return dropped
        }
        for connection in surplus { connection.close() }
    }

    var idleCount: Int {
        lock.withLock { idle.values.reduce(0) { $0 + $1.count } }
    }

    func closeAll() {
        let all = lock.withLock { () -> [ClientConnection] in
            defer { idle.removeAll() }
            return idle.values.flatMap { $0 }
        }
        for connection in all { connection.close() }
    }
}
