import CSQLite
import Foundation

/// A connection to one SQLite file. Not shared between threads without external locking.
final class SQLiteConnection: @unchecked Sendable {
    let handle: OpaquePointer
    let path: String
    private var statementCache: [String: OpaquePointer] = [:]

    /// Opens the file (creating it only when `create` is true) and configures the connection in one fixed
    /// order. A `readOnly` connection never changes the file, not even its journal mode.
    init(path: String, create: Bool = true, readOnly: Bool = false, busyTimeoutMilliseconds: Int32 = 10_000) throws {
        var db: OpaquePointer?
        let access = readOnly ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | (create ? SQLITE_OPEN_CREATE : 0)
        let flags = access | SQLITE_OPEN_NOMUTEX
        let rc = sqlite3_open_v2(path, &db, flags, nil)
        guard rc == SQLITE_OK, let db else {
            let message = db.map { String(cString: sqlite3_errmsg($0)) } ?? "cannot open"
            // Close the handle even when open fails (it may be allocated).
            if let db { sqlite3_close_v2(db) }
            throw DatabaseError(code: rc, message: message, sql: nil)
        }
        self.handle = db
        self.path = path
        // 1. Extended result codes, so errors are precise.
        sqlite3_extended_result_codes(db, 1)
        // 2. Busy handling before anything that may take a lock.
        sqlite3_busy_timeout(db, busyTimeoutMilliseconds)
        do {
            // 3. WAL so readers never block the writer; 4. durability for credential changes;
            // 5. foreign keys (off by default in SQLite).
            if !readOnly {
                try execute("PRAGMA journal_mode=WAL")
                try execute("PRAGMA synchronous=FULL")
            }
            try execute("PRAGMA foreign_keys=ON")
        } catch {
            sqlite3_close_v2(db)
            throw error
        }
    }

    deinit {
        for (_, stmt) in statementCache { sqlite3_finalize(stmt) }
        sqlite3_close_v2(handle)
    }

    private func error(_ rc: Int32, _ sql: String?) -> DatabaseError {
        DatabaseError(code: sqlite3_extended_errcode(handle), message: String(cString: sqlite3_errmsg(handle)), sql: sql)
    }

    /// Runs one or more statements without parameters or results.
    func execute(_ sql: String) throws {
        let rc = sqlite3_exec(handle, sql, nil, nil, nil)
        guard rc == SQLITE_OK else { throw error(rc, sql) }
    }

    private func prepared(_ sql: String) throws -> OpaquePointer {
        if let stmt = statementCache[sql] { return stmt }
        var stmt: OpaquePointer?
        let rc = sqlite3_prepare_v3(handle, sql, -1, UInt32(SQLITE_PREPARE_PERSISTENT), &stmt, nil)
        guard rc == SQLITE_OK, let stmt else { throw error(rc, sql) }
        statementCache[sql] = stmt
        return stmt
    }

