import Foundation
import MCPAuth
import Testing

/// Unit tests of the domain pieces that need no binary: secrets, policy, JSON, time, redirect URIs.
@Suite struct DomainTests {
    static func tempStore() throws -> Store { try TestStore.make() }

    @Test func tokenSecretsHaveTheDocumentedShapeAndAValidChecksum() {
        for kind in ["pat", "at", "rt", "cs"] {
            let s = TokenSecret.generate(kind: kind)
            #expect(s.hasPrefix("mcp_\(kind)_"))
            #expect(s.count == 4 + kind.count + 1 + 32 + 6)
            #expect(TokenSecret.kind(of: s) == kind)
        }
        let s = TokenSecret.generate(kind: "pat")
        var chars = Array(s)
        chars[12] = chars[12] == "a" ? "b" : "a"
        #expect(TokenSecret.kind(of: String(chars)) == nil)
        #expect(TokenSecret.kind(of: s + "x") == nil)
        #expect(TokenSecret.kind(of: "mcp_xyz_" + String(s.dropFirst(8))) == nil)
        #expect(TokenSecret.redacted(s) == "mcp_pat_…" + String(s.suffix(4)))
    }

    @Test func tokenSecretsAreFoundInTextButNotInsideLongerWords() {
        let a = TokenSecret.generate(kind: "pat")
        let b = TokenSecret.generate(kind: "rt")
        let text = "x=\(a)\n\"\(b)\" and x\(a)y and mcp_pat_" + String(repeating: "Z", count: 38)
        #expect(TokenSecret.find(in: text) == [a, b])
        #expect(TokenSecret.find(in: "") == [])
    }

    @Test func scopeSetsParseRolesAndLists() {
        #expect(ScopeSet(parsing: "read,write") == [.read, .write])
        #expect(ScopeSet(parsing: "delete read") == [.read, .delete])
        #expect(ScopeSet(parsing: "read,admin") == nil)
        #expect(ScopeSet(parsing: "") == nil)
        #expect(ScopeSet.role("viewer") == .read && ScopeSet.role("editor") == [.read, .write] && ScopeSet.role("admin") == .all)
        #expect(ScopeSet.all.description == "read,write,delete" && ScopeSet.all.oauthString == "read write delete")
    }

    @Test func policyIntersectsTokenScopesGrantsAndBinding() {
        let viewer = Grant(email: "a@x.io", app: "notes", env: "production", scopes: .read, createdAt: 0)
        let editorAll = Grant(email: "a@x.io", app: "notes", env: "*", scopes: [.read, .write], createdAt: 0)
        var d = Policy.evaluate(grants: [viewer], tokenScopes: .all, binding: (nil, nil), app: "notes", env: "production", needed: .write)
        #expect(!d.allowed && d.hasAccess && d.reason.contains("viewer on notes/production"))
        d = Policy.evaluate(grants: [viewer, editorAll], tokenScopes: ScopeSet.all, binding: (nil, nil), app: "notes", env: "production", needed: ScopeSet.write)
        #expect(d.allowed && d.effective == ScopeSet([.read, .write]))
        d = Policy.evaluate(grants: [editorAll], tokenScopes: .read, binding: (nil, nil), app: "notes", env: "production", needed: .write)
        #expect(!d.allowed && d.reason.contains("lacks scope write"))
        d = Policy.evaluate(grants: [editorAll], tokenScopes: .all, binding: ("notes", "staging"), app: "notes", env: "production", needed: .read)
        #expect(!d.allowed && !d.hasAccess)
        d = Policy.evaluate(grants: [], tokenScopes: .all, binding: (nil, nil), app: "notes", env: "production", needed: .read)
        #expect(!d.allowed && !d.hasAccess)
    }

