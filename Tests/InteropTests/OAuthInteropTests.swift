import Foundation
import Testing

/// The OAuth authorization server against clients nobody here wrote: the MCP Python SDK's
/// `OAuthClientProvider` (mcp 1.x and 2.x) knowing only the MCP URL, and a real headless Chromium on the
/// login and consent pages. Drives Tests/Interop/oauth_client.py and oauth_browser.py against `mcpctl serve`.
@Suite(.serialized) struct OAuthInteropTests {
    static let password = "interop-password-1"

    /// A store with alice (admin on notes/dev), an upstream, and `mcpctl serve` with `serveArgs`.
    private func setUp(_ h: InteropHarness, serveArgs: [String]) throws -> (base: String, url: String) {
        let upstream = try h.startUpstream(python: try InteropHarness.python("mcp2"))
        let add = try h.run("/bin/sh", ["-c", "printf '%s\\n' '\(OAuthInteropTests.password)' | '\(InteropHarness.binary)' user add alice@example.com --password-stdin"])
        guard add.status == 0 else { throw InteropHarness.HarnessError("user add failed: \(add.stderr)") }
        try h.mcpctl(["app", "add", "notes", "--env", "dev", "--upstream", "http://127.0.0.1:\(upstream)/mcp"])
        try h.mcpctl(["grant", "add", "alice@example.com", "--app", "notes", "--env", "dev", "--role", "admin"])
        let server = try h.startServer(serveArgs)
        return (server.url, "\(server.url)/mcp/notes/dev")
    }

    private func oauthClient(_ h: InteropHarness, _ python: String, url: String, state: String, _ action: [String],
                             extra: [String] = []) throws -> (Int32, [String: Any], String) {
        let script = InteropHarness.scripts.appendingPathComponent("oauth_client.py").path
        let r = try h.run(python, [script, "--url", url, "--state", state, "--email", "alice@example.com",
                                   "--password", OAuthInteropTests.password, "--timeout", "60"] + extra + action, timeout: 120)
        return (r.status, r.json(), r.stderr)
    }

