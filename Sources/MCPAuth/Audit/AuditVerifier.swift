/// Walks the hash chain and names the first row that does not fit; prunes old rows keeping the chain checkable.
public enum AuditVerifier {
    public struct Report: Sendable {
        public let ok: Bool
        public let rows: Int64
        public let firstSeq: Int64
        public let lastSeq: Int64
        public let headHash: [UInt8]
        /// The first sequence number where the chain breaks, and why.
        public let badSeq: Int64?
        public let problem: String?
    }

    public static func verify(db: Database, expectHead: AuditLog.Head? = nil) throws -> Report {
        try db.read {
            let anchor = try db.first("SELECT seq, hash, pruned_before_seq, pruned_prev_hash FROM audit_head WHERE id = 1")
            let head = AuditLog.Head(seq: anchor?["seq"].int ?? 0, hash: anchor?["hash"].bytes ?? AuditChain.genesis)
            let startSeq = max(1, anchor?["pruned_before_seq"].int ?? 1)
            var prev = anchor?["pruned_prev_hash"].bytes ?? AuditChain.genesis
            var expected = startSeq
            var rows: Int64 = 0
            var failure: (Int64, String)?
            var hashesSeen: [Int64: [UInt8]] = [:]
            try db.forEach(AuditRecord.select + " WHERE seq >= ? ORDER BY seq", [.integer(min(startSeq, 1))]) { row in
                let r = AuditRecord(row: row)
                if r.seq < startSeq { failure = (r.seq, "row \(r.seq) lies before the prune cut point \(startSeq)"); return false }
                if r.seq != expected {
                    failure = (expected, r.seq > expected ? "row \(expected) is missing (next row is \(r.seq))" : "unexpected row \(r.seq)")
                    return false
                }
                if r.prevHash != prev {
                    failure = (r.seq, "row \(r.seq) does not link to row \(r.seq - 1) (a row was removed, inserted or changed)")
                    return false
                }
                if AuditChain.hash(prev: prev, seq: r.seq, values: r.values) != r.hash {
                    failure = (r.seq, "row \(r.seq) was changed after it was written (hash mismatch)")
                    return false
                }
                if let e = expectHead, e.seq == r.seq { hashesSeen[r.seq] = r.hash }
                prev = r.hash
                expected += 1
                rows += 1
                return true
            }
            let last = expected - 1
            if failure == nil, head.seq != last {
                failure = head.seq > last
                    ? (last + 1, "the log ends at row \(last) but its head records row \(head.seq): rows \(last + 1)…\(head.seq) were removed")
                    : (head.seq + 1, "rows after the recorded head \(head.seq) were added outside mcpctl")
            }
            if failure == nil, head.seq > 0, head.hash != prev {
                failure = (last, "the last row's hash does not match the recorded head")
            }
            if failure == nil, let e = expectHead {
                if e.seq > last { failure = (last + 1, "the expected head \(e.seq) is beyond the end of the log (\(last)): rows were removed") }
                else if e.seq >= startSeq, hashesSeen[e.seq] != e.hash { failure = (e.seq, "row \(e.seq) differs from the expected head hash") }
            }
            return Report(ok: failure == nil, rows: rows, firstSeq: startSeq, lastSeq: last, headHash: prev,
                          badSeq: failure?.0, problem: failure?.1)
        }
    }

    /// Deletes rows older than `before`, recording the cut point so `verify` starts there. Returns how many.
    public static func prune(before: Int64, db: Database) throws -> Int {
        try db.write {
            guard let cut = try db.first("SELECT seq, prev_hash FROM audit WHERE at >= ? ORDER BY seq LIMIT 1", [.integer(before)]) else {
                // Everything is older: keep the newest row so the chain keeps its anchor.
                guard let last = try db.first("SELECT seq, prev_hash FROM audit ORDER BY seq DESC LIMIT 1") else { return 0 }
                return try cutAt(seq: last["seq"].int ?? 0, prevHash: last["prev_hash"].bytes ?? [], before: before, db: db)
            }
            return try cutAt(seq: cut["seq"].int ?? 0, prevHash: cut["prev_hash"].bytes ?? [], before: before, db: db)
        }
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
