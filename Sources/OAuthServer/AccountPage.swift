import HTTP
import MCPAuth

/// `GET /account`: what the signed-in user holds — personal tokens, connected applications, access
/// (grants) and recent activity — with the forms to create, rotate and revoke.
struct AccountPage {
    let visitor: Visitor
    let store: Store
    let configuration: OAuthConfiguration
    let now = Clock.nowMillis()

    /// Notices a redirect back to the page may name (never text from the request).
    static let notices = [
        "token-revoked": "The token is revoked. Anything still using it is refused from now on.",
        "token-already-revoked": "That token was already revoked.",
        "application-revoked": "The application is disconnected: its tokens are revoked and your consent is removed.",
    ]

    /// How many audit events the activity section shows.
    static let activityLimit = 50

    func render(notice: String?) throws -> HTTPResponse {
        let user = visitor.user
        let tokens = try Tokens(store: store).list(email: user.email, includeInactive: false, kinds: [.pat])
        let applications = try ConnectedApplications(store: store).list(userID: user.id)
        let grants = try Grants(store: store).list(email: user.email)
        var filter = AuditFilter()
        filter.email = user.email
        let activity = try AuditQuery.list(filter, limit: AccountPage.activityLimit, db: store.db)
        let body = """
            <h1>Your account</h1>
            \(notice.map { "<p class=\"success\" role=\"status\">\(Pages.escape($0))</p>" } ?? "")
            <nav class="sub" aria-label="Sections"><a href="#tokens">Tokens</a><a href="#applications">Connected applications</a><a href="#access">Access</a><a href="#activity">Recent activity</a></nav>
            \(try tokensSection(tokens, grants: grants))
            \(applicationsSection(applications))
            \(accessSection(grants))
            \(activitySection(activity))
            \(revokeAllSection())
            """
        return SitePage.response(SitePage.document(title: "Your account", header: visitor.header, body: body), cookies: visitor.cookies)
    }

    // MARK: Tokens

    private func tokensSection(_ tokens: [TokenRecord], grants: [Grant]) throws -> String {
        let rows = tokens.map(tokenRow).joined(separator: "\n")
        let table = tokens.isEmpty
            ? "<p class=\"empty\">You have no personal tokens. Create one below to let an MCP client use your access.</p>"
            : """
              <p class="muted">Your personal tokens that are live now.</p>
              <div class="table"><table>
              <thead><tr><th scope="col">Name</th><th scope="col">Token</th><th scope="col">Scopes</th><th scope="col">App/env</th>
              <th scope="col" class="opt">Created</th><th scope="col">Expires</th><th scope="col">Last used</th><th scope="col">Actions</th></tr></thead>
              <tbody>
              \(rows)
              </tbody></table></div>
              """
        return """
            <section id="tokens" aria-labelledby="tokens-h"><h2 id="tokens-h">Tokens</h2>
            \(table)
            \(try createForm(grants))
            </section>
            """
    }

    private func tokenRow(_ t: TokenRecord) -> String {
        let id = Pages.escape(t.id)
        let base = "/account/tokens/" + SitePage.segment(t.id)
        return """
            <tr data-token-id="\(id)"><td>\(Pages.escape(t.name ?? "(unnamed)"))</td><td><code>\(id)</code> <span class="muted">…\(Pages.escape(String(t.hint.suffix(4))))</span></td>
            <td>\(Pages.escape(t.scopes.description))</td><td>\(Pages.escape(t.app.map { "\($0)/\(t.env ?? "")" } ?? "any (grants decide)"))</td>
            <td class="opt">\(RelativeTime.html(t.createdAt, now: now))</td><td>\(RelativeTime.html(t.expiresAt, now: now))</td><td>\(RelativeTime.html(t.lastUsedAt, now: now))</td>
            <td><form method="post" action="\(base)/rotate">\(CSRF.hiddenField(visitor.csrf))<label class="check">Old secret works
            <select name="grace"><option value="0">no longer</option><option value="1h">1 more hour</option><option value="24h">1 more day</option></select></label>
            <button type="submit" name="action" value="rotate" class="secondary">Rotate</button></form>
            <form method="post" action="\(base)/revoke">\(CSRF.hiddenField(visitor.csrf))<button type="submit" name="action" value="revoke" class="danger">Revoke</button></form></td></tr>
            """
    }

