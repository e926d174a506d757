import Dispatch
import Foundation
import HTTP
import MCPAuth
import MCPGateway
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// Issue 4 item 5: stdio upstreams, one child process per MCP session, a crash answered, not a hang.
@Suite struct StdioUpstreamTests {
    /// Whether `pid` has ended (gone, or a zombie nobody reaped yet).
    static func isGone(_ pid: Int32) -> Bool {
        if kill(pid, 0) != 0 { return errno == ESRCH }
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { return true }
        let state = stat[stat.index(after: close)...].trimmingCharacters(in: .whitespaces).prefix(1)
        return state == "Z" || state == "X"
    }

    static func pid(_ h: GatewayHarness, token: String, session: String) throws -> Int32? {
        let r = try h.call("stdio", token: token, "pid", headers: [("Mcp-Session-Id", session)])
        return r.message?["result"]?["content"]?.arrayValue?.first?["text"]?.stringValue.flatMap { Int32($0) }
    }

    @Test func eachSessionGetsItsOwnProcessAndDeleteEndsIt() throws {
        let h = try GatewayHarness(stdio: true)
        defer { h.close() }
        let token = try h.token()
        let first = try h.initialize("stdio", token: token)
        #expect(first.status == 200, "\(first.text)")
        #expect(first.message?["result"]?["serverInfo"]?["name"]?.stringValue == "fake-stdio")
        let s1 = try #require(first.header("Mcp-Session-Id"))
        let s2 = try #require(try h.initialize("stdio", token: token).header("Mcp-Session-Id"))
        #expect(s1 != s2)
        #expect(try h.rpc("stdio", token: token, #"{"jsonrpc":"2.0","method":"notifications/initialized"}"#,
                          headers: [("Mcp-Session-Id", s1)]).status == 202)
        _ = try h.listTools("stdio", token: token, headers: [("Mcp-Session-Id", s1)])
        let p1 = try #require(try Self.pid(h, token: token, session: s1))
        let p2 = try #require(try Self.pid(h, token: token, session: s2))
        #expect(p1 != p2)
        #expect(!Self.isGone(p1) && !Self.isGone(p2))

        let deleted = try h.send("DELETE", h.path("stdio"), headers: [("Authorization", "Bearer \(token)"), ("Mcp-Session-Id", s1)])
        #expect(deleted.status == 204)
        #expect(eventually { Self.isGone(p1) }, "DELETE ends the session's process")
        #expect(!Self.isGone(p2), "other sessions live on")
        #expect(try h.call("stdio", token: token, "read_notes", headers: [("Mcp-Session-Id", s1)]).status == 404)
        #expect(try h.call("stdio", token: token, "read_notes", headers: [("Mcp-Session-Id", s2)]).status == 200)
        // Closing the gateway ends the rest.
        h.gateway.close()
        #expect(eventually { Self.isGone(p2) })
    }

    @Test func aProcessThatDiesMidCallIsAnsweredWithAJSONRPCErrorNotAHang() throws {
        let h = try GatewayHarness(stdio: true, gatewayConfig: { $0.upstreamTimeout = 30 })
        defer { h.close() }
        let token = try h.token()
        let session = try #require(try h.initialize("stdio", token: token).header("Mcp-Session-Id"))
        _ = try h.listTools("stdio", token: token, headers: [("Mcp-Session-Id", session)])
        let started = Date()
        let r = try h.call("stdio", token: token, "crash", headers: [("Mcp-Session-Id", session)])
        #expect(Date().timeIntervalSince(started) < 25, "answered before the upstream timeout")
        #expect(r.message?["id"] == .int(7))
        #expect(r.message?["error"]?["code"]?.intValue == -32603)
        #expect(r.message?["error"]?["message"]?.stringValue?.contains("exited") == true, "\(r.text)")
        // The session is over; the client starts a new one.
        #expect(try h.call("stdio", token: token, "read_notes", headers: [("Mcp-Session-Id", session)]).status == 404)
        #expect(try h.initialize("stdio", token: token).status == 200)
        #expect(try h.lastRow()?.string("decision") == "allow")
    }

    @Test func aCommandThatCannotStartIsAnsweredAtOnce() throws {
        let h = try GatewayHarness()
        defer { h.close() }
        try Apps(store: h.admin).add(app: h.app, env: "broken", upstream: nil, command: ["/nonexistent/mcp-server", "--stdio"])
        let token = try h.token()
        let r = try h.initialize("broken", token: token)
        #expect(r.message?["error"] != nil, "\(r.text)")
        #expect(r.header("Mcp-Session-Id") == nil)
    }

    @Test func aRequestWithoutItsSessionIs400AndAnUnknownSessionIs404() throws {
        let h = try GatewayHarness(stdio: true)
        defer { h.close() }
        let token = try h.token()
        let missing = try h.call("stdio", token: token, "read_notes")
        #expect(missing.status == 400)
        let unknown = try h.call("stdio", token: token, "read_notes", headers: [("Mcp-Session-Id", "stdio-nope")])
        #expect(unknown.status == 404)
        let get = try h.send("GET", h.path("stdio"), headers: [("Authorization", "Bearer \(token)"), ("Accept", "text/event-stream")])
        #expect(get.status == 405)
        let delete = try h.send("DELETE", h.path("stdio"), headers: [("Authorization", "Bearer \(token)"), ("Mcp-Session-Id", "stdio-nope")])
        #expect(delete.status == 404)
    }

    @Test func theStdioToolListIsFilteredAndCallsNeedTheirScope() throws {
        let h = try GatewayHarness(stdio: true)
        defer { h.close() }
        let read = try h.token(scopes: .read)
        let session = try #require(try h.initialize("stdio", token: read).header("Mcp-Session-Id"))
        let listed = try h.listTools("stdio", token: read, headers: [("Mcp-Session-Id", session)])
        #expect(Set(listed.toolNames) == ["read_notes", "pid", "crash", "fail", "chatty"])
        let denied = try h.call("stdio", token: read, "delete_note", headers: [("Mcp-Session-Id", session)])
        #expect(denied.status == 403)
        #expect((denied.header("WWW-Authenticate") ?? "").contains(#"scope="delete""#))
        // A server message sent before the response comes along as an event stream.
        let chatty = try h.call("stdio", token: read, "chatty", headers: [("Mcp-Session-Id", session)])
        #expect(chatty.status == 200)
        #expect(chatty.header("Content-Type")?.hasPrefix("text/event-stream") == true)
        #expect(chatty.messages.map { $0["method"]?.stringValue } == ["notifications/message", nil])
        #expect(chatty.message?["result"]?["content"]?.arrayValue?.first?["text"]?.stringValue == "stdio did chatty")
    }

    @Test func aStdioSessionOfAnotherUserIsNotFound() throws {
        let h = try GatewayHarness(stdio: true)
        defer { h.close() }
        let alice = try h.token("alice@example.com")
        let bob = try h.token("bob@example.com")
        let session = try #require(try h.initialize("stdio", token: alice).header("Mcp-Session-Id"))
        _ = try h.listTools("stdio", token: alice, headers: [("Mcp-Session-Id", session)])
        #expect(try h.call("stdio", token: bob, "read_notes", headers: [("Mcp-Session-Id", session)]).status == 404)
        #expect(try h.send("DELETE", h.path("stdio"), headers: [("Authorization", "Bearer \(bob)"), ("Mcp-Session-Id", session)]).status == 404)
        #expect(try h.call("stdio", token: alice, "read_notes", headers: [("Mcp-Session-Id", session)]).status == 200)
    }

    @Test func concurrentLargeRequestsOnOneSessionReachTheProcessIntact() throws {
        let h = try GatewayHarness(stdio: true)
        defer { h.close() }
        let token = try h.token()
        let session = try #require(try h.initialize("stdio", token: token).header("Mcp-Session-Id"))
        _ = try h.listTools("stdio", token: token, headers: [("Mcp-Session-Id", session)])
        let answers = Locked<[Int: String]>([:])
        let group = DispatchGroup()
        let n = 8
        for i in 0..<n {
            group.enter()
            let t = Thread {
                defer { group.leave() }
                // Far above PIPE_BUF, so unserialized writes to the child's stdin would interleave.
                let blob = String(repeating: String(UnicodeScalar(UInt8(97 + i))), count: 300_000)
                let body = #"{"jsonrpc":"2.0","id":\#(100 + i),"method":"tools/call","params":{"name":"read_notes","arguments":{"blob":"\#(blob)"}}}"#
                let r = try? h.rpc("stdio", token: token, body, headers: [("Mcp-Session-Id", session)])
                let text = r?.message?["result"]?["content"]?.arrayValue?.first?["text"]?.stringValue ?? "status \(r?.status ?? -1): \(r?.text.prefix(200) ?? "")"
                let id = r?.message?["id"]?.intValue ?? -1
                answers.withLock { $0[i] = id == Int64(100 + i) ? text : "wrong id \(id): \(text)" }
            }
            t.stackSize = 1 << 20
            t.start()
        }
        #expect(group.wait(timeout: .now() + 60) == .success)
        #expect(answers.value.count == n)
        for (i, text) in answers.value.sorted(by: { $0.key < $1.key }) {
            #expect(text == "stdio did read_notes", "request \(i): \(text)")
        }
        #expect(try Self.pid(h, token: token, session: session) != nil, "the process survived")
    }

    @Test func theNumberOfStdioSessionsIsLimited() throws {
        let h = try GatewayHarness(stdio: true, gatewayConfig: { $0.maxStdioSessions = 1 })
        defer { h.close() }
        let token = try h.token()
        let session = try #require(try h.initialize("stdio", token: token).header("Mcp-Session-Id"))
        let refused = try h.initialize("stdio", token: token)
        #expect(refused.status == 503)
        #expect(refused.message?["error"] != nil)
        #expect(try h.send("DELETE", h.path("stdio"), headers: [("Authorization", "Bearer \(token)"), ("Mcp-Session-Id", session)]).status == 204)
        #expect(try h.initialize("stdio", token: token).status == 200)
    }

    @Test func anIdleStdioSessionIsEndedAndItsProcessKilled() throws {
        let h = try GatewayHarness(stdio: true, gatewayConfig: { $0.sessionIdleTimeout = 0.2 })
        defer { h.close() }
        let token = try h.token()
        let session = try #require(try h.initialize("stdio", token: token).header("Mcp-Session-Id"))
        _ = try h.listTools("stdio", token: token, headers: [("Mcp-Session-Id", session)])
        let pid = try #require(try Self.pid(h, token: token, session: session))
        #expect(eventually(within: 20) { Self.isGone(pid) }, "the idle session's process was killed")
        #expect(try h.call("stdio", token: token, "read_notes", headers: [("Mcp-Session-Id", session)]).status == 404)
    }

    @Test func upstreamErrorMessagesDoNotCarryArgumentsIntoTheAuditLog() throws {
        let h = try GatewayHarness(stdio: true)
        defer { h.close() }
        let token = try h.token(scopes: .read)
        let session = try #require(try h.initialize("stdio", token: token).header("Mcp-Session-Id"))
        _ = try h.listTools("stdio", token: token, headers: [("Mcp-Session-Id", session)])
        let marker = "sekrit-" + UUID().uuidString
        let r = try h.call("stdio", token: token, "fail", arguments: #"{"password":"\#(marker)"}"#, headers: [("Mcp-Session-Id", session)])
        #expect(r.message?["error"]?["message"]?.stringValue?.contains(marker) == true, "the client sees the upstream's error as sent")
        let row = try #require(try h.lastRow())
        #expect(row.string("tool") == "fail")
        #expect(!(row.string("reason") ?? "").contains(marker), "reason: \(row.string("reason") ?? "")")
        for file in [h.dbPath, h.dbPath + "-wal"] {
            guard let data = FileManager.default.contents(atPath: file) else { continue }
            #expect(data.range(of: Data(marker.utf8)) == nil, "\(file) holds the raw arguments")
        }
    }
}
