import Foundation
import HTTP
import MCPAuth

/// The pages the authorization endpoint answers with when it cannot go on: refusals shown in the browser
/// instead of being sent to a redirect URI.
enum AuthorizePages {
    static func error(_ title: String, _ message: String, status: Int = 400) -> HTTPResponse {
        Pages.response(Pages.error(title: title, message: message), status: status)
    }

    static var staleTransaction: HTTPResponse {
        error("Request expired", "This authorization request has expired, was already answered, or was started in another browser.", status: 403)
    }

    /// A refusal of the client or redirect URI, which is never redirected (RFC 6749 §4.1.2.1).
    static func refusal(_ e: OAuthError) -> HTTPResponse {
        let title: String
        switch e.code {
        case "invalid_client": title = "Unknown application"
        case "unauthorized_client": title = "Application blocked"
        case "invalid_redirect_uri": title = "Invalid redirect URI"
        default: title = "Invalid request"
        }
        return error(title, e.description)
    }
}

extension OAuthServer {
    /// The client's redirect URI with `params` added to its query, plus `state` and RFC 9207 `iss`.
    func redirect(to uri: String, _ params: [(String, String)], state: String?) -> HTTPResponse {
        var pairs = params.map { (name: $0.0, value: $0.1) }
        if let state { pairs.append((name: "state", value: state)) }
        // RFC 9207 §2: the issuer identifier goes into every authorization response, errors included.
        pairs.append((name: "iss", value: issuer))
        let separator = uri.contains("?") ? (uri.hasSuffix("?") || uri.hasSuffix("&") ? "" : "&") : "?"
        return OAuthResponse.seeOther(uri + separator + FormURLEncoding.encode(pairs))
    }

    /// The writer of authorization errors once the redirect URI is verified: by redirect to the client only
    /// when the signed-in user has already approved that client, else on a page. RFC 9700 §4.11.2: anyone
    /// can register a client (RFC 7591) with any redirect URI, so redirecting errors for an unapproved client
    /// would be an open redirector.
    private func authorizationError(_ error: OAuthError, target: AuthorizationTarget, state: String?, approved: Bool) -> HTTPResponse {
        guard approved else {
            return AuthorizePages.error("Invalid authorization request", "The application sent an invalid request (\(error.code): \(error.description)).")
        }
        return redirect(to: target.redirectURI, [("error", error.code), ("error_description", error.description)], state: state)
    }

    func signIn(_ store: Store) -> SignIn { SignIn(configuration: configuration, store: store) }

    /// Renders the page a transaction is at: sign-in, consent, or "App not found".
    private func show(_ tx: AuthorizationTransaction, _ request: HTTPRequest, cookies: [String: String], setCookies: [String] = [],
                      store: Store) throws -> HTTPResponse {
        guard let user = try signIn(store).currentUser(request, cookies: cookies) else {
            return Pages.response(Pages.login(tx, issuerHost: issuerHost, sso: ssoLinks(next: "/oauth/authorize?tx=" + tx.id)), cookies: setCookies)
        }
        return try ConsentStep(server: self, store: store).page(tx, user: user, setCookies: setCookies)
    }

    private var issuerHost: String { URLComponents(string: issuer)?.host ?? issuer }

    /// GET /oauth/authorize: a new authorization request, or (`?tx=…`) the next page of one in progress.
    func authorizeGET(_ request: HTTPRequest) throws -> HTTPResponse {
        let items = request.queryItems
        let cookies = FormFields.cookies(request)
        let continues = items.count == 1 && items[0].name == "tx"
        // A new request starts a flow: the visitor's allowance is asked before a store connection is taken.
        if !continues, let wait = flowStartWait(clientAddress(request)) {
            var r = AuthorizePages.error("Too many requests", "Too many sign-ins were started from your network. Try again in \(wait) second(s).",
                                         status: 429)
            r.headers["Retry-After"] = String(wait)
            return r
        }
        return try withStore { store in
            if continues {
                guard let tx = try transaction(items[0].value, browserCookie: cookies[browserCookieName], store: store) else {
                    return AuthorizePages.staleTransaction
                }
                return try show(tx, request, cookies: cookies, store: store)
            }
            return try begin(items, request: request, cookies: cookies, store: store)
        }
    }

