import Foundation
import HTTP
import MCPAuth
import Testing

/// A browser for the sign-in, account and admin pages: a cookie jar, GETs and form posts to any path.
final class SiteBrowser {
    let h: OAuthHarness
    var cookies: [String: String] = [:]

    init(_ h: OAuthHarness) { self.h = h }

    private func remember(_ reply: Reply) {
        // The jar keeps cookies for the whole site only (`Path=/`), which is all these pages set.
        for header in reply.headers.values(for: "Set-Cookie") where !header.contains("Path=/oauth") {
            let pair = header.split(separator: ";").first.map(String.init) ?? ""
            let kv = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
            guard kv.count == 2 else { continue }
            if kv[1].isEmpty || header.contains("Max-Age=0") { cookies[kv[0]] = nil } else { cookies[kv[0]] = kv[1] }
        }
    }

    private var cookieHeader: [(String, String)] {
        cookies.isEmpty ? [] : [("Cookie", cookies.map { "\($0.key)=\($0.value)" }.joined(separator: "; "))]
    }

    func get(_ path: String) throws -> Reply {
        let r = try h.get(path, headers: cookieHeader)
        remember(r)
        return r
    }

    func post(_ path: String, _ fields: [(String, String)]) throws -> Reply {
        let r = try h.postForm(path, fields, headers: cookieHeader)
        remember(r)
        return r
    }

    /// Signs in through /login; returns the 303.
    @discardableResult
    func signIn(_ email: String = "alice@example.com", password: String = OAuthHarness.password, next: String? = nil) throws -> Reply {
        let form = try get("/login" + (next.map { "?next=" + FormURLEncoding.encode([(name: "next", value: $0)]).dropFirst(5) } ?? ""))
        try #require(form.status == 200, "GET /login answered \(form.status)")
        let csrf = try #require(Browser.hidden("csrf", in: form.text))
        let nextField = try #require(Browser.hidden("next", in: form.text))
        return try post("/login", [("csrf", csrf), ("next", nextField.replacingOccurrences(of: "&amp;", with: "&")),
                                   ("email", email), ("password", password)])
    }

    /// The account page's form token.
    func csrf() throws -> String {
        let page = try get("/account")
        return try #require(Browser.hidden("csrf", in: page.text), "no csrf in: \(page.status) \(page.text)")
    }

    /// Text of the element with `id` (e.g. the new secret in `new-token`).
    static func element(_ id: String, in html: String) -> String? {
        guard let start = html.range(of: "id=\"\(id)\"") else { return nil }
        guard let open = html[start.upperBound...].firstIndex(of: ">") else { return nil }
        let rest = html[html.index(after: open)...]
        guard let close = rest.range(of: "</") else { return nil }
        return String(rest[..<close.lowerBound])
    }
}
