import Foundation
import MCPAuth

/// A validated authorization request (OAuth 2.1 §4.1.1), kept while the user logs in and consents.
struct AuthorizationRequest: Sendable {
    let client: ClientRecord
    /// The redirect URI to send the user back to: the presented one, or the only registered one.
    let redirectURI: String
    /// Whether `redirect_uri` was in the request (then the token request must repeat it).
    let redirectPresented: Bool
    let state: String?
    let codeChallenge: String
    let resource: ResourceIndicator
    /// The scopes asked for; nil when the request named none (then everything the user may grant is offered).
    let scopes: ScopeSet?
}

/// An authorization in progress: the request, the CSRF token of its forms, and the notice its next page shows.
struct AuthorizationTransaction: Sendable {
    let id: String
    let csrf: String
    let request: AuthorizationRequest
    var notice: String?
}

/// How authorization transactions are kept: in the store (`PendingFlows`), so any replica continues a
/// transaction another began and a restart loses none, each bound to the browser that started it.
struct BrowserState: Sendable {
    /// The browser-binding cookie. RFC 6265bis §4.1.3.2: behind https it is `__Host-` prefixed (so
    /// `Secure`, `Path=/`, no `Domain`): a sibling subdomain cannot plant a binding whose value it knows,
    /// which would let it compute the forms' CSRF tokens and hand its own transaction to the victim.
    static func cookie(secure: Bool) -> String { secure ? "__Host-mcpctl_browser" : "mcpctl_browser" }

    /// For the whole site (`Path=/`, which `__Host-` requires anyway): the single sign-on pages read it
    /// too, to tell an authorization of this browser from another's.
    static func cookieAttributes(secure: Bool) -> String {
        secure ? "Path=/; HttpOnly; SameSite=Lax; Secure" : "Path=/; HttpOnly; SameSite=Lax"
    }
    let transactionTTL: Int64

    /// The CSRF token of a transaction's forms: an HMAC of the browser's binding cookie (HttpOnly, so a page
    /// from another site can neither read nor compute it), so it is never stored.
    static func csrf(transaction id: String, browserCookie: String) -> String {
        Base64URL.encode(HMAC.sha256(key: Array(browserCookie.utf8), message: Array("mcpctl authorization form v1\u{0}\(id)".utf8)))
    }

    /// What a transaction keeps of its request: the client is read again at each step (so a client removed
    /// or blocked meanwhile ends the transaction there).
    static func body(_ r: AuthorizationRequest) -> String {
        JSON.object([
            ("client_id", .string(r.client.clientID)), ("redirect_uri", .string(r.redirectURI)),
            ("redirect_presented", .bool(r.redirectPresented)), ("state", .str(r.state)),
            ("code_challenge", .string(r.codeChallenge)), ("app", .string(r.resource.app)), ("env", .string(r.resource.env)),
            ("scopes", .str(r.scopes?.description)),
        ]).encoded()
    }

    /// The request a transaction kept, or nil when its client is gone or the body is not one of ours.
    static func request(_ body: String, store: Store) throws -> AuthorizationRequest? {
        guard let json = try? JSON.parse(body), let clientID = json["client_id"]?.stringValue,
              let redirectURI = json["redirect_uri"]?.stringValue, let presented = json["redirect_presented"]?.boolValue,
              let challenge = json["code_challenge"]?.stringValue, let app = json["app"]?.stringValue,
              let env = json["env"]?.stringValue, let client = try ClientRecord.find(clientID, db: store.db),
              client.blockedAt == nil
        else { return nil }
        let scopes = json["scopes"]?.stringValue
        return AuthorizationRequest(client: client, redirectURI: redirectURI, redirectPresented: presented,
                                    state: json["state"]?.stringValue, codeChallenge: challenge,
                                    resource: ResourceIndicator(app: app, env: env),
                                    scopes: scopes.flatMap { ScopeSet(parsing: $0) })
    }
}

extension OAuthServer {
    /// The name of this server's browser-binding cookie.
    var browserCookieName: String { BrowserState.cookie(secure: configuration.isSecure) }

    /// The `Set-Cookie` value binding this browser to `value`.
    func browserCookie(_ value: String) -> String {
        "\(browserCookieName)=\(value); \(BrowserState.cookieAttributes(secure: configuration.isSecure))"
    }

    /// Seconds a visitor must wait before it may start another browser flow (an authorization or an SSO
    /// sign-in), taking one start from its allowance when it may (nil). Asked before the start takes a store
    /// connection (see `PendingFlows.admitStart`).
    func flowStartWait(_ address: String) -> Int? {
        do {
            try PendingFlows.admitStart(address: address, limiter: flowLimiter)
            return nil
        } catch {
            return error.retryAfterSeconds
        }
    }

    /// Starts the transaction of a validated request for the browser presenting `browserCookie` (its visitor
    /// was admitted by `flowStartWait`).
    func createTransaction(_ request: AuthorizationRequest, browserCookie: String, address: String,
                           store: Store) throws -> AuthorizationTransaction {
        let id = Base62.random(count: 24)
        try writeLock.withLock {
            try PendingFlows(store: store).start(.authorization, id: id, browserCookie: browserCookie, body: BrowserState.body(request),
                                                 address: address, ttlSeconds: browser.transactionTTL)
        }
        return AuthorizationTransaction(id: id, csrf: BrowserState.csrf(transaction: id, browserCookie: browserCookie),
                                        request: request, notice: nil)
    }

    /// The transaction `id` if it is live and belongs to the browser presenting `browserCookie`.
    func transaction(_ id: String?, browserCookie: String?, store: Store) throws -> AuthorizationTransaction? {
        guard let id, let browserCookie,
              let flow = try PendingFlows(store: store).find(.authorization, id: id, browserCookie: browserCookie),
              let request = try BrowserState.request(flow.body, store: store)
        else { return nil }
        return AuthorizationTransaction(id: id, csrf: BrowserState.csrf(transaction: id, browserCookie: browserCookie),
                                        request: request, notice: flow.notice)
    }

    func setNotice(_ id: String, _ notice: String?, store: Store) throws {
        try writeLock.withLock { try PendingFlows(store: store).setNotice(id: id, notice) }
    }

    /// Ends the transaction; false if it was already gone (a double submit, or another replica ended it).
    func finishTransaction(_ id: String, store: Store) throws -> Bool {
        try writeLock.withLock { try PendingFlows(store: store).finish(id: id) }
    }
}
