import Foundation
import Testing

/// Single sign-on against an OpenID Connect provider nobody here wrote: django-oauth-toolkit with OIDC and
/// an RSA key (Tests/Interop/idp/serve_idp.py, `.venv-idp` from .ci/setup-idp), signed in to through its
/// real login page by a headless Chromium (Tests/Interop/sso_browser.py), with `mcpctl serve` as the
/// relying party. Effects are checked with the CLI: users, group members, the audit log.
@Suite(.serialized) struct SSOInteropTests {
    static let idpPassword = "idp-password-1"
    static let clientSecret = "sso-client-secret-1"

    /// The provider's users: username → the claims its ID tokens carry.
    static var claims: [String: [String: Any]] { [
        "alice": ["email": "alice@example.com", "email_verified": true, "groups": ["eng"]],
        "carol": ["email": "carol@example.com", "email_verified": false, "groups": ["eng"]],
        "eve": ["email": "eve@evil.test", "email_verified": true, "groups": ["eng"]],
        "newbie": ["email": "new@example.com", "email_verified": true, "groups": ["eng"]],
        "bob": ["email": "bob@example.com", "email_verified": true, "groups": ["eng"]],
    ] }

    private struct World {
        let h: InteropHarness
        let python: String
        let base: String
        let issuer: String
        let claimsFile: URL
        let secretFile: String
    }

    /// Alice, carol and bob (disabled) exist without passwords; group eng follows the IdP group `eng` and is
    /// editor on notes/dev; the provider `corp` limited to example.com; the IdP and `mcpctl serve` running.
    private func world(createUsers: Bool = false) throws -> World {
        for script in [".ci/setup-browser", ".ci/setup-idp"] {
            let setup = try InteropHarness().run("/bin/bash", [InteropHarness.root.appendingPathComponent(script).path], timeout: 600)
            try #require(setup.status == 0, "\(script) failed: \(setup.stderr)")
        }
        let h = InteropHarness()
        let python = try InteropHarness.python("mcp2")
        let upstream = try h.startUpstream(python: python)
        let servePort = InteropHarness.freePort(), idpPort = InteropHarness.freePort()
        let claimsFile = h.dir.appendingPathComponent("claims.json")
        try write(Self.claims, to: claimsFile)
        let secretFile = h.dir.appendingPathComponent("corp-secret").path
        try Self.clientSecret.write(toFile: secretFile, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: secretFile)  // a secret only its owner may read
        let issuer = try startProvider(h, port: idpPort, claims: claimsFile, redirectURI: "http://127.0.0.1:\(servePort)/login/sso/corp/callback")
        for email in ["alice@example.com", "carol@example.com", "bob@example.com"] { try h.mcpctl(["user", "add", email]) }
        try h.mcpctl(["user", "disable", "bob@example.com"])
        try h.mcpctl(["app", "add", "notes", "--env", "dev", "--upstream", "http://127.0.0.1:\(upstream)/mcp"])
        try h.mcpctl(["group", "add", "eng", "--idp-group", "eng"])
        try h.mcpctl(["grant", "add", "--group", "eng", "--app", "notes", "--env", "dev", "--role", "editor"])
        try h.mcpctl(["idp", "add", "corp", "--issuer", issuer, "--client-id", "mcpctl-sso", "--client-secret-file", secretFile,
                      "--groups-claim", "groups", "--allowed-domain", "example.com"] + (createUsers ? ["--create-users"] : []))
        let server = try h.startServer(port: servePort)
        return World(h: h, python: python, base: server.url, issuer: issuer, claimsFile: claimsFile, secretFile: secretFile)
    }

    private func write(_ claims: [String: [String: Any]], to file: URL) throws {
        try JSONSerialization.data(withJSONObject: claims).write(to: file)
    }

