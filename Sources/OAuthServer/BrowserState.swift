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

/// An authorization in progress: the request, the CSRF token of its forms, and the browser it belongs to.
struct AuthorizationTransaction: Sendable {
    let id: String
    let csrf: String
    /// SHA-256 of the browser-binding cookie: the forms only work from the browser that started.
    let browserHash: [UInt8]
    let request: AuthorizationRequest
    let expires: Double
    var notice: String?
}

/// Authorization transactions in progress, in memory (a restart only asks users to start the connection
/// again). Signed-in sessions live in the store (`BrowserSessions`).
final class BrowserState: Sendable {
    static let browserCookie = "mcpctl_browser"

    private let transactions = Guarded<[String: AuthorizationTransaction]>([:])
    let transactionTTL: Double
    private let maxTransactions = 20_000

    init(transactionTTL: Int64) {
        self.transactionTTL = Double(transactionTTL)
    }

    private static func now() -> Double { Date().timeIntervalSince1970 }

    // MARK: Transactions

    func createTransaction(request: AuthorizationRequest, browserCookie: String) -> AuthorizationTransaction {
        let now = BrowserState.now()
        let tx = AuthorizationTransaction(id: Base62.random(count: 24), csrf: Base62.random(count: 32),
                                          browserHash: SHA256.hash(browserCookie), request: request,
                                          expires: now + transactionTTL, notice: nil)
        transactions.withLock { t in
            if t.count >= maxTransactions { t = t.filter { $0.value.expires > now } }
            if t.count >= maxTransactions, let oldest = t.min(by: { $0.value.expires < $1.value.expires })?.key { t[oldest] = nil }
            t[tx.id] = tx
        }
        return tx
    }

    /// The transaction `id` if it is live and belongs to the browser presenting `browserCookie`.
    func transaction(_ id: String?, browserCookie: String?) -> AuthorizationTransaction? {
        guard let id, let browserCookie, id.utf8.count <= 64 else { return nil }
        let now = BrowserState.now()
        return transactions.withLock { t in
            guard let tx = t[id] else { return nil }
            if tx.expires <= now { t[id] = nil; return nil }
            guard ConstantTime.equals(tx.browserHash, SHA256.hash(browserCookie)) else { return nil }
            return tx
        }
    }

    func setNotice(_ id: String, _ notice: String?) {
        transactions.withLock { t in t[id]?.notice = notice }
    }

    /// Ends the transaction; returns false if it was already gone (a double submit).
    @discardableResult
    func finish(_ id: String) -> Bool {
        transactions.withLock { $0.removeValue(forKey: id) != nil }
    }
}
