/// Password hashing: PBKDF2-HMAC-SHA256 with a per-user random salt (RFC 8018 §5.2; the iteration
/// count follows OWASP's 2023 advice of at least 600,000 for SHA-256).
public enum Password {
    public static let iterations = 600_000
    public static let saltLength = 16
    public static let hashLength = 32
    public static let maxLength = 1024

    public struct Hashed: Sendable {
        public let hash: [UInt8]
        public let salt: [UInt8]
        public let iterations: Int
    }

    public static func hash(_ password: String, iterations: Int = Password.iterations) -> Hashed {
        let salt = SecureRandom.bytes(saltLength)
        return Hashed(hash: PBKDF2.sha256(password: Array(password.utf8), salt: salt, iterations: iterations, keyLength: hashLength),
                      salt: salt, iterations: iterations)
    }

    /// Checks a password in constant time with respect to the stored hash.
    public static func verify(_ password: String, against stored: Hashed) -> Bool {
        let candidate = PBKDF2.sha256(password: Array(password.utf8), salt: stored.salt, iterations: stored.iterations, keyLength: stored.hash.count)
        return ConstantTime.equals(candidate, stored.hash)
    }

    /// Rejects passwords that are too short or too long to be sensible.
    public static func validate(_ password: String) throws {
        guard password.count >= 8 else { throw DomainError.invalid("password must be at least 8 characters") }
        guard password.utf8.count <= maxLength else { throw DomainError.invalid("password must be at most \(maxLength) bytes") }
    }
}
