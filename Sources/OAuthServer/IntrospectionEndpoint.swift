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

        /// RFC 7662 §2.2: a caller limited to its own tokens learns nothing about others'.
        func mayLearn(_ active: TokenIntrospection.Active) -> Bool {
            guard case .ownTokens(let id) = self else { return true }
            return active.principal.clientID == id
        }
    }

    /// POST /oauth/introspect (RFC 7662). Inactive, unknown and malformed tokens all answer
    /// 200 `{"active": false}`; callers authenticate (RFC 7662 §2.1) unless the operator turned that off;
    /// `active: false` answers are rate-limited per caller against token scanning (RFC 7662 §4).
    func introspect(_ request: HTTPRequest) throws -> HTTPResponse {
        // Repeated parameters are checked only once the caller is known (below).
        let form = try FormFields.backChannel(request, checkRepeats: false)
        let addressKey = "addr:" + clientAddress(request)
        if let wait = introspectionLimiter.wait(addressKey) {
            throw OAuthError.tooManyRequests(retryAfter: wait, what: "failed introspection requests")
        }
        return try withStore { store in
            let caller = try introspectionCaller(request, form: form, store: store)
            if let wait = introspectionLimiter.wait(caller.key) {
                throw OAuthError.tooManyRequests(retryAfter: wait, what: "inactive-token introspections")
            }
            try FormFields.refuseRepeats(form)
            // RFC 7662 §2.1: token is REQUIRED; token_type_hint is only a hint (lookup is by hash, whatever the type).
            let token = try FormFields.require(form, "token")
            if let active = try TokenIntrospection(store: store).inspect(token), caller.mayLearn(active) {
                return OAuthResponse.json(active.json(issuer: issuer), cors: false)
            }
            _ = introspectionLimiter.take(caller.key)
            return OAuthResponse.json(.object([("active", .bool(false))]), cors: false)
        }
    }

    /// Who is asking. RFC 7662 §2.3: a failed caller authentication is a 401; it is audited and counts
    /// against the address.
    private func introspectionCaller(_ request: HTTPRequest, form: [(name: String, value: String)],
                                     store: Store) throws -> IntrospectionCaller {
        let refuse = { (error: OAuthError, clientID: String?) throws in
            _ = self.introspectionLimiter.take("addr:" + self.clientAddress(request))
            try AuditLog.append(AuditEvent(source: .oauth, action: "oauth.introspect", clientID: clientID, decision: .deny,
                                           reason: "caller authentication failed: \(error.description)",
                                           remoteAddr: self.clientAddress(request)), to: store.db)
        }
        do {
            if let header = request.headers["Authorization"], header.lowercased().hasPrefix("bearer ") {
                return try bearerCaller(header, store: store, refuse: refuse)
            }
            let presentsClient = form.contains { $0.name == "client_id" || $0.name == "client_secret" } || ClientAuthentication.basic(request) != nil
            if configuration.unauthenticatedIntrospection && !presentsClient {
                return .any("addr:" + clientAddress(request))
            }
            let client = try ClientAuthentication(request: request, form: form, store: store, onRefusal: refuse)
                .authenticate(requireSecret: !configuration.unauthenticatedIntrospection)
            if configuration.unauthenticatedIntrospection || client.record.registration == .cli {
                return .any("client:" + client.record.clientID)
            }
            return .ownTokens(clientID: client.record.clientID)
        } catch let refusal as OAuthError {
            throw refusal.with(status: 401)
        }
    }

    /// A personal token marked for introspection (`token create --introspection`).
    private func bearerCaller(_ header: String, store: Store,
                              refuse: (OAuthError, String?) throws -> Void) throws -> IntrospectionCaller {
        let secret = String(header.dropFirst("bearer ".count)).trimmingCharacters(in: .whitespaces)
        guard case .success(let principal) = try TokenVerifier().verify(secret: secret, accept: [.pat], db: store.db),
              try TokenIntrospection(store: store).mayIntrospect(tokenID: principal.tokenID) else {
            let error = OAuthError.invalidToken("the bearer token may not introspect (create it with --introspection)")
            try refuse(error, nil)
            throw error
        }
        return .any("token:" + principal.tokenID)
    }
}
