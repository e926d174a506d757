import Foundation
import Testing

/// Outside issuers against an authorization server nobody here wrote: Tests/Interop/outside_issuer.py
/// (PyJWT + cryptography, a real RSA key) serving discovery, a JWKS and RFC 7662 introspection, with
/// `mcpctl serve` accepting its tokens and the MCP Python SDK's client calling through it.
@Suite(.serialized) struct OutsideIssuerInteropTests {
    struct Issuer {
        let url: String
        func get(_ path: String, _ query: [String: String] = [:]) throws -> [String: Any] {
            var c = URLComponents(string: url + path)!
            if !query.isEmpty { c.queryItems = query.sorted(by: { $0.key < $1.key }).map { URLQueryItem(name: $0.key, value: $0.value) } }
            let data = try Data(contentsOf: c.url!)
            return try JSONSerialization.jsonObject(with: data) as? [String: Any] ?? [:]
        }
        func mint(_ query: [String: String]) throws -> String { try get("/mint", query)["token"] as? String ?? "" }
        func jwksFetches() throws -> Int { try get("/stats")["jwks_fetches"] as? Int ?? -1 }
        func introspections() throws -> Int { try get("/stats")["introspections"] as? Int ?? -1 }
    }

    func startIssuer(_ h: InteropHarness, _ python: String, metadata: String) throws -> Issuer {
        let (p, out, err) = try h.spawn(python, [InteropHarness.scripts.appendingPathComponent("outside_issuer.py").path, "--port", "0",
                                                 "--client-id", "mcpctl", "--client-secret", "s3cret", "--metadata", metadata])
        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline {
            let text = (try? String(contentsOf: out, encoding: .utf8)) ?? ""
            if let line = text.split(separator: "\n").first(where: { $0.hasPrefix("READY ") }) { return Issuer(url: "http://127.0.0.1:\(line.dropFirst(6))") }
            if !p.isRunning { break }
            usleep(50_000)
        }
        throw InteropHarness.HarnessError("issuer did not start: \((try? String(contentsOf: err, encoding: .utf8)) ?? "")")
    }

