import Foundation

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

    public init(path: String, lastUsed: LastUsedRecorder? = nil) throws {
        store = try Store(path: path)
        // Audit rows must survive a crash of the server (kill -9), which WAL with synchronous=NORMAL
        // guarantees: a commit is in the OS once COMMIT returns. FULL (kept for every credential change,
        // DESIGN.md §3) also survives power loss but costs an fsync per group commit.
        try store.db.execute("PRAGMA synchronous=NORMAL")
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
            if !batch.isEmpty {
                do {
                    try AuditLog.append(batch.map(\.0), to: store.db)
                } catch {
                    ok = false
                    FileHandle.standardError.write(Data("audit: cannot write \(batch.count) rows: \(error)\n".utf8))
                }
            }
            if let lastUsed, lastUsed.hasPending, Date().timeIntervalSince(lastUsedFlush) > 5 || batch.isEmpty {
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
    /// NOMUTEX), and "flush the audit log" on shutdown (issue 4 item 1) means committed, not just dequeued.
    public func close() {
        condition.lock()
        let first = !stopped
        stopped = true
        condition.broadcast()
        while !finished { condition.wait() }
        condition.unlock()
        if first { try? lastUsed?.flush(store.db) }
    }
}