    /// Starts the provider; returns its issuer once it listens.
    private func startProvider(_ h: InteropHarness, port: Int, claims: URL, redirectURI: String) throws -> String {
        let python = InteropHarness.root.appendingPathComponent(".venv-idp/bin/python").path
        let script = InteropHarness.scripts.appendingPathComponent("idp/serve_idp.py").path
        let (p, out, err) = try h.spawn(python, [script, "--port", String(port), "--dir", h.dir.path, "--claims", claims.path,
                                                 "--password", Self.idpPassword, "--client-id", "mcpctl-sso",
                                                 "--client-secret", Self.clientSecret, "--redirect-uri", redirectURI])
        let deadline = Date().addingTimeInterval(90)
        while Date() < deadline {
            let text = (try? String(contentsOf: out, encoding: .utf8)) ?? ""
            if let line = text.split(separator: "\n").first(where: { $0.hasPrefix("READY ") }) { return String(line.dropFirst(6)) }
            if !p.isRunning { break }
            usleep(100_000)
        }
        throw InteropHarness.HarnessError("the provider did not start: \((try? String(contentsOf: err, encoding: .utf8)) ?? "")")
    }

    /// Runs one scenario of sso_browser.py as the provider's `user`.
    private func browse(_ w: World, _ scenario: String, user: String, _ extra: [String] = []) throws -> [String: Any] {
        let email = Self.claims[user]?["email"] as? String ?? ""
        let r = try w.h.run(w.python, [InteropHarness.scripts.appendingPathComponent("sso_browser.py").path, "--base", w.base, "--idp", "corp",
                                       "--user", user, "--password", Self.idpPassword, "--email", email] + extra + [scenario], timeout: 240)
        try #require(r.status == 0, "\(scenario) as \(user): \(r.stdout) \(r.stderr.suffix(1500))")
        return r.json()
    }

    private func jsonArray(_ h: InteropHarness, _ args: [String]) throws -> [[String: Any]] {
        let out = try h.mcpctl(args + ["--json"]).stdout
        return (try? JSONSerialization.jsonObject(with: Data(out.utf8))) as? [[String: Any]] ?? []
    }

    private func ssoAudit(_ h: InteropHarness) throws -> [[String: Any]] {
        try jsonArray(h, ["audit", "list", "--source", "sso", "--limit", "1000"])
    }

    private func members(_ h: InteropHarness) throws -> [String] {
        let out = try h.mcpctl(["group", "show", "eng", "--json"]).stdout
        let json = (try? JSONSerialization.jsonObject(with: Data(out.utf8))) as? [String: Any] ?? [:]
        return (json["members"] as? [[String: Any]] ?? []).compactMap { $0["email"] as? String }
    }

    @Test func signingInThroughTheProvidersLoginPageLandsOnTheAccountPageAndGroupsFollowTheClaim() throws {
        let w = try world()
        let first = try browse(w, "signin", user: "alice")
        #expect(first["button_text"] as? String == "Sign in with corp")
        #expect(first["provider_login_host"] as? String == URL(string: w.issuer)?.host.map { "\($0):\(URL(string: w.issuer)?.port ?? 0)" })
        #expect(first["path"] as? String == "/account" && first["shows_email"] as? Bool == true, "\(first)")
        #expect(try members(w.h) == ["alice@example.com"], "the groups claim names eng: alice joins")

        // The next sign-in without a groups claim at all: fail closed, the mapped membership goes.
        var claims = Self.claims
        claims["alice"]?["groups"] = nil
        try write(claims, to: w.claimsFile)
        let second = try browse(w, "signin", user: "alice")
        #expect(second["path"] as? String == "/account", "\(second)")
        #expect(try members(w.h).isEmpty, "an absent groups claim removes memberships of mapped groups")

        let audit = try ssoAudit(w.h)
        #expect(audit.filter { $0["action"] as? String == "sso.login" && $0["decision"] as? String == "allow" }.count == 2, "\(audit)")
        #expect(audit.contains { $0["action"] as? String == "group.member.add" && $0["email"] as? String == "alice@example.com" })
        #expect(audit.contains { $0["action"] as? String == "group.member.remove" && $0["email"] as? String == "alice@example.com" })
        let alice = try jsonArray(w.h, ["user", "list"]).first { $0["email"] as? String == "alice@example.com" }
        #expect(alice?["has_password"] as? Bool == false, "an SSO user needs no local password")
    }

