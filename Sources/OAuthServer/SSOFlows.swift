import Foundation
import MCPAuth

/// One SSO sign-in in progress: what the callback must find again (OpenID Connect Core 1.0 §3.1.2.1
/// `state` and `nonce`; RFC 7636 the code verifier), bound to the browser that started it.
struct SSOFlow: Sendable {
    let provider: String
    let nonce: String
    let codeVerifier: String
    /// SHA-256 of the browser-binding cookie: the callback works only in the browser that started.
    let browserHash: [UInt8]
    /// Where to go once signed in: a local path (the account pages, or an authorization in progress).
    let next: String
    let expires: Double
}

/// SSO sign-ins in progress, in memory and keyed by `state`; each is taken out at its callback, so a
/// `state` works once (a replayed callback URL finds nothing).
final class SSOFlows: Sendable {
    /// The browser-binding cookie. RFC 6265bis §4.1.3.2: behind https it is `__Host-` prefixed (so
    /// `Secure`, `Path=/`, no `Domain`): a sibling subdomain cannot plant a binding of its own in the
    /// victim's browser and have the victim's callback complete the attacker's sign-in (login CSRF).
    static func cookie(secure: Bool) -> String { secure ? "__Host-mcpctl_sso" : "mcpctl_sso" }

    static func cookieAttributes(secure: Bool) -> String {
        secure ? "Path=/; HttpOnly; SameSite=Lax; Secure" : "Path=/login/sso; HttpOnly; SameSite=Lax"
    }
    static let ttl: Double = 600
    private let flows = Guarded<[String: SSOFlow]>([:])
    private let maxFlows = 20_000

    /// Starts a flow for the browser presenting `browserCookie`; returns its `state`.
    func start(provider: String, next: String, browserCookie: String) -> (state: String, flow: SSOFlow) {
        let now = Date().timeIntervalSince1970
        let flow = SSOFlow(provider: provider, nonce: Base62.random(count: 32), codeVerifier: Base62.random(count: 64),
                           browserHash: SHA256.hash(browserCookie), next: next, expires: now + SSOFlows.ttl)
        let state = Base62.random(count: 32)
        flows.withLock { f in
            if f.count >= maxFlows { f = f.filter { $0.value.expires > now } }
            if f.count >= maxFlows, let oldest = f.min(by: { $0.value.expires < $1.value.expires })?.key { f[oldest] = nil }
            f[state] = flow
        }
        return (state, flow)
    }

    /// Takes the flow of `state` out (single use) if it is live and belongs to this browser. A `state`
    /// presented by another browser is taken out too: a leaked callback URL is then worth nothing.
    func take(state: String?, browserCookie: String?) -> SSOFlow? {
        guard let state, state.utf8.count <= 64 else { return nil }
        let now = Date().timeIntervalSince1970
        guard let flow = flows.withLock({ $0.removeValue(forKey: state) }), flow.expires > now, let browserCookie else { return nil }
        return ConstantTime.equals(flow.browserHash, SHA256.hash(browserCookie)) ? flow : nil
    }
}
