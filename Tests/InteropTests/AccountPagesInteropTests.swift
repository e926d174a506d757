import Foundation
import Testing

/// The self-service pages (/login, /account, /admin) in a real headless Chromium against a real
/// `mcpctl serve`: every effect is checked where it matters — at the MCP gateway with the MCP SDK's
/// own client, at the OAuth token endpoint, in the audit log. Drives Tests/Interop/account_browser.py.
@Suite(.serialized) struct AccountPagesInteropTests {
    static let password = "account-pages-password-1"
    static let alice = "alice@example.com"

    /// A store with alice (editor on notes/dev: read and write, never delete), the upstream, and `mcpctl serve`.
    private struct World {
        let h: InteropHarness
        let python: String
        let base: String
        let url: String
        let server: Process
    }

    private func world(serveArgs: [String] = []) throws -> World {
        let setup = try InteropHarness().run("/bin/bash", [InteropHarness.root.appendingPathComponent(".ci/setup-browser").path], timeout: 600)
        try #require(setup.status == 0, "setup-browser failed: \(setup.stderr)")
        let h = InteropHarness()
        let python = try InteropHarness.python("mcp2")
        let upstream = try h.startUpstream(python: python)
        try h.addUser(Self.alice, password: Self.password)
        try h.mcpctl(["app", "add", "notes", "--env", "dev", "--upstream", "http://127.0.0.1:\(upstream)/mcp"])
        try h.mcpctl(["grant", "add", Self.alice, "--app", "notes", "--env", "dev", "--role", "editor"])
        let server = try h.startServer(serveArgs)
        return World(h: h, python: python, base: server.url, url: "\(server.url)/mcp/notes/dev", server: server.process)
    }

    /// Runs one scenario of account_browser.py; its observations, and stderr for failure messages.
    private func browse(_ w: World, _ scenario: String, email: String = alice, _ extra: [String] = []) throws -> (Int32, [String: Any], String) {
        let script = InteropHarness.scripts.appendingPathComponent("account_browser.py").path
        let r = try w.h.run(w.python, [script, "--base", w.base, "--mcp-url", w.url, "--email", email, "--password", Self.password]
                                + extra + [scenario], timeout: 300)
        return (r.status, r.json(), r.stderr)
    }

    private func token(_ h: InteropHarness, _ email: String, scopes: String, name: String = "made by the operator") throws -> (secret: String, id: String) {
        let out = try h.mcpctl(["token", "create", "--email", email, "--name", name, "--scopes", scopes, "--app", "notes", "--env", "dev", "--json"]).json()
        return (out["token"] as? String ?? "", out["id"] as? String ?? "")
    }

    /// The audit rows written with `source`, read with the CLI.
    private func auditActions(_ h: InteropHarness, source: String) throws -> [[String: Any]] {
        let out = try h.mcpctl(["audit", "list", "--json", "--limit", "1000"]).stdout
        let rows = (try? JSONSerialization.jsonObject(with: Data(out.utf8))) as? [[String: Any]] ?? []
        return rows.filter { $0["source"] as? String == source }
    }

