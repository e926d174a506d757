import Foundation
import MCPAuth
import Testing

/// A PostgreSQL connection prepares each statement once (PostgreSQL then skips parsing and planning it),
/// and keeps answering right when the session that held them is gone or a table changes under them.
@Suite(.enabled(if: TestStore.postgresURL != nil, "needs MCPCTL_TEST_DB=postgresql://… (.ci/postgres)"))
struct PostgresPreparedStatementTests {
    /// The statements this connection's session holds prepared whose text contains `fragment`.
    static func prepared(_ db: Database, _ fragment: String) throws -> Int {
        Int(try db.first("SELECT COUNT(*) AS n FROM pg_prepared_statements WHERE statement LIKE ?", [.text("%" + fragment + "%")])?
            .int("n") ?? -1)
    }

    @Test func aStatementRunManyTimesIsPreparedOnceAndAnswersEachTime() throws {
        let store = try TestStore.make()
        for _ in 0..<20 {
            #expect(try store.db.first("SELECT value FROM policy_generation WHERE id = ?", [.integer(1)])?[0].int != nil)
        }
        #expect(try Self.prepared(store.db, "FROM policy_generation") == 1)
    }

    @Test func aStatementWithANullValueRunsUnpreparedAndStillAnswers() throws {
        let store = try TestStore.make()
        try store.db.execute("CREATE TABLE nullable_probe (a INTEGER, b TEXT)")
        for value in [SQLValue.null, .text("x"), .null] {
            try store.db.run("INSERT INTO nullable_probe (a, b) VALUES (?, ?)", [.integer(1), value])
        }
        #expect(try store.db.query("SELECT b FROM nullable_probe ORDER BY b").map { $0.string("b") } == ["x", nil, nil])
        #expect(try Self.prepared(store.db, "INSERT INTO nullable_probe") == 1, "only the call without NULL was prepared")
    }

    @Test func aSessionEndedByTheServerIsReplacedAndItsStatementsPreparedAgain() throws {
        let store = try TestStore.make()
        let probe = "SELECT value FROM policy_generation WHERE id = ?"
        #expect(try store.db.first(probe, [.integer(1)]) != nil)
        let pid = try #require(try store.db.first("SELECT pg_backend_pid() AS pid")?.int("pid"))
        // Another connection of the same role ends this one's session, as a restart or failover would.
        let other = try Store(path: store.path)
        #expect(try other.db.first("SELECT pg_terminate_backend(CAST(? AS INTEGER)) AS ok", [.integer(pid)])?.int("ok") == 1)
        Thread.sleep(forTimeInterval: 0.2)
        #expect(try store.db.first(probe, [.integer(1)]) != nil)
        #expect(try store.db.first("SELECT pg_backend_pid() AS pid")?.int("pid") != pid)
        #expect(try Self.prepared(store.db, "FROM policy_generation") == 1)
    }

    @Test func aTableChangedUnderAPreparedStatementIsReadAgainWithItsNewColumns() throws {
        let store = try TestStore.make()
        try store.db.execute("CREATE TABLE changing_probe (a INTEGER)")
        try store.db.run("INSERT INTO changing_probe (a) VALUES (?)", [.integer(7)])
        let select = "SELECT * FROM changing_probe WHERE a = ?"
        let before = try #require(try store.db.first(select, [.integer(7)]))
        #expect(before.columns.contains("a") && !before.columns.contains("b"), "\(before.columns)")
        try store.db.execute("ALTER TABLE changing_probe ADD COLUMN b INTEGER")
        // PostgreSQL may refuse the old plan once ("cached plan must not change result type"); after that
        // the statement is prepared again and sees the new column.
        _ = try? store.db.first(select, [.integer(7)])
        let after = try #require(try store.db.first(select, [.integer(7)]))
        #expect(after.columns.contains("a") && after.columns.contains("b"), "\(after.columns)")
    }
    /// Each change of a table under prepared statements makes the connection prepare them again: the
    /// statements the session held before are deallocated, so their number does not grow with the changes.
    @Test func tableChangesDoNotPileUpPreparedStatementsOnTheSession() throws {
        let store = try TestStore.make()
        try store.db.execute("CREATE TABLE growing_probe (a INTEGER)")
        try store.db.run("INSERT INTO growing_probe (a) VALUES (?)", [.integer(7)])
        let select = "SELECT * FROM growing_probe WHERE a = ?"
        func all() throws -> Int { Int(try store.db.first("SELECT COUNT(*) AS n FROM pg_prepared_statements")?.int("n") ?? -1) }
        func changeAndRead(_ column: String) throws {
            try store.db.execute("ALTER TABLE growing_probe ADD COLUMN \(column) INTEGER")
            _ = try? store.db.first(select, [.integer(7)])
            #expect(try store.db.first(select, [.integer(7)])?.columns.contains(column) == true)
            _ = try store.db.first("SELECT value FROM policy_generation WHERE id = ?", [.integer(1)])
            _ = try store.db.write { try store.db.run("INSERT INTO growing_probe (a) VALUES (?)", [.integer(8)]) }
        }
        try changeAndRead("b")
        let before = try all()
        for column in ["c", "d", "e", "f"] { try changeAndRead(column) }
        #expect(try all() <= before, "prepared statements held by the session")
    }
}
