import Foundation
import HTTP
import MCPAuth

/// `/login/sso/{name}` and its callback: OpenID Connect sign-in (Core 1.0 §3.1, authorization code flow)
/// with PKCE (RFC 7636, S256), `state` and `nonce` bound to this browser and used once. A verified ID
/// token signs its user in with the same browser session as the password form.
extension OAuthServer {
    /// Routes `/login/sso/NAME` and `/login/sso/NAME/callback`.
    func sso(_ request: HTTPRequest) -> HTTPResponse {
        let parts = request.path.dropFirst("/login/sso/".count).split(separator: "/", omittingEmptySubsequences: false)
        guard request.method == "GET" || request.method == "HEAD" else { return SitePage.methodNotAllowed("GET") }
        do {
            guard let name = parts.first.map(String.init), (try? IdentityProviders.validateName(name)) != nil,
                  let provider = try withStore({ try IdentityProviders(store: $0).find(name) }) else {
                return SitePage.error(status: 404, title: "Not found", message: "There is no such sign-in provider here.")
            }
            switch parts.count {
            case 1: return try ssoStart(request, provider)
            case 2 where parts[1] == "callback": return try ssoCallback(request, provider)
            default: return SitePage.error(status: 404, title: "Not found", message: "There is no such page.")
            }
        } catch {
            return failed(request, error)
        }
    }

    /// The redirect URI registered at the provider: PUBLIC_URL/login/sso/NAME/callback.
    func ssoRedirectURI(_ p: IdentityProvider) -> String {
        var base = issuer
        while base.hasSuffix("/") { base.removeLast() }
        return base + "/login/sso/" + SitePage.segment(p.name) + "/callback"
    }

    /// GET /login/sso/NAME: 303 to the provider's authorization endpoint with a fresh state, nonce and
    /// PKCE challenge; the browser gets the cookie the callback must present.
    private func ssoStart(_ request: HTTPRequest, _ p: IdentityProvider) throws -> HTTPResponse {
        if let wait = flowStartWait(clientAddress(request)) {
            var r = SitePage.error(status: 429, title: "Too many requests",
                                   message: "Too many sign-ins were started from your network. Try again in \(wait) second(s).")
            r.headers["Retry-After"] = String(wait)
            return r
        }
        let next = try ssoNext(request)
        let secure = configuration.isSecure
        var binding = FormFields.cookies(request)[SSOFlows.cookie(secure: secure)] ?? ""
        var cookies: [String] = []
        if binding.utf8.count != 32 || !Base62.isBase62(binding) {
            binding = Base62.random(count: 32)
            cookies.append("\(SSOFlows.cookie(secure: secure))=\(binding); \(SSOFlows.cookieAttributes(secure: secure))")
        }
        let (state, flow) = try startSSOFlow(provider: p.name, next: next, browserCookie: binding, address: clientAddress(request))
        let metadata: OIDCMetadata
        do { metadata = try providers.metadata(p) } catch {
            try dropSSOFlow(state: state)
            return SitePage.error(status: 502, title: "Sign-in unavailable", message: error.message)
        }
        let query = FormURLEncoding.encode([
            (name: "response_type", value: "code"), (name: "client_id", value: p.clientID),
            (name: "redirect_uri", value: ssoRedirectURI(p)), (name: "scope", value: p.scopes.joined(separator: " ")),
            (name: "state", value: state), (name: "nonce", value: flow.nonce),
            (name: "code_challenge", value: PKCE.challenge(forVerifier: flow.codeVerifier)), (name: "code_challenge_method", value: "S256"),
        ])
        let separator = metadata.authorizationEndpoint.contains("?") ? "&" : "?"
        return SitePage.seeOther(metadata.authorizationEndpoint + separator + query, cookies: cookies)
    }

