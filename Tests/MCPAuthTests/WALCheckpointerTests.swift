import Foundation
import MCPAuth
import Testing

/// The audit writer's commits never copy the write-ahead log into the database themselves; a thread of
/// its own does, and the log still starts over and stays bounded.
@Suite(.enabled(if: TestStore.isSQLite, "the write-ahead log is SQLite's")) struct WALCheckpointerTests {
    /// A store whose writer connection commits without syncing (the tests make thousands of commits) and
    /// without checkpointing, with a table of page-sized rows.
    static func writer() throws -> (path: String, db: Database) {
        let path = StoreIdentityTests.freshPath()
        let db = try Store(path: path).db
        try db.execute("PRAGMA synchronous=OFF")
        try WALCheckpointer.takeCheckpointsFrom(db)
        try db.execute("CREATE TABLE pages (body BLOB)")
        return (path, db)
    }

    /// `count` commits of one page each.
    static func commit(_ count: Int, to db: Database) throws {
        for _ in 0..<count { _ = try db.run("INSERT INTO pages (body) VALUES (?)", [.blob([UInt8](repeating: 7, count: 4000))]) }
    }

    /// Pages in the log now, as another connection sees it (a passive checkpoint reports them).
    static func logPages(_ path: String) throws -> Int64 {
        try #require(try Database(path: path, create: false).first("PRAGMA wal_checkpoint(PASSIVE)")?[1].int)
    }

    static func waitFor(_ what: () -> Bool) -> Bool {
        for _ in 0..<500 where !what() { Thread.sleep(forTimeInterval: 0.01) }
        return what()
    }

    @Test func commitsLeaveTheLogToTheCheckpointThreadAndItStartsOverAfterIt() throws {
        let (path, db) = try Self.writer()
        try Self.commit(3_000, to: db)
        // SQLite's own checkpoint would have run at 1,000 pages and the log would have started over.
        let walBytes = try #require(try FileManager.default.attributesOfItem(atPath: path + "-wal")[.size] as? Int)
        #expect(walBytes > 3_000 * 4_096)

        let checkpointer = try WALCheckpointer(path: path, interval: .milliseconds(5))
        defer { checkpointer.stop() }
        checkpointer.committed()
        #expect(Self.waitFor { checkpointer.checkpoints >= 1 })
        #expect(!checkpointer.writerMustCheckpoint, "a log the thread copied whole is not the writer's to checkpoint")
        try Self.commit(1, to: db)
        #expect(try Self.logPages(path) <= 4, "the first commit after a whole checkpoint starts the log over")
        #expect(try db.first("SELECT count(*) AS n FROM pages")?.int("n") == 3_001)
    }

    @Test func theWriterCheckpointsItselfWhenTheLogOutgrowsTheThread() throws {
        let (path, db) = try Self.writer()
        let checkpointer = try WALCheckpointer(path: path, interval: .milliseconds(5), writerTakesOverAt: 100)
        defer { checkpointer.stop() }
        // A reader holding an old snapshot: no checkpoint can copy past it, so the log only grows.
        let reader = try Database(path: path, create: false)
        try reader.execute("BEGIN")
        _ = try reader.first("SELECT count(*) FROM pages")
        try Self.commit(300, to: db)
        #expect(!checkpointer.writerMustCheckpoint, "nothing said yet: the thread has not looked")
        let before = checkpointer.checkpoints
        checkpointer.committed()
        #expect(Self.waitFor { checkpointer.checkpoints > before })
        #expect(checkpointer.writerMustCheckpoint)
        #expect(!checkpointer.writerMustCheckpoint, "reading it clears it")

        try reader.execute("COMMIT")
        WALCheckpointer.checkpointHere(db)
        try Self.commit(1, to: db)
        #expect(try Self.logPages(path) <= 4, "after the writer's own checkpoint the log starts over")
    }

    @Test func stopCheckpointsWhatWasCommittedAndEnds() throws {
        let (path, db) = try Self.writer()
        let checkpointer = try WALCheckpointer(path: path, interval: .seconds(30))
        try Self.commit(50, to: db)
        checkpointer.committed()
        checkpointer.stop()  // returns without the 30 s wait, after a last checkpoint
        #expect(checkpointer.checkpoints == 1)
        checkpointer.stop()  // a second stop is a no-op
        try Self.commit(1, to: db)
        #expect(try Self.logPages(path) <= 4)
    }
}
