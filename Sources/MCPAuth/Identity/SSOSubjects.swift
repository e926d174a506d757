/// Which identity at an identity provider signs a user in. OpenID Connect Core 1.0 §5.7: `iss` and `sub`
/// together are the only claims a relying party can rely on as a stable identifier for the end-user; an
/// email can move to another account at the provider. So the first single sign-on of a user binds the
/// provider's subject to that user, and from then on only that subject signs that user in with that
/// provider: another account of the provider naming the same email is refused. An operator undoes a
/// binding (the person's account at the provider was replaced) with `mcpctl idp unbind`.
public struct SSOSubjects: Sendable {
    let store: Store
    /// The provider's name as kept in the store: lower-cased, as provider names compare without case.
    let idp: String
    var db: Database { store.db }

    public init(store: Store, idp: String) { self.store = store; self.idp = idp.lowercased() }

    /// Longest subject accepted (OpenID Connect Core 1.0 §2: at most 255 ASCII characters).
    public static let maxSubjectBytes = 255

    /// The user the subject is bound to, if any.
    func user(subject: String) throws -> Int64? {
        try db.first("SELECT user_id FROM sso_subjects WHERE idp = ? AND subject = ?", [.text(idp), .text(subject)])?.int("user_id")
    }

    /// Whether the user is bound to some subject of this provider.
    func isBound(userID: Int64) throws -> Bool {
        try db.first("SELECT 1 FROM sso_subjects WHERE idp = ? AND user_id = ?", [.text(idp), .integer(userID)]) != nil
    }

    /// Binds `subject` to the user; runs inside the caller's write transaction.
    func bind(subject: String, userID: Int64) throws {
        try db.run("INSERT INTO sso_subjects (idp, subject, user_id, bound_at) VALUES (?, ?, ?, ?)",
                   [.text(idp), .text(subject), .integer(userID), .integer(Clock.nowMillis())])
    }

    /// Removes the user's binding with this provider (audited): their next sign-in binds anew.
    public func unbind(email: String) throws {
        try db.write {
            let user = try Users(store: store).require(email)
            guard try db.run("DELETE FROM sso_subjects WHERE idp = ? AND user_id = ?", [.text(idp), .integer(user.id)]) > 0 else {
                throw DomainError.notFound("\(user.email) has not signed in with \(idp): there is no binding to remove")
            }
            try AuditLog.append(.cli("idp.unbind", email: user.email, target: idp,
                                     reason: "the next sign-in of \(user.email) with \(idp) binds its subject anew"), to: db)
        }
    }

    /// Removes every binding of this provider; runs inside the caller's write transaction. Returns how many.
    @discardableResult
    func removeAll() throws -> Int {
        try db.run("DELETE FROM sso_subjects WHERE idp = ?", [.text(idp)])
    }
}
