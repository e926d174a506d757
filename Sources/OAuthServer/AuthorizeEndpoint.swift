import Foundation
import HTTP
import MCPAuth

extension OAuthServer {
    private enum Validation {
        case valid(AuthorizationRequest)
        case refused(HTTPResponse)
    }

    private func errorPage(_ title: String, _ message: String, status: Int = 400) -> HTTPResponse {
        Pages.response(Pages.error(title: title, message: message), status: status)
    }

    private var staleTransaction: HTTPResponse {
        errorPage("Request expired",
                  "This authorization request has expired, was already answered, or was started in another browser.", status: 403)
    }

    /// The client's redirect URI with `params` added to its query, plus `state` and RFC 9207 `iss`.
    func redirect(to uri: String, _ params: [(String, String)], state: String?) -> HTTPResponse {
        var pairs = params.map { (name: $0.0, value: $0.1) }
        if let state { pairs.append((name: "state", value: state)) }
        // RFC 9207 §2: the issuer identifier goes into every authorization response, errors included.
        pairs.append((name: "iss", value: issuer))
        let separator = uri.contains("?") ? (uri.hasSuffix("?") || uri.hasSuffix("&") ? "" : "&") : "?"
        return OAuthResponse.seeOther(uri + separator + FormURLEncoding.encode(pairs))
    }

    /// Reports an invalid request: by redirect to the client only when the signed-in user has already
    /// approved that client, else on a page. RFC 9700 §4.11.2: anyone can register a client (RFC 7591) with
    /// any redirect URI, so redirecting errors for an unapproved client would be an open redirector.
    private func redirectError(_ request: AuthorizationRequestContext, _ error: OAuthError) -> Validation {
        guard request.approved else {
            return .refused(errorPage("Invalid authorization request", "The application sent an invalid request (\(error.code): \(error.description))."))
        }
        return .refused(redirect(to: request.redirectURI, [("error", error.code), ("error_description", error.description)], state: request.state))
    }

    private struct AuthorizationRequestContext {
        let redirectURI: String
        let state: String?
        /// Whether the signed-in user has consented to this client before.
        let approved: Bool
    }

    private func cookie(_ name: String, _ value: String, maxAge: Int64?) -> String {
        var c = "\(name)=\(value); Path=/oauth; HttpOnly; SameSite=Lax"
        if let maxAge { c += "; Max-Age=\(maxAge)" }
        if configuration.isSecure { c += "; Secure" }
        return c
    }

