import HTTP
import MCPAuth

extension OAuthServer {
    /// RFC 8414 §2 authorization server metadata. MCP 2025-11-25 clients refuse to proceed without
    /// `code_challenge_methods_supported`; RFC 9207 §3 `authorization_response_iss_parameter_supported`
    /// makes them check `iss`; CIMD §5 `client_id_metadata_document_supported` lets them skip registration.
    func discovery() -> HTTPResponse {
        let authMethods: JSON = .array(["none", "client_secret_basic", "client_secret_post"])
        var introspectionMethods: [JSON] = ["client_secret_basic", "client_secret_post", "bearer"]
        if configuration.unauthenticatedIntrospection { introspectionMethods.insert("none", at: 0) }
        let document: JSON = .object([
            ("issuer", .string(issuer)),
            ("authorization_endpoint", .string(issuer + "/oauth/authorize")),
            ("token_endpoint", .string(issuer + "/oauth/token")),
            ("registration_endpoint", .string(issuer + "/oauth/register")),
            ("introspection_endpoint", .string(issuer + "/oauth/introspect")),
            ("revocation_endpoint", .string(issuer + "/oauth/revoke")),
            ("scopes_supported", .array(ScopeSet.names.map { .string($0.0) })),
            ("response_types_supported", .array(["code"])),
            ("response_modes_supported", .array(["query"])),
            ("grant_types_supported", .array(["authorization_code", "refresh_token"])),
            ("token_endpoint_auth_methods_supported", authMethods),
            ("revocation_endpoint_auth_methods_supported", authMethods),
            ("introspection_endpoint_auth_methods_supported", .array(introspectionMethods)),
            ("code_challenge_methods_supported", .array(["S256"])),
            ("authorization_response_iss_parameter_supported", .bool(true)),
            ("client_id_metadata_document_supported", .bool(true)),
        ])
        var r = HTTPResponse.json(document.bytes)
        r.headers["Access-Control-Allow-Origin"] = "*"
        r.headers["Cache-Control"] = "public, max-age=300"
        return r
    }
}
