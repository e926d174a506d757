import HTTP
import MCPAuth

extension OAuthServer {
    /// POST /oauth/token (OAuth 2.1 §3.2): `authorization_code` with PKCE, and `refresh_token` with rotation.
    /// Parameters come from the form body only; anything in the query string is ignored.
    func token(_ request: HTTPRequest) throws -> HTTPResponse {
        let form: [(name: String, value: String)]
        switch FormFields.backChannel(request, resourceIsTarget: true) {
        case .success(let f): form = f
        case .failure(let e): return OAuthResponse.error(e)
        }
        guard let grantType = FormFields.value(form, "grant_type") else {
            return OAuthResponse.error(.invalidRequest("grant_type is required"))
        }
        guard grantType == "authorization_code" || grantType == "refresh_token" else {
            return OAuthResponse.error(.unsupportedGrantType("supported grant types: authorization_code, refresh_token"))
        }
        var resource: ResourceIndicator? = nil
        if let text = FormFields.value(form, "resource") {
            guard let parsed = ResourceIndicator.parse(text, issuer: issuer) else {
                return OAuthResponse.error(.invalidTarget("the resource must be an MCP endpoint of this server, \(issuer)/mcp/{app}/{env}"))
            }
            resource = parsed
        }
        return try writing { store in
            let client: AuthenticatedClient
            switch try authenticateClient(request, form: form, store: store, action: "oauth.token") {
            case .success(let c): client = c
            case .failure(let refusal): return refusal.response
            }
            let clientID = client.record.clientID
            let outcome: Result<IssuedTokenPair, OAuthError>
            if grantType == "authorization_code" {
                guard let code = FormFields.value(form, "code") else { return OAuthResponse.error(.invalidRequest("code is required")) }
                // RFC 7636 §4.5 / RFC 9700 §4.8.2: without a verifier the code cannot be redeemed (no PKCE downgrade).
                guard let verifier = FormFields.value(form, "code_verifier") else {
                    return OAuthResponse.error(.invalidRequest("code_verifier is required (PKCE)"))
                }
                outcome = try AuthorizationCodes(store: store).redeem(
                    code: code, clientID: clientID, redirectURI: FormFields.value(form, "redirect_uri"), verifier: verifier,
                    resource: resource, lifetimes: configuration.lifetimes, remoteAddr: clientAddress(request))
            } else {
                guard let refreshToken = FormFields.value(form, "refresh_token") else {
                    return OAuthResponse.error(.invalidRequest("refresh_token is required"))
                }
                var scope: ScopeSet? = nil
                if let text = FormFields.value(form, "scope") {
                    // RFC 6749 §6: a narrower scope may be asked for; unknown names are an error here, since
                    // silently dropping them could look like a widening that worked.
                    var set = ScopeSet()
                    for name in text.split(separator: " ") {
                        guard let s = ScopeSet.named(String(name)) else {
                            return OAuthResponse.error(.invalidScope("unknown scope '\(name)'"))
                        }
                        set.insert(s)
                    }
                    scope = set
                }
                outcome = try OAuthTokens(store: store).refresh(
                    secret: refreshToken, clientID: clientID, scope: scope, resource: resource,
                    lifetimes: configuration.lifetimes, reuseGraceSeconds: configuration.refreshReuseGraceSeconds,
                    remoteAddr: clientAddress(request))
            }
            switch outcome {
            case .success(let pair): return OAuthResponse.json(pair.json)
            case .failure(let error): return OAuthResponse.error(error)
            }
        }
    }
}