    /// Validates an authorization request. The client and redirect URI come first, and failures there get
    /// an error page, never a redirect (RFC 6749 §4.1.2.1, OAuth 2.1 §4.1.2.1): redirecting to an
    /// unverified URI would make this server an open redirector. Everything after that is reported to
    /// the client by redirect if the user approved the client before, else on a page (RFC 9700 §4.11.2).
    private func validate(_ items: [(name: String, value: String)], request: HTTPRequest, cookies: [String: String],
                          store: Store) throws -> Validation {
        let remoteAddr = clientAddress(request)
        func value(_ name: String) -> String? { FormFields.value(items, name) }
        // RFC 6749 §3.1: parameters MUST NOT be included more than once.
        if let name = FormFields.repeated(items, among: ["client_id", "redirect_uri"]) {
            return .refused(errorPage("Invalid request", "The parameter \(name) was sent more than once."))
        }
        guard let clientID = value("client_id") else {
            return .refused(errorPage("Invalid request", "The request does not name a client (client_id is missing)."))
        }
        let client: OAuthClient
        if ClientMetadataDocument.isURL(clientID, allowInsecure: configuration.allowLoopbackClientMetadata) {
            // Fetching a document for anyone who asks is an amplifier: cache misses share the
            // per-address budget of dynamic registration.
            switch metadataFetcher.metadata(for: clientID, admit: { registrationLimiter.take("addr:" + remoteAddr) == nil }) {
            case .failure(let e):
                return .refused(errorPage("Unknown application", "The application's metadata document could not be used: \(e.description)."))
            case .success(let metadata):
                do {
                    client = try ClientMetadataDocument.record(metadata, url: clientID, store: store, remoteAddr: remoteAddr)
                } catch let e as DomainError {
                    return .refused(errorPage("Unknown application", e.description))
                }
            }
        } else {
            guard clientID.utf8.count <= 2048, let found = try OAuthClient.find(clientID, db: store.db) else {
                return .refused(errorPage("Unknown application",
                                          "This application is not registered here (or its registration was removed). Connect again from the application so that it registers anew."))
            }
            client = found
        }
        guard client.blockedAt == nil else {
            return .refused(errorPage("Application blocked", "An administrator blocked this application."))
        }
        let redirectURI: String
        if let presented = value("redirect_uri") {
            // OAuth 2.1 §4.1.1 / §7.5.3: exact string match with a registered URI; for loopback http any
            // port (RFC 8252 §7.3).
            guard client.redirectURIs.contains(where: { RedirectURI.matches(presented, registered: $0) }) else {
                return .refused(errorPage("Invalid redirect URI", "The redirect URI is not registered for this application."))
            }
            redirectURI = presented
        } else {
            // OAuth 2.1 §4.1.1: redirect_uri may be omitted only when exactly one is registered (and, being
            // compared exactly, a loopback URI needs its port in the request).
            guard client.redirectURIs.count == 1, let only = client.redirectURIs.first,
                  !(URLComponents(string: only)?.host.map(RedirectURI.isLoopback) ?? false) else {
                return .refused(errorPage("Invalid request", "The request has no redirect_uri."))
            }
            redirectURI = only
        }
        // A URI registered before today's rules (e.g. http on a name that only looks like loopback) is not used.
        if let problem = RedirectURI.problem(redirectURI) {
            return .refused(errorPage("Invalid redirect URI", "The application's redirect URI is no longer accepted: \(problem)."))
        }
        let state = value("state")
        let approved = try currentUser(request, cookies: cookies, store: store).map {
            try Consents(store: store).exists(userID: $0.id, clientID: client.clientID)
        } ?? false
        let context = AuthorizationRequestContext(redirectURI: redirectURI, state: state, approved: approved)
        if let state, state.utf8.count > 2048 {
            return redirectError(AuthorizationRequestContext(redirectURI: redirectURI, state: nil, approved: approved),
                                 .invalidRequest("state is longer than 2048 bytes"))
        }
        if let name = FormFields.repeated(items, among: ["response_type", "state", "code_challenge", "code_challenge_method", "scope", "resource"]) {
            return redirectError(context, name == "resource" ? .invalidTarget("give exactly one resource")
                                                            : .invalidRequest("the parameter \(name) was sent more than once"))
        }
        guard let responseType = value("response_type") else { return redirectError(context, .invalidRequest("response_type is required")) }
        guard responseType == "code" else {
            return redirectError(context, .unsupportedResponseType("only response_type=code is supported"))
        }
        // OAuth 2.1 §4.1.1 and RFC 9700 §2.1.1: PKCE is required, and only S256 — a missing method means
        // "plain" (RFC 7636 §4.3), which is refused like an explicit one (no downgrade).
        guard let challenge = value("code_challenge") else {
            return redirectError(context, .invalidRequest("PKCE is required: send code_challenge with code_challenge_method=S256"))
        }
        guard value("code_challenge_method") == "S256" else {
            return redirectError(context, .invalidRequest("code_challenge_method must be S256 (plain is not accepted)"))
        }
        guard challenge.utf8.count == 43, PKCE.isWellFormed(challenge) else {
            return redirectError(context, .invalidRequest("code_challenge must be the 43-character base64url SHA-256 of the verifier"))
        }
        // RFC 8707 §2 and MCP 2025-11-25 "Resource Parameter Implementation": the client names the MCP
        // endpoint the token is for; here that must be one of this server's /mcp/{app}/{env} URLs.
        guard let resourceText = value("resource") else {
            return redirectError(context, .invalidTarget("the resource parameter (RFC 8707) is required: the MCP endpoint URL, \(issuer)/mcp/{app}/{env}"))
        }
        guard let resource = ResourceIndicator.parse(resourceText, issuer: issuer) else {
            return redirectError(context, .invalidTarget("the resource must be an MCP endpoint of this server, \(issuer)/mcp/{app}/{env}"))
        }
        var scopes: ScopeSet? = nil
        if let scope = value("scope") {
            // Scope values this server does not define (e.g. offline_access) are ignored: refresh tokens
            // are always issued, and the consent page decides the rest.
            let known = scope.split(separator: " ").compactMap { ScopeSet.named(String($0)) }
            guard !known.isEmpty else {
                return redirectError(context, .invalidScope("scope must name at least one of: read write delete"))
            }
            scopes = known.reduce(ScopeSet()) { $0.union($1) }
        }
        return .valid(AuthorizationRequest(client: client, redirectURI: redirectURI, redirectPresented: value("redirect_uri") != nil,
                                           state: state, codeChallenge: challenge, resource: resource, scopes: scopes))
    }

