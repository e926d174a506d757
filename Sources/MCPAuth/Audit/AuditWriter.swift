import Foundation

/// How hard an audit commit waits for the disk: the SQLite `synchronous` setting of the writer.
public enum AuditSync: String, Sendable, CaseIterable {
    /// The write-ahead log is synced at every group commit: an acknowledged request's row survives power
    /// loss and a file system going read-only.
    case full
    /// A commit is in the OS once it returns: a row survives a crash of the server, but the last commits
    /// before a power loss, kernel crash or file system failure can be lost.
    case normal
}

/// Group commit for the audit log: request threads hand in events and wait; one writer thread appends
/// everything queued in a single transaction and then releases all waiters. A request whose row could
/// not be committed learns so, and the gateway fails it closed.
public final class AuditWriter: @unchecked Sendable {
    private let store: Store
    private let condition = NSCondition()
    private var queue: [(AuditEvent, Ticket)] = []
    private var stopped = false
    private var thread: Thread?
    private let lastUsed: LastUsedRecorder?
    private var lastUsedFlush = Date()
    /// Set by the writer thread as it ends; until then only it may use `store`.
    private var finished = false
    // Read under `condition` like everything the writer thread changes (they were read unlocked: a data race).
    private var largest = 0
    private var committed = 0
    /// Largest number of events in one transaction so far (for diagnostics and benchmarks).
    public var largestBatch: Int { condition.lock(); defer { condition.unlock() }; return largest }
    /// Transactions that carried events so far.
    public var batches: Int { condition.lock(); defer { condition.unlock() }; return committed }

    /// One waiting request: the writer sets `ok` and signals only this request's semaphore, so a commit
    /// wakes exactly the threads it concerns (a shared broadcast woke every waiter on every commit).
    final class Ticket: @unchecked Sendable {
        var ok = false
        let signal = DispatchSemaphore(value: 0)
    }

    private let identity: StoreIdentity?

    /// Opens its own connection to the existing store at `path` (never creating one). With `identity`, each
    /// batch is committed only while the path still names the file the server opened.
    public init(path: String, lastUsed: LastUsedRecorder? = nil, sync: AuditSync = .full, identity: StoreIdentity? = nil) throws {
        store = try Store(path: path, create: false)
        if let identity, identity.check() != .intact { throw StoreError.lost(path: path, what: identity.state.rawValue) }
        // In WAL mode FULL syncs the log at every commit, and one commit carries a whole batch (group
        // commit), so durability costs one sync per batch, not one per request.
        try store.db.execute(sync == .full ? "PRAGMA synchronous=FULL" : "PRAGMA synchronous=NORMAL")
        self.identity = identity
        self.lastUsed = lastUsed
        let t = Thread { [weak self] in self?.loop() }
        t.name = "audit-writer"
        thread = t
        t.start()
    }

    /// Appends the event and returns once it is committed (true) or could not be (false).
    public func write(_ event: AuditEvent) -> Bool {
        let ticket = Ticket()
        condition.lock()
        guard !stopped else { condition.unlock(); return false }
        queue.append((event, ticket))
        if queue.count == 1 { condition.signal() }
        condition.unlock()
        ticket.signal.wait()
        return ticket.ok
    }

    private func loop() {
        while true {
            condition.lock()
            while queue.isEmpty && !stopped {
                _ = condition.wait(until: Date().addingTimeInterval(1))
                if queue.isEmpty, lastUsed?.hasPending == true { break }
            }
            if stopped && queue.isEmpty {
                finished = true
                condition.broadcast()
                condition.unlock()
                return
            }
            let batch = queue
            queue.removeAll(keepingCapacity: true)
            condition.unlock()

            var ok = true
            let lost = identity.map { $0.check() != .intact } ?? false
            if lost {
                ok = false
                if !batch.isEmpty {
                    FileHandle.standardError.write(Data("audit: store \(store.path) was deleted or replaced; \(batch.count) rows refused\n".utf8))
                }
            } else if !batch.isEmpty {
                do {
                    try AuditLog.append(batch.map(\.0), to: store.db)
                } catch {
                    ok = false
                    FileHandle.standardError.write(Data("audit: cannot write \(batch.count) rows: \(error)\n".utf8))
                }
            }
            if !lost, let lastUsed, lastUsed.hasPending, Date().timeIntervalSince(lastUsedFlush) > 5 || batch.isEmpty {
                try? lastUsed.flush(store.db)
                lastUsedFlush = Date()
            }
            condition.lock()
            if !batch.isEmpty {
                committed += 1
                largest = max(largest, batch.count)
            }
            condition.unlock()
            for (_, ticket) in batch {
                ticket.ok = ok
                ticket.signal.signal()
            }
        }
    }

    /// Writes what is queued, refuses new events, and stops the writer thread.
    ///
    /// Waits until the writer thread has committed its last batch and ended before the final
    /// `last_used_at` flush: a SQLite connection must not be used by two threads at once (it is opened
    /// NOMUTEX), and flushing the audit log on shutdown means committed, not just dequeued.
    public func close() {
        condition.lock()
        let first = !stopped
        stopped = true
        condition.broadcast()
        while !finished { condition.wait() }
        condition.unlock()
        if first, (identity?.check() ?? .intact) == .intact { try? lastUsed?.flush(store.db) }
    }
}
