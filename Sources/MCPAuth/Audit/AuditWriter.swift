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
    /// Largest number of events in one transaction so far (for diagnostics and benchmarks).
    public private(set) var largestBatch = 0
    public private(set) var batches = 0

    final class Ticket: @unchecked Sendable {
        var done = false
        var ok = false
    }

    public init(path: String, lastUsed: LastUsedRecorder? = nil) throws {
        store = try Store(path: path)
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
        defer { condition.unlock() }
        guard !stopped else { return false }
        queue.append((event, ticket))
        condition.broadcast()
        while !ticket.done { condition.wait() }
        return ticket.ok
    }

    private func loop() {
        while true {
            condition.lock()
            while queue.isEmpty && !stopped {
                _ = condition.wait(until: Date().addingTimeInterval(1))
                if queue.isEmpty, lastUsed?.hasPending == true { break }
            }
            if stopped && queue.isEmpty { condition.unlock(); return }
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
                batches += 1
                largestBatch = max(largestBatch, batch.count)
            }
            for (_, ticket) in batch { ticket.ok = ok; ticket.done = true }
            condition.broadcast()
            condition.unlock()
        }
    }

    /// Writes what is queued, refuses new events, and stops the writer thread.
    public func close() {
        condition.lock()
        stopped = true
        condition.broadcast()
        condition.unlock()
        while true {
            condition.lock()
            let empty = queue.isEmpty
            condition.unlock()
            if empty { break }
            usleep(1000)
        }
        try? lastUsed?.flush(store.db)
    }
}
