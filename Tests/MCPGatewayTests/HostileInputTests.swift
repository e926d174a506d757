import Foundation
import HTTP
import MCPAuth
import MCPGateway
import Testing

/// Headers that carry identity or routing given twice, and MCP 2026-07-28 routing headers that disagree
/// with the body: refused before anything is authorized or forwarded, and audited.
@Suite struct HostileInputTests {
    static let call = #"{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"read_notes","arguments":{}}}"#

    @Test(arguments: ["Authorization", "Email", "Token", "Cookie", "Mcp-Session-Id", "Mcp-Method", "Mcp-Name", "MCP-Protocol-Version"])
    func anIdentityOrRoutingHeaderGivenTwiceIsRefusedWith400(name: String) throws {
        let h = try GatewayHarness()
        defer { h.close() }
        let alice = try h.token("alice@example.com")
        let bob = try h.token("bob@example.com")
        let values: [String: (String, String)] = [
            "Authorization": ("Bearer \(alice)", "Bearer \(bob)"), "Email": ("alice@example.com", "bob@example.com"),
            "Token": (alice, bob), "Cookie": ("a=1", "b=2"), "Mcp-Session-Id": ("s1", "s2"),
            "Mcp-Method": ("tools/call", "tools/list"), "Mcp-Name": ("read_notes", "delete_note"),
            "MCP-Protocol-Version": ("2025-11-25", "2025-06-18"),
        ]
        let (first, second) = try #require(values[name])
        var headers = [(name, first), (name, second)]
        if name != "Authorization" && name != "Token" { headers.append(("Authorization", "Bearer \(alice)")) }
        let r = try h.send("POST", h.path("json"), headers: [("Content-Type", "application/json")] + headers, body: Array(HostileInputTests.call.utf8))
        #expect(r.status == 400, "\(r.text)")
        #expect(h.upstream.requests.isEmpty, "a request with two \(name) headers reached the upstream")
        let row = try h.lastRow()
        #expect(row?.string("decision") == "deny")
        #expect(row?.string("reason") == "\(name) header given more than once")
        #expect(row?.int("status") == 400)
    }

