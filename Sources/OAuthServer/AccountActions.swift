import Foundation
import HTTP
import MCPAuth

/// The form posts of the account page. Each needs the session's form token; each acts only on what the
/// signed-in user holds, through the same domain operations as the CLI, audited with source `account`.
/// Anything refused changes nothing and gets a page that says why.
extension OAuthServer {
    /// GET /account: the page, or 303 to sign in.
    func accountGET(_ request: HTTPRequest) throws -> HTTPResponse {
        try withStore { store in
            guard let visitor = try visitor(request, store: store) else { return SitePage.seeOther("/login?next=%2Faccount") }
            let notice = request.queryValue("done").flatMap { AccountPage.notices[$0] }
            return try AccountPage(visitor: visitor, store: store, configuration: configuration).render(notice: notice)
        }
    }

    /// POST /account/…: checks the session and its form token, then runs the action the path names.
    func accountPOST(_ request: HTTPRequest) throws -> HTTPResponse {
        try writing { store in
            guard let visitor = try visitor(request, store: store) else { return SitePage.seeOther("/login?next=%2Faccount") }
            let form = FormFields.isForm(request) ? request.formFields() : []
            guard CSRF.verify(form, cookieSecret: visitor.sessionSecret) else { return SitePage.csrfRefused(header: visitor.header) }
            do {
                return try accountAction(request.path, form: form, visitor: visitor, store: store)
            } catch let e as DomainError {
                return SitePage.refusal(e, header: visitor.header)
            }
        }
    }

    private func accountAction(_ path: String, form: [(name: String, value: String)], visitor: Visitor, store: Store) throws -> HTTPResponse {
        if path == "/account/tokens" { return try createToken(form, visitor: visitor, store: store) }
        if path == "/account/revoke-all" { return try revokeEverything(visitor, store: store) }
        if let id = SitePath.member(path, collection: "/account/tokens/", verb: "rotate") {
            return try rotateToken(id, form: form, visitor: visitor, store: store)
        }
        if let id = SitePath.member(path, collection: "/account/tokens/", verb: "revoke") {
            let record = try Tokens(store: store).requireOwned(id, userID: visitor.user.id)
            let changed = try Tokens(store: store).revoke([record.id], by: visitor.asAccount).first?.1 ?? false
            return SitePage.seeOther("/account?done=" + (changed ? "token-revoked" : "token-already-revoked"))
        }
        if let clientID = SitePath.member(path, collection: "/account/applications/", verb: "revoke") {
            try ConnectedApplications(store: store).disconnect(clientID, user: visitor.user, by: visitor.asAccount)
            return SitePage.seeOther("/account?done=application-revoked")
        }
        throw DomainError.notFound("there is no such action")
    }

    // MARK: Tokens

    private func createToken(_ form: [(name: String, value: String)], visitor: Visitor, store: Store) throws -> HTTPResponse {
        guard configuration.selfServiceTokens else {
            return SitePage.error(status: 403, title: "Not allowed here", message: "Creating tokens on this page is turned off on this server. Ask an administrator. Nothing was changed.",
                                  header: visitor.header)
        }
        let request = try TokenForm(form, maxLifetime: configuration.maxTokenTTL)
        let issued = try Tokens(store: store).createOwn(user: visitor.user, name: request.name, scopes: request.scopes,
                                                        app: request.app, env: request.env, lifetimeSeconds: request.lifetime,
                                                        by: visitor.asAccount)
        return newSecretPage(issued, title: "Token created", visitor: visitor, store: store)
    }

    private func rotateToken(_ id: String, form: [(name: String, value: String)], visitor: Visitor, store: Store) throws -> HTTPResponse {
        let record = try Tokens(store: store).requireOwned(id, userID: visitor.user.id)
        let grace = try TokenForm.grace(FormFields.value(form, "grace"), max: configuration.maxTokenTTL)
        let issued = try Tokens(store: store).rotate(record.id, graceSeconds: grace, maxLifetimeSeconds: configuration.maxTokenTTL,
                                                     by: visitor.asAccount)
        let old = grace > 0 ? "The old secret stays valid for \(DurationText.format(grace))." : "The old secret no longer works."
        return newSecretPage(issued, title: "Token rotated", visitor: visitor, store: store, extra: old)
    }

