import HTTP
import MCPAuth

extension OAuthServer {
    /// Who is asking the introspection endpoint, and which tokens they may learn about.
    private enum IntrospectionCaller {
        /// A resource server: a CLI-registered confidential client, a personal token marked for
        /// introspection, or anyone when `unauthenticatedIntrospection` is set.
        case any(String)
        /// A self-registered confidential client: only tokens issued to itself (RFC 7662 §2.2 lets the
        /// server answer `active: false` for tokens the caller may not know about).
        case ownTokens(clientID: String)

        var key: String {
            switch self {
            case .any(let k): return k
            case .ownTokens(let id): return "client:" + id
            }
        }
    }

    /// POST /oauth/introspect (RFC 7662). Inactive, unknown and malformed tokens all answer
    /// 200 `{"active": false}`; callers authenticate (RFC 7662 §2.1) unless the operator turned that off;
    /// `active: false` answers are rate-limited per caller against token scanning (RFC 7662 §4).
    func introspect(_ request: HTTPRequest) throws -> HTTPResponse {
        // Repeated parameters are checked only once the caller is known (below).
        let form: [(name: String, value: String)]
        switch FormFields.backChannel(request, checkRepeats: false) {
        case .success(let f): form = f
        case .failure(let e): return OAuthResponse.error(e)
        }
        let addressKey = "addr:" + clientAddress(request)
        if let wait = introspectionLimiter.wait(addressKey) {
            return OAuthResponse.tooManyRequests(retryAfter: wait, what: "failed introspection requests")
        }
        return try withStore { store in
            let caller: IntrospectionCaller
            switch try introspectionCaller(request, form: form, store: store) {
            case .success(let c): caller = c
            case .failure(let f):
                _ = introspectionLimiter.take(addressKey)
                try AuditLog.append(AuditEvent(source: "oauth", action: "oauth.introspect", clientID: f.clientID, decision: "deny",
                                               reason: "caller authentication failed: \(f.error.description)",
                                               remoteAddr: clientAddress(request)), to: store.db)
                // RFC 7662 §2.3: a failed caller authentication is a 401.
                return OAuthResponse.error(f.error, status: 401, basicChallenge: f.usedBasic)
            }
            if let wait = introspectionLimiter.wait(caller.key) {
                return OAuthResponse.tooManyRequests(retryAfter: wait, what: "inactive-token introspections")
            }
            if let name = FormFields.repeated(form) { return OAuthResponse.error(FormFields.repeatedError(name)) }
            // RFC 7662 §2.1: token is REQUIRED; token_type_hint is only a hint (lookup is by hash, whatever the type).
            guard let token = FormFields.value(form, "token") else { return OAuthResponse.error(.invalidRequest("token is required")) }
            let active = try TokenIntrospection(store: store).inspect(token)
            if let active {
                if case .ownTokens(let id) = caller, active.principal.clientID != id {
                    _ = introspectionLimiter.take(caller.key)
                    return OAuthResponse.json(.object([("active", .bool(false))]), cors: false)
                }
                return OAuthResponse.json(active.json(issuer: issuer), cors: false)
            }
            _ = introspectionLimiter.take(caller.key)
            return OAuthResponse.json(.object([("active", .bool(false))]), cors: false)
        }
    }

    private func introspectionCaller(_ request: HTTPRequest, form: [(name: String, value: String)],
                                     store: Store) throws -> Result<IntrospectionCaller, ClientAuthenticationFailure> {
        if let header = request.headers["Authorization"], header.lowercased().hasPrefix("bearer ") {
            let secret = String(header.dropFirst("bearer ".count)).trimmingCharacters(in: .whitespaces)
            guard case .success(let principal) = try TokenVerifier().verify(secret: secret, accept: [.pat], db: store.db),
                  try TokenIntrospection(store: store).mayIntrospect(tokenID: principal.tokenID) else {
                return .failure(.init(error: OAuthError("invalid_token", "the bearer token may not introspect (create it with --introspection)"),
                                      usedBasic: false, clientID: nil))
            }
            return .success(.any("token:" + principal.tokenID))
        }
        let presentsClient = form.contains { $0.name == "client_id" || $0.name == "client_secret" } || ClientAuthentication.basic(request) != nil
        if configuration.unauthenticatedIntrospection && !presentsClient {
            return .success(.any("addr:" + clientAddress(request)))
        }
        switch try ClientAuthentication.authenticate(request, form: form, store: store, requireSecret: !configuration.unauthenticatedIntrospection) {
        case .failure(let f): return .failure(f)
        case .success(let client):
            if configuration.unauthenticatedIntrospection { return .success(.any("client:" + client.record.clientID)) }
            return .success(client.record.registration == "cli" ? .any("client:" + client.record.clientID)
                                                                 : .ownTokens(clientID: client.record.clientID))
        }
    }
}
