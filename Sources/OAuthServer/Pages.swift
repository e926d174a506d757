import Foundation
import HTTP
import MCPAuth

/// The HTML pages of the authorization endpoint: login, consent, and errors. Self-contained (inline
/// style, no scripts, no third-party resources), with anti-framing, no-referrer and no-store headers.
enum Pages {
    /// Escapes text for HTML element content and double-quoted attribute values.
    static func escape(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for ch in text.unicodeScalars {
            switch ch {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.unicodeScalars.append(ch)
            }
        }
        return out
    }

    /// Headers every page carries. `formTarget` is the origin a form may end up at after our 303
    /// (browsers apply `form-action` to the redirect too), added to `'self'`.
    static func securityHeaders(_ headers: inout HTTPHeaders, formTarget: String? = nil) {
        var formAction = "'self'"
        if let formTarget { formAction += " " + formTarget }
        headers["Content-Security-Policy"] = "default-src 'none'; style-src 'unsafe-inline'; img-src 'self'; form-action \(formAction); frame-ancestors 'none'; base-uri 'none'"
        headers["X-Frame-Options"] = "DENY"
        headers["Referrer-Policy"] = "no-referrer"
        headers["X-Content-Type-Options"] = "nosniff"
        headers["Cache-Control"] = "no-store"
        headers["Pragma"] = "no-cache"
    }

    static func response(_ html: String, status: Int = 200, formTarget: String? = nil, cookies: [String] = []) -> HTTPResponse {
        var r = HTTPResponse.html(html, status: status)
        securityHeaders(&r.headers, formTarget: formTarget)
        for c in cookies { r.headers.add("Set-Cookie", c) }
        return r
    }

    /// The CSP source expression for where a redirect URI points: its origin, or `scheme:` for a
    /// private-use scheme. Nil if it cannot be written safely in the header.
    static func cspSource(forRedirect uri: String) -> String? {
        guard let c = URLComponents(string: uri), let scheme = c.scheme?.lowercased() else { return nil }
        let source: String
        if scheme == "http" || scheme == "https", let host = c.host {
            source = "\(scheme)://\(host)" + (c.port.map { ":\($0)" } ?? "")
        } else {
            source = scheme + ":"
        }
        let ok = source.unicodeScalars.allSatisfy { $0.isASCII && $0.value > 0x20 && !";,'\"".unicodeScalars.contains($0) }
        return ok ? source : nil
    }

    private static let style = """
        body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;background:#f4f5f7;color:#1d1f23;margin:0}
        main{max-width:26rem;margin:3rem auto;background:#fff;border-radius:10px;padding:1.6rem 1.8rem;box-shadow:0 1px 4px rgba(0,0,0,.12)}
        h1{font-size:1.25rem;margin:0 0 1rem}p{line-height:1.45}label{display:block;margin:.7rem 0 .2rem;font-weight:600}
        input[type=email],input[type=password]{width:100%;box-sizing:border-box;padding:.55rem;border:1px solid #b8bcc4;border-radius:6px;font-size:1rem}
        .scope{display:flex;gap:.6rem;align-items:flex-start;font-weight:normal;margin:.5rem 0}.scope small{display:block;color:#555}
        button{font-size:1rem;padding:.55rem 1.1rem;border-radius:6px;border:1px solid #2457c5;background:#2f6fed;color:#fff;cursor:pointer;margin:1rem .4rem 0 0}
        button.secondary{background:#fff;color:#2457c5}.notice{background:#fff4e5;border:1px solid #f0b35b;padding:.6rem .8rem;border-radius:6px}
        .warn{color:#8a4b00}.muted{color:#555;font-size:.9rem}.badge{font-size:.75rem;background:#eee;border-radius:4px;padding:.1rem .35rem;color:#444}
        code{background:#f0f1f3;padding:.05rem .3rem;border-radius:4px}
        """

    static func page(title: String, body: String) -> String {
        """
        <!DOCTYPE html>
        <html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
        <title>\(escape(title)) · mcpctl</title><style>\(style)</style></head>
        <body><main>
        \(body)
        </main></body></html>
        """
    }

    static func hidden(_ tx: AuthorizationTransaction) -> String {
        "<input type=\"hidden\" name=\"tx\" value=\"\(escape(tx.id))\"><input type=\"hidden\" name=\"csrf\" value=\"\(escape(tx.csrf))\">"
    }

    static func notice(_ text: String?) -> String {
        text.map { "<p class=\"notice\" role=\"alert\">\(escape($0))</p>" } ?? ""
    }