    @Test("An outside issuer's JWTs and opaque tokens are accepted by signature, audience and expiry, mapped to known users, audited with the issuer, and every forgery is refused")
    func outsideIssuerTokens() throws {
        let h = InteropHarness()
        let python = try InteropHarness.python("mcp1")
        let upstreamPort = try h.startUpstream(python: python)
        let corp = try startIssuer(h, python, metadata: "openid")
        let secretFile = h.dir.appendingPathComponent("corp-secret")
        try "s3cret\n".write(to: secretFile, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: secretFile.path)  // a secret only its owner may read
        try h.mcpctl(["app", "add", "notes", "--env", "http", "--upstream", "http://127.0.0.1:\(upstreamPort)/mcp"])
        for email in ["ann@example.com", "dis@example.com"] {
            try h.mcpctl(["user", "add", email])
            try h.mcpctl(["grant", "add", email, "--app", "notes", "--role", "editor"])
        }
        try h.mcpctl(["issuer", "add", "corp", "--issuer", corp.url, "--introspection-url", corp.url + "/introspect",
                      "--client-id", "mcpctl", "--client-secret-file", secretFile.path])
        let listed = try h.mcpctl(["issuer", "list", "--json"]).stdout
        #expect(listed.contains(secretFile.path) && !listed.contains("s3cret"), "the secret stays a file reference: \(listed)")
        let server = try h.startServer()
        let resource = "\(server.url)/mcp/notes/http"
        let ann = ["email": "ann@example.com", "aud": resource]

        // A good token works; the SDK client sees the tools of the token's scopes intersected with the grant.
        let good = try corp.mint(ann.merging(["scope": "read write delete"]) { $1 })
        #expect(try h.initializeStatus(resource, good) == 200)
        let (ls, tools) = try h.client(python, url: resource, headers: ["Authorization: Bearer \(good)"], ["list-tools"])
        #expect(ls == 0 && Set(tools["tools"] as? [String] ?? []) == ["search_notes", "add_note"], "editor grant ∩ all scopes: \(tools)")
        let readOnly = try corp.mint(ann.merging(["scp": "read"]) { $1 })
        let (rs, readTools) = try h.client(python, url: resource, headers: ["Authorization: Bearer \(readOnly)"], ["list-tools"])
        #expect(rs == 0 && readTools["tools"] as? [String] == ["search_notes"], "scp read ∩ editor: \(readTools)")
        let noScope = try corp.mint(ann)
        let (ns, noScopeTools) = try h.client(python, url: resource, headers: ["Authorization: Bearer \(noScope)"], ["list-tools"])
        #expect(ns == 0 && noScopeTools["tools"] as? [String] == ["search_notes"], "no scope claim means read: \(noScopeTools)")
        let (ws, denied) = try h.client(python, url: resource, headers: ["Authorization: Bearer \(readOnly)"], ["call", "add_note", "--args", #"{"text": "x"}"#])
        #expect(ws == 3 && denied["status"] as? Int == 403, "a read token cannot write: \(denied)")

        // Every forgery and every token not for us: 401.
        let refused: [(String, [String: String])] = [
            ("forged signature", ann.merging(["mode": "forged"]) { $1 }),
            ("expired", ann.merging(["exp_in": "-120"]) { $1 }),
            ("wrong audience", ["email": "ann@example.com", "aud": "\(server.url)/mcp/notes/other"]),
            ("no audience", ["email": "ann@example.com"]),
            ("wrong issuer", ann.merging(["iss": "http://127.0.0.1:1"]) { $1 }),
            ("alg none", ann.merging(["mode": "none"]) { $1 }),
            ("HS256 with the public key", ann.merging(["mode": "hs256-public-key"]) { $1 }),
            ("id token type", ann.merging(["typ": "id_token+jwt"]) { $1 }),
            ("unknown user", ["email": "nobody@example.com", "aud": resource]),
        ]
        for (what, query) in refused {
            #expect(try h.initializeStatus(resource, try corp.mint(query)) == 401, "\(what)")
        }
        try h.mcpctl(["user", "disable", "dis@example.com"])
        #expect(try h.initializeStatus(resource, try corp.mint(["email": "dis@example.com", "aud": resource])) == 401, "disabled user")

        // An unknown kid makes one refresh at most, however often it is presented, and stays refused.
        let before = try corp.jwksFetches()
        for _ in 0..<3 { #expect(try h.initializeStatus(resource, try corp.mint(ann.merging(["mode": "unknown-key"]) { $1 })) == 401) }
        #expect(try corp.jwksFetches() - before <= 1)
        // A key the issuer adds later is found by that refresh (once the refresh interval has passed).
        Thread.sleep(forTimeInterval: 5.5)
        let kid = try corp.get("/rotate")["kid"] as? String ?? ""
        #expect(try h.initializeStatus(resource, try corp.mint(ann.merging(["kid": kid]) { $1 })) == 200, "rotated key")

        // Opaque tokens through introspection, with the same audience rule, cached but never past exp.
        let opaque = try corp.mint(ann.merging(["mode": "opaque"]) { $1 })
        #expect(try h.initializeStatus(resource, opaque) == 200)
        let asked = try corp.introspections()
        #expect(try h.initializeStatus(resource, opaque) == 200)
        #expect(try corp.introspections() == asked, "the second use is answered from the cache")
        _ = try corp.get("/revoke", ["token": opaque])
        #expect(try h.initializeStatus(resource, opaque) == 200, "revoked at the issuer: still accepted for at most 60 s")
        let shortLived = try corp.mint(ann.merging(["mode": "opaque", "exp_in": "2"]) { $1 })
        #expect(try h.initializeStatus(resource, shortLived) == 200)
        Thread.sleep(forTimeInterval: 3)
        #expect(try h.initializeStatus(resource, shortLived) == 401, "never past exp, cached or not")
        #expect(try h.initializeStatus(resource, try corp.mint(["email": "ann@example.com", "aud": "https://elsewhere.example", "mode": "opaque"])) == 401)
        #expect(try h.initializeStatus(resource, "not-a-token-anyone-issued") == 401)

        // RFC 9728 metadata names the issuer; mcpctl's own tokens still work.
        let metadata = try String(contentsOf: URL(string: "\(server.url)/.well-known/oauth-protected-resource/mcp/notes/http")!, encoding: .utf8)
        #expect(metadata.contains(#""\#(corp.url)""#), "\(metadata)")
        let pat = try h.mcpctl(["token", "create", "--email", "ann@example.com", "--scopes", "read"]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(try h.initializeStatus(resource, pat) == 200)

        // The audit log: allowed rows name the issuer as the credential, refusals say which issuer and why.
        let events = try h.mcpAuditRows()
        let allowed = events.filter { $0["decision"] as? String == "allow" && $0["token_id"] as? String == "issuer:corp" }
        #expect(allowed.count >= 5 && allowed.allSatisfy { $0["email"] as? String == "ann@example.com" })
        let reasons = events.filter { $0["decision"] as? String == "deny" }.compactMap { $0["reason"] as? String }
        for expected in ["issuer corp: JWT signature invalid", "issuer corp: JWT expired", "issuer corp: JWT audience mismatch",
                         "issuer corp: JWT alg not accepted", "issuer corp: JWT typ not accepted",
                         "issuer corp: no mcpctl user nobody@example.com", "issuer corp: user disabled",
                         "issuer corp: JWT key id unknown", "token not active at any issuer",
                         "issuer corp: introspection answer's audience does not match", "JWT from an issuer not added"] {
            #expect(reasons.contains { $0.contains(expected) }, "an audit row says '\(expected)': \(reasons)")
        }
        #expect(try h.mcpctl(["audit", "verify"]).status == 0)

        // Removed: its tokens are refused on the next request.
        try h.mcpctl(["issuer", "remove", "corp"])
        #expect(try h.initializeStatus(resource, good) == 401)
    }

    @Test("An issuer with only RFC 8414 metadata and a configured audience is found and accepted")
    func rfc8414IssuerWithAudience() throws {
        let h = InteropHarness()
        let python = try InteropHarness.python("mcp1")
        let upstreamPort = try h.startUpstream(python: python)
        let other = try startIssuer(h, python, metadata: "rfc8414")
        try h.mcpctl(["user", "add", "ann@example.com"])
        try h.mcpctl(["app", "add", "notes", "--env", "http", "--upstream", "http://127.0.0.1:\(upstreamPort)/mcp"])
        try h.mcpctl(["grant", "add", "ann@example.com", "--app", "notes", "--role", "viewer"])
        try h.mcpctl(["issuer", "add", "other", "--issuer", other.url, "--audience", "api://mcp", "--email-claim", "upn"])
        let server = try h.startServer()
        let resource = "\(server.url)/mcp/notes/http"
        // The email claim is configurable: this issuer names the user in `upn`, so `email` alone is not enough.
        #expect(try h.initializeStatus(resource, try other.mint(["upn": "ann@example.com", "aud": "api://mcp"])) == 200)
        #expect(try h.initializeStatus(resource, try other.mint(["upn": "ann@example.com", "aud": "api://other"])) == 401)
        #expect(try h.initializeStatus(resource, try other.mint(["email": "ann@example.com", "aud": "api://mcp"])) == 401)
        let events = try h.mcpAuditRows()
        #expect(events.contains { ($0["reason"] as? String)?.contains("issuer other: token has no usable upn claim") == true })
        // http:// issuers are refused unless on loopback.
        let r = try h.run(InteropHarness.binary, ["issuer", "add", "remote", "--issuer", "http://login.example.com"])
        #expect(r.status != 0 && r.stderr.contains("https"))
    }
}
