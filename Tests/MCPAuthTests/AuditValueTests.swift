import MCPAuth
import Testing

/// Audit sources and decisions are typed in code and stored as their names; a stored name that is no
/// case makes the row malformed for readers, while `audit verify` still walks the stored text.
@Suite struct AuditValueTests {
    @Test(arguments: AuditSource.allCases)
    func everySourceIsStoredAsItsNameAndReadBackAsItsCase(source: AuditSource) throws {
        let store = try TestStore.make()
        try AuditLog.append(AuditEvent(source: source, action: "test.source", decision: .deny), to: store.db)
        var filter = AuditFilter()
        filter.source = source
        let record = try #require(try AuditQuery.list(filter, limit: 10, db: store.db).first)
        #expect(record.source == source && record.decision == .deny)
        #expect(record.value("source") == .text(source.rawValue) && record.value("decision") == .text("deny"))
        #expect(record.json["source"]?.stringValue == source.rawValue && record.json["decision"]?.stringValue == "deny")
        #expect(try AuditVerifier.verify(db: store.db).ok)
    }

    @Test func anEventWithoutADecisionStoresNullAndReadsBackAsNone() throws {
        let store = try TestStore.make()
        try AuditLog.append(AuditEvent(source: .mcp, action: "mcp.initialize"), to: store.db)
        let record = try #require(try AuditQuery.list(AuditFilter(), limit: 10, db: store.db).first)
        #expect(record.decision == nil && record.value("decision") == .null && record.text("decision") == "")
    }

    @Test func theWordsMatchWhatOperatorsTypeAndReadInMessages() {
        #expect(AuditSource.allCases.map(\.rawValue) == ["cli", "mcp", "oauth", "account", "admin", "sso"])
        #expect(AuditSource.names == "cli, mcp, oauth, account, admin or sso")
        #expect(AuditDecision.names == "allow or deny")
        #expect(AuditSource(rawValue: "MCP") == nil && AuditDecision(rawValue: "") == nil)
    }

    /// Three rows, the second changed behind mcpctl's back with `sql`.
    func logWithSecondRowChanged(_ sql: String) throws -> Store {
        let store = try TestStore.make()
        for action in ["one", "two", "three"] {
            try AuditLog.append(AuditEvent(source: .cli, action: action, decision: .allow), to: store.db)
        }
        try store.db.run(sql)
        return store
    }

    @Test func aRowWithAnUnknownSourceIsMalformedForReadersAndABrokenChainForVerify() throws {
        let store = try logWithSecondRowChanged("UPDATE audit SET source = 'martian' WHERE seq = 2")
        #expect(throws: MalformedRow(table: "audit", column: "source")) { try AuditQuery.list(AuditFilter(), limit: 10, db: store.db) }
        #expect(throws: MalformedRow(table: "audit", column: "source")) { try AuditQuery.stream(AuditFilter(), db: store.db) { _ in } }
        let report = try AuditVerifier.verify(db: store.db)
        #expect(!report.ok && report.badSeq == 2)
    }

    @Test func aRowWithAnUnknownDecisionIsMalformedForReadersAndABrokenChainForVerify() throws {
        let store = try logWithSecondRowChanged("UPDATE audit SET decision = 'maybe' WHERE seq = 2")
        #expect(throws: MalformedRow(table: "audit", column: "decision")) { try AuditQuery.list(AuditFilter(), limit: 10, db: store.db) }
        let report = try AuditVerifier.verify(db: store.db)
        #expect(!report.ok && report.badSeq == 2)
    }

    @Test func aMalformedHeadIsReportedByVerifyAndNeverContinuedFrom() throws {
        let store = try logWithSecondRowChanged("UPDATE audit_head SET hash = 'not a hash'")
        let report = try AuditVerifier.verify(db: store.db)
        #expect(!report.ok && (report.problem ?? "").contains("audit_head"))
        // A writer refuses instead of chaining the next row onto a guessed head.
        #expect(throws: MalformedRow(table: "audit_head", column: "hash")) {
            try AuditLog.append(AuditEvent(source: .cli, action: "four"), to: store.db)
        }
        #expect(try store.db.first("SELECT COUNT(*) AS n FROM audit")?.int("n") == 3)
    }
}
