/// Adding, listing, disabling and removing users; disabling or removing kills every credential at once.
public struct Users: Sendable {
    let store: Store
    var db: Database { store.db }

    public init(store: Store) { self.store = store }

    static let columns = "id, email, name, created_at, disabled_at, password_hash"

    public func find(_ email: String) throws -> User? {
        guard let e = EmailAddress.normalize(email) else { return nil }
        return try db.first("SELECT \(Users.columns) FROM users WHERE email = ?", [.text(e)]).map(User.init)
    }

    /// The user, or a not-found error naming the email.
    public func require(_ email: String) throws -> User {
        guard EmailAddress.normalize(email) != nil else { throw DomainError.invalid("'\(email)' is not a valid email address") }
        guard let user = try find(email) else { throw DomainError.notFound("no user with email \(email.lowercased())") }
        return user
    }

    public func list() throws -> [User] {
        try db.query("SELECT \(Users.columns) FROM users ORDER BY email").map(User.init)
    }

    @discardableResult
    public func add(email: String, name: String?, password: String?) throws -> User {
        guard let e = EmailAddress.normalize(email) else { throw DomainError.invalid("'\(email)' is not a valid email address") }
        if let name { try UserName.validate(name) }
        if let password { try Password.validate(password) }
        let hashed = password.map { Password.hash($0) }
        return try db.write {
            if try db.first("SELECT 1 FROM users WHERE email = ?", [.text(e)]) != nil {
                throw DomainError.alreadyExists("user \(e) already exists")
            }
            try db.run("""
                INSERT INTO users (email, name, password_hash, password_salt, password_iterations, created_at)
                VALUES (?, ?, ?, ?, ?, ?)
                """, [.text(e), .text(name), hashed.map { .blob($0.hash) } ?? .null, hashed.map { .blob($0.salt) } ?? .null,
                      .int(hashed?.iterations), .integer(Clock.nowMillis())])
            try AuditLog.append(.cli("user.add", email: e), to: db)
            return try require(e)
        }
    }

    public func setPassword(email: String, password: String) throws {
        try Password.validate(password)
        let hashed = Password.hash(password)
        try db.write {
            let user = try require(email)
            try db.run("UPDATE users SET password_hash = ?, password_salt = ?, password_iterations = ? WHERE id = ?",
                       [.blob(hashed.hash), .blob(hashed.salt), .integer(Int64(hashed.iterations)), .integer(user.id)])
            try AuditLog.append(.cli("user.passwd", email: user.email), to: db)
        }
    }

    /// Disables the user and revokes every credential they hold (tokens, OAuth tokens, consents).
    public func disable(email: String, by initiator: Initiator = .cli) throws -> Int {
        try db.write {
            let user = try require(email)
            if user.disabledAt == nil {
                try db.run("UPDATE users SET disabled_at = ? WHERE id = ?", [.integer(Clock.nowMillis()), .integer(user.id)])
            }
            let killed = try Credentials.revokeAll(userID: user.id, reason: "user disabled", db: db)
            try AuditLog.append(initiator.event("user.disable", email: user.email, reason: "\(killed) credentials revoked"), to: db)
            return killed
        }
    }

    public func enable(email: String, by initiator: Initiator = .cli) throws {
        try db.write {
            let user = try require(email)
            try db.run("UPDATE users SET disabled_at = NULL WHERE id = ?", [.integer(user.id)])
            try AuditLog.append(initiator.event("user.enable", email: user.email), to: db)
        }
    }

    /// Removes the user; their tokens, grants, consents and codes go with them.
    public func remove(email: String) throws {
        try db.write {
            let user = try require(email)
            try db.run("DELETE FROM users WHERE id = ?", [.integer(user.id)])
            try AuditLog.append(.cli("user.remove", email: user.email), to: db)
        }
    }

    /// Checks an email and password; nil for an unknown email, a wrong password or a disabled user alike.
    /// An unknown email still costs one PBKDF2 run, so timing does not tell which it was.
    public func authenticate(email: String, password: String) throws -> User? {
        let row = try EmailAddress.normalize(email).flatMap {
            try db.first("SELECT \(Users.columns), password_salt, password_iterations FROM users WHERE email = ?", [.text($0)])
        }
        guard let row, let hash = row["password_hash"].bytes, let salt = row["password_salt"].bytes,
              let iterations = row["password_iterations"].int else {
            _ = Password.verify(password, against: Password.Hashed(hash: [UInt8](repeating: 0, count: 32),
                                                                  salt: [UInt8](repeating: 0, count: 16), iterations: Password.iterations))
            return nil
        }
        guard Password.verify(password, against: Password.Hashed(hash: hash, salt: salt, iterations: Int(iterations))) else { return nil }
        let user = try User(row: row)
        return user.disabledAt == nil ? user : nil
    }
}
