import Foundation
import HTTP
import MCPAuth

/// Who is calling the token, introspection or revocation endpoint, per RFC 6749 §2.3.
struct AuthenticatedClient {
    let record: OAuthClient
    /// True when the client proved a secret (a confidential client), false for a public client's bare id.
    let confidential: Bool
}

/// A client authentication failure: the OAuth error, and whether the Authorization header was used
/// (RFC 6749 §5.2 then requires 401 with a `WWW-Authenticate` challenge).
struct ClientAuthenticationFailure: Error {
    let error: OAuthError
    let usedBasic: Bool
    let clientID: String?
}

enum ClientAuthentication {
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

    /// Authenticates the calling client from the Authorization header or the form. `requireSecret`
    /// refuses public clients (introspection). Blocked and unknown clients get `invalid_client` so that
    /// real clients re-register.
    static func authenticate(_ request: HTTPRequest, form: [(name: String, value: String)], store: Store,
                             requireSecret: Bool = false) throws -> Result<AuthenticatedClient, ClientAuthenticationFailure> {
        let bodyID = FormFields.value(form, "client_id")
        let bodySecret = FormFields.value(form, "client_secret")
        var id: String
        var secret: String?
        var usedBasic = false
        switch basic(request) {
        case .some(.some(let credentials)):
            usedBasic = true
            // RFC 6749 §2.3: a client MUST NOT use more than one authentication method per request.
            if bodySecret != nil {
                return .failure(.init(error: .invalidRequest("use either HTTP Basic or client_secret in the body, not both"), usedBasic: true, clientID: credentials.id))
            }
            if let bodyID, bodyID != credentials.id {
                return .failure(.init(error: .invalidClient("client_id in the body differs from the authenticated client"), usedBasic: true, clientID: credentials.id))
            }
            id = credentials.id
            secret = credentials.secret
        case .some(.none):
            return .failure(.init(error: .invalidClient("malformed HTTP Basic credentials"), usedBasic: true, clientID: nil))
        case .none:
            guard let bodyID else {
                return .failure(.init(error: .invalidClient("client authentication is required (client_id, and a secret for confidential clients)"),
                                      usedBasic: false, clientID: nil))
            }
            id = bodyID
            secret = bodySecret
        }
        guard id.utf8.count <= 2048 else {
            return .failure(.init(error: .invalidClient("unknown client"), usedBasic: usedBasic, clientID: nil))
        }
        guard let record = try OAuthClient.find(id, db: store.db) else {
            return .failure(.init(error: .invalidClient("unknown client; register again"), usedBasic: usedBasic, clientID: id))
        }
        guard record.blockedAt == nil else {
            return .failure(.init(error: .invalidClient("this client is blocked; register again"), usedBasic: usedBasic, clientID: id))
        }
        if let secret {
            guard record.isConfidential, try Clients(store: store).authenticate(clientID: id, secret: secret) else {
                return .failure(.init(error: .invalidClient("client authentication failed"), usedBasic: usedBasic, clientID: id))
            }
            return .success(AuthenticatedClient(record: record, confidential: true))
        }
        // OAuth 2.1 §2.4: confidential clients MUST authenticate; a bare id identifies only a public client.
        guard !record.isConfidential else {
            return .failure(.init(error: .invalidClient("this client is confidential: authenticate with client_secret_basic or client_secret_post"),
                                  usedBasic: usedBasic, clientID: id))
        }
        guard !requireSecret else {
            return .failure(.init(error: .invalidClient("public clients may not call this endpoint"), usedBasic: usedBasic, clientID: id))
        }
        return .success(AuthenticatedClient(record: record, confidential: false))
    }
}

/// An answer that ends a request early, carried through a `Result`.
struct Refusal: Error {
    let response: HTTPResponse
}

extension OAuthServer {
    /// Authenticates the client of a token or revocation request (RFC 6749 §2.3); a failure is audited as a
    /// deny under `action` and comes back as the error response to send.
    func authenticateClient(_ request: HTTPRequest, form: [(name: String, value: String)], store: Store,
                            action: String) throws -> Result<AuthenticatedClient, Refusal> {
        switch try ClientAuthentication.authenticate(request, form: form, store: store) {
        case .success(let client):
            return .success(client)
        case .failure(let f):
            try AuditLog.append(AuditEvent(source: "oauth", action: action, clientID: f.clientID, decision: "deny",
                                           reason: "client authentication failed: \(f.error.description)",
                                           remoteAddr: clientAddress(request)), to: store.db)
            return .failure(Refusal(response: OAuthResponse.error(f.error, basicChallenge: f.usedBasic)))
        }
    }
}
