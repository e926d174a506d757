import HTTP
import MCPAuth

extension OAuthServer {
    /// POST /oauth/revoke (RFC 7009). Unknown and invalid tokens still get 200 (§2.2); the
    /// `token_type_hint` only orders the search, which covers every type anyway (§2.1); revoking a
    /// refresh token revokes its family's access tokens too (§2.1).
    func revoke(_ request: HTTPRequest) throws -> HTTPResponse {
        let form = try FormFields.backChannel(request)
        let token = try FormFields.require(form, "token")
        return try writing { store in
            // RFC 7009 §2.1: confidential clients authenticate; public clients identify themselves.
            let client = try authenticateClient(request, form: form, store: store, action: "oauth.revoke")
            let db = store.db
            // A refusal still commits its audit row.
            return try db.writeCommittingRefusal {
                guard token.utf8.count <= 256, TokenSecret.kind(of: token) != nil,
                      let record = try Tokens(store: store).find(secret: token) else {
                    // RFC 7009 §2.2: an invalid token is not an error the client could handle.
                    return OAuthResponse.json(.object([]))
                }
                // RFC 7009 §2.1: the token must have been issued to the client asking; otherwise refuse.
                guard record.clientID == client.record.clientID else {
                    try AuditLog.append(AuditEvent(source: .oauth, action: "oauth.revoke", email: record.email, tokenID: record.id,
                                                   clientID: client.record.clientID, decision: .deny,
                                                   reason: "token was not issued to this client", remoteAddr: clientAddress(request)), to: db)
                    throw OAuthError.unauthorizedClient("the token was not issued to this client")
                }
                let n = try Credentials.revokeToken(record, reason: "revoked by the client", db: db)
                try AuditLog.append(AuditEvent(source: .oauth, action: "oauth.revoke", email: record.email, tokenID: record.id,
                                               clientID: client.record.clientID, app: record.app, env: record.env, decision: .allow,
                                               reason: "\(record.kind.rawValue) token: \(n) tokens revoked", remoteAddr: clientAddress(request)), to: db)
                return OAuthResponse.json(.object([]))
            }
        }
    }
}
