import Foundation
import MCPAuth
import Testing

/// A group commit of many rows (several multi-row statements on PostgreSQL, one statement per row on
/// SQLite) leaves the same chain as rows appended one by one.
@Suite struct AuditBatchTests {
    @Test(arguments: [1, 2, 63, 64, 65, 150])
    func aBatchIsStoredInOrderWithContiguousSeqsAndAChainThatVerifies(size: Int) throws {
        let store = try TestStore.make()
        let before = try AuditLog.head(store.db).seq
        let events = (0..<size).map { i in
            AuditEvent(source: .mcp, action: "tools/call", email: "a@x.io", app: "notes", env: "prod", tool: "tool_\(i)",
                       decision: i % 3 == 0 ? .deny : .allow, reason: "row \(i)")
        }
        let seqs = try AuditLog.append(events, to: store.db)
        #expect(seqs == Array((before + 1)...(before + Int64(size))))
        let tools = try store.db.query("SELECT tool FROM audit WHERE seq > ? ORDER BY seq", [.integer(before)]).map { $0.string("tool") }
        #expect(tools == (0..<size).map { "tool_\($0)" })
        let report = try AuditVerifier.verify(db: store.db)
        #expect(report.ok && report.lastSeq == before + Int64(size), "\(report.problem ?? "")")
        // And the chain goes on from the batch's last row.
        #expect(try AuditLog.append(AuditEvent(source: .cli, action: "after", decision: .allow), to: store.db) == before + Int64(size) + 1)
        #expect(try AuditVerifier.verify(db: store.db).ok)
    }
}
