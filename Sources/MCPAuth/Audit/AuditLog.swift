/// Appends events to the audit table, continuing the hash chain, and reads its head.
public enum AuditLog {
    /// The latest sequence number and chain hash (seq 0 and the genesis hash for an empty log).
    public struct Head: Sendable, Equatable {
        public let seq: Int64
        public let hash: [UInt8]
        public init(seq: Int64, hash: [UInt8]) { self.seq = seq; self.hash = hash }
    }

    /// The head; `MalformedRow` when its row holds what mcpctl never writes (a chain continued from a
    /// guessed head would hide the damage).
    public static func head(_ db: Database) throws -> Head {
        guard let row = try db.first("SELECT seq, hash FROM audit_head WHERE id = 1") else {
            return Head(seq: 0, hash: AuditChain.genesis)
        }
        // A SHA-256 is 32 bytes: a head hash of any other length is not one mcpctl wrote.
        let hash = try row.blob("hash", of: "audit_head")
        guard hash.count == 32 else { throw MalformedRow(table: "audit_head", column: "hash") }
        return Head(seq: try row.integer("seq", of: "audit_head"), hash: hash)
    }

    /// Where pruning last cut the log: the first row kept and the hash it links to. A log never pruned
    /// records 0 and NULL, which mean row 1 and the genesis hash.
    struct Cut {
        let seq: Int64
        let prevHash: [UInt8]
    }

    static func cut(_ db: Database) throws -> Cut {
        guard let row = try db.first("SELECT pruned_before_seq, pruned_prev_hash FROM audit_head WHERE id = 1") else {
            return Cut(seq: 1, prevHash: AuditChain.genesis)
        }
        let seq = max(1, try row.integer("pruned_before_seq", of: "audit_head"))
        if case .null = row["pruned_prev_hash"] { return Cut(seq: seq, prevHash: AuditChain.genesis) }
        return Cut(seq: seq, prevHash: try row.blob("pruned_prev_hash", of: "audit_head"))
    }

    private static let insertSQL = "INSERT INTO audit (seq, " + AuditChain.columns.joined(separator: ", ") +
        ", prev_hash, hash) VALUES (" + placeholders + ")"

    /// Appends events in order inside the caller's write transaction (or its own), returning their seqs.
    /// Every writer (the gateway's group commit, the authorization server, the CLI) comes through here, so
    /// this is where each event's text fields are cut to their caps, before they are hashed and stored.
    @discardableResult
    public static func append(_ events: [AuditEvent], to db: Database) throws -> [Int64] {
        try db.write {
            var head = try head(db)
            var seqs: [Int64] = []
            seqs.reserveCapacity(events.count)
            var rows: [[SQLValue]] = []
            rows.reserveCapacity(events.count)
            for event in events {
                let seq = head.seq + 1
                let values = AuditChain.values(of: event.capped())
                let hash = AuditChain.hash(prev: head.hash, seq: seq, values: values)
                rows.append([.integer(seq)] + values + [.blob(head.hash), .blob(hash)])
                head = Head(seq: seq, hash: hash)
                seqs.append(seq)
            }
            try insert(rows, db: db)
            try db.run("""
                INSERT INTO audit_head (id, seq, hash) VALUES (1, ?, ?)
                ON CONFLICT(id) DO UPDATE SET seq = excluded.seq, hash = excluded.hash
                """, [.integer(head.seq), .blob(head.hash)])
            return seqs
        }
    }

    /// Rows per INSERT on PostgreSQL, where each statement is a round trip to the server.
    static let rowsPerStatement = 64

    /// Inserts the rows: on SQLite one cached statement per row (in-process, nothing to save); on
    /// PostgreSQL several rows per statement, so a group commit costs a few round trips, not one per row.
    private static func insert(_ rows: [[SQLValue]], db: Database) throws {
        guard db.dialect == .postgres, rows.count > 1 else {
            for row in rows { try db.run(insertSQL, row) }
            return
        }
        var start = 0
        while start < rows.count {
            let chunk = rows[start..<min(rows.count, start + rowsPerStatement)]
            try db.run(insertSQL + String(repeating: ", (" + placeholders + ")", count: chunk.count - 1), chunk.flatMap { $0 })
            start += chunk.count
        }
    }

    private static let placeholders = Array(repeating: "?", count: AuditChain.columns.count + 3).joined(separator: ", ")

    @discardableResult
    public static func append(_ event: AuditEvent, to db: Database) throws -> Int64 {
        try append([event], to: db)[0]
    }
}