    private static let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)
    /// A valid pointer for binding the empty string (a nil pointer would bind NULL).
    nonisolated(unsafe) private static let empty: UnsafePointer<CChar> = UnsafePointer(strdup("")!)

    private func bind(_ stmt: OpaquePointer, _ values: [SQLValue], _ sql: String) throws {
        let expected = Int(sqlite3_bind_parameter_count(stmt))
        guard expected == values.count else {
            throw DatabaseError(code: SQLITE_RANGE, message: "expected \(expected) parameters, got \(values.count)", sql: sql)
        }
        for (i, value) in values.enumerated() {
            let index = Int32(i + 1)
            let rc: Int32
            switch value {
            case .null: rc = sqlite3_bind_null(stmt, index)
            case .integer(let v): rc = sqlite3_bind_int64(stmt, index, v)
            case .real(let v): rc = sqlite3_bind_double(stmt, index, v)
            case .text(let v):
                // Explicit byte length so an embedded NUL is stored, not a truncated string; the string's
                // own UTF-8 storage is bound (SQLite copies it), no intermediate array.
                var text = v
                rc = text.withUTF8 { buf in
                    buf.withMemoryRebound(to: CChar.self) { chars in
                        sqlite3_bind_text(stmt, index, chars.baseAddress ?? SQLiteConnection.empty, Int32(chars.count), SQLiteConnection.transient)
                    }
                }
            case .blob(let v):
                rc = v.withUnsafeBytes { sqlite3_bind_blob(stmt, index, $0.baseAddress, Int32($0.count), SQLiteConnection.transient) }
            }
            guard rc == SQLITE_OK else { throw error(rc, sql) }
        }
    }

    private func column(_ stmt: OpaquePointer, _ i: Int32) -> SQLValue {
        switch sqlite3_column_type(stmt, i) {
        case SQLITE_INTEGER: return .integer(sqlite3_column_int64(stmt, i))
        case SQLITE_FLOAT: return .real(sqlite3_column_double(stmt, i))
        case SQLITE_TEXT:
            // By byte length, not to the first NUL: a value with an embedded NUL must read back whole
            // (the audit chain hashes every byte, so truncating here would hide a tampered row).
            let n = Int(sqlite3_column_bytes(stmt, i))
            guard n > 0, let text = sqlite3_column_text(stmt, i) else { return .text("") }
            return .text(String(decoding: UnsafeBufferPointer(start: text, count: n), as: UTF8.self))
        case SQLITE_BLOB:
            let count = Int(sqlite3_column_bytes(stmt, i))
            guard count > 0, let base = sqlite3_column_blob(stmt, i) else { return .blob([]) }
            return .blob(Array(UnsafeRawBufferPointer(start: base, count: count)))
        default: return .null
        }
    }

    /// Runs a statement and calls `body` for each row; returning false stops early.
    func forEach(_ sql: String, _ values: [SQLValue] = [], _ body: (Row) throws -> Bool) throws {
        var names: [String]?
        try forEachStatement(sql, values) { stmt in
            let count = sqlite3_column_count(stmt)
            if names == nil { names = (0..<count).map { String(cString: sqlite3_column_name(stmt, $0)) } }
            return try body(Row(columns: names!, values: (0..<count).map { column(stmt, $0) }))
        }
    }

    /// Runs a statement and calls `body` with the statement positioned on each row, for hot loops that
    /// read columns in place (`sqlite3_column_*`) instead of building a `Row`; returning false stops early.
    /// The statement is only valid inside `body`.
    func forEachStatement(_ sql: String, _ values: [SQLValue] = [], _ body: (OpaquePointer) throws -> Bool) throws {
        let stmt = try prepared(sql)
        defer {
            sqlite3_reset(stmt)
            sqlite3_clear_bindings(stmt)
        }
        try bind(stmt, values, sql)
        while true {
            let rc = sqlite3_step(stmt)
            if rc == SQLITE_DONE { return }
            guard rc == SQLITE_ROW else { throw error(rc, sql) }
            if try !body(stmt) { return }
        }
    }

    /// The row the statement is positioned on, exactly as `forEach` would build it.
    func row(of stmt: OpaquePointer) -> Row {
        let count = sqlite3_column_count(stmt)
        return Row(columns: (0..<count).map { String(cString: sqlite3_column_name(stmt, $0)) },
                   values: (0..<count).map { column(stmt, $0) })
    }

    /// Runs a query and returns all rows.
    func query(_ sql: String, _ values: [SQLValue] = []) throws -> [Row] {
        var rows: [Row] = []
        try forEach(sql, values) { rows.append($0); return true }
        return rows
    }

    /// Runs a query and returns its first row, if any.
    func first(_ sql: String, _ values: [SQLValue] = []) throws -> Row? {
        var found: Row?
        try forEach(sql, values) { found = $0; return false }
        return found
    }

    /// Runs a statement that changes rows and returns how many it changed.
    @discardableResult
    func run(_ sql: String, _ values: [SQLValue] = []) throws -> Int {
        try forEach(sql, values) { _ in true }
        return Int(sqlite3_changes(handle))
    }

    var lastInsertRowID: Int64 { sqlite3_last_insert_rowid(handle) }

    /// Whether a transaction is open on this connection.
    var inTransaction: Bool { sqlite3_get_autocommit(handle) == 0 }

    /// Runs `body` in a `BEGIN IMMEDIATE` transaction (the write lock is taken up front, so a
    /// read-then-write never fails half way with SQLITE_BUSY), committing on success.
    func write<T>(_ body: () throws -> T) throws -> T {
        if inTransaction { return try body() }
        try control("BEGIN IMMEDIATE")
        do {
            let result = try body()
            try control("COMMIT")
            return result
        } catch {
            try? control("ROLLBACK")
            throw error
        }
    }

    /// Runs `body` in a deferred read transaction, giving it one consistent snapshot.
    func read<T>(_ body: () throws -> T) throws -> T {
        if inTransaction { return try body() }
        try control("BEGIN DEFERRED")
        defer { try? control("COMMIT") }
        return try body()
    }

    /// BEGIN / COMMIT / ROLLBACK through the statement cache: `sqlite3_exec` would parse them again on
    /// every transaction (a gateway request runs at least one).
    private func control(_ sql: String) throws {
        let stmt = try prepared(sql)
        let rc = sqlite3_step(stmt)
        guard rc == SQLITE_DONE else {
            let failure = error(rc, sql)
            sqlite3_reset(stmt)
            throw failure
        }
        sqlite3_reset(stmt)
    }

    /// SQLite's `PRAGMA data_version`: changes whenever another connection commits to the file.
    func dataVersion() throws -> Int64 {
        guard let version = try first("PRAGMA data_version")?[0].int else {
            throw DatabaseError(code: SQLITE_ERROR, message: "PRAGMA data_version gave no integer", sql: "PRAGMA data_version")
        }
        return version
    }

    /// Copies this whole database into `destination` as one consistent snapshot with SQLite's online backup
    /// API: a single step holds one read transaction, so writers on other connections carry on (WAL) and
    /// none of their half-done work is copied.
    func backup(into destination: SQLiteConnection, timeoutSeconds: Double = 60) throws {
        guard let backup = sqlite3_backup_init(destination.handle, "main", handle, "main") else {
            throw destination.error(SQLITE_ERROR, "backup")
        }
        let deadline = Date().addingTimeInterval(timeoutSeconds)
        var rc: Int32
        repeat {
            rc = sqlite3_backup_step(backup, -1)
            if rc == SQLITE_BUSY || rc == SQLITE_LOCKED { usleep(10_000) }
        } while (rc == SQLITE_OK || rc == SQLITE_BUSY || rc == SQLITE_LOCKED) && Date() < deadline
        let finished = sqlite3_backup_finish(backup)
        guard rc == SQLITE_DONE, finished == SQLITE_OK else {
            throw DatabaseError(code: rc == SQLITE_DONE ? finished : rc, message: String(cString: sqlite3_errstr(rc == SQLITE_DONE ? finished : rc)), sql: "backup")
        }
    }
}
