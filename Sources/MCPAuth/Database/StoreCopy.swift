/// Why a store copy was refused or did not check out.
public enum StoreCopyError: Error, CustomStringConvertible, Sendable {
    case sameStore(String)
    case targetNotEmpty(String, what: String)
    case unknownTable(String)
    case chainBroken(String, problem: String)

    public var description: String {
        switch self {
        case .sameStore(let t): return "the target \(t) is the source store itself"
        case .targetNotEmpty(let t, let what): return "the target store \(t) is not empty (it has \(what)); copy only into a new store"
        case .unknownTable(let name):
            return "the store has a table this mcpctl does not know ('\(name)'); copy it with the mcpctl that wrote it"
        case .chainBroken(let t, let problem): return "the copy in \(t) does not verify (\(problem)); it is unusable: drop it and copy again"
        }
    }
}

/// Copies a whole store into a new, empty one, SQLite file or PostgreSQL database, in either direction: every
/// lasting row (the audit key with the log it signs), none of the transient ones (sign-in sessions, one-time
/// codes, MCP sessions, login throttles), then verifies the copy's audit chain ends where the source's does.
public enum StoreCopy {
    public struct Summary: Sendable {
        public let target: String
        public let tables: Int
        public let rows: Int
        public let auditRows: Int64
    }

    /// Lasting tables, parents before children (foreign keys), with the integer key the store numbers.
    static let lasting: [(table: String, numbered: String?)] = [
        ("settings", nil), ("users", "id"), ("apps", "id"), ("environments", "id"), ("grants", "id"), ("clients", nil),
        ("tokens", nil), ("consents", nil), ("tools", nil), ("tool_scopes", nil), ("tool_pins", nil), ("user_groups", "id"),
        ("group_members", nil), ("group_grants", "id"), ("outside_issuers", "id"), ("identity_providers", "id"), ("sso_subjects", nil),
        ("audit", "seq"), ("audit_head", nil),
    ]
    /// Rows that live minutes or hours and are bound to the server that made them.
    static let transient: Set<String> = [
        "auth_codes", "browser_sessions", "mcp_sessions", "login_failures", "rate_limits", "pending_flows",
    ]
    /// Each store's own: its schema record and its policy counter (which starts at a random value per store).
    static let own: Set<String> = ["schema_migrations", "policy_generation"]

    public static func copy(from source: Store, to target: String) throws -> Summary {
        let shown = StoreLocation(target).display
        guard target != source.path else { throw StoreCopyError.sameStore(shown) }
        try refuseUnknownTables(source.db)
        let destination = try Store(path: target, create: true)
        try requireEmpty(destination, shown)
        let sourceReport = try AuditVerifier.verify(db: source.db)
        var rows = 0
        try source.db.read {
            try destination.db.write {
                // The new store's seeded rows (built-in app, its own audit key) give way to the source's.
                for table in ["environments", "apps", "settings"] { try destination.db.run("DELETE FROM \(table)") }
                for (table, numbered) in lasting {
                    rows += try copyTable(table, from: source.db, to: destination.db)
                    if let numbered { try destination.db.continueNumbering(table: table, column: numbered) }
                }
            }
        }
        let copied = try AuditVerifier.verify(db: destination.db)
        guard copied.ok, copied.rows == sourceReport.rows, copied.headHash == sourceReport.headHash else {
            throw StoreCopyError.chainBroken(shown, problem: copied.problem ?? "\(copied.rows) of \(sourceReport.rows) audit rows, head differs")
        }
        return Summary(target: shown, tables: lasting.count, rows: rows, auditRows: copied.rows)
    }

    /// A table that is neither copied nor known to be transient would be lost silently: refuse instead.
    static func refuseUnknownTables(_ db: Database) throws {
        let known = Set(lasting.map(\.table)).union(transient).union(own)
        if let unknown = try db.tableNames().first(where: { !known.contains($0) }) { throw StoreCopyError.unknownTable(unknown) }
    }

    static func requireEmpty(_ store: Store, _ shown: String) throws {
        for (table, what) in [("users", "users"), ("clients", "clients"), ("tokens", "tokens"), ("audit", "audit rows"), ("user_groups", "groups")] {
            if try store.db.first("SELECT 1 FROM \(table) LIMIT 1") != nil { throw StoreCopyError.targetNotEmpty(shown, what: what) }
        }
        if try store.db.first("SELECT 1 FROM apps WHERE name <> 'mcpctl' LIMIT 1") != nil { throw StoreCopyError.targetNotEmpty(shown, what: "apps") }
    }

    /// Every row of `table`, column by column as stored; a dialect's own row number column is left to the target.
    static func copyTable(_ table: String, from source: Database, to target: Database) throws -> Int {
        var count = 0
        var insert: String?
        try source.forEach("SELECT * FROM \(table)") { row in
            let columns = row.columns.filter { $0 != "rowid" }
            if insert == nil {
                insert = "INSERT INTO \(table) (\(columns.joined(separator: ", "))) VALUES (\(columns.map { _ in "?" }.joined(separator: ", ")))"
            }
            var values = columns.map { row[$0] }
            if table == "settings", let i = columns.firstIndex(of: "value") {
                values[i] = target.dialect.storeDynamic(source.dialect.loadDynamic(values[i]))
            }
            try target.run(insert!, values)
            count += 1
            return true
        }
        return count
    }
}