    @Test func anMCPClientsConsentFlowSignsInThroughTheProviderAndItsTokenWorksAtTheGateway() throws {
        let w = try world()
        let out = try browse(w, "oauth", user: "alice", ["--mcp-url", "\(w.base)/mcp/notes/dev"])
        #expect(out["oauth_sign_in_page"] as? Bool == true && out["button_text"] as? String == "Sign in with corp", "\(out)")
        #expect(out["consent_page"] as? Bool == true && out["consent_names_email"] as? Bool == true, "\(out)")
        #expect(out["state_ok"] as? Bool == true && out["token_status"] as? Int == 200, "\(out)")
        #expect(out["scope"] as? String == "read write", "editor through group eng, joined at this sign-in: \(out)")
        #expect(out["gateway_status"] as? Int == 200, "\(out)")
    }

    @Test func refusedSignInsShowAPageAreAuditedAndCreateNothing() throws {
        let w = try world()
        let cases = [("carol", "email not verified by the provider", "has not verified"),
                     ("eve", "email domain not allowed", "may not sign in"),
                     ("newbie", "no such user (not created without --create-users)", "There is no user"),
                     ("bob", "user disabled", "is disabled")]
        for (user, reason, message) in cases {
            let out = try browse(w, "signin", user: user)
            #expect(out["h1"] as? String == "Sign-in refused" && out["path"] as? String == "/login/sso/corp/callback", "\(user): \(out)")
            #expect((out["text"] as? String)?.contains(message) == true, "\(user): \(out)")
            let audit = try ssoAudit(w.h)
            #expect(audit.contains { $0["decision"] as? String == "deny" && $0["reason"] as? String == reason }, "\(user): \(audit)")
        }
        let emails = try jsonArray(w.h, ["user", "list"]).compactMap { $0["email"] as? String }
        #expect(emails.sorted() == ["alice@example.com", "bob@example.com", "carol@example.com"], "nobody was created: \(emails)")
        #expect(try members(w.h).isEmpty, "no refused sign-in changed a group")
        #expect(try ssoAudit(w.h).allSatisfy { $0["decision"] as? String == "deny" })

        // The callback URL of a successful sign-in, presented again: its state was used.
        let replay = try browse(w, "replay", user: "alice")
        #expect(replay["first_status"] as? Int == 303 && replay["first_location"] as? String == "/account", "\(replay)")
        #expect(replay["replay_status"] as? Int == 400 && replay["replay_refused"] as? Bool == true, "\(replay)")
        #expect(replay["other_browser_status"] as? Int == 400 && replay["other_browser_refused"] as? Bool == true, "\(replay)")
        #expect(try ssoAudit(w.h).contains { $0["reason"] as? String == "state unknown, expired, already used or from another browser" })
    }

    @Test func createUsersMakesUnknownUsersOfAllowedDomainsOnly() throws {
        let w = try world(createUsers: true)
        let made = try browse(w, "signin", user: "newbie")
        #expect(made["path"] as? String == "/account" && made["shows_email"] as? Bool == true, "\(made)")
        let outsider = try browse(w, "signin", user: "eve")
        #expect(outsider["h1"] as? String == "Sign-in refused", "\(outsider)")
        let users = try jsonArray(w.h, ["user", "list"])
        let newbie = users.first { $0["email"] as? String == "new@example.com" }
        #expect(newbie?["has_password"] as? Bool == false, "\(users)")
        #expect(!users.contains { $0["email"] as? String == "eve@evil.test" })
        #expect(try members(w.h) == ["new@example.com"])
        #expect(try ssoAudit(w.h).contains { $0["action"] as? String == "user.add" && $0["email"] as? String == "new@example.com" })
    }
}
