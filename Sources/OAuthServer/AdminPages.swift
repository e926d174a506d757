import HTTP
import MCPAuth

/// The admin pages, for operators (`admin` on the built-in app): users, every token, every connected
/// application, browser sessions and an audit search, with the same operations as the CLI, audited with
/// source `admin`. To anyone else — signed in or not — they do not exist (the server's ordinary 404).
extension OAuthServer {
    func adminRoute(_ request: HTTPRequest) throws -> HTTPResponse? {
        let post = request.method == "POST"
        return try (post ? writing : withStore) { store -> HTTPResponse? in
            guard let visitor = try visitor(request, store: store), visitor.isOperator else { return nil }
            if post {
                let form = FormFields.isForm(request) ? request.formFields() : []
                guard CSRF.verify(form, cookieSecret: visitor.sessionSecret) else { return SitePage.csrfRefused(header: visitor.header) }
                do {
                    return try AdminActions(visitor: visitor, store: store).run(request.path)
                } catch let e as DomainError {
                    return SitePage.refusal(e, header: visitor.header)
                }
            }
            guard request.method == "GET" || request.method == "HEAD" else { return SitePage.methodNotAllowed("GET") }
            let page = AdminPage(visitor: visitor, store: store, notice: request.queryValue("done").flatMap { AdminActions.notices[$0] })
            switch request.path {
            case "/admin": return try page.users()
            case "/admin/tokens": return try page.tokens(email: request.queryValue("email").flatMap { $0.isEmpty ? nil : $0 })
            case "/admin/applications": return try page.applications()
            case "/admin/sessions": return try page.sessions()
            case "/admin/audit":
                do { return try page.audit(request.queryItems) } catch let e as DomainError { return SitePage.refusal(e, header: visitor.header) }
            default: return nil
            }
        }
    }
}

/// The admin form posts: `/admin/{collection}/{member}/{verb}`.
struct AdminActions {
    let visitor: Visitor
    let store: Store

    /// Notices a redirect back may name (never text from the request).
    static let notices = [
        "user-disabled": "The user is disabled: every token, consent and browser session of theirs is revoked.",
        "user-enabled": "The user is enabled again (their old credentials stay revoked).",
        "token-revoked": "The token is revoked.",
        "application-revoked": "The application is removed with its tokens and consents.",
        "session-ended": "The browser session is ended.",
    ]

    func run(_ path: String) throws -> HTTPResponse {
        let by = visitor.asAdmin
        if let email = SitePath.member(path, collection: "/admin/users/", verb: "disable") {
            _ = try Users(store: store).disable(email: email, by: by)
            return SitePage.seeOther("/admin?done=user-disabled")
        }
        if let email = SitePath.member(path, collection: "/admin/users/", verb: "enable") {
            try Users(store: store).enable(email: email, by: by)
            return SitePage.seeOther("/admin?done=user-enabled")
        }
        if let id = SitePath.member(path, collection: "/admin/tokens/", verb: "revoke") {
            guard id.hasPrefix("tok_") else { throw DomainError.notFound("no token with id '\(id)'") }
            _ = try Tokens(store: store).revoke([id], by: by)
            return SitePage.seeOther("/admin/tokens?done=token-revoked")
        }
        if let clientID = SitePath.member(path, collection: "/admin/applications/", verb: "revoke") {
            _ = try Clients(store: store).revoke(clientID, by: by)
            return SitePage.seeOther("/admin/applications?done=application-revoked")
        }
        if let id = SitePath.member(path, collection: "/admin/sessions/", verb: "revoke") {
            try BrowserSessions(store: store).end(id: id, by: by)
            return SitePage.seeOther("/admin/sessions?done=session-ended")
        }
        throw DomainError.notFound("there is no such action")
    }
}

/// The admin pages' content.
struct AdminPage {
    let visitor: Visitor
    let store: Store
    let notice: String?
    let now = Clock.nowMillis()

    private func page(_ title: String, _ content: String) -> HTTPResponse {
        let body = """
            <h1>\(Pages.escape(title))</h1>
            <nav class="sub" aria-label="Admin"><a href="/admin">Users</a><a href="/admin/tokens">Tokens</a><a href="/admin/applications">Connected applications</a><a href="/admin/sessions">Browser sessions</a><a href="/admin/audit">Audit search</a></nav>
            \(notice.map { "<p class=\"success\" role=\"status\">\(Pages.escape($0))</p>" } ?? "")
            <section>\(content)</section>
            """
        return SitePage.response(SitePage.document(title: title, header: visitor.header, body: body), cookies: visitor.cookies)
    }