    @Test func signingInReturnsToTheAccountPageWhereAReadOnlyTokenIsMadeRotatedAndRevoked() throws {
        let w = try world()
        let (status, out, err) = try browse(w, "tokens")
        try #require(status == 0, "\(out) \(err.suffix(2000))")

        // GET /account without a session → 303 /login?next=%2Faccount, and back after sign-in.
        #expect(out["anonymous_status"] as? Int == 303)
        #expect((out["anonymous_location"] as? String)?.hasSuffix("/login?next=%2Faccount") == true, "\(out["anonymous_location"] ?? "none")")
        #expect(out["anonymous_landed_path"] as? String == "/login" && out["anonymous_landed_next"] as? String == "/account")
        #expect(out["signed_in_path"] as? String == "/account" && out["shows_email"] as? Bool == true)

        // Security headers, no third-party resources, labelled inputs, one heading.
        let headers = out["account_headers"] as? [String: Any] ?? [:]
        #expect(headers["X-Frame-Options"] as? String == "DENY", "\(headers)")
        #expect((headers["Content-Security-Policy"] as? String)?.contains("frame-ancestors 'none'") == true, "\(headers)")
        #expect(headers["Referrer-Policy"] as? String == "no-referrer", "\(headers)")
        let page = out["page"] as? [String: Any] ?? [:]
        #expect((page["third_party"] as? [Any])?.isEmpty == true, "\(page)")
        #expect((page["unlabelled"] as? [Any])?.isEmpty == true, "every input has a label: \(page)")
        #expect(page["h1"] as? Int == 1, "\(page)")

        // Only the scopes alice's grants allow are offered (editor: no delete).
        #expect(out["offered_scopes"] as? [String] == ["read", "write"], "\(out["offered_scopes"] ?? "none")")
        #expect(out["created_format_ok"] as? Bool == true, "the secret is the exact text of #new-token")
        #expect(out["created_rows"] as? Int == 1)
        #expect(out["secret_not_on_account_page"] as? Bool == true, "the secret is shown once, never on /account")

        // The read-only token at the gateway, through the MCP SDK's client: read works, write is refused.
        let tools = out["read_token_tools"] as? [String: Any] ?? [:]
        #expect(tools["exit"] as? Int == 0 && tools["tools"] as? [String] == ["search_notes"], "\(tools)")
        let read = out["read_token_read"] as? [String: Any] ?? [:]
        #expect(read["exit"] as? Int == 0 && read["is_error"] as? Bool == false, "\(read)")
        let write = out["read_token_write"] as? [String: Any] ?? [:]
        #expect(write["exit"] as? Int == 3 && write["status"] as? Int == 403, "\(write)")
        #expect((write["www_authenticate"] as? String)?.contains("scope=\"write\"") == true, "\(write)")

        // Rotate: without grace the old secret dies at once; with a grace both work for now.
        #expect(out["rotated_format_ok"] as? Bool == true)
        #expect(out["rotate_new_status"] as? Int == 200 && out["rotate_old_status"] as? Int == 401, "\(out)")
        #expect(out["grace_rotated_format_ok"] as? Bool == true)
        #expect(out["grace_new_status"] as? Int == 200 && out["grace_old_status"] as? Int == 200, "\(out)")

        // A plain form POST makes a token too (no JavaScript needed), answered 200 no-store with the secret.
        let made = out["form_post_create"] as? [String: Any] ?? [:]
        #expect(made["status"] as? Int == 200 && made["has_new_token"] as? Bool == true, "\(made)")
        #expect((made["cache_control"] as? String)?.contains("no-store") == true, "\(made)")

        // Revoke: the next gateway call is 401.
        #expect(out["revoke_landed_path"] as? String == "/account")
        #expect(out["revoked_status"] as? Int == 401)
        #expect(out["revoked_still_listed_live"] as? Bool == false)

        // Log out ends the session.
        #expect(out["has_logout_form"] as? Bool == true)
        #expect(out["after_logout_path"] as? String == "/login")
        #expect(out["after_logout_plain_status"] as? Int == 303)

        // Audited with source "account", with the CLI's action names.
        let audit = try auditActions(w.h, source: "account")
        for action in ["token.create", "token.rotate", "token.revoke"] {
            #expect(audit.contains { $0["action"] as? String == action && $0["email"] as? String == Self.alice }, "no \(action) in \(audit)")
        }
        let bySource = try w.h.run(InteropHarness.binary, ["audit", "list", "--source", "account", "--json"])
        #expect(bySource.status == 0 && bySource.stdout.contains("token.create"), "\(bySource.stderr)")
    }

