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
///
/// Waking: the events of one transaction form a batch, and a batch's waiters sleep on the condition of
/// its parity; the writer wakes them all with one broadcast, which wakes no one of the next batch (a
/// semaphore per request cost the writer thread one futex call per request, and it is the one serial step).
/// A caller that need not wait hands in a completion instead (`write(_:then:)`): no thread sleeps for it,
/// and the writer thread runs it right after the commit. (On a dispatch queue instead, each batch cost one
/// more thread wake-up: with one client, 13 % fewer requests per second and 17 % more CPU per request.)
public final class AuditWriter: @unchecked Sendable {
    private let store: Store
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    /// The writer waits here for work; every state change below is made with `mutex` held.
    private let work = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
    /// Waiters of even and odd batches.
    private let committedCondition = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 2)
    private var filling = Batch(number: 0)
    private var stopped = false
    private var thread: Thread?
    private let lastUsed: LastUsedRecorder?
    private var lastUsedFlush = Date()
    /// Set by the writer thread as it ends; until then only it may use `store`.
    private var finished = false
    private var largest = 0
    private var committed = 0
    /// Largest number of events in one transaction so far (for diagnostics and benchmarks).
    public var largestBatch: Int { locked { largest } }
    /// Transactions that carried events so far.
    public var batches: Int { locked { committed } }

    /// The events of one transaction, and its outcome once `done`.
    final class Batch: @unchecked Sendable {
        let number: UInt64
        var events: [AuditEvent] = []
        /// Run once the batch is committed (or refused).
        var completions: [@Sendable (Commit) -> Void] = []
        var ok = false
        var done = false
        init(number: UInt64) { self.number = number }
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
        pthread_mutex_init(mutex, nil)
        pthread_cond_init(work, nil)
        pthread_cond_init(committedCondition, nil)
        pthread_cond_init(committedCondition + 1, nil)
        let t = Thread { [weak self] in self?.loop() }
        t.name = "audit-writer"
        thread = t
        t.start()
    }

    deinit {
        pthread_cond_destroy(committedCondition + 1)
        pthread_cond_destroy(committedCondition)
        pthread_cond_destroy(work)
        pthread_mutex_destroy(mutex)
        committedCondition.deallocate()
        work.deallocate()
        mutex.deallocate()
    }

    private func locked<T>(_ body: () -> T) -> T {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return body()
    }

    /// Appends the event and returns once it is committed (true) or could not be (false).
    public func write(_ event: AuditEvent) -> Bool {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        guard !stopped else { return false }
        let batch = filling
        batch.events.append(event)
        if batch.events.count == 1 { pthread_cond_signal(work) }
        while !batch.done { pthread_cond_wait(committedCondition + Int(batch.number & 1), mutex) }
        return batch.ok
    }

    /// What became of an event handed to `write(_:then:)`.
    public struct Commit: Sendable {
        /// Whether the event's row is committed.
        public let written: Bool
        /// When its transaction ended.
        public let at: ContinuousClock.Instant
    }

    /// Appends the event and returns at once; `then` runs once the event is committed or could not be: on the
    /// writer thread, or on the calling thread when the writer is closed already. The next commit waits for
    /// `then`, so it must not wait on anything itself.
    public func write(_ event: AuditEvent, then: @escaping @Sendable (Commit) -> Void) {
        pthread_mutex_lock(mutex)
        guard !stopped else {
            pthread_mutex_unlock(mutex)
            then(Commit(written: false, at: .now))
            return
        }
        let batch = filling
        batch.events.append(event)
        batch.completions.append(then)
        if batch.events.count == 1 { pthread_cond_signal(work) }
        pthread_mutex_unlock(mutex)
    }

    /// The next batch to commit, once there is one (or nil when stopped with nothing left). With `mutex` held.
    private func nextBatch() -> Batch? {
        while filling.events.isEmpty && !stopped {
            var deadline = timespec()
            clock_gettime(CLOCK_REALTIME, &deadline)
            deadline.tv_sec += 1
            _ = pthread_cond_timedwait(work, mutex, &deadline)
            if filling.events.isEmpty, lastUsed?.hasPending == true { break }
        }
        if stopped && filling.events.isEmpty { return nil }
        let batch = filling
        filling = Batch(number: batch.number &+ 1)
        return batch
    }

    private func loop() {
        while true {
            pthread_mutex_lock(mutex)
            guard let batch = nextBatch() else {
                finished = true
                pthread_cond_broadcast(work)
                pthread_mutex_unlock(mutex)
                return
            }
            pthread_mutex_unlock(mutex)

            let (ok, lost) = commit(batch.events)
            if !lost, let lastUsed, lastUsed.hasPending, Date().timeIntervalSince(lastUsedFlush) > 5 || batch.events.isEmpty {
                try? lastUsed.flush(store.db)
                lastUsedFlush = Date()
            }
            pthread_mutex_lock(mutex)
            if !batch.events.isEmpty {
                committed += 1
                largest = max(largest, batch.events.count)
            }
            batch.ok = ok
            batch.done = true
            pthread_cond_broadcast(committedCondition + Int(batch.number & 1))
            pthread_mutex_unlock(mutex)
            let commit = Commit(written: ok, at: .now)
            for completion in batch.completions { completion(commit) }
        }
    }

    /// Appends `events` in one transaction while the store is still the one the server opened: whether they
    /// were committed, and whether the store was lost.
    private func commit(_ events: [AuditEvent]) -> (ok: Bool, lost: Bool) {
        if identity.map({ $0.check() != .intact }) ?? false {
            if !events.isEmpty {
                LogSink.standardError.write("audit: store \(store.path) was deleted or replaced; \(events.count) rows refused")
            }
            return (false, true)
        }
        guard !events.isEmpty else { return (true, false) }
        do {
            try AuditLog.append(events, to: store.db)
            return (true, false)
        } catch {
            LogSink.standardError.write("audit: cannot write \(events.count) rows: \(error)")
            return (false, false)
        }
    }

    /// Writes what is queued, refuses new events, and stops the writer thread.
    ///
    /// Waits until the writer thread has committed its last batch and ended before the final
    /// `last_used_at` flush: a SQLite connection must not be used by two threads at once (it is opened
    /// NOMUTEX), and flushing the audit log on shutdown means committed, not just dequeued.
    public func close() {
        pthread_mutex_lock(mutex)
        let first = !stopped
        stopped = true
        pthread_cond_broadcast(work)
        while !finished { pthread_cond_wait(work, mutex) }
        pthread_mutex_unlock(mutex)
        if first, (identity?.check() ?? .intact) == .intact { try? lastUsed?.flush(store.db) }
    }
}
