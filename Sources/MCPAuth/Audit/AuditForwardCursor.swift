/// How far the audit forwarder has shipped the log: the sequence number of the last row its receiver
/// acknowledged, kept in the store so a restart (or a crash) resumes after it.
public enum AuditForwardCursor {
    static let key = "audit_forward_position"

    /// The last acknowledged sequence number; 0 before anything was forwarded (no setting yet), so the first
    /// run starts at the oldest row. A stored position that is not a non-negative integer is a malformed row.
    public static func position(_ store: Store) throws -> Int64 {
        guard let stored = try store.setting(key) else { return 0 }
        guard let seq = stored.int, seq >= 0 else { throw MalformedRow(table: "settings", column: key) }
        return seq
    }

    /// Records that every row up to `seq` was acknowledged.
    public static func acknowledge(_ seq: Int64, store: Store) throws {
        try store.setSetting(key, .integer(seq))
    }

    /// Up to `limit` rows after `seq`, oldest first.
    public static func rows(after seq: Int64, limit: Int, store: Store) throws -> [AuditRecord] {
        try store.db.query(AuditRecord.select + " WHERE seq > ? ORDER BY seq LIMIT ?", [.integer(seq), .integer(Int64(limit))]).map(AuditRecord.init)
    }
}
