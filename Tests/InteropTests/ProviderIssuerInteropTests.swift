import Foundation
import Testing

/// An outside issuer that nobody here wrote: django-oauth-toolkit (Tests/Interop/idp/serve_idp.py, `.venv-idp`
/// from .ci/setup-idp) issuing opaque access tokens with the password grant, bound to mcpctl's endpoint by an
/// RFC 8707 `resource` (DOT answers it as `aud` in introspection), checked by `mcpctl serve` through DOT's own
/// RFC 7662 endpoint, found in DOT's RFC 8414 metadata. DOT's introspection answer has `username` but no
/// email, so the provider's usernames are email addresses and the issuer is added with `--email-claim username`.
@Suite(.serialized) struct ProviderIssuerInteropTests {
    static let password = "idp-password-1"
    static let agent = (id: "agent", secret: "agent-secret-1")
    static let resourceServer = (id: "mcpctl-rs", secret: "rs-secret-1")

    struct Provider {
        let h: InteropHarness
        let issuer: String

        /// RFC 8414 metadata, served by DOT under its issuer path.
        func metadata() throws -> [String: Any] {
            let data = try Data(contentsOf: URL(string: issuer + "/.well-known/oauth-authorization-server")!)
            return try JSONSerialization.jsonObject(with: data) as? [String: Any] ?? [:]
        }

        /// An access token for `user` from DOT's token endpoint (password grant, the agent client).
        func token(_ user: String, scope: String, resource: String?) throws -> String {
            var form = ["-d", "grant_type=password", "-d", "username=\(user)", "-d", "password=\(ProviderIssuerInteropTests.password)",
                        "-d", "scope=\(scope)"]
            if let resource { form += ["--data-urlencode", "resource=\(resource)"] }
            let r = try h.run("/usr/bin/curl", ["-s", "-u", "\(agent.id):\(agent.secret)"] + form + [issuer + "/token/"])
            let json = (try? JSONSerialization.jsonObject(with: Data(r.stdout.utf8))) as? [String: Any] ?? [:]
            guard let token = json["access_token"] as? String else { throw InteropHarness.HarnessError("no token from DOT: \(r.stdout)") }
            return token
        }

        /// RFC 7009 revocation at DOT, by the client the token was issued to; returns the HTTP status.
        func revoke(_ token: String) throws -> Int {
            let r = try h.run("/usr/bin/curl", ["-s", "-o", "/dev/null", "-w", "%{http_code}", "-u", "\(agent.id):\(agent.secret)",
                                                "-d", "token=\(token)", "-d", "token_type_hint=access_token", issuer + "/revoke_token/"])
            return Int(r.stdout) ?? -1
        }
    }

    func startProvider(_ h: InteropHarness, users: [String]) throws -> Provider {
        let setup = try InteropHarness().run("/bin/bash", [InteropHarness.root.appendingPathComponent(".ci/setup-idp").path], timeout: 600)
        try #require(setup.status == 0, ".ci/setup-idp failed: \(setup.stderr)")
        let claims = h.dir.appendingPathComponent("claims.json")
        try JSONSerialization.data(withJSONObject: Dictionary(uniqueKeysWithValues: users.map { ($0, ["email": $0]) })).write(to: claims)
        let python = InteropHarness.root.appendingPathComponent(".venv-idp/bin/python").path
        let script = InteropHarness.scripts.appendingPathComponent("idp/serve_idp.py").path
        let (p, out, err) = try h.spawn(python, [script, "--port", String(InteropHarness.freePort()), "--dir", h.dir.path, "--claims", claims.path,
                                                 "--password", Self.password, "--client-id", "mcpctl-sso", "--client-secret", "unused-1",
                                                 "--redirect-uri", "http://127.0.0.1:1/unused",
                                                 "--agent-client", "\(Self.agent.id):\(Self.agent.secret)",
                                                 "--resource-server-client", "\(Self.resourceServer.id):\(Self.resourceServer.secret)"])
        let deadline = Date().addingTimeInterval(90)
        while Date() < deadline {
            let text = (try? String(contentsOf: out, encoding: .utf8)) ?? ""
            if let line = text.split(separator: "\n").first(where: { $0.hasPrefix("READY ") }) { return Provider(h: h, issuer: String(line.dropFirst(6))) }
            if !p.isRunning { break }
            usleep(100_000)
        }
        throw InteropHarness.HarnessError("the provider did not start: \((try? String(contentsOf: err, encoding: .utf8)) ?? "")")
    }

