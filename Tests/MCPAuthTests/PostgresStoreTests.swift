import Foundation
import MCPAuth
import Testing

/// What only a PostgreSQL store has: a server that checks passwords, other processes' schemas, a shared
/// write lock and connections that drop. Runs when `MCPCTL_TEST_DB` names a database (`.ci/postgres`).
@Suite(.enabled(if: TestStore.postgresURL != nil, "needs MCPCTL_TEST_DB=postgresql://… (.ci/postgres)"))
struct PostgresStoreTests {
    /// The test database's URL with its password replaced by `password`.
    static func url(withPassword password: String) throws -> (url: String, real: String) {
        let url = try #require(TestStore.postgresURL)
        let schemeEnd = try #require(url.range(of: "://"))
        let at = try #require(url.range(of: "@"))
        let userinfo = url[schemeEnd.upperBound..<at.lowerBound]
        let colon = try #require(userinfo.firstIndex(of: ":"))
        let real = String(userinfo[userinfo.index(after: colon)...])
        return (url.replacingOccurrences(of: ":" + real + "@", with: ":" + password + "@"), real)
    }

    @Test func aWrongPasswordIsAClearErrorThatNeverEchoesEitherPassword() throws {
        let (wrong, real) = try PostgresStoreTests.url(withPassword: "Wrong-Pa55word-xyz")
        let error = #expect(throws: StoreError.self) { try Store(path: wrong) }
        let text = "\(error.map { "\($0)" } ?? "")"
        #expect(text.contains("password authentication failed"))
        #expect(!text.contains("Wrong-Pa55word-xyz") && !text.contains(real))
    }

    @Test func aSchemaFromANewerMcpctlIsRefused() throws {
        let store = try TestStore.make()
        try store.db.run("INSERT INTO schema_migrations (name, applied_at) VALUES ('9999_from_the_future', 0)")
        let error = #expect(throws: StoreError.self) { try Store(path: store.path, create: false) }
        #expect("\(error.map { "\($0)" } ?? "")".contains("newer mcpctl"))
    }

    @Test func anEmptySchemaIsAMissingStoreUntilCreatedOnPurpose() throws {
        let location = try TestStore.location()
        let error = #expect(throws: StoreError.self) { try Store(path: location, create: false) }
        #expect("\(error.map { "\($0)" } ?? "")".contains("no store at"))
        _ = try Store(path: location)
        _ = try Store(path: location, create: false)
    }

    @Test func anotherSchemeIsRefusedNotTakenForAFileName() {
        #expect(throws: StoreError.self) { try Store(path: "mysql://db.example/mcpctl") }
        #expect(!FileManager.default.fileExists(atPath: "mysql:"))
    }

    /// Two connections each read a counter and write it back plus one, many times at once: the write lock
    /// must serialize them as SQLite's BEGIN IMMEDIATE does, so no increment is lost.
    @Test func readThenWriteTransactionsOnTwoConnectionsNeverLoseAnUpdate() throws {
        let store = try TestStore.make()
        try store.setSetting("counter", .integer(0))
        let path = store.path
        DispatchQueue.concurrentPerform(iterations: 2) { _ in
            guard let mine = try? Store(path: path, create: false) else { Issue.record("cannot connect"); return }
            for _ in 0..<50 {
                do {
                    try mine.db.write {
                        let n = try mine.setting("counter")?.int ?? -1000
                        try mine.setSetting("counter", .integer(n + 1))
                    }
                } catch { Issue.record("write failed: \(error)") }
            }
        }
        #expect(try store.setting("counter")?.int == 100)
    }

    /// Waits (at most 10 seconds) until the server process `pid` has ended.
    static func waitUntilGone(_ pid: Int64, _ db: Database) throws {
        let deadline = Date().addingTimeInterval(10)
        while try db.first("SELECT 1 FROM pg_stat_activity WHERE pid = CAST(? AS INTEGER)", [.integer(pid)]) != nil, Date() < deadline { usleep(10_000) }
    }

    /// An idle connection the server ended (restart, failover, an administrator) is noticed before the next
    /// statement is sent into it, so that statement runs on a new connection instead of failing.
    @Test func aConnectionTheServerDroppedIsOpenedAgainForTheNextStatement() throws {
        let store = try TestStore.make()
        let pid = try #require(try store.db.first("SELECT pg_backend_pid() AS pid")?.int("pid"))
        let other = try Database(path: store.path)
        _ = try other.query("SELECT pg_terminate_backend(CAST(? AS INTEGER))", [.integer(pid)])
        try PostgresStoreTests.waitUntilGone(pid, other)
        #expect(try store.db.first("SELECT count(*) AS n FROM users")?.int("n") == 0)
        #expect(try store.db.first("SELECT pg_backend_pid() AS pid")?.int("pid") != pid)
        // Inside a transaction a dropped connection is the transaction's failure, never silently replaced.
        let again = try #require(try store.db.first("SELECT pg_backend_pid() AS pid")?.int("pid"))
        #expect(throws: DatabaseError.self) {
            try store.db.read {
                _ = try other.query("SELECT pg_terminate_backend(CAST(? AS INTEGER))", [.integer(again)])
                try PostgresStoreTests.waitUntilGone(again, other)
                _ = try store.db.query("SELECT 1")
            }
        }
    }
}