    @Test(arguments: ["mcp1", "mcp2"])
    func sdkOAuthClientConnectsRefreshesAndFailsAfterClientRevoke(sdk: String) throws {
        let h = InteropHarness()
        let python = try InteropHarness.python(sdk)
        let (base, url) = try setUp(h, serveArgs: ["--access-token-ttl", "4s"])
        let state = h.dir.appendingPathComponent("oauth-state-\(sdk).json").path
        // mcp 1.x registers as a public client, mcp 2.x with the RFC 7591 default (confidential, client_secret_basic).
        let method = sdk == "mcp1" ? "none" : "default"

        // 1. Knowing only the URL: discovery, registration, login and consent over HTTP, tokens; then,
        // after the 4 s access token expired, a second session in the same process refreshes.
        let (s1, r1, e1) = try oauthClient(h, python, url: url, state: state, ["list-tools"],
                                           extra: ["--auth-method", method, "--repeat-after", "6"])
        #expect(s1 == 0, "\(sdk): \(r1) \(e1.suffix(2000))")
        #expect(r1["registrations"] as? Int == 1 && r1["authorizations"] as? Int == 1 && r1["code_exchanges"] as? Int == 1, "\(r1)")
        #expect((r1["refreshes"] as? Int ?? 0) >= 1 && r1["refresh_failures"] as? Int == 0, "the expired access token was refreshed: \(r1)")
        #expect((r1["tools"] as? [String])?.contains("search_notes") == true, "\(r1)")
        #expect(r1["iss"] as? String == base, "RFC 9207 iss in the redirect")
        #expect(r1["resource"] as? String == url, "RFC 8707 resource = the MCP URL")
        #expect(r1["token_endpoint_auth_method"] as? String == (sdk == "mcp1" ? "none" : "client_secret_basic"))
        let clientID = try #require(r1["client_id"] as? String)

        // 2. A tool call with the stored registration.
        let (s2, r2, e2) = try oauthClient(h, python, url: url, state: state, ["call", "search_notes", "--args", #"{"query": "milk"}"#])
        #expect(s2 == 0, "\(sdk): \(r2) \(e2.suffix(2000))")
        #expect((r2["content"] as? [String])?.joined().contains("buy milk") == true, "\(r2)")
        #expect(r2["registrations"] as? Int == 0)

        // The connected application and its tokens are visible to the operator.
        let clients = try JSONSerialization.jsonObject(with: Data(try h.mcpctl(["client", "list", "--json"]).stdout.utf8)) as? [[String: Any]] ?? []
        let listed = clients.first { $0["client_id"] as? String == clientID }
        #expect(listed?["users"] as? Int == 1 && listed?["registration"] as? String == "dcr", "\(clients)")
        let tokens = try JSONSerialization.jsonObject(with: Data(try h.mcpctl(["token", "list", "--email", "alice@example.com", "--json"]).stdout.utf8)) as? [[String: Any]] ?? []
        #expect(tokens.contains { $0["client_id"] as? String == clientID && $0["kind"] as? String == "access" && $0["app"] as? String == "notes" }, "\(tokens)")

        // 3. `mcpctl client revoke`: the stored tokens die at once, and the client id is refused at /authorize.
        try h.mcpctl(["client", "revoke", clientID])
        let (s3, r3, _) = try oauthClient(h, python, url: url, state: state, ["list-tools"])
        #expect(s3 == 5, "\(sdk) after revoke: \(r3)")
        #expect(r3["status"] as? Int == 400 && r3["title"] as? String == "Unknown application", "\(r3)")

        let audit = try h.mcpctl(["audit", "list", "--source", "oauth", "--json", "--limit", "200"]).stdout
        for action in ["client.register", "oauth.login", "oauth.consent", "oauth.token", "oauth.refresh"] {
            #expect(audit.contains("\"\(action)\""), "\(sdk): no \(action) in the audit log")
        }
    }

    @Test func headlessChromiumUnticksWriteAndTheTokenReadsButCannotWrite() throws {
        let setup = try InteropHarness().run("/bin/bash", [InteropHarness.root.appendingPathComponent(".ci/setup-browser").path], timeout: 600)
        try #require(setup.status == 0, "setup-browser failed: \(setup.stderr)")
        let h = InteropHarness()
        let python = try InteropHarness.python("mcp2")
        let (base, url) = try setUp(h, serveArgs: [])
        let script = InteropHarness.scripts.appendingPathComponent("oauth_browser.py").path
        let r = try h.run(python, [script, "--url", url, "--email", "alice@example.com", "--password", OAuthInteropTests.password,
                                   "--untick", "write"], timeout: 240)
        let out = r.json()
        #expect(r.status == 0, "\(out) \(r.stderr.suffix(3000))")
        #expect(out["offered"] as? [String] == ["read", "write", "delete"])
        #expect(out["checked_by_default"] as? [String] == ["read", "write", "delete"])
        #expect(out["scope"] as? String == "read delete", "the unticked scope is not in the token: \(out)")
        #expect(out["iss"] as? String == base)
        #expect(out["state_ok"] as? Bool == true)
        let read = out["read"] as? [String: Any] ?? [:]
        #expect(read["exit"] as? Int == 0 && read["is_error"] as? Bool == false, "\(read)")
        let write = out["write"] as? [String: Any] ?? [:]
        #expect(write["exit"] as? Int == 3 && write["status"] as? Int == 403, "\(write)")
        #expect((write["www_authenticate"] as? String)?.contains("insufficient_scope") == true)
        #expect((write["www_authenticate"] as? String)?.contains("scope=\"write\"") == true)
        let headers = out["page_headers"] as? [String: String] ?? [:]
        #expect(headers["X-Frame-Options"] == "DENY")
        #expect(headers["Content-Security-Policy"]?.contains("frame-ancestors 'none'") == true)
    }

    @Test func parallelWrongPasswordsAcrossTwoServerProcessesAreCheckedNoMoreThanTheAccountLimit() throws {
        // Two `mcpctl serve` processes on one store, 12 parallel guesses at each (curl processes): the
        // attempt is reserved in the store before the password is checked, so the limit (5 per account)
        // holds across processes too; the rest are answered 429 with Retry-After, unchecked.
        let h = InteropHarness()
        let add = try h.run("/bin/sh", ["-c", "printf '%s\\n' '\(OAuthInteropTests.password)' | '\(InteropHarness.binary)' user add alice@example.com --password-stdin"])
        try #require(add.status == 0, "user add failed: \(add.stderr)")
        let registered = try h.mcpctl(["client", "register", "--name", "Throttle test", "--redirect-uri", "http://127.0.0.1/cb", "--json"])
        let clientID = try #require(registered.json()["client_id"] as? String)
        var attempts: [(Process, URL)] = []
        for server in [try h.startServer(), try h.startServer()] {
            let jar = h.dir.appendingPathComponent("jar-" + UUID().uuidString).path
            let query = "response_type=code&client_id=\(clientID)&redirect_uri=http%3A%2F%2F127.0.0.1%3A5000%2Fcb&state=s"
                + "&code_challenge=\(String(repeating: "A", count: 43))&code_challenge_method=S256"
                + "&resource=\(server.url.replacingOccurrences(of: ":", with: "%3A").replacingOccurrences(of: "/", with: "%2F"))%2Fmcp%2Fnotes%2Fdev"
            let page = try h.run("/usr/bin/curl", ["-sS", "-c", jar, "-b", jar, server.url + "/oauth/authorize?" + query]).stdout
            func hidden(_ name: String) -> String? {
                guard let r = page.range(of: "name=\"\(name)\" value=\"") else { return nil }
                return page[r.upperBound...].split(separator: "\"", maxSplits: 1).first.map(String.init)
            }
            let tx = try #require(hidden("tx"), "no login form: \(page.prefix(500))")
            let csrf = try #require(hidden("csrf"))
            for i in 0..<12 {
                let (p, out, _) = try h.spawn("/usr/bin/curl", ["-sS", "-o", "/dev/null", "-w", "%{http_code} %header{retry-after}", "-b", jar,
                                                                "--data-urlencode", "tx=\(tx)", "--data-urlencode", "csrf=\(csrf)",
                                                                "--data-urlencode", "email=alice@example.com",
                                                                "--data-urlencode", "password=guess \(i)", server.url + "/oauth/authorize"])
                attempts.append((p, out))
            }
        }
        for (p, _) in attempts { p.waitUntilExit() }
        let answers = attempts.map { (try? String(contentsOf: $0.1, encoding: .utf8)) ?? "" }
        #expect(answers.filter { $0.hasPrefix("303") }.count == 5, "\(answers)")
        let throttled = answers.filter { $0.hasPrefix("429 ") }
        #expect(throttled.count == 19, "\(answers)")
        #expect(throttled.allSatisfy { Int($0.dropFirst(4)) ?? 0 > 0 }, "Retry-After on every 429: \(throttled)")
        let audit = try h.mcpctl(["audit", "list", "--source", "oauth", "--json", "--limit", "200"]).stdout
        #expect(audit.components(separatedBy: "\"wrong password\"").count - 1 == 5, "five password checks in the audit log")
    }
}
