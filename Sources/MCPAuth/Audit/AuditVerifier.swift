import CSQLite

/// Walks the hash chain and names the first row that does not fit (pruning is in `AuditPruning.swift`).
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

    /// Rows per batch of the parallel walk: one worker hashes a batch at a time.
    public static var parallelBatchRows: Int { ParallelChainWalk.batchRows }

    public static func verify(db: Database, expectHead: AuditLog.Head? = nil) throws -> Report {
        try db.read {
            let head: AuditLog.Head, cut: AuditLog.Cut
            do {
                (head, cut) = (try AuditLog.head(db), try AuditLog.cut(db))
            } catch let malformed as MalformedRow {
                // A head mcpctl cannot have written is a broken chain to report, not a reason to stop.
                return Report(ok: false, rows: 0, firstSeq: 1, lastSeq: 0, headHash: AuditChain.genesis, badSeq: nil, problem: "\(malformed)")
            }
            let startSeq = cut.seq, startPrev = cut.prevHash
            // The parallel walk only ever answers "the whole chain is intact"; on anything unusual it gives up
            // and the exact walk (one row at a time, naming the first bad row) runs over the same snapshot.
            let walk = try ParallelChainWalk.run(db: db, startSeq: startSeq, prev: startPrev, expectSeq: expectHead?.seq)
                ?? exactWalk(db: db, startSeq: startSeq, prev: startPrev, expectSeq: expectHead?.seq)
            var failure = walk.failure
            let expected = walk.expected, rows = walk.rows, prev = walk.prev, hashesSeen = walk.hashesSeen
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

    /// Where a walk over the rows stopped: the next expected seq, rows checked, the last good hash, the first
    /// failure if any, and the hash of the row `expectHead` names (if walked).
    struct Walk {
        var expected: Int64
        var rows: Int64 = 0
        var prev: [UInt8]
        var failure: (Int64, String)?
        var hashesSeen: [Int64: [UInt8]] = [:]
    }

    /// One row at a time, stopping at the first row that does not fit. Columns are read in place and encoded
    /// into one reused buffer (no Row, no [SQLValue], no String per column). Should the in-place reading ever
    /// disagree with the stored hash, the row is read again as values and hashed that way, which decides: a
    /// disagreement costs time, never a wrong verdict.
    static func exactWalk(db: Database, startSeq: Int64, prev: [UInt8], expectSeq: Int64?) throws -> Walk {
        if db.dialect != .sqlite { return try rowWalk(db: db, startSeq: startSeq, prev: prev, expectSeq: expectSeq) }
        var w = Walk(expected: startSeq, prev: prev)
        let hasher = CanonicalEncoding()
        try db.forEachStatement(AuditRecord.select + " WHERE seq >= ? ORDER BY seq", [.integer(min(startSeq, 1))]) { stmt in
            let seq = sqlite3_column_type(stmt, 0) == SQLITE_INTEGER ? sqlite3_column_int64(stmt, 0) : 0
            if seq < startSeq { w.failure = (seq, "row \(seq) lies before the prune cut point \(startSeq)"); return false }
            if seq != w.expected {
                w.failure = (w.expected, seq > w.expected ? "row \(w.expected) is missing (next row is \(seq))" : "unexpected row \(seq)")
                return false
            }
            if !CanonicalEncoding.column(stmt, CanonicalEncoding.prevHashColumn, equals: w.prev) {
                w.failure = (seq, "row \(seq) does not link to row \(seq - 1) (a row was removed, inserted or changed)")
                return false
            }
            var hash = hasher.hash(prev: w.prev, seq: seq, stmt: stmt)
            if !CanonicalEncoding.column(stmt, CanonicalEncoding.hashColumn, equals: hash) {
                let row = db.row(of: stmt)
                hash = AuditChain.hash(prev: w.prev, seq: seq, values: AuditRecord.storedValues(row))
                guard row["hash"].bytes == hash else {
                    w.failure = (seq, "row \(seq) was changed after it was written (hash mismatch)")
                    return false
                }
            }
            if expectSeq == seq { w.hashesSeen[seq] = hash }
            w.prev = hash
            w.expected += 1
            w.rows += 1
            return true
        }
        return w
    }

    /// The exact walk over rows read as values, for stores whose columns cannot be read in place.
    static func rowWalk(db: Database, startSeq: Int64, prev: [UInt8], expectSeq: Int64?) throws -> Walk {
        var w = Walk(expected: startSeq, prev: prev)
        try db.forEach(AuditRecord.select + " WHERE seq >= ? ORDER BY seq", [.integer(min(startSeq, 1))]) { row in
            let seq = row["seq"].int ?? 0
            if seq < startSeq { w.failure = (seq, "row \(seq) lies before the prune cut point \(startSeq)"); return false }
            if seq != w.expected {
                w.failure = (w.expected, seq > w.expected ? "row \(w.expected) is missing (next row is \(seq))" : "unexpected row \(seq)")
                return false
            }
            guard row["prev_hash"].bytes == w.prev else {
                w.failure = (seq, "row \(seq) does not link to row \(seq - 1) (a row was removed, inserted or changed)")
                return false
            }
            let hash = AuditChain.hash(prev: w.prev, seq: seq, values: AuditRecord.storedValues(row))
            guard row["hash"].bytes == hash else {
                w.failure = (seq, "row \(seq) was changed after it was written (hash mismatch)")
                return false
            }
            if expectSeq == seq { w.hashesSeen[seq] = hash }
            w.prev = hash
            w.expected += 1
            w.rows += 1
            return true
        }
        return w
    }
}