    /// The login form: fields named `email` and `password`, so password managers and automation find them.
    static func login(_ tx: AuthorizationTransaction, issuerHost: String, sso: String = "") -> String {
        page(title: "Sign in", body: """
            <h1>Sign in to mcpctl</h1>
            <p class="muted"><strong>\(escape(tx.request.client.name))</strong> wants to connect to \(escape(tx.request.resource.app))/\(escape(tx.request.resource.env)) on \(escape(issuerHost)).</p>
            \(notice(tx.notice))
            <form method="post" action="/oauth/authorize">
            \(hidden(tx))
            <label>Email <input type="email" name="email"></label>
            <label>Password <input type="password" name="password"></label>
            <button type="submit">Sign in</button>
            </form>
            \(sso)
            """)
    }

    static let scopeHelp = [
        "read": "list and read; call read-only tools",
        "write": "call tools that change things but do not destroy them",
        "delete": "call destructive tools (delete, overwrite)",
    ]

    /// Where the browser goes after the decision, said plainly (MCP 2025-11-25: the redirect URI host
    /// MUST be displayed).
    static func destination(_ uri: String) -> (text: String, loopback: Bool) {
        guard let c = URLComponents(string: uri), let scheme = c.scheme else { return (uri, false) }
        if let host = c.host, scheme == "http" || scheme == "https" {
            let hostPort = host + (c.port.map { ":\($0)" } ?? "")
            if RedirectURI.isLoopback(host) { return ("a program on this computer (\(hostPort))", true) }
            return (hostPort, false)
        }
        return ("the application registered for \(scheme):", false)
    }

    /// The consent form: one checkbox per scope the user may grant, ticked by default.
    static func consent(_ tx: AuthorizationTransaction, email: String, offered: ScopeSet, requested: ScopeSet?) -> String {
        let client = tx.request.client
        let unverified = client.registration.isSelfRegistered
        var who = "<strong>\(escape(client.name))</strong>"
        if unverified { who += " <span class=\"badge\">unverified</span>" }
        let dest = destination(tx.request.redirectURI)
        var details = "<p class=\"muted\">After your decision you will be sent to <strong>\(escape(dest.text))</strong>.</p>"
        if client.registration == .cimd, let host = URLComponents(string: client.clientID)?.host {
            details += "<p class=\"muted\">Client published by <strong>\(escape(host))</strong> (<code>\(escape(client.clientID))</code>).</p>"
        } else if unverified {
            details += "<p class=\"muted\">This application registered itself; its name is not verified.</p>"
        }
        if unverified && dest.loopback {
            details += "<p class=\"warn\">Only approve if you just started this connection from an application on this computer.</p>"
        }
        let boxes = ScopeSet.names.filter { offered.contains($0.1) }.map { name, _ in
            "<label class=\"scope\"><input type=\"checkbox\" name=\"scope\" value=\"\(name)\" checked><span>\(name)<small>\(escape(scopeHelp[name] ?? ""))</small></span></label>"
        }.joined(separator: "\n")
        var missing = ""
        if let requested {
            let lacking = requested.subtracting(offered)
            if !lacking.isEmpty {
                missing = "<p class=\"muted\">Also asked for, but your account does not have it here: \(escape(lacking.list.joined(separator: ", "))).</p>"
            }
        }
        return page(title: "Authorize \(client.name)", body: """
            <h1>Authorize access</h1>
            <p>\(who) wants to use <strong>\(escape(tx.request.resource.app))/\(escape(tx.request.resource.env))</strong> as <strong>\(escape(email))</strong>.</p>
            \(details)
            \(notice(tx.notice))
            <form method="post" action="/oauth/authorize">
            \(hidden(tx))
            <p>Allow it to:</p>
            \(boxes)
            \(missing)
            \(offered.isEmpty ? "<p>Your account has none of the requested permissions here.</p>" : "<button name=\"decision\" value=\"approve\">Approve</button>")
            <button name="decision" value="deny" class="secondary">Deny</button>
            </form>
            """)
    }

    /// No grant and no such app look the same ("App not found"). No code is issued; the only
    /// way on is back to the application with `access_denied`.
    static func appNotFound(_ tx: AuthorizationTransaction, email: String) -> String {
        page(title: "App not found", body: """
            <h1>App not found</h1>
            <p>There is no app <strong>\(escape(tx.request.resource.app))/\(escape(tx.request.resource.env))</strong> that <strong>\(escape(email))</strong> can use. Ask an administrator for a grant (<code>mcpctl grant add</code>).</p>
            <form method="post" action="/oauth/authorize">
            \(hidden(tx))
            <button name="decision" value="deny" class="secondary">Back to \(escape(tx.request.client.name))</button>
            </form>
            """)
    }

    /// An error that must not be sent to the client's redirect URI (RFC 6749 §4.1.2.1).
    static func error(title: String, message: String) -> String {
        page(title: title, body: "<h1>\(escape(title))</h1><p>\(escape(message))</p><p class=\"muted\">Return to the application and start the connection again.</p>")
    }
}