    /// Validates a new request and starts its transaction, bound to this browser by a cookie.
    private func begin(_ items: [(name: String, value: String)], request: HTTPRequest, cookies: [String: String],
                       store: Store) throws -> HTTPResponse {
        let remoteAddr = clientAddress(request)
        // Fetching a document for anyone who asks is an amplifier: cache misses share the per-address
        // budget of dynamic registration.
        let validator = AuthorizationRequestValidator(
            items: items, issuer: issuer, store: store, remoteAddr: remoteAddr,
            allowLoopbackClientMetadata: configuration.allowLoopbackClientMetadata, fetcher: metadataFetcher,
            admitFetch: { self.registrationLimiter.take("addr:" + remoteAddr) == nil })
        let target: AuthorizationTarget
        do { target = try validator.target() } catch let e as OAuthError { return AuthorizePages.refusal(e) }
        let approved = try signIn(store).currentUser(request, cookies: cookies).map {
            try Consents(store: store).exists(userID: $0.id, clientID: target.client.clientID)
        } ?? false
        let authorization: AuthorizationRequest
        do {
            authorization = try validator.request(for: target)
        } catch {
            return authorizationError(error, target: target, state: validator.echoableState, approved: approved)
        }
        var setCookies: [String] = []
        var binding = cookies[browserCookieName] ?? ""
        if binding.utf8.count < 32 || binding.utf8.count > 64 || !Base62.isBase62(binding) {
            binding = Base62.random(count: 32)
            setCookies.append(browserCookie(binding))
        }
        let tx = try createTransaction(authorization, browserCookie: binding, address: remoteAddr, store: store)
        return try show(tx, request, cookies: cookies, setCookies: setCookies, store: store)
    }

    /// POST /oauth/authorize: the sign-in form or the consent decision, answered with 303.
    /// Both are CSRF-protected: the transaction's token must come back, from the browser the transaction
    /// is bound to (its cookie is SameSite=Lax, so a cross-site form post does not carry it).
    func authorizePOST(_ request: HTTPRequest) throws -> HTTPResponse {
        guard FormFields.isForm(request) else {
            return AuthorizePages.error("Invalid request", "Send the form as application/x-www-form-urlencoded.")
        }
        let form = request.formFields()
        let cookies = FormFields.cookies(request)
        return try withStore { store in
            guard let tx = try transaction(FormFields.value(form, "tx"), browserCookie: cookies[browserCookieName], store: store),
                  let csrf = FormFields.value(form, "csrf"), ConstantTime.equals(Array(csrf.utf8), Array(tx.csrf.utf8))
            else { return AuthorizePages.staleTransaction }
            let back = "/oauth/authorize?tx=" + tx.id
            if form.contains(where: { $0.name == "email" }) {
                return try signInStep(tx, form: form, request: request, cookies: cookies, back: back, store: store)
            }
            guard let decision = FormFields.value(form, "decision") else { return OAuthResponse.seeOther(back) }
            guard let user = try signIn(store).currentUser(request, cookies: cookies) else {
                try setNotice(tx.id, "Please sign in first.", store: store)
                return OAuthResponse.seeOther(back)
            }
            return try ConsentStep(server: self, store: store).decide(tx, user: user, decision: decision, form: form,
                                                                      remoteAddr: clientAddress(request), back: back)
        }
    }

    /// The sign-in form of a transaction: back to its page, signed in or with a notice.
    private func signInStep(_ tx: AuthorizationTransaction, form: [(name: String, value: String)], request: HTTPRequest,
                            cookies: [String: String], back: String, store: Store) throws -> HTTPResponse {
        let outcome = try signIn(store).attempt(email: FormFields.value(form, "email") ?? "",
                                                password: form.first { $0.name == "password" }?.value ?? "",
                                                address: clientAddress(request), userAgent: request.headers["User-Agent"],
                                                cookies: cookies)
        switch outcome {
        case .signedIn(_, let sessionCookies):
            try setNotice(tx.id, nil, store: store)
            var headers = HTTPHeaders()
            for cookie in sessionCookies { headers.add("Set-Cookie", cookie) }
            return OAuthResponse.seeOther(back, headers: headers)
        case .refused(let notice):
            try setNotice(tx.id, notice, store: store)
            return OAuthResponse.seeOther(back)
        case .throttled(let wait):
            return try throttled(tx, wait: wait, cookies: cookies, store: store)
        }
    }

    /// A sign-in refused by the throttle: 429 with `Retry-After` (RFC 6585 §4), and the sign-in form again
    /// with the reason, without checking the password.
    private func throttled(_ tx: AuthorizationTransaction, wait: Int64, cookies: [String: String], store: Store) throws -> HTTPResponse {
        let notice = "Too many failed sign-in attempts. Try again in \(max(1, (wait + 59) / 60)) minute(s)."
        try setNotice(tx.id, notice, store: store)
        var current = tx
        current.notice = notice
        var r = Pages.response(Pages.login(current, issuerHost: issuerHost, sso: ssoLinks(next: "/oauth/authorize?tx=" + tx.id)), status: 429)
        r.headers["Retry-After"] = String(wait)
        return r
    }
}
