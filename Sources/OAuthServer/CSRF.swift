import HTTP
import MCPAuth

/// Cross-site request forgery tokens of the site's forms. A token is an HMAC of a secret the browser holds
/// in an HttpOnly cookie (the session, or before sign-in the sign-in form's cookie), so it is tied to that
/// browser and that session, a page from another site cannot read or compute it, and nothing is stored.
enum CSRF {
    /// The form field that carries the token.
    static let field = "csrf"

    static func token(for cookieSecret: String) -> String {
        Base64URL.encode(HMAC.sha256(key: Array(cookieSecret.utf8), message: Array("mcpctl form token v1".utf8)))
    }

    /// Whether the form carries exactly one token and it belongs to `cookieSecret` (compared in constant time).
    static func verify(_ form: [(name: String, value: String)], cookieSecret: String?) -> Bool {
        guard let cookieSecret, !cookieSecret.isEmpty else { return false }
        let given = form.filter { $0.name == field }
        guard given.count == 1 else { return false }
        return ConstantTime.equals(Array(given[0].value.utf8), Array(token(for: cookieSecret).utf8))
    }

    /// The hidden field to put in a form.
    static func hiddenField(_ token: String) -> String {
        "<input type=\"hidden\" name=\"\(field)\" value=\"\(Pages.escape(token))\">"
    }
}