    @Test func toolScopesFollowAnnotationsAsDesignSection5Says() {
        #expect(ToolScopes.fromAnnotations(.object([("readOnlyHint", true)])).0 == .read)
        #expect(ToolScopes.fromAnnotations(.object([("readOnlyHint", false), ("destructiveHint", false)])).0 == .write)
        #expect(ToolScopes.fromAnnotations(.object([("destructiveHint", true)])).0 == .delete)
        #expect(ToolScopes.fromAnnotations(nil).0 == .delete)
        #expect(ToolScopes.fromAnnotations(.object([])).0 == .delete)
        #expect(ToolScopes.forMethod("tools/list") == .read && ToolScopes.forMethod("initialize") == .read)
        #expect(ToolScopes.forMethod("notifications/initialized") == .read)
        // MCP 2026-07-28: subscriptions/listen opens the notification stream, as the GET stream did: a read.
        #expect(ToolScopes.forMethod("subscriptions/listen") == .read && ToolScopes.forMethod("server/discover") == .read)
        #expect(ToolScopes.forMethod("sampling/createMessage") == .delete && ToolScopes.forMethod("made/up") == .delete)
    }

    @Test func jsonRoundTripsAndRejectsMalformedInput() throws {
        let text = #"{"a":[1,-2.5,true,null,"x\u00e9\n\"q\""],"b":{"c":"\ud83d\ude00"},"n":12345678901234}"#
        let v = try JSON.parse(text)
        #expect(v["a"]?.arrayValue?.count == 5)
        #expect(v["b"]?["c"]?.stringValue == "😀")
        #expect(v["n"]?.intValue == 12_345_678_901_234)
        #expect(try JSON.parse(v.encoded()) == v)
        for bad in ["", "{", "[1,]", "{\"a\" 1}", "01", "\"\u{01}\"", "tru", "[1] x", "{\"a\":1,}", "\"\\x\""] {
            #expect(throws: JSON.ParseError.self) { try JSON.parse(bad) }
        }
        let deep = String(repeating: "[", count: 500) + String(repeating: "]", count: 500)
        #expect(throws: JSON.ParseError.self) { try JSON.parse(deep) }
    }