    /// The one page that shows a secret: answered directly (never after a redirect, so the secret is kept
    /// nowhere) and never cached.
    private func newSecretPage(_ issued: Tokens.Issued, title: String, visitor: Visitor, store: Store, extra: String = "") -> HTTPResponse {
        let r = issued.record
        var target: (app: String, env: String) = (Apps.builtInApp, Apps.builtInEnv)
        if let app = r.app, let env = r.env { target = (app, env) } else if let found = try? ClientConfiguration.defaultTarget(store: store, email: r.email) {
            target = found
        }
        let config = ClientConfiguration.block(baseURL: configuration.publicURL, email: r.email, app: target.app, env: target.env,
                                               secret: issued.secret)
        let expires = r.expiresAt.map { "Expires \(RelativeTime.html($0)) (\(Clock.rfc3339($0)))." } ?? "Never expires."
        let html = SitePage.document(title: title, header: visitor.header, body: """
            <section aria-labelledby="secret-h"><h1 id="secret-h">\(Pages.escape(title))</h1>
            <p class="notice" role="status">Copy the token now: it is shown only this once. \(Pages.escape(extra))</p>
            <p><strong>\(Pages.escape(r.name ?? "(unnamed)"))</strong> — <code>\(Pages.escape(r.id))</code>, scopes \(Pages.escape(r.scopes.description)),
            \(Pages.escape(r.app.map { "on \($0)/\(r.env ?? "")" } ?? "on any app your grants cover")). \(expires)</p>
            <code id="new-token" class="secret">\(Pages.escape(issued.secret))</code>
            <button type="button" data-copy="new-token" hidden>Copy token</button>
            <h2>Client configuration</h2>
            <p class="muted">Paste this into your MCP client's configuration (it contains the token).</p>
            <pre id="new-token-config">\(Pages.escape(config.encoded(pretty: true)))</pre>
            <button type="button" data-copy="new-token-config" hidden>Copy configuration</button>
            <p><a href="/account">Back to your account</a></p></section>
            """)
        return SitePage.response(html)
    }

    // MARK: Everything

    /// Revokes every credential of the user and ends every session (this one too), then back to sign-in.
    private func revokeEverything(_ visitor: Visitor, store: Store) throws -> HTTPResponse {
        _ = try Tokens(store: store).revokeAll(email: visitor.user.email, by: visitor.asAccount)
        return SitePage.seeOther("/login?notice=revoked", cookies: [signIn(store).clearedSessionCookie])
    }
}

/// The fields of the create-token form, checked: a name, scopes, an app/environment pair or neither, and an
/// expiry no longer than the server allows.
struct TokenForm {
    let name: String?
    let scopes: ScopeSet
    let app: String?
    let env: String?
    let lifetime: Int64

    init(_ form: [(name: String, value: String)], maxLifetime: Int64) throws {
        let trimmed = (FormFields.value(form, "name") ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
        if HiddenCharacters.any(in: trimmed) { throw DomainError.invalid("the token name contains control or invisible characters") }
        name = trimmed.isEmpty ? nil : trimmed
        var scopes = ScopeSet()
        for field in form where field.name == "scope" {
            guard let s = ScopeSet.named(field.value) else { throw DomainError.invalid("unknown permission '\(field.value)'") }
            scopes.insert(s)
        }
        guard !scopes.isEmpty else { throw DomainError.invalid("choose at least one permission") }
        self.scopes = scopes
        app = FormFields.value(form, "app")
        env = FormFields.value(form, "env")
        guard (app == nil) == (env == nil) else { throw DomainError.invalid("choose both an app and an environment, or neither") }
        let cap = DurationText.format(maxLifetime)
        guard let text = FormFields.value(form, "expires") else { lifetime = min(Tokens.defaultLifetimeSeconds, maxLifetime); return }
        guard let seconds = DurationText.seconds(text) else {
            throw DomainError.invalid("tokens made here expire: choose a lifetime up to \(cap)")
        }
        guard seconds <= maxLifetime else { throw DomainError.invalid("a token made here lives at most \(cap)") }
        lifetime = seconds
    }

    /// The rotation grace: empty or 0 for none, else a duration no longer than `max`.
    static func grace(_ text: String?, max: Int64) throws -> Int64 {
        guard let text, !["0", "0s", "none"].contains(text) else { return 0 }
        guard let seconds = DurationText.seconds(text), seconds <= max else {
            throw DomainError.invalid("the grace must be a duration up to \(DurationText.format(max)), e.g. 1h")
        }
        return seconds
    }
}

/// Paths of the site's resources: `/collection/{member}/verb`, with the member percent-decoded.
enum SitePath {
    static func member(_ path: String, collection: String, verb: String) -> String? {
        guard path.hasPrefix(collection), path.hasSuffix("/" + verb) else { return nil }
        let raw = path.dropFirst(collection.count).dropLast(verb.count + 1)
        guard !raw.isEmpty, let decoded = String(raw).removingPercentEncoding, !decoded.isEmpty else { return nil }
        return decoded
    }
}
