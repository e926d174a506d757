import Foundation
import MCPAuth
import Testing

/// `audit list|tail|export --source` takes every audit source, and a store row naming no source is an
/// error on the command line, not a row shown with a made-up source.
@Suite struct AuditSourceOptionTests {
    @Test func everySourceIsAcceptedAndFiltersToItsRows() throws {
        let h = CLIHarness()
        try h.user()
        let store = try Store(path: h.dbPath, create: false)
        for source in AuditSource.allCases where source != .cli {
            try AuditLog.append(AuditEvent(source: source, action: "test.\(source.rawValue)", decision: .allow), to: store.db)
        }
        for source in AuditSource.allCases {
            let rows = try h.ok(["audit", "list", "--source", source.rawValue, "--json"]).jsonArray()
            #expect(!rows.isEmpty && rows.allSatisfy { $0["source"] as? String == source.rawValue }, "\(source)")
        }
        let refused = try h.run(["audit", "list", "--source", "ldap"])
        #expect(refused.status == 64 && refused.stderr.contains("use cli, mcp, oauth, account, admin or sso"))
    }

    @Test func aStoredRowWithAnUnknownSourceIsAnErrorNotARow() throws {
        let h = CLIHarness()
        try h.user()
        let store = try Store(path: h.dbPath, create: false)
        try store.db.run("UPDATE audit SET source = 'martian' WHERE seq = 1")
        let r = try h.run(["audit", "list", "--json"])
        #expect(r.status != 0 && r.stdout.isEmpty && r.stderr.contains("malformed audit row (column source"))
        let verify = try h.run(["audit", "verify", "--json"])
        let bad = try verify.jsonObject()["bad_seq"] as? Int
        #expect(verify.status == 1 && bad == 1)
    }
}
