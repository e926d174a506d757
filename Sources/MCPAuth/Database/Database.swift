import CSQLite
import Foundation

/// One value bound to or read from a SQLite statement.
public enum SQLValue: Sendable, Equatable {
    case null
    case integer(Int64)
    case real(Double)
    case text(String)
    case blob([UInt8])

    public var int: Int64? { if case .integer(let v) = self { return v }; return nil }
    public var string: String? { if case .text(let v) = self { return v }; return nil }
    public var bytes: [UInt8]? {
        switch self {
        case .blob(let v): return v
        case .text(let v): return Array(v.utf8)
        default: return nil
        }
    }
    public var double: Double? {
        switch self {
        case .real(let v): return v
        case .integer(let v): return Double(v)
        default: return nil
        }
    }
}

extension SQLValue: ExpressibleByStringLiteral, ExpressibleByIntegerLiteral, ExpressibleByNilLiteral {
    public init(stringLiteral value: String) { self = .text(value) }
    public init(integerLiteral value: Int64) { self = .integer(value) }
    public init(nilLiteral: ()) { self = .null }
}

public extension SQLValue {
    /// Wraps an optional string, mapping nil to NULL.
    static func text(_ value: String?) -> SQLValue { value.map { .text($0) } ?? .null }
    /// Wraps an optional integer, mapping nil to NULL.
    static func int(_ value: Int64?) -> SQLValue { value.map { .integer($0) } ?? .null }
    static func int(_ value: Int?) -> SQLValue { value.map { .integer(Int64($0)) } ?? .null }
}

/// A SQLite failure: the extended result code, SQLite's message and the SQL text, never the bound values
/// (they may be secrets).
public struct DatabaseError: Error, CustomStringConvertible, Sendable {
    /// SQLite's (extended) result code; a PostgreSQL failure carries the SQLite code of its kind
    /// (constraint, busy, cannot open, I/O) so callers test one set of properties.
    public let code: Int32
    public let message: String
    public let sql: String?
    /// PostgreSQL's SQLSTATE, for a failure reported by PostgreSQL or libpq.
    public let sqlState: String?

    public init(code: Int32, message: String, sql: String?, sqlState: String? = nil) {
        self.code = code
        self.message = message
        self.sql = sql
        self.sqlState = sqlState
    }

    public var isBusy: Bool { code & 0xff == SQLITE_BUSY || code & 0xff == SQLITE_LOCKED }
    public var isConstraint: Bool { code & 0xff == SQLITE_CONSTRAINT }
    /// The database server cannot be reached (PostgreSQL only: a SQLite file is always at hand).
    public var isUnavailable: Bool {
        guard let state = sqlState else { return false }
        return state.hasPrefix("08") || state.hasPrefix("57P")
    }
    public var description: String {
        let origin = sqlState.map { "PostgreSQL error \($0)" } ?? "SQLite error \(code)"
        return "\(origin): \(message)" + (sql.map { " (in: \($0.prefix(120)))" } ?? "")
    }
}

/// One row of a query result, read by column name or position.
public struct Row: Sendable {
    public let columns: [String]
    public let values: [SQLValue]

    public subscript(_ name: String) -> SQLValue {
        guard let i = columns.firstIndex(of: name) else { return .null }
        return values[i]
    }
    public subscript(_ index: Int) -> SQLValue { values[index] }
    public func string(_ name: String) -> String? { self[name].string }
    public func int(_ name: String) -> Int64? { self[name].int }
}


/// A connection to a store, SQLite file or PostgreSQL database: the one database API the domain code
/// calls. Statements are written in SQLite's dialect; a PostgreSQL connection rewrites them
/// (`PostgresDialect`). Not shared between threads without external locking.
public final class Database: @unchecked Sendable {
    enum Engine {
        case sqlite(SQLiteConnection)
        case postgres(PostgresConnection)
    }

    let engine: Engine
    /// The file path, or the postgresql:// URL as given (it may hold a password: print `StoreLocation.display`).
    public let path: String

    /// Opens the SQLite file at `path` (creating it only when `create`) or connects to the PostgreSQL
    /// database a postgresql:// URL names. A `readOnly` SQLite connection never changes the file.
    public init(path: String, create: Bool = true, readOnly: Bool = false, busyTimeoutMilliseconds: Int32 = 10_000) throws {
        self.path = path
        if StoreLocation(path).isPostgres {
            engine = .postgres(try PostgresConnection(url: path))
        } else {
            engine = .sqlite(try SQLiteConnection(path: path, create: create, readOnly: readOnly, busyTimeoutMilliseconds: busyTimeoutMilliseconds))
        }
    }

    public var dialect: SQLDialect {
        if case .postgres = engine { return .postgres }
        return .sqlite
    }

    /// The SQLite connection, for what only SQLite has (online backup, reading columns in place).
    var sqlite: SQLiteConnection? {
        if case .sqlite(let c) = engine { return c }
        return nil
    }