    /// Expiry choices: the usual ones up to the server's cap, and the cap itself.
    static func expiryChoices(cap: Int64) -> [(value: String, label: String)] {
        var out = [("1d", "1 day"), ("7d", "7 days"), ("30d", "30 days"), ("90d", "90 days"), ("180d", "180 days"), ("365d", "1 year")]
            .filter { (DurationText.seconds($0.0) ?? .max) <= cap }
        let capText = DurationText.format(cap)
        if !out.contains(where: { DurationText.seconds($0.0) == cap }) { out.append((capText, capText + " (the longest allowed)")) }
        return out.map { (value: $0.0, label: $0.1) }
    }

    private func createForm(_ grants: [Grant]) throws -> String {
        guard configuration.selfServiceTokens else {
            return "<p class=\"muted\">Creating tokens here is turned off on this server. Ask an administrator (<code>mcpctl token create</code>).</p>"
        }
        let allowed = grants.reduce(ScopeSet()) { $0.union($1.scopes) }
        guard !allowed.isEmpty else {
            return "<p class=\"empty\">You cannot create a token yet: you have no access to any app. Ask an administrator for a grant (<code>mcpctl grant add</code>).</p>"
        }
        let targets = try Apps(store: store).list().filter { e in grants.contains { $0.app == e.app && ($0.env == "*" || $0.env == e.env) } }
        let apps = Array(Set(targets.map(\.app))).sorted()
        let envs = Array(Set(targets.map(\.env))).sorted()
        let boxes = ScopeSet.names.filter { allowed.contains($0.1) }.map { name, _ in
            "<label class=\"check\"><input type=\"checkbox\" name=\"scope\" value=\"\(name)\"\(name == "read" ? " checked" : "")> \(name) <span class=\"muted\">— \(Pages.escape(Pages.scopeHelp[name] ?? ""))</span></label>"
        }.joined(separator: "\n")
        let cap = configuration.maxTokenTTL
        let choices = AccountPage.expiryChoices(cap: cap)
        let preferred = choices.contains { $0.value == "90d" } ? "90d" : choices.last?.value ?? ""
        let expiry = choices.map { "<option value=\"\(Pages.escape($0.value))\"\($0.value == preferred ? " selected" : "")>\(Pages.escape($0.label))</option>" }.joined()
        func options(_ names: [String], any: String) -> String {
            "<option value=\"\">\(any)</option>" + names.map { "<option value=\"\(Pages.escape($0))\">\(Pages.escape($0))</option>" }.joined()
        }
        return """
            <h3 id="create-h">Create a token</h3>
            <form method="post" action="/account/tokens" aria-labelledby="create-h">
            \(CSRF.hiddenField(visitor.csrf))
            <div class="field"><label for="token-name">Name</label><input type="text" id="token-name" name="name" maxlength="200" placeholder="e.g. laptop IDE"></div>
            <fieldset><legend>Permissions</legend>\(boxes)<p class="muted">Only what your grants allow is offered; on the app and environment you choose, the token gets no more than your grant there.</p></fieldset>
            <div class="field"><label for="token-app">App</label><select id="token-app" name="app">\(options(apps, any: "any app your grants cover"))</select></div>
            <div class="field"><label for="token-env">Environment</label><select id="token-env" name="env">\(options(envs, any: "any environment"))</select></div>
            <div class="field"><label for="token-expires">Expires after</label><select id="token-expires" name="expires">\(expiry)</select></div>
            <button type="submit" name="action" value="create">Create token</button>
            </form>
            """
    }

    // MARK: Connected applications

    private func applicationsSection(_ apps: [ConnectedApplication]) -> String {
        guard !apps.isEmpty else {
            return """
                <section id="applications" aria-labelledby="apps-h"><h2 id="apps-h">Connected applications</h2>
                <p class="empty">No application is connected to your account. When an MCP client asks for access and you approve it, it appears here and you can disconnect it at any time.</p></section>
                """
        }
        let rows = apps.map { a -> String in
            let id = Pages.escape(a.client.clientID)
            let resources = a.consents.isEmpty ? "<span class=\"muted\">—</span>"
                : a.consents.map { "\(Pages.escape($0.app))/\(Pages.escape($0.env)) <span class=\"muted\">(\(Pages.escape($0.scopes.description)))</span>" }.joined(separator: "<br>")
            return """
                <tr data-client-id="\(id)"><td>\(Pages.escape(a.client.name))\(a.client.registration.isSelfRegistered ? " <span class=\"badge\">unverified</span>" : "")</td>
                <td><code>\(id)</code></td><td>\(Pages.escape(a.client.registration.rawValue))</td><td>\(Pages.escape(a.scopes.description))</td><td>\(resources)</td>
                <td class="opt">\(RelativeTime.html(a.firstUsedAt, now: now))</td><td>\(RelativeTime.html(a.lastUsedAt, now: now))</td>
                <td><form method="post" action="/account/applications/\(SitePage.segment(a.client.clientID))/revoke">\(CSRF.hiddenField(visitor.csrf))<button type="submit" name="action" value="revoke" class="danger">Revoke</button></form></td></tr>
                """
        }.joined(separator: "\n")
        return """
            <section id="applications" aria-labelledby="apps-h"><h2 id="apps-h">Connected applications</h2>
            <div class="table"><table><thead><tr><th scope="col">Application</th><th scope="col">Client id</th><th scope="col">Registration</th>
            <th scope="col">Scopes</th><th scope="col">Resource</th><th scope="col" class="opt">First used</th><th scope="col">Last used</th><th scope="col">Actions</th></tr></thead>
            <tbody>
            \(rows)
            </tbody></table></div></section>
            """
    }

