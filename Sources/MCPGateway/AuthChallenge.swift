import HTTP

/// `WWW-Authenticate` challenges of RFC 6750 §3 with the RFC 9728 `resource_metadata` parameter, as the
/// MCP authorization spec (2025-11-25) asks of a protected resource.
enum AuthChallenge {
    /// 401: no credentials, or bad ones. A presented token that does not work gets `error="invalid_token"`
    /// and nothing more (RFC 6750 §3.1): whether it was revoked, expired, or its user disabled is written to
    /// the audit row only, never told to whoever holds the token.
    static func unauthorized(metadataURL: String, tokenPresented: Bool) -> HTTPResponse {
        var value = "Bearer resource_metadata=\"\(metadataURL)\", scope=\"read\""
        if tokenPresented { value += ", error=\"invalid_token\"" }
        var headers = HTTPHeaders()
        headers["WWW-Authenticate"] = value
        headers["Content-Type"] = "application/json"
        headers["Cache-Control"] = "no-store"
        let body = tokenPresented ? #"{"error":"invalid_token"}"# : #"{"error":"unauthorized","error_description":"authentication required"}"#
        return HTTPResponse(status: 401, headers: headers, body: .bytes(Array(body.utf8)))
    }

    /// 403 step-up (RFC 6750 §3.1, MCP "scope challenge"): the token is fine but lacks a scope.
    static func insufficientScope(needed: String, metadataURL: String, id: String) -> HTTPResponse {
        var headers = HTTPHeaders()
        headers["WWW-Authenticate"] = "Bearer error=\"insufficient_scope\", scope=\"\(needed)\", resource_metadata=\"\(metadataURL)\""
        headers["Content-Type"] = "application/json"
        let body = #"{"jsonrpc":"2.0","id":\#(id),"error":{"code":-32003,"message":"insufficient scope: this call needs '\#(needed)'"}}"#
        return HTTPResponse(status: 403, headers: headers, body: .bytes(Array(body.utf8)))
    }
}
