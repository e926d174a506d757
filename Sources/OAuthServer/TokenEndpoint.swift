import HTTP
import MCPAuth

extension OAuthServer {
    /// POST /oauth/token (OAuth 2.1 §3.2): `authorization_code` with PKCE, and `refresh_token` with rotation.
    /// Parameters come from the form body only; anything in the query string is ignored.
    func token(_ request: HTTPRequest) throws -> HTTPResponse {
        let form = try FormFields.backChannel(request, resourceIsTarget: true)
        let grantType = try FormFields.require(form, "grant_type")
        guard grantType == "authorization_code" || grantType == "refresh_token" else {
            throw OAuthError.unsupportedGrantType("supported grant types: authorization_code, refresh_token")
        }
        let resource = try requestedResource(form)
        return try writing { store in
            let client = try authenticateClient(request, form: form, store: store, action: "oauth.token")
            let pair = grantType == "authorization_code"
                ? try redeemCode(form, client: client, resource: resource, request: request, store: store)
                : try refreshTokens(form, client: client, resource: resource, request: request, store: store)
            return OAuthResponse.json(pair.json)
        }
    }

    /// RFC 8707 §2: the optional `resource`, which must be one of this server's MCP endpoints.
    private func requestedResource(_ form: [(name: String, value: String)]) throws(OAuthError) -> ResourceIndicator? {
        guard let text = FormFields.value(form, "resource") else { return nil }
        guard let parsed = ResourceIndicator.parse(text, issuer: issuer) else {
            throw .invalidTarget("the resource must be an MCP endpoint of this server, \(issuer)/mcp/{app}/{env}")
        }
        return parsed
    }

    /// The `authorization_code` grant (OAuth 2.1 §4.1.3).
    private func redeemCode(_ form: [(name: String, value: String)], client: AuthenticatedClient, resource: ResourceIndicator?,
                            request: HTTPRequest, store: Store) throws -> IssuedTokenPair {
        let code = try FormFields.require(form, "code")
        // RFC 7636 §4.5 / RFC 9700 §4.8.2: without a verifier the code cannot be redeemed (no PKCE downgrade).
        let verifier = try FormFields.require(form, "code_verifier", "code_verifier is required (PKCE)")
        return try AuthorizationCodes(store: store).redeem(
            code: code, clientID: client.record.clientID, redirectURI: FormFields.value(form, "redirect_uri"), verifier: verifier,
            resource: resource, lifetimes: configuration.lifetimes, remoteAddr: clientAddress(request))
    }

    /// The `refresh_token` grant (RFC 6749 §6), with rotation.
    private func refreshTokens(_ form: [(name: String, value: String)], client: AuthenticatedClient, resource: ResourceIndicator?,
                               request: HTTPRequest, store: Store) throws -> IssuedTokenPair {
        let refreshToken = try FormFields.require(form, "refresh_token")
        return try OAuthTokens(store: store).refresh(
            secret: refreshToken, clientID: client.record.clientID, scope: try narrowedScope(form), resource: resource,
            lifetimes: configuration.lifetimes, reuseGraceSeconds: configuration.refreshReuseGraceSeconds,
            remoteAddr: clientAddress(request))
    }

    /// RFC 6749 §6: a narrower scope may be asked for; unknown names are an error here, since silently
    /// dropping them could look like a widening that worked.
    private func narrowedScope(_ form: [(name: String, value: String)]) throws(OAuthError) -> ScopeSet? {
        guard let text = FormFields.value(form, "scope") else { return nil }
        var set = ScopeSet()
        for name in text.split(separator: " ") {
            guard let s = ScopeSet.named(String(name)) else { throw .invalidScope("unknown scope '\(name)'") }
            set.insert(s)
        }
        return set
    }
}
