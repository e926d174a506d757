import Dispatch
import Foundation
import HTTP
import MCPAuth
import MCPGateway
import Testing

/// DESIGN.md §7 and issue 4 item 6: every MCP request, allowed or denied, has its audit row committed
/// before the answer is released; arguments only as an HMAC; the chain continues; fail closed.
@Suite struct AuditTests {
    @Test func everyRequestAllowedOrDeniedHasExactlyOneRowWithItsFields() throws {
        let h = try GatewayHarness()
        defer { h.close() }
        let read = try h.token(scopes: .read)
        let readID = try h.tokenID(read)
        let carol = try h.token("carol@example.com")

        struct Want { let method: String?; let tool: String?; let decision: AuditDecision; let status: Int; let email: String?; let token: String? }
        func check(_ reply: Reply, _ want: Want, reason: (String) -> Bool = { _ in true }, sourceLocation: SourceLocation = #_sourceLocation) throws {
            #expect(reply.status == want.status, "\(reply.text)", sourceLocation: sourceLocation)
            let last = try h.lastRow()
            let row = try #require(last, sourceLocation: sourceLocation)
            #expect(row.string("method") == want.method, sourceLocation: sourceLocation)
            #expect(row.string("tool") == want.tool, sourceLocation: sourceLocation)
            #expect(row.string("decision") == want.decision.rawValue, sourceLocation: sourceLocation)
            #expect(row.int("status") == Int64(want.status), sourceLocation: sourceLocation)
            #expect(row.string("email") == want.email, sourceLocation: sourceLocation)
            #expect(row.string("token_id") == want.token, sourceLocation: sourceLocation)
            #expect(row.string("app") == h.app && row.string("env") == "json", sourceLocation: sourceLocation)
            #expect(row.string("remote_addr") == "127.0.0.1", sourceLocation: sourceLocation)
            #expect((row.value("duration_ms").double ?? -1) >= 0, sourceLocation: sourceLocation)
            #expect(reason(row.string("reason") ?? ""), "reason: \(row.string("reason") ?? "nil")", sourceLocation: sourceLocation)
        }

        var expected = 0
        func next(_ reply: Reply, _ want: Want, reason: @escaping (String) -> Bool = { _ in true },
                  sourceLocation: SourceLocation = #_sourceLocation) throws {
            expected += 1
            #expect(try h.mcpRows().count == expected, "one row per request", sourceLocation: sourceLocation)
            try check(reply, want, reason: reason, sourceLocation: sourceLocation)
        }

        try next(try h.rpc("json", token: nil, #"{"jsonrpc":"2.0","id":1,"method":"ping"}"#),
                 Want(method: "ping", tool: nil, decision: .deny, status: 401, email: nil, token: nil), reason: { $0 == "no credentials" })
        try next(try h.call("json", token: read, "not_listed"),
                 Want(method: "tools/call", tool: "not_listed", decision: .deny, status: 403, email: "alice@example.com", token: readID),
                 reason: { $0.contains("delete") })
        try next(try h.listTools("json", token: read),
                 Want(method: "tools/list", tool: nil, decision: .allow, status: 200, email: "alice@example.com", token: readID))
        try next(try h.call("json", token: read, "read_notes"),
                 Want(method: "tools/call", tool: "read_notes", decision: .allow, status: 200, email: "alice@example.com", token: readID),
                 reason: { $0.contains("grant") })
        try next(try h.call("json", token: read, "add_note"),
                 Want(method: "tools/call", tool: "add_note", decision: .deny, status: 403, email: "alice@example.com", token: readID))
        try next(try h.send("PUT", h.path("json"), headers: [("Authorization", "Bearer \(read)")]),
                 Want(method: nil, tool: nil, decision: .deny, status: 405, email: nil, token: nil))
        try next(try h.rpc("json", token: carol, #"{"jsonrpc":"2.0","id":1,"method":"ping"}"#),
                 Want(method: "ping", tool: nil, decision: .deny, status: 404, email: "carol@example.com", token: try h.tokenID(carol)),
                 reason: { $0.contains("no grant") })
        try next(try h.rpc("json", token: read, #"{"jsonrpc":"2.0","method":"notifications/initialized"}"#),
                 Want(method: "notifications/initialized", tool: nil, decision: .allow, status: 202, email: "alice@example.com", token: readID))
        try next(try h.rpc("json", token: read, "{oops"),
                 Want(method: nil, tool: nil, decision: .deny, status: 400, email: "alice@example.com", token: readID))
        #expect(try AuditVerifier.verify(db: h.admin.db).ok)
    }

    @Test func argumentsAreStoredOnlyAsAnHMACDigestUnderThePerStoreKey() throws {
        let h = try GatewayHarness()
        defer { h.close() }
        let read = try h.token(scopes: .read)
        _ = try h.listTools("json", token: read)
        let marker = "sekrit-" + UUID().uuidString
        let args = #"{"query":"\#(marker)","limit":3}"#
        #expect(try h.call("json", token: read, "read_notes", arguments: args).status == 200)
        #expect(try h.call("json", token: read, "delete_note", arguments: args).status == 403)
        #expect(try h.call("json", token: read, "read_notes", arguments: #"{"query":"other"}"#).status == 200)
        #expect(h.upstream.requests.contains { String(decoding: $0.body, as: UTF8.self).contains(marker) }, "the upstream got the arguments")

        let key = try #require(try h.admin.setting("audit_key")?.bytes)
        let digest = Hex.encode(HMAC.sha256(key: key, message: Array(try JSON.parse(args).encoded().utf8)))
        let digests = try h.mcpRows().filter { $0.string("method") == "tools/call" }.map { $0.string("args_digest") }
        #expect(digests.count == 3)
        #expect(digests[0] == digest)
        #expect(digests[1] == digest, "denied calls are digested too")
        #expect(digests[2] != nil && digests[2] != digest)
        #expect(try h.mcpRows().allSatisfy { !($0.string("reason") ?? "").contains(marker) })

        // The raw argument text is nowhere in the store's files.
        for file in [h.dbPath, h.dbPath + "-wal"] {
            guard let data = FileManager.default.contents(atPath: file) else { continue }
            #expect(data.range(of: Data(marker.utf8)) == nil, "\(file) holds the raw arguments")
        }
    }

    @Test func gatewayRowsContinueTheHashChainStartedByTheCLI() throws {
        let h = try GatewayHarness()
        defer { h.close() }
        let token = try h.token()
        let cli = try Store(path: h.dbPath)
        for i in 0..<5 {
            _ = try h.rpc("json", token: i % 2 == 0 ? token : nil, #"{"jsonrpc":"2.0","id":1,"method":"ping"}"#)
            _ = try Tokens(store: cli).create(email: "bob@example.com", name: "t\(i)", scopes: .read, app: nil, env: nil, lifetimeSeconds: 60)
        }
        let report = try AuditVerifier.verify(db: h.admin.db)
        #expect(report.ok, "\(report.problem ?? "")")
        #expect(try h.mcpRows().count == 5)
        var sources: [String] = []
        try AuditQuery.stream(AuditFilter(), db: h.admin.db) { sources.append($0.string("source") ?? "") }
        #expect(sources.suffix(10) == ["mcp", "cli", "mcp", "cli", "mcp", "cli", "mcp", "cli", "mcp", "cli"])
    }

    /// Fail closed: a request whose row cannot be committed gets 503 and none of the upstream's answer. The
    /// row records the outcome, so it is written after forwarding: the upstream may have been reached.
    @Test(.enabled(if: GatewayHarness.isSQLite, "injects its fault with SQLite-only SQL"))
    func aRequestFailsClosedWith503WhenItsAuditRowCannotBeWritten() throws {
        let h = try GatewayHarness()
        defer { h.close() }
        let token = try h.token()
        _ = try h.listTools("json", token: token)
        let before = try h.mcpRows().count
        // Another process makes every audit insert fail (as a full disk or a broken file would).
        let cli = try Store(path: h.dbPath)
        try cli.db.execute("CREATE TRIGGER test_audit_broken BEFORE INSERT ON audit BEGIN SELECT RAISE(ABORT, 'audit storage broken'); END")
        let call = try h.call("json", token: token, "read_notes")
        #expect(call.status == 503)
        #expect(!call.text.contains("upstream did"), "the upstream's answer is withheld")
        #expect(call.message?["error"] != nil)
        let sse = try h.listTools("sse", token: token)
        #expect(sse.status == 503)
        #expect(!sse.text.contains("read_notes"))
        // Denied requests fail closed too: nothing is answered that is not on record.
        #expect(try h.rpc("json", token: nil, #"{"jsonrpc":"2.0","id":1,"method":"ping"}"#).status == 503)
        #expect(try h.mcpRows().count == before)

        try cli.db.execute("DROP TRIGGER test_audit_broken")
        #expect(try h.call("json", token: token, "read_notes").status == 200)
        #expect(try h.mcpRows().count == before + 1)
        #expect(try AuditVerifier.verify(db: h.admin.db).ok)
    }

    @Test func aStoppedAuditWriterRefusesEveryRequest() throws {
        let h = try GatewayHarness()
        defer { h.close() }
        let token = try h.token()
        #expect(try h.rpc("json", token: token, #"{"jsonrpc":"2.0","id":1,"method":"ping"}"#).status == 200)
        h.audit.close()
        let r = try h.rpc("json", token: token, #"{"jsonrpc":"2.0","id":2,"method":"ping"}"#)
        #expect(r.status == 503)
        #expect(try h.mcpRows().count == 1)
    }

    @Test func closingTheWriterCommitsWhatWasQueuedAndRefusesLaterEvents() throws {
        let h = try GatewayHarness()
        defer { h.close() }
        let results = Locked<[Bool]>([])
        let group = DispatchGroup()
        for i in 0..<16 {
            group.enter()
            let t = Thread {
                defer { group.leave() }
                let ok = h.audit.write(AuditEvent(source: .mcp, action: "test.close", app: h.app, env: "json", reason: "event \(i)"))
                results.withLock { $0.append(ok) }
            }
            t.stackSize = 1 << 20
            t.start()
        }
        h.audit.close()
        #expect(group.wait(timeout: .now() + 30) == .success)
        let accepted = results.value.filter { $0 }.count
        #expect(try h.mcpRows().filter { $0.string("action") == "test.close" }.count == accepted, "every acknowledged event is committed")
        #expect(!h.audit.write(AuditEvent(source: .mcp, action: "test.late")))
        h.audit.close()  // a second close is harmless
        #expect(try AuditVerifier.verify(db: h.admin.db).ok)
    }

    @Test(.enabled(if: GatewayHarness.isSQLite, "injects its fault with SQLite-only SQL"))
    func concurrentRequestsShareAuditTransactions() throws {
        let h = try GatewayHarness()
        defer { h.close() }
        let token = try h.token()
        #expect(try h.rpc("json", token: token, #"{"jsonrpc":"2.0","id":1,"method":"ping"}"#).status == 200)
        let batchesBefore = h.audit.batches
        let n = 24
        // Hold the write lock briefly (like a CLI command would), so requests pile up behind one commit.
        let cli = try Store(path: h.dbPath)
        try cli.db.execute("BEGIN IMMEDIATE")
        let statuses = Locked<[Int]>([])
        let group = DispatchGroup()
        for i in 0..<n {
            group.enter()
            let t = Thread {
                defer { group.leave() }
                let s = (try? h.rpc("json", token: token, #"{"jsonrpc":"2.0","id":\#(i),"method":"ping"}"#).status) ?? -1
                statuses.withLock { $0.append(s) }
            }
            t.stackSize = 1 << 20
            t.start()
        }
        // Bounded wait for the requests to reach the writer (they cannot finish while the lock is held).
        usleep(500_000)
        #expect(statuses.value.isEmpty, "no answer is released before its row is committed")
        try cli.db.execute("COMMIT")
        #expect(group.wait(timeout: .now() + 30) == .success)
        #expect(statuses.value.count == n && statuses.value.allSatisfy { $0 == 200 })
        let transactions = h.audit.batches - batchesBefore
        #expect(transactions < n, "\(transactions) transactions for \(n) requests")
        #expect(h.audit.largestBatch > 1)
        #expect(try h.mcpRows().count == n + 1)
        #expect(try AuditVerifier.verify(db: h.admin.db).ok)
    }
}
