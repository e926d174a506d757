import Foundation
import MCPAuth
import Testing

/// Audit queries and the hash chain, tampered with directly through SQLite.
@Suite struct AuditCommandTests {
    func filled(_ n: Int = 6) throws -> CLIHarness {
        let h = CLIHarness()
        try h.user()
        for _ in 0..<(n - 1) { _ = try h.token() }
        return h
    }

    @Test func auditListJSONHasTheDocumentedKeysNewestFirst() throws {
        let h = try filled()
        let events = try h.ok(["audit", "list", "--json"]).jsonArray()
        #expect(events.count == 6)
        let keys = ["seq", "at", "source", "action", "email", "token_id", "client_id", "app", "env", "method", "tool",
                    "decision", "reason", "status", "duration_ms", "remote_addr"]
        for e in events { for k in keys { #expect(e.keys.contains(k), "missing \(k)") } }
        let seqs = events.compactMap { $0["seq"] as? Int }
        #expect(seqs == seqs.sorted(by: >))
        #expect(try h.ok(["audit", "list", "--limit", "2", "--json"]).jsonArray().count == 2)
        #expect(try h.ok(["audit", "list", "--action", "user.add", "--json"]).jsonArray().count == 1)
        #expect(try h.ok(["audit", "list", "--email", "ALICE@example.com", "--since", "1h", "--json"]).jsonArray().count == 6)
        #expect(try h.ok(["audit", "list", "--until", "1h", "--json"]).jsonArray().isEmpty)
        let future = Clock.rfc3339(Clock.nowMillis() + 3_600_000)
        #expect(try h.ok(["audit", "list", "--since", future, "--json"]).jsonArray().isEmpty)
        #expect(try h.run(["audit", "list", "--since", "yesterday"]).status == 64)
        #expect(try h.run(["audit", "list", "--decision", "maybe"]).status == 64)
        #expect(try h.run(["audit", "list", "--limit", "0"]).status == 64)
    }

    @Test func exportStreamsJSONLinesAndCSV() throws {
        let h = try filled()
        let jsonl = try h.ok(["audit", "export"]).lines
        #expect(jsonl.count == 6)
        let first = try JSONSerialization.jsonObject(with: Data(jsonl[0].utf8)) as? [String: Any]
        #expect(first?["seq"] as? Int == 1)
        let csv = try h.ok(["audit", "export", "--format", "csv", "--action", "token.create"]).lines
        #expect(csv.count == 6)
        #expect(csv[0].hasPrefix("seq,at,source,action,email"))
        #expect(try h.run(["audit", "export", "--format", "xml"]).status == 64)
    }

    @Test func verifyPassesOnAnUntouchedLogAndHeadMatchesIt() throws {
        let h = try filled()
        let v = try h.ok(["audit", "verify", "--json"]).jsonObject()
        #expect(v["ok"] as? Bool == true && v["rows"] as? Int == 6)
        let head = try h.ok(["audit", "head"]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(head.hasPrefix("6:") && head.count == 2 + 64)
        try h.ok(["audit", "verify", "--expect-head", head])
    }

    @Test func verifyDetectsAnEditedRow() throws {
        let h = try filled()
        try Store(path: h.dbPath).db.run("UPDATE audit SET email = 'mallory@example.com' WHERE seq = 3")
        let r = try h.run(["audit", "verify", "--json"])
        #expect(r.status == 1)
        #expect(try r.jsonObject()["bad_seq"] as? Int == 3)
        let human = try h.run(["audit", "verify"])
        #expect(human.status == 1 && human.stderr.contains("seq 3"))
    }

    @Test func verifyDetectsADeletedMiddleRow() throws {
        let h = try filled()
        try Store(path: h.dbPath).db.run("DELETE FROM audit WHERE seq = 4")
        let r = try h.run(["audit", "verify", "--json"])
        let bad = try r.jsonObject()["bad_seq"] as? Int
        #expect(r.status == 1 && bad == 4)
    }

    @Test func verifyDetectsAnInsertedRow() throws {
        let h = try filled()
        let db = try Store(path: h.dbPath).db
        try db.run("DELETE FROM audit WHERE seq = 4")
        try db.run("INSERT INTO audit (seq, at, source, action, prev_hash, hash) SELECT 4, at, 'cli', 'user.add', prev_hash, hash FROM audit WHERE seq = 3")
        let r = try h.run(["audit", "verify", "--json"])
        let bad = try r.jsonObject()["bad_seq"] as? Int
        #expect(r.status == 1 && bad == 4)
    }

    @Test func verifyDetectsATruncatedTail() throws {
        let h = try filled()
        let head = try h.ok(["audit", "head"]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        try Store(path: h.dbPath).db.run("DELETE FROM audit WHERE seq >= 5")
        let r = try h.run(["audit", "verify", "--json"])
        let bad = try r.jsonObject()["bad_seq"] as? Int
        #expect(r.status == 1 && bad == 5)
        // Even if the attacker also rewinds the head record, an externally kept head catches it.
        let db = try Store(path: h.dbPath).db
        try db.run("UPDATE audit_head SET seq = 4, hash = (SELECT hash FROM audit WHERE seq = 4)")
        #expect(try h.run(["audit", "verify"]).status == 0)
        #expect(try h.run(["audit", "verify", "--expect-head", head]).status == 1)
    }

    @Test func pruneKeepsTheChainVerifiable() throws {
        let h = try filled()
        let db = try Store(path: h.dbPath).db
        try db.run("UPDATE audit SET at = at - 8640000000 WHERE seq <= 3")
        // Changing `at` breaks those rows' hashes; prune removes exactly them, so the chain is whole again.
        #expect(try h.run(["audit", "verify"]).status == 1)
        let r = try h.ok(["audit", "prune", "--before", "90d", "--json"]).jsonObject()
        #expect(r["deleted"] as? Int == 3)
        let v = try h.ok(["audit", "verify", "--json"]).jsonObject()
        #expect(v["ok"] as? Bool == true && v["first_seq"] as? Int == 4 && v["rows"] as? Int == 4)
    }

    @Test func tailFollowsEventsWrittenByOtherProcesses() throws {
        let h = try filled(2)
        let p = Process()
        p.executableURL = URL(fileURLWithPath: CLIHarness.binary)
        p.arguments = ["audit", "tail", "-f", "--json", "-n", "1"]
        p.environment = h.environment
        let outURL = h.dir.appendingPathComponent("tail.out")
        _ = FileManager.default.createFile(atPath: outURL.path, contents: nil)
        p.standardOutput = try FileHandle(forWritingTo: outURL)
        p.standardInput = FileHandle.nullDevice
        try p.run()
        defer { kill(p.processIdentifier, SIGKILL); p.waitUntilExit() }
        func output() -> String { (try? String(contentsOf: outURL, encoding: .utf8)) ?? "" }
        var waited = 0.0
        while !output().contains("token.create") && waited < 20 { Thread.sleep(forTimeInterval: 0.05); waited += 0.05 }
        try h.user("bob@example.com")
        waited = 0
        while !output().contains("bob@example.com") && waited < 20 { Thread.sleep(forTimeInterval: 0.05); waited += 0.05 }
        let lines = output().split(separator: "\n")
        #expect(lines.count == 2)
        #expect(lines.last?.contains("\"user.add\"") == true)
    }
}

/// Text is read and hashed by byte length, so an embedded NUL cannot hide an edit.
@Suite struct AuditNULTests {
    @Test(.enabled(if: CLIHarness.isSQLite, "PostgreSQL text cannot hold NUL at all"))
    func verifyDetectsAnEditHiddenBehindANULByte() throws {
        let h = CLIHarness()
        try h.user()
        _ = try h.token()
        try Store(path: h.dbPath).db.run("UPDATE audit SET email = email || char(0) || 'x' WHERE seq = 2")
        let r = try h.run(["audit", "verify", "--json"])
        let bad = try r.jsonObject()["bad_seq"] as? Int
        #expect(r.status == 1 && bad == 2)
    }

    @Test func valuesWithANULByteRoundTripWhole() throws {
        let store = try DomainTestsStore.make()
        try AuditLog.append(AuditEvent(source: .mcp, action: "tools/call", tool: "a\u{0}b"), to: store.db)
        let row = try #require(try store.db.first("SELECT tool, length(CAST(tool AS BLOB)) AS n FROM audit"))
        #expect(row["tool"].string == "a\u{0}b" && row["n"].int == 3)
        #expect(try AuditVerifier.verify(db: store.db).ok)
    }
}

enum DomainTestsStore {
    static func make() throws -> Store {
        try Store(path: FileManager.default.temporaryDirectory.appendingPathComponent("nul-" + UUID().uuidString + "/s.db").path)
    }
}
