import HTTP
import MCPAuth

/// The credential a request to an MCP endpoint presents: `Authorization: Bearer`, or the `Email` +
/// `Token` header pair. Never the query string (RFC 6750 §2.3 is not supported: URLs end up in logs).
struct PresentedCredentials: Sendable {
    let secret: String
    /// The `Email` header of the pair; nil for a bearer token.
    let email: String?

    /// The credential in `headers`, or nil when none is given. A header given twice never gets here
    /// (`SingleValuedHeaders` refuses the request first).
    init?(_ headers: HTTPHeaders) {
        var secret: String?
        var email: String?
        if let auth = headers["Authorization"] {
            let parts = auth.split(separator: " ", maxSplits: 1)
            if parts.count == 2, parts[0].lowercased() == "bearer" { secret = PresentedCredentials.trimmed(parts[1]) }
        }
        if secret == nil, let t = headers["Token"] {
            secret = PresentedCredentials.trimmed(Substring(t))
            email = headers["Email"] ?? ""
        }
        guard let secret, !secret.isEmpty else { return nil }
        self.secret = secret
        self.email = email
    }

    /// The token kinds this credential may be: the Email + Token pair carries a personal token of that
    /// user; Bearer also takes OAuth access tokens.
    var kinds: Set<TokenRecord.Kind> { email == nil ? [.pat, .access] : [.pat] }

    /// A credential without the spaces and tabs around it (header values are ASCII; no Foundation here,
    /// this runs on every request).
    static func trimmed(_ value: Substring) -> String {
        var s = value
        while let c = s.first, c == " " || c == "\t" { s = s.dropFirst() }
        while let c = s.last, c == " " || c == "\t" { s = s.dropLast() }
        return String(s)
    }
}
