import Foundation
import MCPAuth
import Testing

/// Strings from outside, at the domain layer: audit rows stay bounded, user names with hidden characters
/// are refused, malformed upstream addresses are named as such.
@Suite struct HostileInputTests {
    static func tempStore() throws -> Store { try TestStore.make() }

    static let megabyte = String(repeating: "m", count: 1 << 20)

    /// An event as a hostile client would make it: every field from outside a megabyte long.
    static func hugeEvent() -> AuditEvent {
        AuditEvent(source: .mcp, action: megabyte, email: megabyte, clientID: megabyte, app: "notes", env: "prod",
                   method: megabyte, tool: megabyte, decision: .deny, reason: megabyte, remoteAddr: megabyte, target: megabyte)
    }

    static func expectCapped(_ r: AuditRecord, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(r.text("method").utf8.count == 128, sourceLocation: sourceLocation)
        #expect(r.text("tool").utf8.count == 128, sourceLocation: sourceLocation)
        for key in ["action", "email", "client_id", "reason", "remote_addr", "target"] {
            #expect(r.text(key).utf8.count == 256, "\(key) was not capped", sourceLocation: sourceLocation)
        }
    }

    @Test func aOneMegabyteMethodIsStoredAsAtMost128BytesAndTheChainStillVerifies() throws {
        let store = try Self.tempStore()
        try AuditLog.append(Self.hugeEvent(), to: store.db)
        let rows = try AuditQuery.list(AuditFilter(), limit: 10, db: store.db)
        try #require(rows.count == 1)
        Self.expectCapped(rows[0])
        #expect(try AuditVerifier.verify(db: store.db, expectHead: nil).ok)
    }

    @Test func theGatewaysGroupCommittingWriterCapsFieldsToo() throws {
        let store = try Self.tempStore()
        let writer = try AuditWriter(path: store.path)
        #expect(writer.write(Self.hugeEvent()))
        writer.close()
        let rows = try AuditQuery.list(AuditFilter(), limit: 10, db: store.db)
        try #require(rows.count == 1)
        Self.expectCapped(rows[0])
    }

    @Test func capsCutOnACharacterBoundaryNeverInsideOne() {
        let euros = String(repeating: "€", count: 100)          // 3 bytes each
        let cut = AuditFieldLimits.truncate(euros, toBytes: 128)
        #expect(cut.utf8.count == 126 && cut == String(repeating: "€", count: 42))
        let emoji = String(repeating: "😀", count: 100)          // 4 bytes each
        #expect(AuditFieldLimits.truncate(emoji, toBytes: 255) == String(repeating: "😀", count: 63))
        #expect(AuditFieldLimits.truncate("short", toBytes: 128) == "short")
    }

    @Test(arguments: ["\u{1B}[2J\u{1B}[31mEvil", "Alice\nBob", "Alice\rMallory", "tab\there", "a\u{202E}gnp.exe",
                      "iso\u{2066}late", "del\u{7F}", "c1\u{9B}31m", "zero\u{200B}width", "bom\u{FEFF}",
                      String(repeating: "a", count: 257)])
    func userNamesWithHiddenCharactersOrTooLongAreRefusedAndTheStoreIsUnchanged(name: String) throws {
        let store = try Self.tempStore()
        let users = Users(store: store)
        let before = try AuditLog.head(store.db)
        #expect(throws: DomainError.self) { try users.add(email: "eve@example.com", name: name, password: nil) }
        #expect(try users.list().isEmpty)
        #expect(try AuditLog.head(store.db) == before)
    }

    @Test func ordinaryNamesInAnyScriptAreAccepted() throws {
        let users = Users(store: try Self.tempStore())
        for (i, name) in ["Zoë Ünal", "نیما\u{200C}رضایی", "田中 太郎", "O'Brien-Smith", String(repeating: "é", count: 256)].enumerated() {
            #expect(try users.add(email: "u\(i)@example.com", name: name, password: nil).name == name)
        }
    }

    @Test func upstreamPortsOutsideOneTo65535AreMalformed() {
        for bad in ["http://h:99999/mcp", "http://h:0/mcp", "http://h:65536/", "http://h:123456789012345678901/x",
                    "http://[::1]:70000/mcp", "not a url", "/relative/mcp"] {
            #expect(UpstreamURL.malformation(bad) != nil, "\(bad) was accepted")
            #expect(throws: DomainError.self, "\(bad) was accepted") { try UpstreamURL.validate(bad) }
        }
        for good in ["http://h:1/mcp", "http://h:65535/mcp", "https://h/mcp", "http://[::1]:8080/mcp"] {
            #expect(UpstreamURL.malformation(good) == nil, "\(good) was refused")
        }
    }
}
