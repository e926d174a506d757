import Foundation
import MCPAuth
import Testing

/// `store copy` moves a store to the other kind (SQLite ↔ PostgreSQL) and back, with its audit chain intact.
@Suite(.enabled(if: CLIHarness.postgresURL != nil, "needs MCPCTL_TEST_DB=postgresql://… (.ci/postgres)"))
struct StoreCopyTests {
    /// A new store location of the kind the harness does not use.
    static func otherKind(_ h: CLIHarness, _ name: String) -> String {
        CLIHarness.isSQLite ? CLIHarness.freshSchema(CLIHarness.postgresURL!) : h.dir.appendingPathComponent(name + "/mcpctl.db").path
    }

    @Test func aStoreCopiedToTheOtherKindAndBackKeepsItsTokensAndAVerifiableAuditChain() throws {
        let h = CLIHarness()
        try h.user()
        _ = try h.token()
        let tokens = try h.ok(["token", "list", "--json"]).stdout
        let copy = StoreCopyTests.otherKind(h, "copy")
        let copied = try h.ok(["store", "copy", "--to", copy, "--json"]).jsonObject()
        #expect(copied["audit_verified"] as? Bool == true && (copied["audit_rows"] as? Int ?? 0) >= 2)
        #expect(try h.ok(["--db", copy, "token", "list", "--json"]).stdout == tokens)
        #expect(try h.ok(["--db", copy, "audit", "verify"]).stdout.hasPrefix("OK"))

        let back = CLIHarness.isSQLite ? h.dir.appendingPathComponent("back/mcpctl.db").path : CLIHarness.freshSchema(CLIHarness.postgresURL!)
        _ = try h.ok(["--db", copy, "store", "copy", "--to", back])
        #expect(try h.ok(["--db", back, "token", "list", "--json"]).stdout == tokens)
        // The copy keeps numbering after the copied rows: a new user is added, not refused as a duplicate key.
        _ = try h.ok(["--db", back, "user", "add", "second@example.com"])
        #expect(try h.ok(["--db", back, "audit", "verify"]).stdout.hasPrefix("OK"))
    }

    @Test func aTargetThatAlreadyHoldsAStoreIsRefusedAndKeepsItsRows() throws {
        let h = CLIHarness()
        try h.user()
        let target = StoreCopyTests.otherKind(h, "busy")
        _ = try h.ok(["--db", target, "user", "add", "owner@example.com"])
        let r = try h.run(["store", "copy", "--to", target])
        #expect(r.status == 1 && r.stderr.contains("not empty"))
        let users = try h.ok(["--db", target, "user", "list", "--json"]).jsonArray()
        #expect(users.compactMap { $0["email"] as? String } == ["owner@example.com"])
    }
}
