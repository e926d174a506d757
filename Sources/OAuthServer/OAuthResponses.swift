import Foundation
import HTTP
import MCPAuth

/// Response shapes shared by the endpoints.
enum OAuthResponse {
    /// RFC 6749 §5.1: token responses (and anything else carrying credentials) must not be cached.
    static func noStore(_ headers: inout HTTPHeaders) {
        headers["Cache-Control"] = "no-store"
        headers["Pragma"] = "no-cache"
    }

    /// A JSON response with `Cache-Control: no-store`.
    static func json(_ value: JSON, status: Int = 200, cors: Bool = true) -> HTTPResponse {
        var r = HTTPResponse.json(value.bytes, status: status)
        noStore(&r.headers)
        if cors { r.headers["Access-Control-Allow-Origin"] = "*" }
        return r
    }

    /// The one writer of OAuth errors (RFC 6749 §5.2): the JSON body at the error's status; a 401 carries a
    /// `WWW-Authenticate` challenge (Basic only when the client tried Basic, as §5.2 requires) and a 429 its
    /// `Retry-After` (RFC 6585 §4).
    static func error(_ error: OAuthError) -> HTTPResponse {
        var r = json(error.json, status: error.status)
        if error.status == 401 {
            r.headers["WWW-Authenticate"] = error.challengesBasicOnly ? "Basic realm=\"mcpctl\"" : "Basic realm=\"mcpctl\", Bearer realm=\"mcpctl\""
        }
        if let wait = error.retryAfter { r.headers["Retry-After"] = String(wait) }
        return r
    }

    static func methodNotAllowed(_ allowed: String) -> HTTPResponse {
        var r = error(OAuthError.invalidRequest("use \(allowed)").with(status: 405))
        r.headers["Allow"] = allowed
        return r
    }

    /// CORS preflight for the endpoints browser-based clients call directly (no cookies are involved).
    static func preflight(_ methods: String) -> HTTPResponse {
        var r = HTTPResponse(status: 204)
        r.headers["Access-Control-Allow-Origin"] = "*"
        r.headers["Access-Control-Allow-Methods"] = methods
        r.headers["Access-Control-Allow-Headers"] = "Authorization, Content-Type, MCP-Protocol-Version"
        r.headers["Access-Control-Max-Age"] = "600"
        return r
    }

    /// A 303 See Other (POSTs are answered with 303, RFC 9110 §15.4.4).
    static func seeOther(_ location: String, headers extra: HTTPHeaders = HTTPHeaders()) -> HTTPResponse {
        var r = HTTPResponse(status: 303, headers: extra)
        r.headers["Location"] = location
        noStore(&r.headers)
        r.headers["Referrer-Policy"] = "no-referrer"
        return r
    }
}
