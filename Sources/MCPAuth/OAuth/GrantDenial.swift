/// A refused grant at the token endpoint: audits it (source `oauth`, decision `deny`) with what is known
/// of the request so far, and gives back the error to throw.
struct GrantDenial {
    let db: Database
    let clientID: String
    let remoteAddr: String?
    let action: String
    var email: String? = nil
    var tokenID: String? = nil
    var resource: ResourceIndicator? = nil

    init(db: Database, clientID: String, remoteAddr: String?, action: String) {
        self.db = db
        self.clientID = clientID
        self.remoteAddr = remoteAddr
        self.action = action
    }

    /// Audits the refusal (under `action` when given) and returns `error`.
    func callAsFunction(_ error: OAuthError, _ reason: String, action: String? = nil) throws -> OAuthError {
        try AuditLog.append(AuditEvent(source: .oauth, action: action ?? self.action, email: email, tokenID: tokenID,
                                       clientID: clientID, app: resource?.app, env: resource?.env, decision: .deny,
                                       reason: reason, remoteAddr: remoteAddr), to: db)
        return error
    }
}
