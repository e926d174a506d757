import HTTP
import MCPAuth

/// `/login` and `/logout`: signing in to the account pages with the same form, throttle and session as the
/// authorization flow, and signing out.
extension OAuthServer {
    /// Notices a redirect back to the sign-in page may name (never text from the request).
    static let loginNotices = [
        "incorrect": "Incorrect email or password.",
        "missing": "Enter your email and password.",
        "signed-out": "You are signed out.",
        "revoked": "Everything you held is revoked and every session is signed out.",
        "expired": "Your session has ended. Sign in again.",
    ]

    /// GET /login: the sign-in form, or straight on to `next` when already signed in.
    func loginGET(_ request: HTTPRequest) throws -> HTTPResponse {
        let next = LocalRedirect.target(request.queryValue("next"))
        return try withStore { store in
            if try signIn(store).currentUser(request, cookies: FormFields.cookies(request)) != nil { return SitePage.seeOther(next) }
            return loginForm(request, next: next, notice: request.queryValue("notice").flatMap { OAuthServer.loginNotices[$0] })
        }
    }

    /// The sign-in form; gives the browser its sign-in cookie if it has none yet.
    func loginForm(_ request: HTTPRequest, next: String, notice: String?, status: Int = 200) -> HTTPResponse {
        var cookies: [String] = []
        // The cookie whose secret the sign-in form's token is derived from (a login CSRF guard: a page of
        // another site cannot sign the browser in to the attacker's account).
        var secret = FormFields.cookies(request)[configuration.loginCookieName] ?? ""
        if secret.utf8.count != 32 || !Base62.isBase62(secret) {
            secret = Base62.random(count: 32)
            cookies.append("\(configuration.loginCookieName)=\(secret); \(configuration.loginCookieAttributes)")
        }
        let html = SitePage.document(title: "Sign in", header: nil, narrow: true, body: """
            <section><h1>Sign in to mcpctl</h1>
            \(notice.map { "<p class=\"notice\" role=\"alert\">\(Pages.escape($0))</p>" } ?? "")
            <form method="post" action="/login">
            \(CSRF.hiddenField(CSRF.token(for: secret)))
            <input type="hidden" name="next" value="\(Pages.escape(next))">
            <div class="field"><label for="email">Email</label><input type="email" id="email" name="email" autocomplete="username" required autofocus></div>
            <div class="field"><label for="password">Password</label><input type="password" id="password" name="password" autocomplete="current-password" required></div>
            <button type="submit" name="action" value="login">Sign in</button>
            </form>
            \(ssoLinks(next: next))</section>
            """)
        return SitePage.response(html, status: status, cookies: cookies)
    }

    /// POST /login: 303 to `next` signed in, or back to the form with a notice; 429 when throttled.
    func loginPOST(_ request: HTTPRequest) throws -> HTTPResponse {
        guard FormFields.isForm(request) else {
            return SitePage.error(status: 400, title: "Invalid request", message: "Send the form as application/x-www-form-urlencoded.")
        }
        let form = request.formFields()
        let next = LocalRedirect.target(FormFields.value(form, "next"))
        guard CSRF.verify(form, cookieSecret: FormFields.cookies(request)[configuration.loginCookieName]) else {
            return SitePage.csrfRefused(header: nil)
        }
        let back = "/login?" + FormURLEncoding.encode([(name: "next", value: next)])
        return try withStore { store in
            let outcome = try signIn(store).attempt(email: FormFields.value(form, "email") ?? "",
                                                    password: form.first { $0.name == "password" }?.value ?? "",
                                                    address: clientAddress(request), userAgent: request.headers["User-Agent"],
                                                    cookies: FormFields.cookies(request))
            switch outcome {
            case .signedIn(_, let cookies):
                return SitePage.seeOther(next, cookies: cookies)
            case .refused(let notice):
                return SitePage.seeOther(back + "&notice=" + (notice == OAuthServer.loginNotices["missing"] ? "missing" : "incorrect"))
            case .throttled(let wait):
                var r = loginForm(request, next: next,
                                  notice: "Too many failed sign-in attempts. Try again in \(max(1, (wait + 59) / 60)) minute(s).", status: 429)
                r.headers["Retry-After"] = String(wait)
                return r
            }
        }
    }

    /// POST /logout: ends this browser's session (the form must carry the session's token).
    func logoutPOST(_ request: HTTPRequest) throws -> HTTPResponse {
        let form = FormFields.isForm(request) ? request.formFields() : []
        let secret = FormFields.cookies(request)[configuration.sessionCookieName]
        return try withStore { store in
            let signIn = self.signIn(store)
            guard let session = try signIn.sessions.find(cookie: secret) else {
                return SitePage.seeOther("/login?notice=signed-out", cookies: [signIn.clearedSessionCookie])
            }
            guard CSRF.verify(form, cookieSecret: secret) else { return SitePage.csrfRefused(header: nil) }
            try signIn.sessions.end(cookie: secret, by: .account(email: session.email, remoteAddr: clientAddress(request)))
            return SitePage.seeOther("/login?notice=signed-out", cookies: [signIn.clearedSessionCookie])
        }
    }
}
