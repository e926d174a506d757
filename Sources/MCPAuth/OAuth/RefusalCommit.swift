extension Database {
    /// Runs `body` in a write transaction that commits even when `body` refuses with an `OAuthError`, then
    /// rethrows the refusal: the audit rows and revocations a refusal causes (RFC 6749 §4.1.2 code replay,
    /// RFC 9700 §4.14.2 refresh token reuse) must persist. Any other error rolls back.
    public func writeCommittingRefusal<T>(_ body: () throws -> T) throws -> T {
        let outcome: Result<T, OAuthError> = try write {
            do { return .success(try body()) } catch let refusal as OAuthError { return .failure(refusal) }
        }
        return try outcome.get()
    }
}
