import Foundation
import HTTP
import MCPAuth

/// Signing a browser in: who is signed in now, and a password sign-in with its throttle and session.
/// Knows nothing of authorization requests: the authorization flow and the account pages share it, and one
/// session cookie serves both.
struct SignIn {
    let configuration: OAuthConfiguration
    let store: Store

    var sessions: BrowserSessions { BrowserSessions(store: store, limits: configuration.sessionLimits) }

    /// How a sign-in attempt ended.
    enum Outcome {
        /// Signed in: the `Set-Cookie` values that give the browser its new session.
        case signedIn(User, sessionCookies: [String])
        /// Refused, with the notice to show (the same for every wrong credential).
        case refused(notice: String)
        /// Refused by the throttle without checking the password; retry after this many seconds.
        case throttled(retryAfterSeconds: Int64)
    }

    /// The signed-in user: from the trusted proxy header (only from configured proxy addresses), else
    /// from the session cookie. Disabled users are never signed in.
    func currentUser(_ request: HTTPRequest, cookies: [String: String]) throws -> User? {
        if let header = configuration.trustedUserHeader, let value = request.headers[header]?.trimmingCharacters(in: .whitespaces),
           !value.isEmpty, configuration.trustedProxies.contains(request.remoteAddress) {
            if let user = try Users(store: store).find(value), user.disabledAt == nil { return user }
            return nil
        }
        guard let session = try sessions.find(cookie: cookies[configuration.sessionCookieName]),
              let user = try Users(store: store).find(session.email), user.id == session.userID, user.disabledAt == nil
        else { return nil }
        return user
    }

    /// A password sign-in from `address`. A wrong password, an unknown email and a disabled account get the
    /// same answer (and cost the same PBKDF2 run); failures are limited per account and per address.
    func attempt(email: String, password: String, address: String, userAgent: String?, cookies: [String: String]) throws -> Outcome {
        guard !email.isEmpty, !password.isEmpty else { return .refused(notice: "Enter your email and password.") }
        let throttle = LoginThrottle(store: store, limits: configuration.loginLimits)
        // The attempt is reserved before the password is checked, so parallel guesses cannot outrun the limit.
        let reservation: LoginThrottle.Reservation
        switch try throttle.reserve(email: email, address: address) {
        case .admitted(let r): reservation = r
        case .throttled(let wait):
            configuration.onSignIn?("throttled", "password")
            return .throttled(retryAfterSeconds: wait)
        }
        let users = Users(store: store)
        guard password.utf8.count <= Password.maxLength, let user = try users.authenticate(email: email, password: password) else {
            try throttle.recordFailure(email: email, address: address, reason: try failureReason(email))
            configuration.onSignIn?("failure", "password")
            return .refused(notice: "Incorrect email or password.")
        }
        try throttle.recordSuccess(user: user, reservation: reservation, address: address, method: "password")
        let sessionCookies = try startSession(user: user, address: address, userAgent: userAgent, cookies: cookies)
        configuration.onSignIn?("success", "password")
        return .signedIn(user, sessionCookies: sessionCookies)
    }

    /// A new browser session for `user` (password or single sign-on): the `Set-Cookie` values that give it.
    func startSession(user: User, address: String, userAgent: String?, cookies: [String: String]) throws -> [String] {
        // A new session id at every sign-in, so an id planted in the browser beforehand is never promoted.
        try sessions.end(cookie: cookies[configuration.sessionCookieName], by: .account(email: user.email, remoteAddr: address),
                         reason: "replaced at sign-in")
        let started = try sessions.start(userID: user.id, remoteAddr: address, userAgent: userAgent)
        return [sessionCookie(started.cookie)] + (configuration.isSecure ? [] : [legacyCookieRemoval])
    }

    /// Why a sign-in failed, for the audit row only (the browser is told the same thing every time).
    private func failureReason(_ email: String) throws -> String {
        guard let known = try Users(store: store).find(email) else { return "unknown email" }
        if known.disabledAt != nil { return "user disabled" }
        return known.hasPassword ? "wrong password" : "no password set"
    }

    /// The session cookie: for the whole site (`Path=/`), HttpOnly, SameSite=Lax, `Secure` and `__Host-`
    /// behind https; kept by the browser as long as the session may live.
    func sessionCookie(_ value: String) -> String {
        var c = "\(configuration.sessionCookieName)=\(value); Path=/; HttpOnly; SameSite=Lax; Max-Age=\(configuration.sessionLimits.maxAgeSeconds)"
        if configuration.isSecure { c += "; Secure" }
        return c
    }

    /// Tells the browser to forget the session cookie (RFC 6265 §3.1: an expiry in the past deletes it).
    var clearedSessionCookie: String {
        var c = "\(configuration.sessionCookieName)=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0"
        if configuration.isSecure { c += "; Secure" }
        return c
    }

    /// Earlier versions kept the session cookie, under the same name, at `Path=/oauth`; a browser would send
    /// that stale one first there (RFC 6265 §5.4: longer paths first) and never look signed in.
    private var legacyCookieRemoval: String { "mcpctl_session=; Path=/oauth; HttpOnly; SameSite=Lax; Max-Age=0" }

    /// A cookie of the authorization pages only: HttpOnly, SameSite=Lax, `Secure` behind https.
    func cookie(_ name: String, _ value: String, maxAge: Int64?) -> String {
        var c = "\(name)=\(value); Path=/oauth; HttpOnly; SameSite=Lax"
        if let maxAge { c += "; Max-Age=\(maxAge)" }
        if configuration.isSecure { c += "; Secure" }
        return c
    }
}