    @Test func durationsAndRFC3339TimesParseTheWayOperatorsWriteThem() {
        #expect(DurationText.seconds("90d") == Int64(7_776_000))
        #expect(DurationText.seconds("1h30m") == 5400)
        #expect(DurationText.seconds("2w") == 1_209_600)
        for bad in ["", "d", "10", "-1d", "1x", "0s", "99999999999999999999d"] { #expect(DurationText.seconds(bad) == nil, "\(bad)") }
        #expect(Clock.parseRFC3339("2026-11-22T00:30:00Z") == 1_795_307_400_000)
        #expect(Clock.parseRFC3339("2026-11-22T01:30:00.250+01:00") == 1_795_307_400_250)
        #expect(Clock.parseRFC3339("2026-13-01T00:00:00Z") == nil)
        #expect(Clock.parseRFC3339("yesterday") == nil)
        #expect(Clock.rfc3339(1_795_307_400_000) == "2026-11-22T00:30:00Z")
        #expect(Clock.rfc3339Millis(1_795_307_400_250) == "2026-11-22T00:30:00.250Z")
    }

    @Test func redirectURIRulesFollowOAuth21AndRFC8252() {
        for ok in ["https://app.example.com/cb", "http://127.0.0.1:3000/cb", "http://localhost/cb", "http://[::1]:8080/cb", "com.example.app:/oauth"] {
            #expect(RedirectURI.problem(ok) == nil, "\(ok)")
        }
        for bad in ["http://example.com/cb", "https://x.com/cb#f", "https://u:p@x.com/cb", "javascript:alert(1)", "myapp:/cb", "/relative", "https://x.com/a b"] {
            #expect(RedirectURI.problem(bad) != nil, "\(bad)")
        }
        #expect(RedirectURI.matches("http://127.0.0.1:5555/cb", registered: "http://127.0.0.1:3000/cb"))
        #expect(!RedirectURI.matches("http://127.0.0.1:5555/other", registered: "http://127.0.0.1:3000/cb"))
        #expect(!RedirectURI.matches("https://app.example.com/cb/", registered: "https://app.example.com/cb"))
        #expect(!RedirectURI.matches("https://app.example.com:444/cb", registered: "https://app.example.com/cb"))
    }

    @Test func auditChainLinksRowsAndVerifierFindsTampering() throws {
        let store = try DomainTests.tempStore()
        for i in 0..<10 { try AuditLog.append(AuditEvent(source: .mcp, action: "tools/call", email: "a@x.io", tool: "t\(i)", durationMs: Double(i) / 3), to: store.db) }
        var report = try AuditVerifier.verify(db: store.db)
        #expect(report.ok && report.rows == 10)
        try store.db.run("UPDATE audit SET duration_ms = 99 WHERE seq = 7")
        report = try AuditVerifier.verify(db: store.db)
        #expect(!report.ok && report.badSeq == 7)
    }

    @Test func auditCanonicalEncodingIsTheDocumentedByteLayout() {
        // Per column: type tag (0 null, 1 text, 2 integer, 3 real, 4 blob), 4-byte big-endian length, bytes.
        let bytes = AuditChain.canonical(seq: 1, values: [.integer(258), .text("é"), .null, .real(1.5), .blob([1, 2])])
        let expected: [UInt8] = [2, 0, 0, 0, 8, 0, 0, 0, 0, 0, 0, 0, 1,
                                 2, 0, 0, 0, 8, 0, 0, 0, 0, 0, 0, 1, 2,
                                 1, 0, 0, 0, 2, 0xC3, 0xA9,
                                 0, 0, 0, 0, 0,
                                 3, 0, 0, 0, 8, 0x3F, 0xF8, 0, 0, 0, 0, 0, 0,
                                 4, 0, 0, 0, 2, 1, 2]
        #expect(bytes == expected)
        #expect(AuditChain.canonical(seq: -1, values: [.text("")]) == [2, 0, 0, 0, 8] + [UInt8](repeating: 0xFF, count: 8) + [1, 0, 0, 0, 0])
    }

    @Test func migrationsAreRecordedOnceAndConcurrentOpensAgree() throws {
        let store = try DomainTests.tempStore()
        let again = try Store(path: store.path)
        let names = try again.db.query("SELECT name FROM schema_migrations").compactMap { $0.string("name") }
        #expect(names == Migrations.steps.map(\.name))
        #expect(try again.db.query("SELECT 1 FROM apps WHERE name = 'mcpctl'").count == 1)
        if TestStore.isSQLite {
            #expect(try again.db.first("PRAGMA journal_mode")?[0].string == "wal")
            #expect(try again.db.first("PRAGMA foreign_keys")?[0].int == 1)
        }
    }

    @Test func databaseErrorsNeverContainBoundValues() throws {
        let store = try DomainTests.tempStore()
        let secret = "mcp_pat_supersecretvalue"
        do {
            try store.db.run("INSERT INTO tokens (id, kind, user_id, secret_hash, hint, scopes, created_at) VALUES (?, 'pat', 999, ?, 'h', 'read', 0)",
                             [.text(secret), .blob(Array(secret.utf8))])
            Issue.record("foreign key violation not reported")
        } catch let e as DatabaseError {
            #expect(!e.description.contains(secret))
            #expect(e.isConstraint)
        }
    }

    @Test func verifierCoalescesLastUsedWrites() throws {
        let store = try DomainTests.tempStore()
        try Users(store: store).add(email: "a@x.io", name: nil, password: nil)
        let issued = try Tokens(store: store).create(email: "a@x.io", name: nil, scopes: .read, app: nil, env: nil, lifetimeSeconds: 3600)
        let recorder = LastUsedRecorder(intervalSeconds: 60)
        let verifier = TokenVerifier(lastUsed: recorder)
        let before = try store.db.dataVersion()
        for _ in 0..<50 { _ = try verifier.verify(secret: issued.secret, db: store.db) }
        #expect(try Tokens(store: store).find(id: issued.record.id)?.lastUsedAt == nil)
        #expect(recorder.hasPending)
        try recorder.flush(store.db)
        #expect(!recorder.hasPending)
        #expect(try Tokens(store: store).find(id: issued.record.id)?.lastUsedAt != nil)
        _ = try verifier.verify(secret: issued.secret, db: store.db)
        #expect(!recorder.hasPending)
        _ = before
    }
}
