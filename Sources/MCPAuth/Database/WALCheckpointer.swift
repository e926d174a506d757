import Foundation
import Synchronization

/// Copies a SQLite store's write-ahead log back into the database on a thread of its own, so that the
/// connection that commits (the audit writer) never does it in the middle of answering requests.
///
/// SQLite's automatic checkpoint runs inside the commit that takes the log past 1,000 pages: that commit
/// copies the log's pages into the database file and syncs it, a stall of milliseconds for every request
/// waiting on that commit. Here the committing connection turns it off (`wal_autocheckpoint=0`) and says
/// after each commit that it wrote (`committed()`, one atomic store); this thread then runs a PASSIVE
/// checkpoint, which waits for no reader or writer (https://sqlite.org/c3ref/wal_checkpoint_v2.html), at
/// most every `interval`.
///
/// A passive checkpoint that runs beside a busy writer may never find the log wholly copied, and SQLite
/// starts the log over only then (https://sqlite.org/wal.html, "Avoiding Excessively Large WAL Files"):
/// once the log holds more than `writerTakesOverAt` pages, `writerMustCheckpoint` turns true and the writer
/// checkpoints itself after its next commit, as SQLite would have done, which lets the log start over.
public final class WALCheckpointer: Sendable {
    /// Pages in the log past which the writer checkpoints itself (4 KiB pages: 64 MiB).
    public let writerTakesOverAt: Int
    private let interval: Double
    private let pending = Atomic<Bool>(false)
    private let stopped = Atomic<Bool>(false)
    private let takeOver = Atomic<Bool>(false)
    private let runs = Atomic<Int>(0)
    private let wake = DispatchSemaphore(value: 0)
    /// Cuts the interval short when stopping.
    private let interrupt = DispatchSemaphore(value: 0)
    private let done = DispatchSemaphore(value: 0)
    /// Used only by the checkpoint thread.
    private let db: Database

    /// Opens a connection of its own to the SQLite store at `path` and starts the checkpoint thread.
    public init(path: String, interval: Duration = .milliseconds(100), writerTakesOverAt: Int = 16_384) throws {
        db = try Database(path: path, create: false)
        self.interval = Double(interval.components.seconds) + Double(interval.components.attoseconds) / 1e18
        self.writerTakesOverAt = writerTakesOverAt
        let thread = Thread { [self] in run() }
        thread.name = "wal-checkpoint"
        thread.start()
    }

    /// Turns off the automatic checkpoint of the committing connection `db`: this checkpointer does it.
    public static func takeCheckpointsFrom(_ db: Database) throws {
        try db.execute("PRAGMA wal_autocheckpoint=0")
    }

    /// Called by the writer after each commit that wrote: one atomic exchange, and a wake-up of the
    /// checkpoint thread when it was idle.
    public func committed() {
        if !pending.exchange(true, ordering: .acquiringAndReleasing) { wake.signal() }
    }

    /// Whether the log has grown past `writerTakesOverAt` pages: the writer should checkpoint itself
    /// (`checkpointHere`) after its commit. Reading it clears it.
    public var writerMustCheckpoint: Bool {
        takeOver.load(ordering: .relaxed) && takeOver.exchange(false, ordering: .relaxed)
    }

    /// A passive checkpoint on the writer's own connection, between its transactions: it copies the whole
    /// log when no reader holds an older snapshot, after which the next write starts the log over.
    public static func checkpointHere(_ db: Database) {
        _ = try? db.first("PRAGMA wal_checkpoint(PASSIVE)")
    }

    /// Checkpoints run so far (for tests and diagnostics).
    public var checkpoints: Int { runs.load(ordering: .relaxed) }

    /// Ends the thread after a last checkpoint of what was committed; returns once it has ended.
    public func stop() {
        guard !stopped.exchange(true, ordering: .acquiringAndReleasing) else { return }
        wake.signal()
        interrupt.signal()
        done.wait()
    }

    private func run() {
        while !stopped.load(ordering: .acquiring) {
            wake.wait()
            // Commits keep coming while the thread waits out the interval: one checkpoint covers them all.
            if !stopped.load(ordering: .acquiring) { _ = interrupt.wait(timeout: .now() + interval) }
            if pending.exchange(false, ordering: .acquiringAndReleasing) { checkpoint() }
        }
        done.signal()
    }

    /// One passive checkpoint; its answer is (busy, pages in the log, pages copied).
    private func checkpoint() {
        guard let row = try? db.first("PRAGMA wal_checkpoint(PASSIVE)") else { return }
        runs.add(1, ordering: .relaxed)
        if let log = row[1].int, log > Int64(writerTakesOverAt) { takeOver.store(true, ordering: .relaxed) }
    }
}
