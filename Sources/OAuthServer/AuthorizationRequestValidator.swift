import Foundation
import HTTP
import MCPAuth

/// Where an authorization request may be answered: a registered, unblocked client and a redirect URI that
/// is verified to be one of its own.
struct AuthorizationTarget {
    let client: ClientRecord
    let redirectURI: String
    /// Whether `redirect_uri` was in the request (then the token request must repeat it).
    let redirectPresented: Bool
}

/// Validates the parameters of an authorization request (OAuth 2.1 §4.1.1) in two steps. `target()` checks
/// the client and redirect URI; its refusals must be shown on a page, never redirected (RFC 6749 §4.1.2.1,
/// OAuth 2.1 §4.1.2.1: redirecting to an unverified URI would make this server an open redirector).
/// `request(for:)` checks the rest; its refusals may go back to the verified redirect URI.
struct AuthorizationRequestValidator {
    let items: [(name: String, value: String)]
    let issuer: String
    let store: Store
    let remoteAddr: String
    let allowLoopbackClientMetadata: Bool
    let fetcher: ClientMetadataFetcher
    /// Asked before a metadata document is fetched (not for a cache hit), to rate-limit fetches per caller.
    let admitFetch: () -> Bool

    func value(_ name: String) -> String? { FormFields.value(items, name) }

    /// The client and the redirect URI to answer at.
    func target() throws -> AuthorizationTarget {
        // RFC 6749 §3.1: parameters MUST NOT be included more than once.
        if let name = FormFields.repeated(items, among: ["client_id", "redirect_uri"]) {
            throw OAuthError.invalidRequest("The parameter \(name) was sent more than once.")
        }
        guard let clientID = value("client_id") else {
            throw OAuthError.invalidRequest("The request does not name a client (client_id is missing).")
        }
        let client = try self.client(clientID)
        guard client.blockedAt == nil else { throw OAuthError.unauthorizedClient("An administrator blocked this application.") }
        let redirectURI = try self.redirectURI(of: client)
        // A URI registered before today's rules (e.g. http on a name that only looks like loopback) is not used.
        if let problem = RedirectURI.problem(redirectURI) {
            throw OAuthError.invalidRedirectURI("The application's redirect URI is no longer accepted: \(problem).")
        }
        return AuthorizationTarget(client: client, redirectURI: redirectURI, redirectPresented: value("redirect_uri") != nil)
    }

    /// A registered client, or one described by a Client ID Metadata Document (recorded as `cimd`).
    private func client(_ clientID: String) throws -> ClientRecord {
        if ClientMetadataDocument.isURL(clientID, allowInsecure: allowLoopbackClientMetadata) {
            let metadata: ClientMetadata
            do {
                metadata = try fetcher.metadata(for: clientID, admit: admitFetch)
            } catch {
                throw OAuthError.invalidClient("The application's metadata document could not be used: \(error.description).")
            }
            do {
                return try ClientMetadataDocument.record(metadata, url: clientID, store: store, remoteAddr: remoteAddr)
            } catch let e as DomainError {
                throw OAuthError.invalidClient(e.description)
            }
        }
        guard clientID.utf8.count <= 2048, let found = try ClientRecord.find(clientID, db: store.db) else {
            throw OAuthError.invalidClient("This application is not registered here (or its registration was removed). Connect again from the application so that it registers anew.")
        }
        return found
    }

    /// OAuth 2.1 §4.1.1 / §7.5.3: exact string match with a registered URI; for loopback http any port
    /// (RFC 8252 §7.3). It may be omitted only when exactly one is registered (and, being compared exactly,
    /// a loopback URI needs its port in the request).
    private func redirectURI(of client: ClientRecord) throws -> String {
        if let presented = value("redirect_uri") {
            guard client.redirectURIs.contains(where: { RedirectURI.matches(presented, registered: $0) }) else {
                throw OAuthError.invalidRedirectURI("The redirect URI is not registered for this application.")
            }
            return presented
        }
        guard client.redirectURIs.count == 1, let only = client.redirectURIs.first,
              !(URLComponents(string: only)?.host.map(RedirectURI.isLoopback) ?? false) else {
            throw OAuthError.invalidRequest("The request has no redirect_uri.")
        }
        return only
    }

    /// `state` as it may be echoed back: nil when absent or too long to echo.
    var echoableState: String? { value("state").flatMap { $0.utf8.count > 2048 ? nil : $0 } }

    /// The rest of the request, for a verified target.
    func request(for target: AuthorizationTarget) throws(OAuthError) -> AuthorizationRequest {
        let state = value("state")
        if let state, state.utf8.count > 2048 { throw .invalidRequest("state is longer than 2048 bytes") }
        if let name = FormFields.repeated(items, among: ["response_type", "state", "code_challenge", "code_challenge_method", "scope", "resource"]) {
            throw name == "resource" ? .invalidTarget("give exactly one resource") : .invalidRequest("the parameter \(name) was sent more than once")
        }
        guard let responseType = value("response_type") else { throw .invalidRequest("response_type is required") }
        guard responseType == "code" else { throw .unsupportedResponseType("only response_type=code is supported") }
        return AuthorizationRequest(client: target.client, redirectURI: target.redirectURI, redirectPresented: target.redirectPresented,
                                    state: state, codeChallenge: try codeChallenge(), resource: try resource(), scopes: try scopes())
    }

    /// OAuth 2.1 §4.1.1 and RFC 9700 §2.1.1: PKCE is required, and only S256 — a missing method means
    /// "plain" (RFC 7636 §4.3), which is refused like an explicit one (no downgrade).
    private func codeChallenge() throws(OAuthError) -> String {
        guard let challenge = value("code_challenge") else {
            throw .invalidRequest("PKCE is required: send code_challenge with code_challenge_method=S256")
        }
        guard value("code_challenge_method") == "S256" else {
            throw .invalidRequest("code_challenge_method must be S256 (plain is not accepted)")
        }
        guard challenge.utf8.count == 43, PKCE.isWellFormed(challenge) else {
            throw .invalidRequest("code_challenge must be the 43-character base64url SHA-256 of the verifier")
        }
        return challenge
    }

    /// RFC 8707 §2 and MCP 2025-11-25 "Resource Parameter Implementation": the client names the MCP
    /// endpoint the token is for; here that must be one of this server's /mcp/{app}/{env} URLs.
    private func resource() throws(OAuthError) -> ResourceIndicator {
        guard let text = value("resource") else {
            throw .invalidTarget("the resource parameter (RFC 8707) is required: the MCP endpoint URL, \(issuer)/mcp/{app}/{env}")
        }
        guard let resource = ResourceIndicator.parse(text, issuer: issuer) else {
            throw .invalidTarget("the resource must be an MCP endpoint of this server, \(issuer)/mcp/{app}/{env}")
        }
        return resource
    }

    /// Scope values this server does not define (e.g. offline_access) are ignored: refresh tokens are
    /// always issued, and the consent page decides the rest. Nil when no scope was asked for.
    private func scopes() throws(OAuthError) -> ScopeSet? {
        guard let scope = value("scope") else { return nil }
        let known = scope.split(separator: " ").compactMap { ScopeSet.named(String($0)) }
        guard !known.isEmpty else { throw .invalidScope("scope must name at least one of: read write delete") }
        return known.reduce(ScopeSet()) { $0.union($1) }
    }
}