    // MARK: Access and activity

    private func accessSection(_ grants: [Grant]) -> String {
        let content = grants.isEmpty
            ? "<p class=\"empty\">You have no access to any app yet. Ask an administrator for a grant (<code>mcpctl grant add \(Pages.escape(visitor.user.email)) --app APP --role viewer</code>).</p>"
            : "<ul>" + grants.map { g in
                "<li><strong>\(Pages.escape(g.app))/\(Pages.escape(g.env == "*" ? "every environment" : g.env))</strong> → \(Pages.escape(g.scopes.description)) <span class=\"muted\">(\(Pages.escape(Grant.roleName(g.scopes))))</span></li>"
            }.joined() + "</ul>"
        return "<section id=\"access\" aria-labelledby=\"access-h\"><h2 id=\"access-h\">Access</h2>\(content)</section>"
    }

    private func activitySection(_ events: [AuditRecord]) -> String {
        guard !events.isEmpty else {
            return "<section id=\"activity\" aria-labelledby=\"activity-h\"><h2 id=\"activity-h\">Recent activity</h2><p class=\"empty\">Nothing yet. Sign-ins, token changes and calls through the gateway will show here.</p></section>"
        }
        return """
            <section id="activity" aria-labelledby="activity-h"><h2 id="activity-h">Recent activity</h2>
            <p class="muted">Your last \(AccountPage.activityLimit) events, newest first.</p>
            \(AuditTable.html(events, now: now))
            </section>
            """
    }

    private func revokeAllSection() -> String {
        """
        <section id="revoke-all" aria-labelledby="revoke-all-h"><h2 id="revoke-all-h">Revoke everything</h2>
        <p>Revokes every token you hold (personal and OAuth), disconnects every application, and signs out every browser — this one too.</p>
        <form method="post" action="/account/revoke-all">\(CSRF.hiddenField(visitor.csrf))<button type="submit" name="action" value="revoke-all" class="danger">Revoke everything</button></form>
        </section>
        """
    }
}

/// Audit events as an HTML table, for the account page's activity and the admin audit search.
enum AuditTable {
    static func html(_ events: [AuditRecord], now: Int64) -> String {
        let rows = events.map { r -> String in
            let on = r.text("app").isEmpty ? "—" : "\(r.text("app"))/\(r.text("env"))"
            let call = [r.text("method"), r.text("tool")].filter { !$0.isEmpty }.joined(separator: " ")
            let decision = r.text("decision")
            return """
                <tr><td>\(RelativeTime.html(r.at, now: now))</td><td>\(Pages.escape(r.text("source")))</td><td>\(Pages.escape(r.text("action")))</td>
                <td>\(Pages.escape(r.text("email").isEmpty ? r.text("actor") : r.text("email")))</td><td>\(Pages.escape(on))</td><td class="opt">\(Pages.escape(call))</td>
                <td class="\(decision == "deny" ? "deny" : "allow")">\(Pages.escape(decision))</td><td class="opt">\(Pages.escape(r.text("reason")))</td></tr>
                """
        }.joined(separator: "\n")
        return """
            <div class="table"><table><thead><tr><th scope="col">When</th><th scope="col">Source</th><th scope="col">Action</th><th scope="col">Who</th>
            <th scope="col">App/env</th><th scope="col" class="opt">Call</th><th scope="col">Decision</th><th scope="col" class="opt">Reason</th></tr></thead>
            <tbody>
            \(rows)
            </tbody></table></div>
            """
    }
}
