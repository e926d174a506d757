/// Filters over the audit log, shared by `audit list`, `tail`, `export` and the built-in `audit_query` tool.
public struct AuditFilter: Sendable {
    public var since: Int64?
    public var until: Int64?
    public var source: AuditSource?
    public var email: String?
    public var clientID: String?
    public var tokenID: String?
    public var app: String?
    public var env: String?
    public var tool: String?
    public var action: String?
    public var decision: AuditDecision?
    public var afterSeq: Int64?

    public init() {}

    func whereClause() -> (String, [SQLValue]) {
        var parts: [String] = []
        var args: [SQLValue] = []
        func add(_ sql: String, _ v: SQLValue) { parts.append(sql); args.append(v) }
        if let since { add("at >= ?", .integer(since)) }
        if let until { add("at < ?", .integer(until)) }
        if let source { add("source = ?", .text(source.rawValue)) }
        if let email { add("email = ?", .text(EmailAddress.normalize(email) ?? email.lowercased())) }
        if let clientID { add("client_id = ?", .text(clientID)) }
        if let tokenID { add("token_id = ?", .text(tokenID)) }
        if let app { add("app = ?", .text(app)) }
        if let env { add("env = ?", .text(env)) }
        if let tool { add("tool = ?", .text(tool)) }
        if let action { add("action = ?", .text(action)) }
        if let decision { add("decision = ?", .text(decision.rawValue)) }
        if let afterSeq { add("seq > ?", .integer(afterSeq)) }
        return (parts.isEmpty ? "" : " WHERE " + parts.joined(separator: " AND "), args)
    }
}

/// Reading the audit log: newest-first pages and oldest-first streams.
public enum AuditQuery {
    /// Newest first, at most `limit` rows. Ordered by time then sequence so the (column, at) indexes serve it.
    public static func list(_ filter: AuditFilter, limit: Int, db: Database) throws -> [AuditRecord] {
        let (w, args) = filter.whereClause()
        return try db.query(AuditRecord.select + w + " ORDER BY at DESC, seq DESC LIMIT ?", args + [.integer(Int64(limit))]).map { try AuditRecord(row: $0) }
    }

    /// Oldest first, one row at a time, without loading the result into memory.
    public static func stream(_ filter: AuditFilter, db: Database, _ body: (AuditRecord) throws -> Void) throws {
        let (w, args) = filter.whereClause()
        try db.read {
            try db.forEach(AuditRecord.select + w + " ORDER BY seq", args) { try body(AuditRecord(row: $0)); return true }
        }
    }
}
