import Foundation
import MCPAuth

/// One SSO sign-in in progress: what the callback must find again (OpenID Connect Core 1.0 §3.1.2.1
/// `state` and `nonce`; RFC 7636 the code verifier).
struct SSOFlow: Sendable {
    let provider: String
    let nonce: String
    let codeVerifier: String
    /// Where to go once signed in: a local path (the account pages, or an authorization in progress).
    let next: String
}

/// SSO sign-ins in progress, kept in the store (`PendingFlows`) under their `state` so any replica can
/// take the provider's callback, each bound to the browser that started it and taken out at its callback
/// (a replayed callback URL finds nothing). The nonce and the PKCE code verifier are not stored: they are
/// HMACs of the browser's binding cookie and the state, so the store holds nothing that completes a flow.
enum SSOFlows {
    /// The browser-binding cookie. RFC 6265bis §4.1.3.2: behind https it is `__Host-` prefixed (so
    /// `Secure`, `Path=/`, no `Domain`): a sibling subdomain cannot plant a binding of its own in the
    /// victim's browser and have the victim's callback complete the attacker's sign-in (login CSRF).
    static func cookie(secure: Bool) -> String { secure ? "__Host-mcpctl_sso" : "mcpctl_sso" }

    static func cookieAttributes(secure: Bool) -> String {
        secure ? "Path=/; HttpOnly; SameSite=Lax; Secure" : "Path=/login/sso; HttpOnly; SameSite=Lax"
    }
    static let ttlSeconds: Int64 = 600

    /// A value only the browser holding `browserCookie` can have for `state`: 43 base64url characters,
    /// which is also a valid PKCE code verifier (RFC 7636 §4.1: 43 to 128 unreserved characters).
    static func derived(_ purpose: String, state: String, browserCookie: String) -> String {
        Base64URL.encode(HMAC.sha256(key: Array(browserCookie.utf8), message: Array("mcpctl sso \(purpose) v1\u{0}\(state)".utf8)))
    }

    static func flow(provider: String, next: String, state: String, browserCookie: String) -> SSOFlow {
        SSOFlow(provider: provider, nonce: derived("nonce", state: state, browserCookie: browserCookie),
                codeVerifier: derived("pkce", state: state, browserCookie: browserCookie), next: next)
    }
}

extension OAuthServer {
    /// Starts a flow for the browser presenting `browserCookie` (its visitor was admitted by `flowStartWait`);
    /// returns its `state`.
    func startSSOFlow(provider: String, next: String, browserCookie: String, address: String) throws -> (state: String, flow: SSOFlow) {
        let state = Base62.random(count: 32)
        let body = JSON.object([("provider", .string(provider)), ("next", .string(next))]).encoded()
        try writing { store in
            try PendingFlows(store: store).start(.sso, id: state, browserCookie: browserCookie, body: body, address: address,
                                                 ttlSeconds: SSOFlows.ttlSeconds)
        }
        return (state, SSOFlows.flow(provider: provider, next: next, state: state, browserCookie: browserCookie))
    }

    /// Takes the flow of `state` out (single use) if it is live and belongs to this browser. A `state`
    /// presented by another browser is taken out too: a leaked callback URL is then worth nothing.
    func takeSSOFlow(state: String?, browserCookie: String?) throws -> SSOFlow? {
        guard let state, state.utf8.count <= 64 else { return nil }
        guard let found = try writing({ try PendingFlows(store: $0).take(.sso, id: state, browserCookie: browserCookie) }),
              let browserCookie, let json = try? JSON.parse(found.body),
              let provider = json["provider"]?.stringValue, let next = json["next"]?.stringValue
        else { return nil }
        return SSOFlows.flow(provider: provider, next: next, state: state, browserCookie: browserCookie)
    }

    /// Ends the flow of `state` unused (the sign-in could not go to the provider).
    func dropSSOFlow(state: String) throws {
        _ = try writing { try PendingFlows(store: $0).finish(id: state) }
    }
}
