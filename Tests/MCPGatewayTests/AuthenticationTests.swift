import Foundation
import HTTP
import MCPAuth
import MCPGateway
import Testing

/// DESIGN.md §7 and issue 4 item 3: credentials on the MCP endpoint, the 401 challenge, RFC 9728 metadata.
@Suite struct AuthenticationTests {
    @Test func aRequestWithoutCredentialsGets401PointingAtTheResourceMetadataWithoutAnError() throws {
        let h = try GatewayHarness()
        defer { h.close() }
        let r = try h.rpc("json", token: nil, #"{"jsonrpc":"2.0","id":1,"method":"tools/list"}"#)
        #expect(r.status == 401)
        let challenge = r.header("WWW-Authenticate") ?? ""
        #expect(challenge == #"Bearer resource_metadata="https://gw.example.com/.well-known/oauth-protected-resource/mcp/\#(h.app)/json", scope="read""#)
        #expect(!challenge.contains("error="))
        #expect(h.upstream.requests.isEmpty)
    }

    @Test func badRevokedAndExpiredTokensGet401WithInvalidTokenAndNothingMore() throws {
        let h = try GatewayHarness()
        defer { h.close() }
        let revoked = try h.token()
        _ = try Tokens(store: h.admin).revoke([revoked])
        let expired = try h.token(lifetime: 0)
        let unknown = TokenSecret.generate(kind: "pat")
        for secret in ["not-a-token", unknown, revoked, expired] {
            let r = try h.rpc("json", token: secret, #"{"jsonrpc":"2.0","id":1,"method":"ping"}"#)
            #expect(r.status == 401, "\(secret)")
            let challenge = r.header("WWW-Authenticate") ?? ""
            #expect(challenge.hasPrefix("Bearer resource_metadata=\"https://gw.example.com/.well-known/oauth-protected-resource/mcp/\(h.app)/json\""))
            #expect(challenge.contains(#"error="invalid_token""#), "\(challenge)")
            #expect(challenge.contains(#"scope="read""#))
            #expect(!challenge.contains("error_description"), "the reason goes to the audit row only: \(challenge)")
            #expect(r.text == #"{"error":"invalid_token"}"#, "\(r.text)")
            #expect(!r.text.contains(secret), "the answer never repeats the secret")
        }
        let reasons = try h.mcpRows().map { $0.string("reason") ?? "" }
        #expect(reasons == ["malformed token", "unknown token", "token revoked", "token expired"])
        #expect(h.upstream.requests.isEmpty)
    }

    @Test func aTokenInTheQueryStringIsIgnored() throws {
        let h = try GatewayHarness()
        defer { h.close() }
        let secret = try h.token()
        for query in ["access_token", "token", "Token", "authorization"] {
            let r = try h.send("POST", h.path("json") + "?\(query)=\(secret)", headers: [("Content-Type", "application/json")],
                               body: Array(#"{"jsonrpc":"2.0","id":1,"method":"ping"}"#.utf8))
            #expect(r.status == 401, "\(query)")
            #expect(!(r.header("WWW-Authenticate") ?? "").contains("error="), "no token was presented the legitimate way")
        }
        #expect(h.upstream.requests.isEmpty)
    }

    @Test func theEmailAndTokenHeaderPairWorksAndAMismatchedEmailIsRefused() throws {
        let h = try GatewayHarness()
        defer { h.close() }
        let secret = try h.token("alice@example.com")
        let ok = try h.rpc("json", token: nil, #"{"jsonrpc":"2.0","id":1,"method":"ping"}"#,
                           headers: [("Email", "Alice@Example.com"), ("Token", secret)])
        #expect(ok.status == 200, "\(ok.text)")
        #expect(try h.lastRow()?.string("email") == "alice@example.com")
        let wrong = try h.rpc("json", token: nil, #"{"jsonrpc":"2.0","id":1,"method":"ping"}"#,
                              headers: [("Email", "bob@example.com"), ("Token", secret)])
        #expect(wrong.status == 401)
        #expect((wrong.header("WWW-Authenticate") ?? "").contains(#"error="invalid_token""#))
        let missing = try h.rpc("json", token: nil, #"{"jsonrpc":"2.0","id":1,"method":"ping"}"#, headers: [("Token", secret)])
        #expect(missing.status == 401, "the pair needs its email")
        let row = try h.lastRow()
        #expect(row?.string("decision") == "deny")
        #expect(row?.string("reason") == "email does not match token")
    }

    /// RFC 8707 / MCP 2025-11-25: an OAuth access token is bound to the resource it was issued for; a
    /// refresh token is never a bearer credential.
    @Test func anAccessTokenIsGoodOnlyForItsResourceAndARefreshTokenNowhere() throws {
        let h = try GatewayHarness()
        defer { h.close() }
        let user = try Users(store: h.admin).require("alice@example.com")
        let tokens = Tokens(store: h.admin)
        let (access, refresh) = try h.admin.db.write {
            (try tokens.insert(kind: .access, userID: user.id, clientID: nil, name: nil, scopes: .read, app: h.app, env: "json",
                               ttlSeconds: 3600, rotatedFrom: nil, familyID: nil, parentID: nil).secret,
             try tokens.insert(kind: .refresh, userID: user.id, clientID: nil, name: nil, scopes: .read, app: h.app, env: "json",
                               ttlSeconds: 3600, rotatedFrom: nil, familyID: nil, parentID: nil).secret)
        }
        let ping = #"{"jsonrpc":"2.0","id":1,"method":"ping"}"#
        #expect(try h.rpc("json", token: access, ping).status == 200)
        let elsewhere = try h.rpc("sse", token: access, ping)
        #expect(elsewhere.status == 401)
        #expect((elsewhere.header("WWW-Authenticate") ?? "").contains(#"error="invalid_token""#))
        #expect(try h.lastRow()?.string("reason")?.contains("issued for") == true)
        let r = try h.rpc("json", token: refresh, ping)
        #expect(r.status == 401)
        #expect(try h.lastRow()?.string("reason") == "token kind not accepted here")
        // The pair is for personal tokens of that user (DESIGN.md §7).
        #expect(try h.rpc("json", token: nil, ping, headers: [("Email", "alice@example.com"), ("Token", refresh)]).status == 401)
        #expect(try h.rpc("json", token: nil, ping, headers: [("Email", "alice@example.com"), ("Token", access)]).status == 401)
        #expect(h.upstream.methods == ["ping"])
    }

    @Test func theProtectedResourceMetadataIsServedForEveryAppAndEnvironment() throws {
        let h = try GatewayHarness()
        defer { h.close() }
        for (app, env) in [(h.app, "json"), ("does-not-exist", "prod"), ("mcpctl", "local")] {
            let r = try h.send("GET", "/.well-known/oauth-protected-resource/mcp/\(app)/\(env)")
            #expect(r.status == 200)
            #expect(r.header("Content-Type")?.hasPrefix("application/json") == true)
            let doc = try JSON.parse(r.body)
            #expect(doc["resource"]?.stringValue == "https://gw.example.com/mcp/\(app)/\(env)")
            #expect(doc["authorization_servers"]?.arrayValue == [.string("https://gw.example.com")])
            #expect(doc["scopes_supported"]?.arrayValue == ["read", "write", "delete"])
            #expect(doc["bearer_methods_supported"]?.arrayValue == ["header"])
        }
        // The document is public and not an MCP request: no audit rows.
        #expect(try h.mcpRows().isEmpty)
    }

    /// A 401 tells a token's holder nothing about why it failed: not that it was revoked, expired, its
    /// user disabled, its email mismatched or its audience elsewhere. The audit row says which.
    @Test func every401LooksTheSameWhateverTheReasonAndOnlyTheAuditRowSaysWhy() throws {
        let h = try GatewayHarness()
        defer { h.close() }
        _ = try Users(store: h.admin).add(email: "erin@example.com", name: nil, password: nil)
        try Grants(store: h.admin).add(email: "erin@example.com", app: h.app, env: "*", scopes: .all)
        let disabled = try h.token("erin@example.com")
        _ = try Users(store: h.admin).disable(email: "erin@example.com")
        let revoked = try h.token()
        _ = try Tokens(store: h.admin).revoke([revoked])
        let expired = try h.token(lifetime: 0)
        let good = try h.token("alice@example.com")
        let ping = #"{"jsonrpc":"2.0","id":1,"method":"ping"}"#
        let replies = [
            try h.rpc("json", token: disabled, ping), try h.rpc("json", token: revoked, ping), try h.rpc("json", token: expired, ping),
            try h.rpc("json", token: nil, ping, headers: [("Email", "bob@example.com"), ("Token", good)]),
        ]
        for r in replies {
            #expect(r.status == 401)
            #expect(r.header("WWW-Authenticate") == replies[0].header("WWW-Authenticate"))
            #expect(r.body == replies[0].body)
            for word in ["revoked", "expired", "disabled", "email", "mismatch"] {
                #expect(!r.text.lowercased().contains(word) && !(r.header("WWW-Authenticate") ?? "").lowercased().contains(word), "\(word)")
            }
        }
        let reasons = try h.mcpRows().map { $0.string("reason") ?? "" }
        #expect(reasons.count == 4)
        #expect(reasons[1] == "token revoked" && reasons[2] == "token expired" && reasons[3] == "email does not match token", "\(reasons)")
        #expect(reasons[0] == "user disabled" || reasons[0] == "token revoked", "\(reasons)")
    }
}
