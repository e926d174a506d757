import HTTP
import MCPAuth

/// The signed-in user behind a request to the account or admin pages, with their session's form token.
struct Visitor {
    let user: User
    /// The session cookie's secret: forms carry a token derived from it.
    let sessionSecret: String
    let isOperator: Bool
    let address: String
    /// A `Set-Cookie` to send when this request started the session (a user named by a trusted proxy header).
    let newCookie: String?

    var csrf: String { CSRF.token(for: sessionSecret) }
    var header: SitePage.Header { SitePage.Header(email: user.email, csrf: csrf, isOperator: isOperator) }
    var asAccount: Initiator { .account(email: user.email, remoteAddr: address) }
    var asAdmin: Initiator { .admin(email: user.email, remoteAddr: address) }
    var cookies: [String] { newCookie.map { [$0] } ?? [] }
}

extension OAuthServer {
    /// The visitor, or nil when nobody is signed in. A user named by the trusted proxy header gets a store
    /// session of their own on first sight, so that their forms have a token like everyone else's.
    func visitor(_ request: HTTPRequest, store: Store) throws -> Visitor? {
        let signIn = self.signIn(store)
        let cookies = FormFields.cookies(request)
        guard let user = try signIn.currentUser(request, cookies: cookies) else { return nil }
        let address = clientAddress(request)
        let isOperator = try Operators.isOperator(user, store: store)
        let presented = cookies[configuration.sessionCookieName]
        if let presented, let session = try signIn.sessions.find(cookie: presented), session.userID == user.id {
            return Visitor(user: user, sessionSecret: presented, isOperator: isOperator, address: address, newCookie: nil)
        }
        let started = try signIn.sessions.start(userID: user.id, remoteAddr: address, userAgent: request.headers["User-Agent"])
        return Visitor(user: user, sessionSecret: started.cookie, isOperator: isOperator, address: address,
                       newCookie: signIn.sessionCookie(started.cookie))
    }
}