    /// The signed-in user: from the trusted proxy header (only from configured proxy addresses), else
    /// from the session cookie. Disabled users are never signed in.
    private func currentUser(_ request: HTTPRequest, cookies: [String: String], store: Store) throws -> User? {
        if let header = configuration.trustedUserHeader, let value = request.headers[header]?.trimmingCharacters(in: .whitespaces),
           !value.isEmpty, configuration.trustedProxies.contains(request.remoteAddress) {
            if let user = try Users(store: store).find(value), user.disabledAt == nil { return user }
            return nil
        }
        guard let session = browser.session(cookies[BrowserState.sessionCookie]),
              let user = try Users(store: store).find(session.email), user.id == session.userID, user.disabledAt == nil
        else { return nil }
        return user
    }

    /// What the user may grant on the requested resource: nil when they hold no grant there (or it does
    /// not exist: the same answer, so existence is not leaked).
    private func grantable(_ user: User, _ tx: AuthorizationTransaction, store: Store) throws -> ScopeSet? {
        let decision = try Policy.check(store: store, userID: user.id, tokenScopes: nil, binding: (nil, nil),
                                        app: tx.request.resource.app, env: tx.request.resource.env, needed: nil)
        guard decision.hasAccess else { return nil }
        return decision.effective
    }

    /// Renders the page a transaction is at: login, consent, or "App not found".
    private func show(_ tx: AuthorizationTransaction, _ request: HTTPRequest, cookies: [String: String], setCookies: [String] = [],
                      store: Store) throws -> HTTPResponse {
        let host = URLComponents(string: issuer)?.host ?? issuer
        guard let user = try currentUser(request, cookies: cookies, store: store) else {
            return Pages.response(Pages.login(tx, issuerHost: host), cookies: setCookies)
        }
        let target = Pages.cspSource(forRedirect: tx.request.redirectURI)
        guard let granted = try grantable(user, tx, store: store) else {
            return Pages.response(Pages.appNotFound(tx, email: user.email), status: 404, formTarget: target, cookies: setCookies)
        }
        let offered = tx.request.scopes.map { $0.intersection(granted) } ?? granted
        return Pages.response(Pages.consent(tx, email: user.email, offered: offered, requested: tx.request.scopes),
                              formTarget: target, cookies: setCookies)
    }

    /// GET /oauth/authorize: a new authorization request, or (`?tx=…`) the next page of one in progress.
    func authorizeGET(_ request: HTTPRequest) throws -> HTTPResponse {
        let items = request.queryItems
        let cookies = FormFields.cookies(request)
        return try withStore { store in
            if items.count == 1, items[0].name == "tx" {
                guard let tx = browser.transaction(items[0].value, browserCookie: cookies[BrowserState.browserCookie]) else {
                    return staleTransaction
                }
                return try show(tx, request, cookies: cookies, store: store)
            }
            switch try validate(items, request: request, cookies: cookies, store: store) {
            case .refused(let response):
                return response
            case .valid(let authorization):
                var setCookies: [String] = []
                var binding = cookies[BrowserState.browserCookie] ?? ""
                if binding.utf8.count < 32 || binding.utf8.count > 64 || !Base62.isBase62(binding) {
                    binding = Base62.random(count: 32)
                    setCookies.append(cookie(BrowserState.browserCookie, binding, maxAge: nil))
                }
                let tx = browser.createTransaction(request: authorization, browserCookie: binding)
                return try show(tx, request, cookies: cookies, setCookies: setCookies, store: store)
            }
        }
    }

