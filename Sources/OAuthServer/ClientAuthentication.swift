import Foundation
import HTTP
import MCPAuth

/// Who is calling the token, introspection or revocation endpoint, per RFC 6749 §2.3.
struct AuthenticatedClient {
    let record: ClientRecord
    /// True when the client proved a secret (a confidential client), false for a public client's bare id.
    let confidential: Bool
}

/// The credentials a request presents (RFC 6749 §2.3): a client id, a secret if any, and whether they came
/// in the Authorization header.
struct PresentedCredentials {
    let clientID: String
    let secret: String?
    let usedBasic: Bool
}

/// Authenticates the client of a back-channel request. Every refusal is an `OAuthError`, handed to
/// `onRefusal` with the client id the request named (for the audit row) before it is thrown.
struct ClientAuthentication {
    let request: HTTPRequest
    let form: [(name: String, value: String)]
    let store: Store
    let onRefusal: (OAuthError, _ clientID: String?) throws -> Void

    /// Parses `Authorization: Basic` (RFC 6749 §2.3.1: id and secret are form-urlencoded, then base64).
    static func basic(_ request: HTTPRequest) -> (id: String, secret: String)?? {
        guard let header = request.headers["Authorization"] else { return .none }
        let parts = header.split(separator: " ", maxSplits: 1)
        guard parts.count == 2, parts[0].lowercased() == "basic" else { return .none }
        guard let data = Data(base64Encoded: String(parts[1]).trimmingCharacters(in: .whitespaces)),
              let text = String(data: data, encoding: .utf8),
              let colon = text.firstIndex(of: ":")
        else { return .some(nil) }
        let id = FormURLEncoding.percentDecode(String(text[..<colon]), plusAsSpace: true)
        let secret = FormURLEncoding.percentDecode(String(text[text.index(after: colon)...]), plusAsSpace: true)
        return .some((id, secret))
    }

    /// The calling client. `requireSecret` refuses public clients (introspection). Blocked and unknown
    /// clients get `invalid_client` so that real clients re-register.
    func authenticate(requireSecret: Bool = false) throws -> AuthenticatedClient {
        let credentials = try present()
        let record = try registeredClient(credentials)
        if let secret = credentials.secret {
            guard record.isConfidential, try Clients(store: store).authenticate(clientID: record.clientID, secret: secret) else {
                throw try refuse(.invalidClient("client authentication failed"), credentials)
            }
            return AuthenticatedClient(record: record, confidential: true)
        }
        // OAuth 2.1 §2.4: confidential clients MUST authenticate; a bare id identifies only a public client.
        guard !record.isConfidential else {
            throw try refuse(.invalidClient("this client is confidential: authenticate with client_secret_basic or client_secret_post"), credentials)
        }
        guard !requireSecret else { throw try refuse(.invalidClient("public clients may not call this endpoint"), credentials) }
        return AuthenticatedClient(record: record, confidential: false)
    }

    /// The credentials from the Authorization header or the form, never both (RFC 6749 §2.3).
    private func present() throws -> PresentedCredentials {
        let bodyID = FormFields.value(form, "client_id")
        let bodySecret = FormFields.value(form, "client_secret")
        switch ClientAuthentication.basic(request) {
        case .some(.some(let basic)):
            let credentials = PresentedCredentials(clientID: basic.id, secret: basic.secret, usedBasic: true)
            // RFC 6749 §2.3: a client MUST NOT use more than one authentication method per request.
            if bodySecret != nil {
                throw try refuse(.invalidRequest("use either HTTP Basic or client_secret in the body, not both"), credentials)
            }
            if let bodyID, bodyID != basic.id {
                throw try refuse(.invalidClient("client_id in the body differs from the authenticated client"), credentials)
            }
            return credentials
        case .some(.none):
            throw try refuse(.invalidClient("malformed HTTP Basic credentials"), nil, usedBasic: true)
        case .none:
            guard let bodyID else {
                throw try refuse(.invalidClient("client authentication is required (client_id, and a secret for confidential clients)"), nil)
            }
            return PresentedCredentials(clientID: bodyID, secret: bodySecret, usedBasic: false)
        }
    }

    /// The registered, unblocked client the credentials name.
    private func registeredClient(_ credentials: PresentedCredentials) throws -> ClientRecord {
        guard credentials.clientID.utf8.count <= 2048 else {
            throw try refuse(.invalidClient("unknown client"), nil, usedBasic: credentials.usedBasic)
        }
        guard let record = try ClientRecord.find(credentials.clientID, db: store.db) else {
            throw try refuse(.invalidClient("unknown client; register again"), credentials)
        }
        guard record.blockedAt == nil else { throw try refuse(.invalidClient("this client is blocked; register again"), credentials) }
        return record
    }

    private func refuse(_ error: OAuthError, _ credentials: PresentedCredentials) throws -> OAuthError {
        try refuse(error, credentials.clientID, usedBasic: credentials.usedBasic)
    }

    private func refuse(_ error: OAuthError, _ clientID: String?, usedBasic: Bool = false) throws -> OAuthError {
        var e = error
        e.challengesBasicOnly = usedBasic
        try onRefusal(e, clientID)
        return e
    }
}

extension OAuthServer {
    /// Authenticates the client of a token or revocation request (RFC 6749 §2.3); a refusal is audited as a
    /// deny under `action` and thrown.
    func authenticateClient(_ request: HTTPRequest, form: [(name: String, value: String)], store: Store,
                            action: String) throws -> AuthenticatedClient {
        try ClientAuthentication(request: request, form: form, store: store) { error, clientID in
            try AuditLog.append(AuditEvent(source: .oauth, action: action, clientID: clientID, decision: .deny,
                                           reason: "client authentication failed: \(error.description)",
                                           remoteAddr: self.clientAddress(request)), to: store.db)
        }.authenticate()
    }
}
