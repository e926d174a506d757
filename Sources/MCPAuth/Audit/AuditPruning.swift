/// Pruning: old audit rows go, and the cut point is recorded so the rest of the chain stays checkable.
extension AuditVerifier {
    /// Deletes rows older than `before`, recording the cut point so `verify` starts there. Returns how many.
    public static func prune(before: Int64, db: Database) throws -> Int {
        try db.write {
            guard let cut = try db.first("SELECT seq, prev_hash FROM audit WHERE at >= ? ORDER BY seq LIMIT 1", [.integer(before)]) else {
                // Everything is older: keep the newest row so the chain keeps its anchor.
                guard let last = try db.first("SELECT seq, prev_hash FROM audit ORDER BY seq DESC LIMIT 1") else { return 0 }
                return try cutAt(last, before: before, db: db)
            }
            return try cutAt(cut, before: before, db: db)
        }
    }

    /// Cuts before the row `cut` (its `seq` and `prev_hash`); a row without them is refused, not guessed at.
    private static func cutAt(_ cut: Row, before: Int64, db: Database) throws -> Int {
        try cutAt(seq: cut.integer("seq", of: "audit"), prevHash: cut.blob("prev_hash", of: "audit"), before: before, db: db)
    }

    private static func cutAt(seq: Int64, prevHash: [UInt8], before: Int64, db: Database) throws -> Int {
        let n = try db.run("DELETE FROM audit WHERE seq < ?", [.integer(seq)])
        if n > 0 {
            try db.run("UPDATE audit_head SET pruned_before_seq = ?, pruned_prev_hash = ? WHERE id = 1", [.integer(seq), .blob(prevHash)])
        }
        try AuditLog.append(.cli("audit.prune", target: "seq<\(seq)", reason: "\(n) rows older than \(Clock.rfc3339(before)) deleted"), to: db)
        return n
    }
}
