/// Revocation that spans credential kinds: one token with what hangs off it, or everything a user holds.
public enum Credentials {
    /// Revokes every live token of the user, deletes their consents and unused authorization codes, and
    /// ends their browser sessions. Returns how many tokens were revoked. Runs inside the caller's write
    /// transaction.
    @discardableResult
    public static func revokeAll(userID: Int64, reason: String, db: Database) throws -> Int {
        let now = Clock.nowMillis()
        let n = try db.run("UPDATE tokens SET revoked_at = ?, revoked_reason = ? WHERE user_id = ? AND revoked_at IS NULL",
                           [.integer(now), .text(reason), .integer(userID)])
        try db.run("DELETE FROM consents WHERE user_id = ?", [.integer(userID)])
        try db.run("UPDATE auth_codes SET used_at = ? WHERE user_id = ? AND used_at IS NULL", [.integer(now), .integer(userID)])
        try BrowserSessions.endAll(userID: userID, db: db)
        return n
    }

    /// Revokes one token; a refresh token takes its whole family (and the access tokens it issued) along,
    /// an access token takes nothing else. Returns how many rows changed.
    @discardableResult
    public static func revokeToken(_ record: TokenRecord, reason: String, db: Database) throws -> Int {
        let now = Clock.nowMillis()
        if record.kind == .refresh, let family = record.familyID {
            return try db.run("UPDATE tokens SET revoked_at = ?, revoked_reason = ? WHERE family_id = ? AND revoked_at IS NULL",
                              [.integer(now), .text(reason), .text(family)])
        }
        return try db.run("UPDATE tokens SET revoked_at = ?, revoked_reason = ? WHERE id = ? AND revoked_at IS NULL",
                          [.integer(now), .text(reason), .text(record.id)])
    }
}