    @Test func anOAuthClientConnectedThroughTheSDKIsListedAndRevokingItKillsItsAccessAndRefreshTokens() throws {
        let w = try world()
        let state = w.h.dir.appendingPathComponent("oauth-state.json").path
        let (status, out, err) = try browse(w, "applications", ["--state", state, "--client-name", "Notes desktop"])
        try #require(status == 0, "\(out) \(err.suffix(2000))")
        let connect = out["connect"] as? [String: Any] ?? [:]
        #expect(connect["exit"] as? Int == 0, "\(connect)")
        let clientID = try #require(out["client_id"] as? String)
        #expect(out["access_before"] as? Int == 200)
        #expect((out["listed_clients"] as? [String])?.contains(clientID) == true, "\(out)")
        let row = out["row_text"] as? String ?? ""
        #expect(row.contains("Notes desktop") && row.contains("dcr") && row.contains("read"), "name, registration, scopes: \(row)")
        #expect(row.contains(clientID) && row.contains("notes/dev"), "the client id and the resource are shown: \(row)")
        #expect(out["revoke_landed_path"] as? String == "/account")
        #expect((out["listed_after"] as? [String])?.contains(clientID) == false, "\(out)")
        #expect(out["access_after"] as? Int == 401)
        let refreshed = out["refresh_after"] as? [String: Any] ?? [:]
        #expect(refreshed["status"] as? Int == 400 && refreshed["error"] as? String == "invalid_grant", "\(refreshed)")
        // Only this user's tokens and consent: the client stays registered.
        let listed = try w.h.mcpctl(["client", "list", "--json"]).stdout
        let clients = (try? JSONSerialization.jsonObject(with: Data(listed.utf8))) as? [[String: Any]] ?? []
        let client = clients.first { $0["client_id"] as? String == clientID }
        #expect(client?["status"] as? String == "active" && client?["revoked_at"] is NSNull, "the client stays registered: \(listed)")
    }

    @Test func revokeEverythingEndsEveryTokenAndEveryBrowserSessionOfTheUser() throws {
        let w = try world()
        let cli = try token(w.h, Self.alice, scopes: "read")
        let state = w.h.dir.appendingPathComponent("oauth-state.json").path
        let (status, out, err) = try browse(w, "revoke-all", ["--state", state, "--cli-token", cli.secret])
        try #require(status == 0, "\(out) \(err.suffix(2000))")
        #expect((out["connect"] as? [String: Any])?["exit"] as? Int == 0, "\(out)")
        #expect(out["pat_before"] as? Int == 200 && out["access_before"] as? Int == 200, "\(out)")
        #expect(out["other_session_before"] as? Int == 200, "\(out)")
        #expect(out["pat_after"] as? Int == 401, "a token made on the page")
        #expect(out["cli_token_after"] as? Int == 401, "a token made with the CLI")
        #expect(out["access_after"] as? Int == 401, "an OAuth access token")
        let refreshed = out["refresh_after"] as? [String: Any] ?? [:]
        #expect(refreshed["status"] as? Int == 400 && refreshed["error"] as? String == "invalid_grant", "\(refreshed)")
        #expect(out["browser_after_path"] as? String == "/login", "this browser's session ended")
        let other = out["other_session_after"] as? [String: Any] ?? [:]
        #expect(other["status"] as? Int == 303 && (other["location"] as? String)?.contains("/login") == true, "every other session ended: \(other)")
        let audit = try auditActions(w.h, source: "account")
        #expect(audit.contains { $0["email"] as? String == Self.alice && ($0["action"] as? String ?? "").contains("revoke") }, "\(audit)")
    }

