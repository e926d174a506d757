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

    /// RFC 6749 §5.2 error: 400, or 401 for `invalid_client` (with a `WWW-Authenticate` challenge when the
    /// client tried the Authorization header, as §5.2 requires).
    static func error(_ error: OAuthError, status: Int? = nil, basicChallenge: Bool = false) -> HTTPResponse {
        let code = status ?? (error.code == "invalid_client" ? 401 : 400)
        var r = json(error.json, status: code)
        if code == 401 { r.headers["WWW-Authenticate"] = basicChallenge ? "Basic realm=\"mcpctl\"" : "Basic realm=\"mcpctl\", Bearer realm=\"mcpctl\"" }
        return r
    }

    /// 429 with `Retry-After` (RFC 6585 §4).
    static func tooManyRequests(retryAfter: Int, what: String) -> HTTPResponse {
        var r = json(OAuthError("too_many_requests", "too many \(what); retry in \(retryAfter) s").json, status: 429)
        r.headers["Retry-After"] = String(retryAfter)
        return r
    }

    static func methodNotAllowed(_ allowed: String) -> HTTPResponse {
        var r = json(OAuthError.invalidRequest("use \(allowed)").json, status: 405)
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

    static func serverError() -> HTTPResponse {
        json(OAuthError("server_error", "the authorization server failed; the error is logged").json, status: 500)
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

/// Form and header helpers.
enum FormFields {
    /// RFC 6749 §3.1 / §3.2: request parameters MUST NOT be included more than once. Returns the first
    /// repeated name among `names`, if any.
    static func repeated(_ fields: [(name: String, value: String)], among names: Set<String>? = nil) -> String? {
        var seen = Set<String>()
        for f in fields where names?.contains(f.name) ?? true {
            if !seen.insert(f.name).inserted { return f.name }
        }
        return nil
    }

    static func value(_ fields: [(name: String, value: String)], _ name: String) -> String? {
        fields.first { $0.name == name }.map(\.value).flatMap { $0.isEmpty ? nil : $0 }
    }

    /// The parameters of a back-channel request (token, revocation, introspection), or the error to answer:
    /// OAuth 2.1 §3.2.2 form encoding in the body; RFC 6749 §3.2 no parameter more than once (unless
    /// `checkRepeats` is false, for an endpoint that must authenticate its caller first). At the token
    /// endpoint (`resourceIsTarget`) a repeated `resource` is RFC 8707 §2's `invalid_target`.
    static func backChannel(_ request: HTTPRequest, checkRepeats: Bool = true,
                            resourceIsTarget: Bool = false) -> Result<[(name: String, value: String)], OAuthError> {
        guard isForm(request) else {
            return .failure(.invalidRequest("send the parameters as application/x-www-form-urlencoded in the body"))
        }
        let form = request.formFields()
        if checkRepeats, let name = repeated(form) {
            return .failure(name == "resource" && resourceIsTarget ? .invalidTarget("give exactly one resource") : repeatedError(name))
        }
        return .success(form)
    }

    static func repeatedError(_ name: String) -> OAuthError { .invalidRequest("the parameter \(name) was sent more than once") }

    /// Whether the body is a form post (`application/x-www-form-urlencoded`, parameters ignored).
    static func isForm(_ request: HTTPRequest) -> Bool {
        guard let type = request.headers["Content-Type"] else { return false }
        return type.split(separator: ";").first.map { $0.trimmingCharacters(in: .whitespaces).lowercased() } == "application/x-www-form-urlencoded"
    }

    /// Cookie values by name (RFC 6265 §5.4 `Cookie` header).
    static func cookies(_ request: HTTPRequest) -> [String: String] {
        var out: [String: String] = [:]
        for header in request.headers.values(for: "Cookie") {
            for part in header.split(separator: ";") {
                let kv = part.split(separator: "=", maxSplits: 1)
                guard kv.count == 2 else { continue }
                let name = kv[0].trimmingCharacters(in: .whitespaces)
                if out[name] == nil { out[name] = kv[1].trimmingCharacters(in: .whitespaces) }
            }
        }
        return out
    }
}
