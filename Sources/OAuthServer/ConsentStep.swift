import Foundation
import HTTP
import MCPAuth

/// The consent step of an authorization: what a signed-in user may grant on the requested resource, the
/// page that asks, and the decision, which ends in a code or `access_denied` at the client's redirect URI.
struct ConsentStep {
    let server: OAuthServer
    let store: Store

    /// What the user may grant on the requested resource: nil when they hold no grant there (or it does
    /// not exist: the same answer, so existence is not leaked).
    func grantable(_ user: User, _ tx: AuthorizationTransaction) throws -> ScopeSet? {
        let decision = try Policy.answer(AccessRequest(userID: user.id, app: tx.request.resource.app, env: tx.request.resource.env,
                                                       action: .anything), store: store)
        guard decision.hasAccess else { return nil }
        return decision.effective
    }

    /// The consent page, or "App not found" when the user may grant nothing there.
    func page(_ tx: AuthorizationTransaction, user: User, setCookies: [String]) throws -> HTTPResponse {
        let target = Pages.cspSource(forRedirect: tx.request.redirectURI)
        guard let granted = try grantable(user, tx) else {
            return Pages.response(Pages.appNotFound(tx, email: user.email), status: 404, formTarget: target, cookies: setCookies)
        }
        let offered = tx.request.scopes.map { $0.intersection(granted) } ?? granted
        return Pages.response(Pages.consent(tx, email: user.email, offered: offered, requested: tx.request.scopes),
                              formTarget: target, cookies: setCookies)
    }

    /// The user's answer: `approve` with the ticked scopes, anything else a denial. `back` is the page of
    /// the transaction, for answers that need another look.
    func decide(_ tx: AuthorizationTransaction, user: User, decision: String, form: [(name: String, value: String)],
                remoteAddr: String, back: String) throws -> HTTPResponse {
        guard decision == "approve" else { return try deny(tx, user: user, remoteAddr: remoteAddr) }
        // No grant, no code: the page says "App not found".
        guard let granted = try grantable(user, tx) else { return OAuthResponse.seeOther(back) }
        let offered = tx.request.scopes.map { $0.intersection(granted) } ?? granted
        let ticked = form.filter { $0.name == "scope" }.compactMap { ScopeSet.named($0.value) }.reduce(ScopeSet()) { $0.union($1) }
        let chosen = ticked.intersection(offered)
        guard !chosen.isEmpty else {
            try server.setNotice(tx.id, "Choose at least one permission, or deny.", store: store)
            return OAuthResponse.seeOther(back)
        }
        guard try server.finishTransaction(tx.id, store: store) else { return AuthorizePages.staleTransaction }
        return try approve(tx, user: user, scopes: chosen, remoteAddr: remoteAddr)
    }

    /// RFC 6749 §4.1.2.1: the resource owner denied the request.
    private func deny(_ tx: AuthorizationTransaction, user: User, remoteAddr: String) throws -> HTTPResponse {
        guard try server.finishTransaction(tx.id, store: store) else { return AuthorizePages.staleTransaction }
        try Consents(store: store).recordDenial(email: user.email, clientID: tx.request.client.clientID, resource: tx.request.resource,
                                                reason: "denied by the user", remoteAddr: remoteAddr)
        return server.redirect(to: tx.request.redirectURI, [("error", "access_denied"), ("error_description", "the user denied access")],
                               state: tx.request.state)
    }

    /// Records the consent and answers with a code (OAuth 2.1 §4.1.2: code and state; RFC 9207: iss).
    private func approve(_ tx: AuthorizationTransaction, user: User, scopes: ScopeSet, remoteAddr: String) throws -> HTTPResponse {
        let request = tx.request
        try Consents(store: store).record(userID: user.id, email: user.email, clientID: request.client.clientID,
                                          resource: request.resource, scopes: scopes, remoteAddr: remoteAddr)
        let grant = AuthorizationGrant(clientID: request.client.clientID, userID: user.id,
                                       redirectURI: request.redirectPresented ? request.redirectURI : "",
                                       codeChallenge: request.codeChallenge, resource: request.resource, scopes: scopes)
        let code = try AuthorizationCodes(store: store).issue(grant, issuer: server.issuer,
                                                              lifetimeSeconds: server.configuration.authorizationCodeTTL)
        return server.redirect(to: request.redirectURI, [("code", code)], state: request.state)
    }
}