    @Test("Opaque access tokens from django-oauth-toolkit are accepted through its introspection endpoint for the bound resource and known users only, and die when revoked there")
    func djangoOAuthToolkitTokensThroughIntrospection() throws {
        let h = InteropHarness()
        let python = try InteropHarness.python("mcp1")
        let upstreamPort = try h.startUpstream(python: python)
        let dot = try startProvider(h, users: ["dana@example.com", "dis@example.com", "nobody@example.com"])
        let introspection = try #require(try dot.metadata()["introspection_endpoint"] as? String, "DOT's RFC 8414 metadata names its introspection endpoint")
        #expect(introspection == dot.issuer + "/introspect/")
        let secretFile = h.dir.appendingPathComponent("dot-secret")
        try "\(Self.resourceServer.secret)\n".write(to: secretFile, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: secretFile.path)  // a secret only its owner may read
        try h.mcpctl(["app", "add", "notes", "--env", "http", "--upstream", "http://127.0.0.1:\(upstreamPort)/mcp"])
        for email in ["dana@example.com", "dis@example.com"] {
            try h.mcpctl(["user", "add", email])
            try h.mcpctl(["grant", "add", email, "--app", "notes", "--role", "editor"])
        }
        try h.mcpctl(["user", "disable", "dis@example.com"])
        try h.mcpctl(["issuer", "add", "dot", "--issuer", dot.issuer, "--introspection-url", introspection,
                      "--client-id", Self.resourceServer.id, "--client-secret-file", secretFile.path, "--email-claim", "username"])
        var server = try h.startServer()
        let port = URL(string: server.url)!.port!
        let resource = "\(server.url)/mcp/notes/http"

        // A token DOT bound to this endpoint works, through the MCP SDK's own client too: editor ∩ "read write".
        let good = try dot.token("dana@example.com", scope: "read write", resource: resource)
        #expect(try h.initializeStatus(resource, good) == 200)
        let (ls, tools) = try h.client(python, url: resource, headers: ["Authorization: Bearer \(good)"], ["list-tools"])
        #expect(ls == 0 && Set(tools["tools"] as? [String] ?? []) == ["search_notes", "add_note"], "\(tools)")
        let readOnly = try dot.token("dana@example.com", scope: "read", resource: resource)
        let (ws, denied) = try h.client(python, url: resource, headers: ["Authorization: Bearer \(readOnly)"], ["call", "add_note", "--args", #"{"text": "x"}"#])
        #expect(ws == 3 && denied["status"] as? Int == 403, "DOT's scope read cannot write: \(denied)")

        // Tokens DOT calls active but that are not for this endpoint or not for a usable user: 401.
        #expect(try h.initializeStatus(resource, try dot.token("dana@example.com", scope: "read", resource: nil)) == 401, "no resource, so no aud")
        #expect(try h.initializeStatus(resource, try dot.token("dana@example.com", scope: "read", resource: "\(server.url)/mcp/notes/other")) == 401)
        #expect(try h.initializeStatus(resource, try dot.token("nobody@example.com", scope: "read", resource: resource)) == 401, "unknown to mcpctl")
        #expect(try h.initializeStatus(resource, try dot.token("dis@example.com", scope: "read", resource: resource)) == 401, "disabled in mcpctl")
        #expect(try h.initializeStatus(resource, "garbage-no-provider-issued-this") == 401)

        // Revoked at DOT before first use: never cached, refused at once.
        let fresh = try dot.token("dana@example.com", scope: "read", resource: resource)
        #expect(try dot.revoke(fresh) == 200)
        #expect(try h.initializeStatus(resource, fresh) == 401)
        // Revoked after use: its cached answer is gone with the restart (the cache lives at most 60 s).
        #expect(try dot.revoke(good) == 200)
        h.stop(server.process)
        server = try h.startServer(port: port)
        #expect(try h.initializeStatus(resource, good) == 401)
        #expect(try h.initializeStatus(resource, readOnly) == 200, "an unrevoked token still works after the restart")

        let events = try h.mcpAuditRows()
        let allowed = events.filter { $0["decision"] as? String == "allow" && $0["token_id"] as? String == "issuer:dot" }
        #expect(allowed.count >= 3 && allowed.allSatisfy { $0["email"] as? String == "dana@example.com" }, "\(allowed)")
        let reasons = events.filter { $0["decision"] as? String == "deny" }.compactMap { $0["reason"] as? String }
        for expected in ["issuer dot: introspection answer's audience does not match", "issuer dot: no mcpctl user nobody@example.com",
                         "issuer dot: user disabled", "token not active at any issuer"] {
            #expect(reasons.contains { $0.contains(expected) }, "an audit row says '\(expected)': \(reasons)")
        }
        #expect(try h.mcpctl(["audit", "verify"]).status == 0)
    }
}