    /// Runs one or more statements without parameters or results.
    public func execute(_ sql: String) throws {
        switch engine {
        case .sqlite(let c): try c.execute(sql)
        case .postgres(let c): try c.execute(sql)
        }
    }

    /// Runs a statement and calls `body` for each row; returning false stops early.
    public func forEach(_ sql: String, _ values: [SQLValue] = [], _ body: (Row) throws -> Bool) throws {
        switch engine {
        case .sqlite(let c): try c.forEach(sql, values, body)
        case .postgres(let c): try c.forEach(sql, values, body)
        }
    }

    /// Runs a query and returns all rows.
    public func query(_ sql: String, _ values: [SQLValue] = []) throws -> [Row] {
        var rows: [Row] = []
        try forEach(sql, values) { rows.append($0); return true }
        return rows
    }

    /// Runs a query and returns its first row, if any.
    public func first(_ sql: String, _ values: [SQLValue] = []) throws -> Row? {
        var found: Row?
        try forEach(sql, values) { found = $0; return false }
        return found
    }

    /// Runs a statement that changes rows and returns how many it changed.
    @discardableResult
    public func run(_ sql: String, _ values: [SQLValue] = []) throws -> Int {
        switch engine {
        case .sqlite(let c): return try c.run(sql, values)
        case .postgres(let c): return try c.run(sql, values)
        }
    }

    /// The row id the last INSERT on this connection assigned.
    public var lastInsertRowID: Int64 {
        switch engine {
        case .sqlite(let c): return c.lastInsertRowID
        case .postgres(let c): return c.lastInsertRowID
        }
    }

    /// Whether a transaction is open on this connection.
    public var inTransaction: Bool {
        switch engine {
        case .sqlite(let c): return c.inTransaction
        case .postgres(let c): return c.inTransaction
        }
    }

    /// Runs `body` holding the store's one write lock (SQLite `BEGIN IMMEDIATE`; PostgreSQL a transaction
    /// that first takes the store's advisory lock), so read-then-write steps never interleave, committing
    /// on success. PostgreSQL serialization failures and deadlocks are retried, never surfaced.
    public func write<T>(_ body: () throws -> T) throws -> T {
        switch engine {
        case .sqlite(let c): return try c.write(body)
        case .postgres(let c): return try c.write(body)
        }
    }

    /// Runs `body` in a read transaction, giving it one consistent snapshot.
    public func read<T>(_ body: () throws -> T) throws -> T {
        switch engine {
        case .sqlite(let c): return try c.read(body)
        case .postgres(let c): return try c.read(body)
        }
    }

    /// A number that changes whenever another connection commits (SQLite `PRAGMA data_version`; PostgreSQL
    /// the next transaction id, which moves on every write anywhere in the database).
    public func dataVersion() throws -> Int64 {
        switch engine {
        case .sqlite(let c): return try c.dataVersion()
        case .postgres(let c): return try c.dataVersion()
        }
    }

    /// The names of the store's tables.
    public func tableNames() throws -> [String] {
        let sql = dialect == .sqlite
            ? "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
            : "SELECT table_name AS name FROM information_schema.tables WHERE table_schema = current_schema()"
        return try query(sql).compactMap { $0.string("name") }
    }

    /// After rows were inserted with their keys given, the next key numbered by the store follows the
    /// largest (SQLite does this by itself; a PostgreSQL identity column's counter is moved on).
    public func continueNumbering(table: String, column: String) throws {
        guard dialect == .postgres else { return }
        _ = try query("SELECT setval(pg_get_serial_sequence('\(table)', '\(column)'), (SELECT COALESCE(max(\(column)), 0) + 1 FROM \(table)), false)")
    }

    /// Runs a statement and calls `body` with the SQLite statement positioned on each row (hot loops that
    /// read columns in place); SQLite only.
    func forEachStatement(_ sql: String, _ values: [SQLValue] = [], _ body: (OpaquePointer) throws -> Bool) throws {
        guard let c = sqlite else { throw DatabaseError(code: SQLITE_MISUSE, message: "in-place column reading is SQLite's", sql: sql) }
        try c.forEachStatement(sql, values, body)
    }

    /// The row the SQLite statement is positioned on, exactly as `forEach` would build it.
    func row(of stmt: OpaquePointer) -> Row { sqlite!.row(of: stmt) }

    /// Copies this whole SQLite database into `destination` as one consistent snapshot (online backup).
    public func backup(into destination: Database, timeoutSeconds: Double = 60) throws {
        guard let source = sqlite, let target = destination.sqlite else {
            throw DatabaseError(code: SQLITE_MISUSE, message: "online backup copies SQLite files; back up PostgreSQL with pg_dump", sql: nil)
        }
        try source.backup(into: target, timeoutSeconds: timeoutSeconds)
    }
}
