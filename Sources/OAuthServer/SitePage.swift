import HTTP
import MCPAuth

/// The frame of the sign-in, account and admin pages: the document, its header with the signed-in user and
/// a sign-out form, and the headers every page carries. Only this server's own stylesheet and script load;
/// every dynamic value goes through `Pages.escape`.
enum SitePage {
    /// What the page header shows about the signed-in user.
    struct Header {
        let email: String
        let csrf: String
        let isOperator: Bool
    }

    /// Anti-framing, no referrer, no caching, and a policy that allows this origin's stylesheet, script and
    /// forms only.
    static func securityHeaders(_ headers: inout HTTPHeaders) {
        headers["Content-Security-Policy"] = "default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
        headers["X-Frame-Options"] = "DENY"
        headers["Referrer-Policy"] = "no-referrer"
        headers["X-Content-Type-Options"] = "nosniff"
        headers["Cache-Control"] = "no-store"
        headers["Pragma"] = "no-cache"
    }

    static func response(_ html: String, status: Int = 200, cookies: [String] = []) -> HTTPResponse {
        var r = HTTPResponse.html(html, status: status)
        securityHeaders(&r.headers)
        for c in cookies { r.headers.add("Set-Cookie", c) }
        return r
    }

    /// 303 See Other to a local path (every form post ends in one, except those that show a new secret).
    static func seeOther(_ location: String, cookies: [String] = []) -> HTTPResponse {
        var r = HTTPResponse(status: 303, headers: HTTPHeaders([("Location", location), ("Content-Length", "0")]), body: .bytes([]))
        securityHeaders(&r.headers)
        for c in cookies { r.headers.add("Set-Cookie", c) }
        return r
    }

    static func document(title: String, header: Header?, narrow: Bool = false, body: String) -> String {
        """
        <!DOCTYPE html>
        <html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
        <title>\(Pages.escape(title)) · mcpctl</title><link rel="stylesheet" href="\(Stylesheet.path)"><link rel="icon" href="\(Stylesheet.iconPath)">
        <script src="\(Stylesheet.scriptPath)" defer></script></head>
        <body>
        \(siteHeader(header))
        <main\(narrow ? " class=\"narrow\"" : "")>
        \(body)
        </main></body></html>
        """
    }

    private static func siteHeader(_ header: Header?) -> String {
        guard let header else { return "<header class=\"site\"><strong>mcpctl</strong></header>" }
        let admin = header.isOperator ? "<a href=\"/admin\">Admin</a>" : ""
        return """
            <header class="site"><strong>mcpctl</strong><nav aria-label="Site"><a href="/account">Account</a> \(admin)</nav>
            <span class="who">Signed in as <strong>\(Pages.escape(header.email))</strong></span>
            <form method="post" action="/logout">\(CSRF.hiddenField(header.csrf))<button type="submit" name="action" value="logout" class="secondary">Sign out</button></form>
            </header>
            """
    }

    /// 405 with the methods the path allows (RFC 9110 §15.5.6).
    static func methodNotAllowed(_ allowed: String) -> HTTPResponse {
        var r = error(status: 405, title: "Method not allowed", message: "This address answers \(allowed) only.")
        r.headers["Allow"] = allowed
        return r
    }

    /// A page that says what went wrong and where to go next.
    static func error(status: Int, title: String, message: String, header: Header? = nil) -> HTTPResponse {
        let back = header == nil ? "<a href=\"/login\">Sign in</a>" : "<a href=\"/account\">Back to your account</a>"
        let html = document(title: title, header: header, narrow: header == nil, body: """
            <section role="alert"><h1>\(Pages.escape(title))</h1><p>\(Pages.escape(message))</p><p>\(back)</p></section>
            """)
        return response(html, status: status)
    }

    /// The answer to a refused form post: a missing or wrong CSRF token.
    static func csrfRefused(header: Header?) -> HTTPResponse {
        error(status: 403, title: "Form expired", message: "This form was not sent from your current session (it may be old, or come from another site). Nothing was changed. Reload the page and try again.",
              header: header)
    }

    /// A domain refusal as a page: not found 404, invalid 400, a conflict 409. Nothing was changed.
    static func refusal(_ e: DomainError, header: Header?) -> HTTPResponse {
        switch e {
        case .notFound(let m): return error(status: 404, title: "Not found", message: m + ". Nothing was changed.", header: header)
        case .invalid(let m): return error(status: 400, title: "Cannot do that", message: m + ". Nothing was changed.", header: header)
        case .conflict(let m), .alreadyExists(let m): return error(status: 409, title: "Cannot do that", message: m + ". Nothing was changed.", header: header)
        }
    }

    /// A path segment for a form action (RFC 3986 §3.3: everything but unreserved characters encoded).
    static func segment(_ value: String) -> String {
        var out = ""
        for byte in value.utf8 {
            let c = Character(Unicode.Scalar(byte))
            if c.isASCII && (c.isLetter || c.isNumber || "-._~".contains(c)) { out.append(c) } else {
                out += "%" + String(byte, radix: 16, uppercase: true).leftPadded(2)
            }
        }
        return out
    }
}

private extension String {
    func leftPadded(_ width: Int) -> String { count >= width ? self : String(repeating: "0", count: width - count) + self }
}