    @Test func routingHeadersThatDisagreeWithTheBodyAreRefusedWithTheHeaderMismatchErrorBeforeAuthorization() throws {
        let h = try GatewayHarness()
        defer { h.close() }
        let read = try h.token(scopes: .read)
        _ = try h.listTools("json", token: read)
        let seen = h.upstream.requests.count
        let destructive = #"{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"delete_note","arguments":{}}}"#
        // A front proxy that authorizes on the headers would see a harmless call; the body asks for another.
        let attacks: [(String, [(String, String)], String?)] = [
            (destructive, [("Mcp-Method", "tools/call"), ("Mcp-Name", "read_notes")], read),
            (destructive, [("Mcp-Method", "tools/list")], read),
            (#"{"jsonrpc":"2.0","id":3,"method":"resources/read","params":{"uri":"file:///etc/shadow"}}"#, [("Mcp-Name", "file:///tmp/ok")], read),
            (#"{"jsonrpc":"2.0","id":4,"method":"ping"}"#, [("Mcp-Name", "anything")], read),
            // Checked before authentication too: no credential needed to be refused for it.
            (destructive, [("Mcp-Method", "ping")], nil),
        ]
        for (body, headers, token) in attacks {
            let r = try h.rpc("json", token: token, body, headers: headers)
            #expect(r.status == 400, "\(headers): \(r.text)")
            #expect(r.message?["error"]?["code"]?.intValue == -32020, "\(headers): \(r.text)")
            let row = try h.lastRow()
            #expect(row?.string("decision") == "deny")
            #expect(row?.string("reason")?.contains("does not match the body") == true)
        }
        #expect(h.upstream.requests.count == seen, "a mismatched request reached the upstream")
        // Headers that agree (a name sent in the Base64 form included) pass.
        let encoded = "=?base64?" + Data("read_notes".utf8).base64EncodedString() + "?="
        for name in ["read_notes", encoded] {
            let ok = try h.rpc("json", token: read, HostileInputTests.call, headers: [("Mcp-Method", "tools/call"), ("Mcp-Name", name)])
            #expect(ok.status == 200, "\(name): \(ok.text)")
        }
    }

    /// A server behind the gateway may keep another of two equal names than the gateway does, or match names
    /// without regard to case (Go's encoding/json, which also folds ſ and the Kelvin sign K): a read-only
    /// caller must not get `delete_note` run while `read_notes` is what the gateway authorized.
    @Test func aMemberNameRepeatedExactlyOrInAnotherCaseIsRefusedBeforeAnythingIsForwarded() throws {
        let h = try GatewayHarness()
        defer { h.close() }
        let read = try h.token(scopes: .read)
        _ = try h.listTools("json", token: read)
        let seen = h.upstream.requests.count
        let attacks = [
            #"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"read_notes","Name":"delete_note","arguments":{}}}"#,
            #"{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"Name":"delete_note","name":"read_notes","arguments":{}}}"#,
            #"{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"delete_note","name":"read_notes","arguments":{}}}"#,
            #"{"jsonrpc":"2.0","id":4,"method":"tools/list","Method":"tools/call","params":{"name":"delete_note"}}"#,
            #"{"jsonrpc":"2.0","id":5,"method":"tools/call","params":{"name":"read_notes"},"paramſ":{"name":"delete_note"}}"#,
            #"{"jsonrpc":"2.0","id":6,"method":"tools/call","params":{"name":"read_notes","Name":"delete_note"}}"#,
            #"{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"read_notes","_meta":{"progressToken":1,"progresstoken":2}}}"#,
            #"{"jsonrpc":"2.0","id":8,"method":"tools/call","params":{"name":"read_notes"},"ID":9}"#,
            #"{"jsonrpc":"2.0","id":9,"method":"tools/call","params":{"name":"read_notes","Kind":1,"kind":2}}"#,
        ]
        for body in attacks {
            let r = try h.rpc("json", token: read, body)
            #expect(r.status == 400, "\(body): \(r.text)")
            #expect(r.message?["error"]?["code"]?.intValue == -32600, "\(body): \(r.text)")
            let row = try h.lastRow()
            #expect(row?.string("decision") == "deny")
            #expect(row?.string("reason") == "repeated member name")
        }
        #expect(h.upstream.requests.count == seen, "a request with a repeated member name reached the upstream")
        // Names that merely look alike stay allowed, and so does a repeated name deep inside the arguments
        // (the tool reads those; the gateway decides nothing on them).
        let fine = #"{"jsonrpc":"2.0","id":10,"method":"tools/call","params":{"name":"read_notes","arguments":{"q":1,"Q":2},"names":1}}"#
        #expect(try h.rpc("json", token: read, fine).status == 200)
    }

    @Test func aHugeMethodNameIsAuditedCapped() throws {
        let h = try GatewayHarness()
        defer { h.close() }
        let token = try h.token(scopes: .read)
        let method = String(repeating: "m", count: 512 * 1024)
        let r = try h.rpc("json", token: token, #"{"jsonrpc":"2.0","id":1,"method":"\#(method)"}"#)
        #expect(r.status == 403, "an unknown method needs delete")
        let row = try h.lastRow()
        #expect((row?.string("method")?.utf8.count ?? 0) <= 128)
        #expect((row?.string("action")?.utf8.count ?? 0) <= 128)
    }
}

/// A tools/list answer the gateway cannot parse (NaN, which lenient client parsers accept) or narrow is
/// refused with 502: passed on unfiltered, it would show every tool to a caller who may call few.
@Suite struct UnusableToolListTests {
    @Test(arguments: ["nan", "nansse"])
    func anHTTPUpstreamsToolListWithNaNIsRefusedWith502(env: String) throws {
        let h = try GatewayHarness()
        defer { h.close() }
        try Apps(store: h.admin).add(app: h.app, env: env, upstream: "http://127.0.0.1:\(h.upstream.port)/\(env)", command: nil)
        let read = try h.token(scopes: .read)
        let r = try h.listTools(env, token: read)
        #expect(r.status == 502, "\(r.text)")
        #expect(!r.text.contains("delete_note"), "the unfiltered list reached the client")
        #expect(try h.lastRow()?.string("reason")?.contains("tool list unusable") == true)
    }

    @Test func aStdioProcessesToolListWithNaNIsRefusedWith502() throws {
        let h = try GatewayHarness(stdio: true)
        defer { h.close() }
        let all = try h.token(scopes: .all)
        let session = [("Mcp-Session-Id", try #require(try h.initialize("stdio", token: all).header("Mcp-Session-Id")))]
        #expect(try h.call("stdio", token: all, "poison", headers: session).status == 200)
        let r = try h.listTools("stdio", token: try h.token(scopes: .read), headers: session)
        #expect(r.status == 502, "\(r.text)")
        #expect(!r.text.contains("delete_note"))
        #expect(try h.lastRow()?.string("reason")?.contains("not JSON") == true, "refused for the line, not after a timeout")
    }
}
