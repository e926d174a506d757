import Foundation
import MCPAuth
import Testing

/// `audit verify` over a chain long enough for the parallel walk (several batches, rows hashed four at a
/// time): tampering anywhere, including deep inside a batch and across a batch boundary, is still reported
/// at the exact row, with the message the one-row-at-a-time walk gives.
@Suite struct AuditParallelVerifyTests {
    static let batch = Int64(AuditVerifier.parallelBatchRows)
    /// Three full batches and a partial one.
    static let rows = 3 * batch + 5

    /// A store with `rows` events whose encodings span one to several SHA-256 blocks, so the four lanes of
    /// the hasher finish their rows at different times.
    static func filledStore() throws -> Store {
        let store = try TestStore.make()
        let events = (0..<rows).map { (i: Int64) -> AuditEvent in
            let denied = i % 9 == 0
            let reason: String? = denied ? String(repeating: "r", count: Int(i % 7) * 60) : nil
            return AuditEvent(source: .mcp, action: "tools/call", email: "user\(i % 50)@example.com", app: "notes",
                              env: "production", method: "tools/call", tool: "tool\(i)", decision: denied ? .deny : .allow,
                              reason: reason, status: 200, durationMs: Double(i) / 7)
        }
        try AuditLog.append(events, to: store.db)
        return store
    }

    @Test func anUntouchedChainOfSeveralBatchesVerifies() throws {
        let report = try AuditVerifier.verify(db: try Self.filledStore().db)
        #expect(report.ok && report.rows == Self.rows && report.firstSeq == 1 && report.lastSeq == Self.rows)
        #expect(report.badSeq == nil && report.problem == nil)
    }

    /// The first row, the middle of a batch, the last and first rows on either side of a boundary, deep in
    /// the third batch, and the last row of the partial batch.
    static let editedSeqs: [Int64] = [1, batch / 2, batch, batch + 1, 2 * batch + 777, rows]

    @Test(arguments: editedSeqs)
    func anEditedRowIsReportedAtItsExactSeq(seq: Int64) throws {
        let store = try Self.filledStore()
        try store.db.run("UPDATE audit SET email = 'mallory@example.com' WHERE seq = ?", [.integer(seq)])
        let report = try AuditVerifier.verify(db: store.db)
        #expect(!report.ok && report.badSeq == seq)
        #expect(report.problem == "row \(seq) was changed after it was written (hash mismatch)")
    }

    @Test func aRowRemovedAtABatchBoundaryIsReportedAsMissing() throws {
        let store = try Self.filledStore()
        let seq = Self.batch + 1
        try store.db.run("DELETE FROM audit WHERE seq = ?", [.integer(seq)])
        let report = try AuditVerifier.verify(db: store.db)
        #expect(!report.ok && report.badSeq == seq)
        #expect(report.problem == "row \(seq) is missing (next row is \(seq + 1))")
    }

    @Test func aBrokenLinkAtABatchBoundaryIsReportedAtTheRowThatNoLongerLinks() throws {
        let store = try Self.filledStore()
        let seq = Self.batch + 1
        try store.db.run("UPDATE audit SET prev_hash = ? WHERE seq = ?", [.blob([UInt8](repeating: 0, count: 32)), .integer(seq)])
        let report = try AuditVerifier.verify(db: store.db)
        #expect(!report.ok && report.badSeq == seq)
        #expect(report.problem == "row \(seq) does not link to row \(seq - 1) (a row was removed, inserted or changed)")
    }

    /// The attacker edits the last row of a batch and recomputes its hash (SHA-256 is public), so the row is
    /// consistent in itself; the next row, the first of the next batch, still names the old hash.
    @Test func anEditedAndRehashedRowAtABatchEndBreaksTheLinkOfTheNextBatchsFirstRow() throws {
        let store = try Self.filledStore()
        let seq = Self.batch
        let row = try #require(try store.db.first("SELECT * FROM audit WHERE seq = ?", [.integer(seq)]))
        var values = AuditChain.columns.map { row[$0] }
        values[AuditChain.columns.firstIndex(of: "email")!] = .text("mallory@example.com")
        let hash = AuditChain.hash(prev: try #require(row["prev_hash"].bytes), seq: seq, values: values)
        try store.db.run("UPDATE audit SET email = 'mallory@example.com', hash = ? WHERE seq = ?", [.blob(hash), .integer(seq)])
        let report = try AuditVerifier.verify(db: store.db)
        #expect(!report.ok && report.badSeq == seq + 1)
        #expect(report.problem == "row \(seq + 1) does not link to row \(seq) (a row was removed, inserted or changed)")
    }
}