    @Test func forgedPostsAndOtherUsersTokensAreRefusedAndChangeNothing() throws {
        let w = try world()
        try w.h.addUser("bob@example.com", password: Self.password)
        try w.h.mcpctl(["grant", "add", "bob@example.com", "--app", "notes", "--env", "dev", "--role", "viewer"])
        let bob = try token(w.h, "bob@example.com", scopes: "read")
        let (status, out, err) = try browse(w, "csrf", ["--other-email", "bob@example.com", "--other-password", Self.password,
                                                        "--other-token", bob.secret, "--other-token-id", bob.id])
        try #require(status == 0, "\(out) \(err.suffix(2000))")
        #expect(out["target_found"] as? Bool == true && out["csrf_present"] as? Bool == true, "\(out)")
        #expect(out["bobs_csrf_differs"] as? Bool == true, "a CSRF token belongs to one session")

        // A POST without a valid csrf (missing, wrong, another session's) is a 403 page and changes nothing.
        let forged = out["forged"] as? [String: [String: Any]] ?? [:]
        #expect(forged.count == 7, "\(forged)")
        for (name, answer) in forged {
            #expect(answer["status"] as? Int == 403, "\(name): \(answer)")
            #expect(answer["html"] as? Bool == true && answer["new_token"] as? Bool == false, "\(name): \(answer)")
        }
        #expect(out["target_after_forgeries"] as? Int == 200, "the token survived every forged revoke")
        #expect(out["rows_after_forgeries"] as? Bool == true, "no token was made or removed")
        #expect(out["session_after_forgeries"] as? String == "/account", "forged logout and revoke-all did not end the session")

        // With a valid CSRF token: still not another user's token, nor one that does not exist.
        let foreign = out["revoke_other_users_token"] as? [String: Any] ?? [:]
        let unknown = out["revoke_unknown_token"] as? [String: Any] ?? [:]
        #expect((400..<500).contains(foreign["status"] as? Int ?? 0) && foreign["html"] as? Bool == true, "\(foreign)")
        #expect(foreign["status"] as? Int == unknown["status"] as? Int, "another user's token looks like an unknown one: \(foreign) \(unknown)")
        #expect(out["other_users_token_after"] as? Int == 200, "bob's token is alive")
        #expect((400..<500).contains((out["revoke_unknown_application"] as? [String: Any])?["status"] as? Int ?? 0), "\(out)")

        let wrong = out["wrong_password"] as? [String: Any] ?? [:]
        #expect((wrong["location"] as? String)?.hasPrefix("/login") == true && wrong["account"] as? Int == 303, "a wrong password signs nobody in: \(wrong)")

        // next= only leads to a local path; the session cookie is HttpOnly and SameSite=Lax, Path=/.
        for (name, answer) in out["next"] as? [String: [String: Any]] ?? [:] {
            #expect(answer["status"] as? Int == 303 && answer["stays_local"] as? Bool == true, "next=\(name): \(answer)")
        }
        let cookies = out["session_cookie"] as? [String] ?? []
        #expect(!cookies.isEmpty && cookies.allSatisfy { $0.contains("HttpOnly") && $0.contains("SameSite=Lax") }, "\(cookies)")
        #expect(cookies.contains { $0.contains("Path=/;") || $0.hasSuffix("Path=/") }, "one cookie for the account pages and the OAuth flow: \(cookies)")
    }

    @Test func anOrdinaryUserGets404AtAdminAndAnOperatorSeesEverythingAndDisablesTheUser() throws {
        let w = try world()
        try w.h.addUser("ops@example.com", password: Self.password)
        try w.h.mcpctl(["grant", "add", "ops@example.com", "--app", "mcpctl", "--env", "local", "--role", "admin"])
        let alices = try token(w.h, Self.alice, scopes: "read")
        let second = try token(w.h, Self.alice, scopes: "read", name: "second")
        let state = w.h.dir.appendingPathComponent("oauth-state.json").path
        let connect = try w.h.run(w.python, [InteropHarness.scripts.appendingPathComponent("oauth_client.py").path, "--url", w.url,
                                             "--state", state, "--email", Self.alice, "--password", Self.password,
                                             "--auth-method", "none", "--client-name", "Alice's editor", "list-tools"], timeout: 120)
        try #require(connect.status == 0, "\(connect.stdout) \(connect.stderr.suffix(1500))")
        let clientID = try #require(connect.json()["client_id"] as? String)

        let (status, out, err) = try browse(w, "admin", ["--operator-email", "ops@example.com", "--operator-password", Self.password,
                                                         "--user-token", alices.secret, "--other-token", second.secret,
                                                         "--other-token-id", second.id])
        try #require(status == 0, "\(out) \(err.suffix(2000))")
        #expect(out["anonymous_admin"] as? Int == 404, "without a session /admin does not exist either")
        #expect(out["user_admin_status"] as? Int == 404, "an ordinary user is kept out of /admin")
        #expect(out["user_admin_users_status"] as? Int == 404, "and out of the pages under it")
        #expect(out["user_account_before"] as? Int == 200 && out["user_token_before"] as? Int == 200)
        #expect(out["admin_shows_user"] as? Bool == true, "\(out["admin_pages"] ?? "")")
        #expect((out["admin_token_ids"] as? [String])?.contains(alices.id) == true, "every token: \(out["admin_token_ids"] ?? "")")
        #expect((out["admin_client_ids"] as? [String])?.contains(clientID) == true, "every application: \(out["admin_client_ids"] ?? "")")
        #expect(out["second_token_before"] as? Int == 200 && out["second_token_after"] as? Int == 401, "revoked from /admin/tokens: \(out)")
        #expect(out["first_token_untouched"] as? Int == 200, "only that token")
        #expect(out["admin_user_sessions"] as? Int ?? 0 >= 1, "the user's browser session is listed under /admin")
        #expect(out["user_account_after_session_end"] as? Int == 303, "an operator ended the user's browser session")
        #expect(out["disable_clicked"] as? Bool == true, "a disable button for the user under /admin")
        let after = out["user_account_after"] as? [String: Any] ?? [:]
        #expect(after["status"] as? Int == 303 && (after["location"] as? String)?.contains("/login") == true, "the user's session ended: \(after)")
        #expect(out["user_token_after"] as? Int == 401, "the user's token died")
        let relogin = out["user_sign_in_after"] as? [String: Any] ?? [:]
        #expect(!((relogin["location"] as? String)?.hasSuffix("/account") ?? false), "a disabled user cannot sign in: \(relogin)")
        let shown = try w.h.mcpctl(["user", "show", Self.alice, "--json"]).json()
        #expect(shown["status"] as? String == "disabled", "\(shown)")
        let audit = try auditActions(w.h, source: "admin")
        #expect(audit.contains { $0["action"] as? String == "user.disable" }, "\(audit)")
    }