    /// Where the browser goes once signed in: one of our own pages only, the account and admin pages or
    /// an authorization in progress of this same browser (`/oauth/authorize?tx=…`, nothing else in the
    /// query). Anything else (another site, another page, another browser's flow) goes to the account page.
    /// RFC 9700 §4.11.2: a sign-in link must not forward to a page its author chose.
    private func ssoNext(_ request: HTTPRequest) throws -> String {
        guard let next = LocalRedirect.validated(request.queryValue("next")) else { return LocalRedirect.fallback }
        let parts = next.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false)
        let path = String(parts[0])
        if ["/account", "/admin"].contains(where: { path == $0 || path.hasPrefix($0 + "/") }) { return next }
        let items = parts.count == 2 ? FormURLEncoding.decode(String(parts[1])) : []
        guard path == "/oauth/authorize", items.count == 1, items[0].name == "tx",
              try withStore({ try transaction(items[0].value, browserCookie: FormFields.cookies(request)[browserCookieName], store: $0) }) != nil
        else { return LocalRedirect.fallback }
        return "/oauth/authorize?" + FormURLEncoding.encode([(name: "tx", value: items[0].value)])
    }

    /// GET /login/sso/NAME/callback: the flow of `state` (once, this browser only), the code for an ID
    /// token, its verification, then the user's session and back to where the sign-in started.
    private func ssoCallback(_ request: HTTPRequest, _ p: IdentityProvider) throws -> HTTPResponse {
        let address = clientAddress(request)
        let login = OIDCLogin(provider: p)
        guard let flow = try takeSSOFlow(state: request.queryValue("state"), browserCookie: FormFields.cookies(request)[SSOFlows.cookie(secure: configuration.isSecure)]),
              flow.provider == p.name else {
            return try ssoRefused(login, SSORefusal(reason: "state unknown, expired, already used or from another browser",
                                                   message: "This sign-in link has expired, was already used, or was started in another browser. Start again."),
                                  address: address, status: 400)
        }
        do {
            let claims = try verifiedClaims(request, p, login: login, flow: flow)
            return try ssoSignIn(request, login, claims: claims, next: flow.next, address: address)
        } catch let refusal as SSORefusal {
            return try ssoRefused(login, refusal, address: address, status: 403)
        }
    }

    /// The provider's answer at the callback, exchanged and verified: the ID token's claims.
    private func verifiedClaims(_ request: HTTPRequest, _ p: IdentityProvider, login: OIDCLogin, flow: SSOFlow) throws -> JWTClaims {
        if let error = request.queryValue("error") {
            throw SSORefusal(reason: "provider answered error \(OIDCProviderClient.printable(error))",
                             message: "\(p.name) did not sign you in (\(OIDCProviderClient.printable(error))).")
        }
        // RFC 9207 §2.4: when the provider names itself in the response, it must be the provider asked.
        if let iss = request.queryValue("iss"), !iss.utf8.elementsEqual(p.issuer.utf8) {
            throw SSORefusal(reason: "authorization response from another issuer", message: "The answer came from another identity provider. Start again.")
        }
        guard let code = request.queryValue("code"), !code.isEmpty, code.utf8.count <= 4096 else {
            throw SSORefusal(reason: "authorization response without a code", message: "\(p.name) did not send a sign-in code. Start again.")
        }
        let metadata = try providers.metadata(p)
        let idToken = try providers.idToken(p, metadata: metadata, code: code, redirectURI: ssoRedirectURI(p), verifier: flow.codeVerifier)
        let keys = providers.keySet(p, configured: try withStore { try IdentityProviders(store: $0).list() })
        return try login.verify(idToken, nonce: flow.nonce, keys: keys, now: Clock.nowMillis(), fetch: { try self.providers.get($0) }).get()
    }

    /// Verified claims to a signed-in browser: throttle, user and groups, session; 303 to `next`.
    private func ssoSignIn(_ request: HTTPRequest, _ login: OIDCLogin, claims: JWTClaims, next: String, address: String) throws -> HTTPResponse {
        let email = claims["email"]?.stringValue ?? ""
        return try writing { store in
            let throttle = LoginThrottle(store: store, limits: configuration.loginLimits)
            let reservation: LoginThrottle.Reservation
            switch try throttle.reserve(email: email.isEmpty ? "sso:" + login.provider.name : email, address: address) {
            case .admitted(let r): reservation = r
            case .throttled(let wait):
                configuration.onSignIn?("throttled", "sso")
                var r = SitePage.error(status: 429, title: "Too many sign-in attempts",
                                       message: "Too many failed sign-in attempts. Try again in \(max(1, (wait + 59) / 60)) minute(s).")
                r.headers["Retry-After"] = String(wait)
                return r
            }
            switch try login.signIn(claims, store: store, remoteAddr: address) {
            case .failure(let refusal):
                // The reservation stays counted: a refused sign-in is a failed attempt.
                try AuditLog.append(login.refusalEvent(refusal, remoteAddr: address), to: store.db)
                configuration.onSignIn?("failure", "sso")
                return ssoRefusalPage(refusal, status: 403)
            case .success(let user):
                try throttle.recordSuccess(user: user, reservation: reservation, address: address, method: "sso \(login.provider.name)")
                try AuditLog.append(AuditEvent(source: .sso, action: "sso.login", actor: login.provider.name, email: user.email, decision: .allow,
                                               reason: "signed in with \(login.provider.name)", remoteAddr: address, target: login.provider.name), to: store.db)
                let cookies = try signIn(store).startSession(user: user, address: address, userAgent: request.headers["User-Agent"],
                                                             cookies: FormFields.cookies(request))
                configuration.onSignIn?("success", "sso")
                return SitePage.seeOther(next, cookies: cookies)
            }
        }
    }

    /// A refusal before the user is known: audited, counted toward the address's throttle, and a page.
    private func ssoRefused(_ login: OIDCLogin, _ refusal: SSORefusal, address: String, status: Int) throws -> HTTPResponse {
        try writing { store in
            _ = try LoginThrottle(store: store, limits: configuration.loginLimits)
                .reserve(email: refusal.email ?? "sso:" + login.provider.name, address: address)
            try AuditLog.append(login.refusalEvent(refusal, remoteAddr: address), to: store.db)
        }
        configuration.onSignIn?("failure", "sso")
        return ssoRefusalPage(refusal, status: status)
    }

    private func ssoRefusalPage(_ refusal: SSORefusal, status: Int) -> HTTPResponse {
        SitePage.error(status: status, title: "Sign-in refused", message: refusal.message)
    }

    /// The "Sign in with NAME" links of a sign-in page that returns to `next`.
    func ssoLinks(next: String) -> String {
        let names = (try? withStore { try IdentityProviders(store: $0).list().map(\.name) }) ?? []
        guard !names.isEmpty else { return "" }
        let query = FormURLEncoding.encode([(name: "next", value: next)])
        return "<ul class=\"sso\">" + names.map { name in
            "<li><a href=\"/login/sso/\(SitePage.segment(name))?\(Pages.escape(query))\" data-idp=\"\(Pages.escape(name))\">Sign in with \(Pages.escape(name))</a></li>"
        }.joined() + "</ul>"
    }
}
