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

    /// The parameters of a back-channel request (token, revocation, introspection): OAuth 2.1 §3.2.2 form
    /// encoding in the body; RFC 6749 §3.2 no parameter more than once (unless `checkRepeats` is false, for an
    /// endpoint that must authenticate its caller first). At the token endpoint (`resourceIsTarget`) a
    /// repeated `resource` is RFC 8707 §2's `invalid_target`.
    static func backChannel(_ request: HTTPRequest, checkRepeats: Bool = true,
                            resourceIsTarget: Bool = false) throws(OAuthError) -> [(name: String, value: String)] {
        guard isForm(request) else {
            throw .invalidRequest("send the parameters as application/x-www-form-urlencoded in the body")
        }
        let form = request.formFields()
        if checkRepeats { try refuseRepeats(form, resourceIsTarget: resourceIsTarget) }
        return form
    }

    /// RFC 6749 §3.2: no parameter more than once; RFC 8707 §2: a repeated `resource` at the token endpoint
    /// is `invalid_target`.
    static func refuseRepeats(_ form: [(name: String, value: String)], resourceIsTarget: Bool = false) throws(OAuthError) {
        guard let name = repeated(form) else { return }
        throw name == "resource" && resourceIsTarget ? .invalidTarget("give exactly one resource")
                                                     : .invalidRequest("the parameter \(name) was sent more than once")
    }

    /// A required parameter, or `invalid_request` naming it.
    static func require(_ fields: [(name: String, value: String)], _ name: String, _ description: String? = nil) throws(OAuthError) -> String {
        guard let v = value(fields, name) else { throw .invalidRequest(description ?? "\(name) is required") }
        return v
    }

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