    @Test func tokensMadeOnThePageNeverOutliveTheCapNorExceedTheGrantAndCreationCanBeTurnedOff() throws {
        let w = try world(serveArgs: ["--max-token-ttl", "7d"])
        let (status, out, err) = try browse(w, "limits")
        try #require(status == 0, "\(out) \(err.suffix(2000))")
        #expect(out["create_offered"] as? Bool == true)
        let offered = out["expires_options"] as? [String] ?? []
        #expect(!offered.isEmpty && offered.allSatisfy { ["1d", "7d"].contains($0) }, "only expiries up to 7d: \(offered)")
        for (name, answer) in out["forged_create"] as? [String: [String: Any]] ?? [:] {
            if name == "scope_beyond_the_grant" && answer["new_token"] as? Bool == true { continue }
            #expect((400..<500).contains(answer["status"] as? Int ?? 0) && answer["new_token"] as? Bool == false, "\(name): \(answer)")
        }
        // Whatever was made holds no more than the grant (editor: no delete) and lives at most 7 days.
        let listed = try w.h.mcpctl(["token", "list", "--email", Self.alice, "--all", "--json"]).stdout
        let tokens = (try? JSONSerialization.jsonObject(with: Data(listed.utf8))) as? [[String: Any]] ?? []
        let latest = Date().addingTimeInterval(7 * 86400 + 300)
        for t in tokens {
            #expect((t["scopes"] as? [String])?.contains("delete") == false, "\(t)")
            let expires = (t["expires_at"] as? String).flatMap { ISO8601DateFormatter().date(from: $0) }
            #expect(expires != nil && expires! <= latest, "\(t)")
        }

        // serve --no-self-service-tokens: no create form, and a create POST with a valid form token is refused.
        let port = try #require(URL(string: w.base)?.port)
        w.h.stop(w.server)
        _ = try w.h.startServer(["--no-self-service-tokens"], port: port)
        let (s2, off, e2) = try browse(w, "limits")
        try #require(s2 == 0, "\(off) \(e2.suffix(2000))")
        #expect(off["create_offered"] as? Bool == false)
        let forged = off["forged_create"] as? [String: [String: Any]] ?? [:]
        #expect(!forged.isEmpty && forged.values.allSatisfy { $0["status"] as? Int == 403 && $0["new_token"] as? Bool == false }, "\(forged)")
        let after = try w.h.mcpctl(["token", "list", "--email", Self.alice, "--all", "--json"]).stdout
        #expect(((try? JSONSerialization.jsonObject(with: Data(after.utf8))) as? [Any])?.count == tokens.count, "nothing was created")
    }