    /// POST /oauth/authorize: the login form or the consent decision, answered with 303.
    /// Both are CSRF-protected: the transaction's token must come back, from the browser the transaction
    /// is bound to (its cookie is SameSite=Lax, so a cross-site form post does not carry it).
    func authorizePOST(_ request: HTTPRequest) throws -> HTTPResponse {
        guard FormFields.isForm(request) else {
            return errorPage("Invalid request", "Send the form as application/x-www-form-urlencoded.")
        }
        let form = request.formFields()
        let cookies = FormFields.cookies(request)
        guard let tx = browser.transaction(FormFields.value(form, "tx"), browserCookie: cookies[BrowserState.browserCookie]),
              let csrf = FormFields.value(form, "csrf"), ConstantTime.equals(Array(csrf.utf8), Array(tx.csrf.utf8))
        else { return staleTransaction }
        let back = "/oauth/authorize?tx=" + tx.id
        return try withStore { store in
            if form.contains(where: { $0.name == "email" }) {
                return try login(tx, form: form, request: request, cookies: cookies, back: back, store: store)
            }
            guard let decision = FormFields.value(form, "decision") else { return OAuthResponse.seeOther(back) }
            guard let user = try currentUser(request, cookies: cookies, store: store) else {
                browser.setNotice(tx.id, "Please sign in first.")
                return OAuthResponse.seeOther(back)
            }
            let consents = Consents(store: store)
            let resource = tx.request.resource
            if decision != "approve" {
                guard browser.finish(tx.id) else { return staleTransaction }
                try consents.recordDenial(email: user.email, clientID: tx.request.client.clientID, resource: resource,
                                          reason: "denied by the user", remoteAddr: clientAddress(request))
                // RFC 6749 §4.1.2.1: the resource owner denied the request.
                return redirect(to: tx.request.redirectURI, [("error", "access_denied"), ("error_description", "the user denied access")],
                                state: tx.request.state)
            }
            guard let granted = try grantable(user, tx, store: store) else {
                // No grant, no code: the page says "App not found".
                return OAuthResponse.seeOther(back)
            }
            let offered = tx.request.scopes.map { $0.intersection(granted) } ?? granted
            let ticked = form.filter { $0.name == "scope" }.compactMap { ScopeSet.named($0.value) }.reduce(ScopeSet()) { $0.union($1) }
            let chosen = ticked.intersection(offered)
            guard !chosen.isEmpty else {
                browser.setNotice(tx.id, "Choose at least one permission, or deny.")
                return OAuthResponse.seeOther(back)
            }
            guard browser.finish(tx.id) else { return staleTransaction }
            try consents.record(userID: user.id, email: user.email, clientID: tx.request.client.clientID, resource: resource,
                                scopes: chosen, remoteAddr: clientAddress(request))
            let grant = AuthorizationGrant(clientID: tx.request.client.clientID, userID: user.id,
                                           redirectURI: tx.request.redirectPresented ? tx.request.redirectURI : "",
                                           codeChallenge: tx.request.codeChallenge, resource: resource, scopes: chosen)
            let code = try AuthorizationCodes(store: store).issue(grant, issuer: issuer, lifetimeSeconds: configuration.authorizationCodeTTL)
            // OAuth 2.1 §4.1.2: code and state; RFC 9207: iss.
            return redirect(to: tx.request.redirectURI, [("code", code)], state: tx.request.state)
        }
    }

    /// The login step. A wrong password, an unknown email and a disabled account get the same answer
    /// (and cost the same PBKDF2 run); failures are limited per account and per address.
    private func login(_ tx: AuthorizationTransaction, form: [(name: String, value: String)], request: HTTPRequest,
                       cookies: [String: String], back: String, store: Store) throws -> HTTPResponse {
        let email = FormFields.value(form, "email") ?? ""
        let password = form.first { $0.name == "password" }?.value ?? ""
        guard !email.isEmpty, !password.isEmpty else {
            browser.setNotice(tx.id, "Enter your email and password.")
            return OAuthResponse.seeOther(back)
        }
        let throttle = LoginThrottle(store: store, limits: configuration.loginLimits)
        let address = clientAddress(request)
        // The attempt is reserved before the password is checked, so parallel guesses cannot outrun the limit.
        let reservation: LoginThrottle.Reservation
        switch try throttle.reserve(email: email, address: address) {
        case .admitted(let r): reservation = r
        case .throttled(let wait): return throttled(tx, wait: wait, cookies: cookies)
        }
        let users = Users(store: store)
        guard password.utf8.count <= Password.maxLength, let user = try users.authenticate(email: email, password: password) else {
            let known = try users.find(email)
            let reason = known == nil ? "unknown email" : known?.disabledAt != nil ? "user disabled"
                : known?.hasPassword == false ? "no password set" : "wrong password"
            try throttle.recordFailure(email: email, address: address, reason: reason)
            browser.setNotice(tx.id, "Incorrect email or password.")
            return OAuthResponse.seeOther(back)
        }
        try throttle.recordSuccess(user: user, reservation: reservation, address: address, method: "password")
        // A new session id at every login, so an id planted in the browser beforehand is never promoted.
        browser.endSession(cookies[BrowserState.sessionCookie])
        let secret = browser.createSession(userID: user.id, email: user.email)
        browser.setNotice(tx.id, nil)
        var headers = HTTPHeaders()
        headers.add("Set-Cookie", cookie(BrowserState.sessionCookie, secret, maxAge: configuration.sessionTTL))
        return OAuthResponse.seeOther(back, headers: headers)
    }

    /// A sign-in refused by the throttle: 429 with `Retry-After` (RFC 6585 §4), and the login form again
    /// with the reason, without checking the password.
    private func throttled(_ tx: AuthorizationTransaction, wait: Int64, cookies: [String: String]) -> HTTPResponse {
        let notice = "Too many failed sign-in attempts. Try again in \(max(1, (wait + 59) / 60)) minute(s)."
        browser.setNotice(tx.id, notice)
        let current = browser.transaction(tx.id, browserCookie: cookies[BrowserState.browserCookie]) ?? tx
        var r = Pages.response(Pages.login(current, issuerHost: URLComponents(string: issuer)?.host ?? issuer), status: 429)
        r.headers["Retry-After"] = String(wait)
        return r
    }
}