    private func button(_ action: String, value: String, label: String, danger: Bool = true) -> String {
        "<form method=\"post\" action=\"\(action)\">\(CSRF.hiddenField(visitor.csrf))<button type=\"submit\" name=\"action\" value=\"\(value)\"\(danger ? " class=\"danger\"" : " class=\"secondary\"")>\(label)</button></form>"
    }

    private func table(_ headers: [String], _ rows: [String], empty: String) -> String {
        guard !rows.isEmpty else { return "<p class=\"empty\">\(Pages.escape(empty))</p>" }
        let head = headers.map { "<th scope=\"col\">\(Pages.escape($0))</th>" }.joined()
        return "<div class=\"table\"><table><thead><tr>\(head)</tr></thead><tbody>\n\(rows.joined(separator: "\n"))\n</tbody></table></div>"
    }

    func users() throws -> HTTPResponse {
        let rows = try Users(store: store).list().map { u -> String in
            let base = "/admin/users/" + SitePage.segment(u.email)
            let action = u.disabledAt == nil ? button(base + "/disable", value: "disable", label: "Disable")
                                             : button(base + "/enable", value: "enable", label: "Enable", danger: false)
            return """
                <tr data-email="\(Pages.escape(u.email))"><td>\(Pages.escape(u.email))</td><td>\(Pages.escape(u.name ?? "—"))</td>
                <td>\(u.disabledAt == nil ? "active" : "<span class=\"deny\">disabled</span> \(RelativeTime.html(u.disabledAt, now: now))")</td>
                <td>\(RelativeTime.html(u.createdAt, now: now))</td><td>\(action)</td></tr>
                """
        }
        return page("Users", table(["Email", "Name", "Status", "Created", "Actions"], rows,
                                   empty: "No users. Add one with: mcpctl user add EMAIL"))
    }

    /// How many tokens the tokens page lists at most (OAuth access tokens pile up; narrow by user).
    static let tokenRows = 500

    func tokens(email: String?) throws -> HTTPResponse {
        let all = try Tokens(store: store).list(email: email, includeInactive: false)
        let rows = all.prefix(AdminPage.tokenRows).map { t -> String in
            """
            <tr data-token-id="\(Pages.escape(t.id))"><td><code>\(Pages.escape(t.id))</code></td><td>\(Pages.escape(t.email))</td><td>\(Pages.escape(t.kind.rawValue))</td>
            <td>\(Pages.escape(t.name ?? "—"))</td><td>\(Pages.escape(t.scopes.description))</td><td>\(Pages.escape(t.app.map { "\($0)/\(t.env ?? "")" } ?? "any"))</td>
            <td class="opt"><code>\(Pages.escape(t.clientID ?? "—"))</code></td><td>\(RelativeTime.html(t.expiresAt, now: now))</td><td>\(RelativeTime.html(t.lastUsedAt, now: now))</td>
            <td>\(button("/admin/tokens/" + SitePage.segment(t.id) + "/revoke", value: "revoke", label: "Revoke"))</td></tr>
            """
        }
        let search = """
            <form method="get" action="/admin/tokens" aria-label="Narrow tokens"><div class="field"><label for="f-email">User's email</label>
            <input type="email" id="f-email" name="email" value="\(Pages.escape(email ?? ""))"></div><button type="submit">Show</button></form>
            """
        let more = all.count > AdminPage.tokenRows
            ? "<p class=\"muted\">Showing the newest \(AdminPage.tokenRows) of \(all.count) live tokens; narrow by user to see the rest.</p>" : ""
        return page("Tokens", search + more + table(["Id", "User", "Kind", "Name", "Scopes", "App/env", "Client", "Expires", "Last used", "Actions"], Array(rows),
                                                    empty: "No live tokens. Users create them on their account page, or: mcpctl token create --email EMAIL"))
    }

    func applications() throws -> HTTPResponse {
        let rows = try Clients(store: store).list(email: nil, includeBlocked: true).map { c -> String in
            """
            <tr data-client-id="\(Pages.escape(c.clientID))"><td>\(Pages.escape(c.name))</td><td><code>\(Pages.escape(c.clientID))</code></td>
            <td>\(Pages.escape(c.registration.rawValue))</td><td>\(Pages.escape(c.usage?.scopes.description ?? ""))</td><td>\(c.usage?.users ?? 0)</td>
            <td>\(c.usage?.liveTokens ?? 0)</td><td class="opt">\(RelativeTime.html(c.createdAt, now: now))</td><td>\(RelativeTime.html(c.lastUsedAt, now: now))</td>
            <td>\(c.blockedAt == nil ? "active" : "<span class=\"deny\">blocked</span>")</td>
            <td>\(button("/admin/applications/" + SitePage.segment(c.clientID) + "/revoke", value: "revoke", label: "Revoke"))</td></tr>
            """
        }
        return page("Connected applications", table(["Name", "Client id", "Registration", "Scopes", "Users", "Live tokens", "Registered", "Last used", "Status", "Actions"],
                                                    rows, empty: "No application has registered yet. MCP clients register themselves when a user connects one."))
    }

    func sessions() throws -> HTTPResponse {
        let rows = try BrowserSessions(store: store).list().map { s -> String in
            """
            <tr data-session-id="\(Pages.escape(s.id))"><td><code>\(Pages.escape(s.id))</code></td><td>\(Pages.escape(s.email))</td>
            <td>\(RelativeTime.html(s.createdAt, now: now))</td><td>\(RelativeTime.html(s.lastSeenAt, now: now))</td>
            <td>\(Pages.escape(s.remoteAddr ?? "—"))</td><td class="opt">\(Pages.escape(s.userAgent ?? "—"))</td>
            <td>\(button("/admin/sessions/" + SitePage.segment(s.id) + "/revoke", value: "revoke", label: "End"))</td></tr>
            """
        }
        return page("Browser sessions", table(["Id", "User", "Signed in", "Last seen", "Address", "Browser", "Actions"], rows,
                                              empty: "Nobody is signed in."))
    }

    /// The audit search: the filters of `audit list`, newest first.
    func audit(_ items: [(name: String, value: String)]) throws -> HTTPResponse {
        var values: [String: String] = [:]
        for item in items where values[item.name] == nil { values[item.name] = item.value }
        let filter = try AuditFilter(text: values)
        let limit = min(1000, max(1, Int(values["limit"] ?? "") ?? 100))
        let events = try AuditQuery.list(filter, limit: limit, db: store.db)
        func field(_ name: String, _ label: String, hint: String = "") -> String {
            "<div class=\"field\"><label for=\"f-\(name)\">\(label)</label><input type=\"text\" id=\"f-\(name)\" name=\"\(name)\" value=\"\(Pages.escape(values[name] ?? ""))\"\(hint.isEmpty ? "" : " placeholder=\"\(Pages.escape(hint))\"")></div>"
        }
        func choice(_ name: String, _ label: String, _ options: [String]) -> String {
            let opts = ([""] + options).map { o in
                "<option value=\"\(Pages.escape(o))\"\(values[name] == o ? " selected" : "")>\(o.isEmpty ? "any" : Pages.escape(o))</option>"
            }.joined()
            return "<div class=\"field\"><label for=\"f-\(name)\">\(label)</label><select id=\"f-\(name)\" name=\"\(name)\">\(opts)</select></div>"
        }
        let form = """
            <form method="get" action="/admin/audit" aria-label="Audit filters">
            \(field("since", "Since", hint: "1h, 7d or an RFC 3339 time"))\(field("until", "Until", hint: "1h, 7d or an RFC 3339 time"))
            \(choice("source", "Source", AuditSource.allCases.map(\.rawValue)))\(field("email", "Email"))\(field("client", "Client id"))\(field("token", "Token id"))
            \(field("app", "App"))\(field("env", "Environment"))\(field("tool", "Tool"))\(field("action", "Action", hint: "e.g. token.create"))
            \(choice("decision", "Decision", ["allow", "deny"]))\(field("limit", "Limit", hint: "100"))
            <button type="submit">Search</button></form>
            """
        let results = events.isEmpty ? "<p class=\"empty\">No audit events match. Widen the filters (for example a longer Since).</p>"
                                     : AuditTable.html(events, now: now)
        return page("Audit search", form + "<h2>Results</h2>" + results)
    }
}