    @Test func behindHttpsTheSessionCookieIsHostPrefixedAndSecure() throws {
        let w = try world(serveArgs: ["--public-url", "https://mcp.example.test"])
        let (status, out, err) = try browse(w, "cookie")
        try #require(status == 0, "\(out) \(err.suffix(2000))")
        #expect(out["status"] as? Int == 303, "\(out)")
        let cookies = out["set_cookie"] as? [String] ?? []
        let session = cookies.first { $0.hasPrefix("__Host-") }
        #expect(session != nil, "RFC 6265bis §4.1.3.2 __Host- prefix on https: \(cookies)")
        for attribute in ["Secure", "HttpOnly", "SameSite=Lax", "Path=/"] {
            #expect(session?.contains(attribute) == true, "\(attribute): \(cookies)")
        }
        #expect(session?.lowercased().contains("domain=") == false, "a __Host- cookie has no Domain: \(cookies)")
    }

    @Test func aBrowserSessionSurvivesARestartOfServeOnTheSameStore() throws {
        let w = try world()
        let cookies = w.h.dir.appendingPathComponent("cookies.json").path
        let (s1, saved, e1) = try browse(w, "session-save", ["--cookies", cookies])
        try #require(s1 == 0, "\(saved) \(e1.suffix(2000))")
        #expect(saved["signed_in_path"] as? String == "/account")
        let port = try #require(URL(string: w.base)?.port)
        w.h.stop(w.server)
        _ = try w.h.startServer([], port: port)
        let (s2, checked, e2) = try browse(w, "session-check", ["--cookies", cookies])
        try #require(s2 == 0, "\(checked) \(e2.suffix(2000))")
        #expect(checked["path"] as? String == "/account" && checked["shows_email"] as? Bool == true, "\(checked)")
    }

    @Test func aHostileClientNameIsShownEscapedOnTheAccountAndAdminPages() throws {
        let w = try world()
        try w.h.addUser("ops@example.com", password: Self.password)
        try w.h.mcpctl(["grant", "add", "ops@example.com", "--app", "mcpctl", "--env", "*", "--role", "admin"])
        let state = w.h.dir.appendingPathComponent("oauth-state.json").path
        let (status, out, err) = try browse(w, "hostile", ["--state", state, "--operator-email", "ops@example.com",
                                                           "--operator-password", Self.password])
        try #require(status == 0, "\(out) \(err.suffix(2000))")
        #expect((out["connect"] as? [String: Any])?["exit"] as? Int == 0, "\(out)")
        for page in ["account", "admin"] {
            let seen = out[page] as? [String: Any] ?? [:]
            #expect(seen["alert"] as? Bool == false && seen["injected_images"] as? Int == 0, "\(page): \(seen)")
            #expect((seen["row_text"] as? String)?.contains("<img src=x onerror=alert(1)>") == true, "shown as text on \(page): \(seen)")
            #expect(seen["escaped_in_source"] as? Bool == true, "\(page): \(seen)")
        }
    }

    @Test func theAccountPageFitsAPhoneAndADesktopAndIsPhotographedOnRequest() throws {
        let w = try world()
        _ = try token(w.h, Self.alice, scopes: "read", name: "laptop IDE")
        let state = w.h.dir.appendingPathComponent("oauth-state.json").path
        let connect = try w.h.run(w.python, [InteropHarness.scripts.appendingPathComponent("oauth_client.py").path, "--url", w.url,
                                             "--state", state, "--email", Self.alice, "--password", Self.password,
                                             "--auth-method", "none", "--client-name", "Claude Code", "list-tools"], timeout: 120)
        try #require(connect.status == 0, "\(connect.stdout) \(connect.stderr.suffix(1500))")
        // The committed picture changes only when asked for (MCPCTL_SCREENSHOT=1), so CI leaves the tree clean.
        let write = ProcessInfo.processInfo.environment["MCPCTL_SCREENSHOT"] == "1"
        let target = write ? InteropHarness.root.appendingPathComponent("docs/account-page.png").path
                           : w.h.dir.appendingPathComponent("account-page.png").path
        let (status, out, err) = try browse(w, "screenshot", ["--out", target])
        try #require(status == 0, "\(out) \(err.suffix(2000))")
        #expect(out["overflow_px_390"] as? Int ?? 1 <= 0, "no sideways scrolling on a phone: \(out)")
        #expect(out["overflow_px_1280"] as? Int ?? 1 <= 0, "\(out)")
        #expect(out["phone_viewport_meta"] as? Bool == true)
        #expect(out["phone_font_px"] as? Double ?? 0 >= 14, "\(out)")
        #expect(out["bytes"] as? Int ?? 0 > 10_000, "\(out)")
    }
}
